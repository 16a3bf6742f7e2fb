/**
 * Local seeders from the API, as the app starts them: a node with the embedded chain (fast blocks)
 * on a loopback testnet starts three seeders through its handlers; they register as providers on
 * its chain, a sponsored vault of one replica reaches hosting on them, they close with the node
 * and start again when it comes back, and stopping them sticks. Bad input and nodes without their
 * own local chain are refused with coded errors and start nothing.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, until } from '../helpers/engines.js'
import { DatdotNode, type NodeOptions } from '../../main/hosting/node.js'
import { createHandlers } from '../../main/api/handlers.js'
import { dispatch } from '../../main/api/dispatch.js'
import { localSeedersOf } from '../../main/hosting/local-seeders.js'
import { formatLink } from '../../main/engine/paths.js'
import type { Handlers, LocalSeedersState } from '../../main/shared/contract.js'

const TOKEN = 10n ** 12n

describe('local seeders started from the app on its embedded chain', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let options: NodeOptions
  let alice: DatdotNode
  let api: Handlers
  let started: LocalSeedersState
  const events: LocalSeedersState[] = []

  const open = async (): Promise<void> => {
    alice = new DatdotNode(options)
    await alice.ready()
    alice.onEvent((name, data) => { if (name === 'seeders.status') events.push(data as LocalSeedersState) })
    api = createHandlers(alice) as Handlers
  }

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    options = {
      storage: await tmp.make('datdot-local-seeders-'),
      bootstrap: testnet.bootstrap.map((b) => ({ host: b.host, port: b.port })),
      chain: 'embedded',
      embeddedChain: { blockIntervalMs: 1000, networkParams: { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 40, performanceAttestors: 3 } }
    }
    await open()
  }, 60_000)

  afterAll(async () => {
    await alice?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  }, 120_000)

  it('refuses a count out of 1 to 8, or not a whole number, with INVALID_ARGUMENT, and starts nothing (not even the chain)', async () => {
    for (const count of [0, 9, 2.5, '3']) {
      const err = await dispatch(api, 'startLocalSeeders', { count }, 'web').then(() => null, (e: unknown) => e)
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' })
      expect((err as Error).message).toMatch(/count/)
    }
    expect((await api.getChainStatus({})).state).toBe('idle')
    expect(await api.getLocalSeeders({})).toMatchObject({ unavailable: null, state: 'off', seeders: [], providers: null, providersNeeded: 3, resumes: false })
  })

  it('refuses, with FORBIDDEN and the reason, on a node without its own local chain', async () => {
    const bob = new DatdotNode({ storage: await tmp.make('datdot-local-seeders-off-'), offline: true, chain: 'off' })
    await bob.ready()
    try {
      const bobApi = createHandlers(bob) as Handlers
      expect((await bobApi.getLocalSeeders({})).unavailable).toMatch(/offline/)
      const err = await bobApi.startLocalSeeders({ count: 3 }).then(() => null, (e: unknown) => e)
      expect(err).toMatchObject({ code: 'FORBIDDEN' })
      expect((err as Error).message).toMatch(/own local dev chain: this node is offline/)
      expect(existsSync(join(bob.storage, 'local-seeders'))).toBe(false)
    } finally {
      await bob.close()
    }
  })

  it('starts three seeders that fund themselves from the faucet and register as providers of its chain', async () => {
    started = await api.startLocalSeeders({ count: 3 })
    expect(started).toMatchObject({ state: 'running', error: null, resumes: true })
    expect(started.seeders.map((s) => s.name)).toEqual(['seeder-1', 'seeder-2', 'seeder-3'])
    const market = alice.chain?.market
    for (const [i, s] of started.seeders.entries()) {
      expect(s.state).toBe('seeding')
      const node = localSeedersOf(alice).nodes[i]
      expect(s.address).toBe(node.chain?.address)
      expect(node.storage).toBe(join(alice.storage, 'local-seeders', s.name))
      expect(market?.providers[node.chain?.addressHex ?? '']).toBeDefined()
    }
    // its own seeders are not counted as other providers: stopped, the card offers them again
    expect(started.providers).toBe(0)
    expect(events.some((e) => e.state === 'starting')).toBe(true)
    const again = await api.startLocalSeeders({ count: 2 }).then(() => null, (e: unknown) => e)
    expect(again).toMatchObject({ code: 'ALREADY_EXISTS' })
    expect((await api.getLocalSeeders({})).seeders).toHaveLength(3)
  }, 180_000)

  it('hosts a sponsored vault of one replica on them, and shows their slots', async () => {
    await api.requestDevTokens({ amount: (50n * TOKEN).toString() })
    await alice.vault.drive.put('/note.txt', randomBytes(20_000))
    const { planId } = await api.sponsor({ link: formatLink(alice.vault.drive.key), replicas: 1, days: 1, price: (10n * TOKEN).toString() })
    const hosted = (): boolean => alice.hosting?.listPlans().find((p) => p.planId === planId)?.phase === 'hosted'
    await until(alice, hosted)
    const plan = (await api.listPlans({})).find((p) => p.planId === planId)
    // the API names hosters as the wallet does (ss58)
    const seeders = new Set(localSeedersOf(alice).nodes.map((n) => n.chain?.address))
    for (const c of plan?.contracts ?? []) for (const s of c.slots) expect(seeders.has(s.hoster ?? '')).toBe(true)
    await until(alice, async () => (await api.getLocalSeeders({})).seeders.reduce((n, s) => n + s.slots, 0) >= 1)
  }, 240_000)

  it('closes them with the node, and starts the same seeders again when the node comes back', async () => {
    const nodes = localSeedersOf(alice).nodes
    await alice.close()
    expect(nodes.every((n) => n.closed)).toBe(true)
    await open()
    await until(alice, async () => (await api.getLocalSeeders({})).state === 'running')
    const back = await api.getLocalSeeders({})
    expect(back.seeders.map((s) => s.address)).toEqual(started.seeders.map((s) => s.address))
  }, 180_000)

  it('stops them on request, and they are not started again with the node', async () => {
    const nodes = localSeedersOf(alice).nodes
    const stopped = await api.stopLocalSeeders({})
    expect(stopped).toMatchObject({ state: 'off', seeders: [], resumes: false, providers: 0 })
    expect(nodes.every((n) => n.closed)).toBe(true)
    // what a restart does: the node's handlers are made again, which starts wanted seeders
    const resumed = localSeedersOf(alice).counters.resumes
    api = createHandlers(alice) as Handlers
    expect(localSeedersOf(alice).counters.resumes).toBe(resumed)
    expect(await api.getLocalSeeders({})).toMatchObject({ state: 'off', resumes: false })
  }, 120_000)
})
