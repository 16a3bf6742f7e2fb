/**
 * Light by default: a node with the default embedded chain opens without starting it, has its
 * chain and hosting methods from the start, starts the chain once on the first call that needs it
 * (concurrent callers share the start; a failed start is a coded error and the next call starts
 * again), and starts it when it opens (without waiting for it) if it seeds or sponsors a plan.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Testnet } from '@hyperswarm/testnet'
import { DatdotNode, type NodeOptions } from '../../main/hosting/node.js'
import { createHandlers } from '../../main/api/handlers.js'
import { HostingStore } from '../../main/hosting/store.js'
import { setSponsoring, startsAtOpen } from '../../main/hosting/lazy-chain.js'
import type { ChainStatus } from '../../main/shared/contract.js'
import { DatdotError } from '../../main/shared/errors.js'
import { TempDirs, loopbackTestnet, nextEvent } from '../helpers/engines.js'

describe('the embedded chain starts when hosting is first used', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  const nodes: DatdotNode[] = []

  beforeAll(async () => { testnet = await loopbackTestnet() })
  afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })
  afterAll(async () => {
    await testnet.destroy()
    await tmp.cleanup()
  })

  async function open (storage: string, extra: Partial<NodeOptions> = {}): Promise<DatdotNode> {
    const node = new DatdotNode({ storage, dht: testnet.createNode(), chain: 'embedded', statusIntervalMs: 0, progressIntervalMs: 0, ...extra })
    nodes.push(node)
    await node.ready()
    return node
  }

  /** Resolves once the node's chain runs (rejects when its start failed). */
  async function running (node: DatdotNode): Promise<void> {
    if (node.lazyChain?.state === 'running') return
    const s = await nextEvent(node, 'chain.status', (st) => st.state === 'running' || st.state === 'failed')
    if (s.state === 'failed') throw node.lazyChain?.lastError ?? new Error('the chain did not start')
  }

  it('opens without the chain, answers its status as idle, and starts it once for concurrent callers after a failed start', async () => {
    const storage = await tmp.make()
    // the chain's folder is a file: the first start fails
    await writeFile(join(storage, 'chain'), 'not a folder')
    const node = await open(storage)
    const api = createHandlers(node)
    expect(node.chain).toBeNull()
    expect(node.hosting).toBeNull()
    expect(node.lazyChain?.state).toBe('idle')
    for (const m of ['getWallet', 'requestDevTokens', 'getHosting', 'setSeeding', 'sponsor', 'unpublish', 'listHostingJobs', 'listProofs'] as const) expect(api[m], m).toBeTypeOf('function')
    expect((await api.getChainStatus!({})).state).toBe('idle')
    // the Plans page of a node that never ran its chain: no plans, and nothing started
    expect(await api.listPlans!({})).toEqual([])
    expect(node.lazyChain?.state).toBe('idle')
    expect(node.lazyChain?.counters.starts).toBe(0)

    const statuses: ChainStatus[] = []
    node.onEvent((name, data) => { if (name === 'chain.status') statuses.push(data as ChainStatus) })
    const failed = await Promise.allSettled([api.getWallet!({}), api.getHosting!({})])
    for (const r of failed) {
      expect(r.status).toBe('rejected')
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DatdotError)
      expect(((r as PromiseRejectedResult).reason as DatdotError).code).toBe('CHAIN_ERROR')
    }
    expect(node.lazyChain?.counters).toEqual({ starts: 1, failures: 1 })
    expect((await api.getChainStatus!({})).state).toBe('failed')
    expect(node.chain).toBeNull()

    await rm(join(storage, 'chain'))
    const [wallet, hosting, status] = await Promise.all([api.getWallet!({}), api.getHosting!({}), api.listHostingJobs!({})])
    expect(wallet.address).toMatch(/^[1-9A-HJ-NP-Za-km-z]{40,}$/)
    expect(hosting.status.seeding).toBe(false)
    expect(status).toEqual([])
    expect(await api.listPlans!({})).toEqual([])
    expect(node.lazyChain?.counters).toEqual({ starts: 2, failures: 1 })
    expect(node.chain).not.toBeNull()
    expect(node.hosting).not.toBeNull()
    const running = await api.getChainStatus!({})
    expect(running).toMatchObject({ state: 'running', connected: true, endpoint: 'embedded', address: wallet.address })
    expect(statuses.map((s) => s.state)).toEqual(expect.arrayContaining(['starting', 'failed', 'running']))
    // a node that only looked at hosting does not start its chain at the next open
    expect(startsAtOpen(node.db)).toBe(false)
  }, 180_000)

  it('starts the chain when it opens when the node seeds, and when it sponsors a plan', async () => {
    const storage = await tmp.make()
    const first = await open(storage, { chain: 'off' })
    new HostingStore(first.db, { now: Date.now, proofsKept: 10 }).saveSettings({ seeding: true, storageBytes: 1e9, bandwidthBps: 1e6, region: 'eu' })
    await first.close()
    const seeder = await open(storage)
    // started when it opened, without holding up the open
    expect(seeder.lazyChain?.state).toBe('starting')
    await running(seeder)
    expect(seeder.chain).not.toBeNull()
    expect(seeder.lazyChain?.counters.starts).toBe(1)
    new HostingStore(seeder.db, { now: Date.now, proofsKept: 10 }).saveSettings({ seeding: false, storageBytes: 1e9, bandwidthBps: 1e6, region: 'eu' })
    setSponsoring(seeder.db, true)
    await seeder.close()

    const sponsor = await open(storage)
    expect(sponsor.lazyChain?.state).toBe('starting')
    await running(sponsor)
    // none of its plans is active on this chain: the next open is light again
    expect(startsAtOpen(sponsor.db)).toBe(false)
  }, 180_000)

  it('keeps an explicit --chain off without chain methods', async () => {
    const node = await open(await tmp.make(), { chain: 'off' })
    const api = createHandlers(node)
    expect(node.lazyChain).toBeNull()
    expect(api.getChainStatus).toBeUndefined()
    expect(api.getHosting).toBeUndefined()
  })
})
