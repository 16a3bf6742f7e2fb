/**
 * `datdot devnet` without the command line: startDevnet runs a local chain on a loopback ws://
 * port, a loopback testnet and the minimum five seeders; a separate node pointed at it (the chain
 * URL and the bootstrap of its devnet.json) gets dev tokens through the API handler, sponsors its
 * vault, and the plan reaches hosting. Everything closes cleanly.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { TempDirs } from '../helpers/engines.js'
import { waitFor } from '../helpers/wait.js'
import { startDevnet, readDevnetRecord, DEVNET_MIN_SEEDERS, type Devnet } from '../../main/hosting/devnet.js'
import { DatdotNode } from '../../main/hosting/node.js'
import { parseBootstrap } from '../../main/engine/config.js'
import { createChainHandlers } from '../../main/api/handlers-chain.js'
import { formatLink } from '../../main/engine/paths.js'
import type { ChainService } from '../../main/chain/service.js'

const TOKEN = 10n ** 12n

describe('a devnet started programmatically', () => {
  const tmp = new TempDirs()
  let dir: string
  let devnet: Devnet | null = null
  let alice: DatdotNode | null = null
  const events = { ready: 0, proofs: 0 }

  beforeAll(async () => {
    dir = await tmp.make('datdot-devnet-')
    devnet = await startDevnet({ dir, seeders: DEVNET_MIN_SEEDERS, blockIntervalMs: 1000, networkParams: { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 40, performanceAttestors: 3 } })
    devnet.on('proof', () => { events.proofs++ })
  }, 240_000)

  afterAll(async () => {
    await alice?.close()
    await devnet?.close()
    await tmp.cleanup()
  }, 120_000)

  it('refuses fewer seeders than a plan needs, with a clear coded error, and starts nothing', async () => {
    const other = await tmp.make('datdot-devnet-few-')
    const err = await startDevnet({ dir: other, seeders: 4 }).then(() => null, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect((err as Error).message).toMatch(/5 to 16 seeders/)
    expect(existsSync(join(other, 'devnet.json'))).toBe(false)
  })

  it('refuses a second devnet in a folder whose devnet runs', async () => {
    const err = await startDevnet({ dir, seeders: DEVNET_MIN_SEEDERS }).then(() => null, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect((err as Error).message).toMatch(/already runs/)
  })

  it('writes devnet.json with a loopback chain URL and bootstrap, and every seeder is registered on chain', () => {
    const d = devnet as Devnet
    const record = readDevnetRecord(dir)
    expect(record).toMatchObject({ chain: d.chainUrl, seeders: DEVNET_MIN_SEEDERS, pid: process.pid })
    expect(record?.chain).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    expect(record?.bootstrap).toMatch(/^127\.0\.0\.1:\d+/)
    expect(d.seeders).toHaveLength(DEVNET_MIN_SEEDERS)
    for (const s of d.seeders) {
      expect(s.node.hosting?.status().seeding).toBe(true)
      expect(d.market.providers[(s.node.chain as ChainService).addressHex]).toBeDefined()
    }
  })

  it('lets a separate node on its chain URL get dev tokens, sponsor its vault and see the plan hosted', async () => {
    const d = devnet as Devnet
    const record = readDevnetRecord(dir)
    if (record === null) throw new Error('no devnet.json')
    alice = new DatdotNode({ storage: await tmp.make('datdot-devnet-alice-'), bootstrap: parseBootstrap(record.bootstrap), chain: record.chain })
    await alice.ready()
    const chain = alice.chain as ChainService
    const handlers = createChainHandlers({ chain, ledger: chain.ledger })
    expect((await handlers.getWallet({})).free).toBe('0')
    const w = await handlers.requestDevTokens({ amount: (50n * TOKEN).toString() })
    expect(BigInt(w.free)).toBe(50n * TOKEN)

    await alice.vault.drive.put('/photo.jpg', randomBytes(300_000))
    const { planId } = await (alice.hosting as NonNullable<DatdotNode['hosting']>).sponsor({ link: formatLink(alice.vault.drive.key), replicas: 2, days: 1, pricePlanck: 10n * TOKEN })
    const plan = d.market.plans[planId]
    expect(plan.contractIds.length).toBeGreaterThan(0)
    await waitFor([d.operator, ...d.seeders.map((s) => s.node.hosting as NonNullable<DatdotNode['hosting']>)],
      () => plan.contractIds.every((id) => d.market.contracts[id]?.slots.every((s) => s.state === 'hosting')), 'every slot of the plan hosting', 180_000)
    const hosters = new Set(plan.contractIds.flatMap((id) => d.market.contracts[id].slots.map((s) => s.hoster)))
    expect(hosters.size).toBeGreaterThanOrEqual(2)
  }, 240_000)

  it('closes everything and removes its devnet.json', async () => {
    await alice?.close()
    alice = null
    await devnet?.close()
    devnet = null
    expect(existsSync(join(dir, 'devnet.json'))).toBe(false)
  }, 120_000)
})
