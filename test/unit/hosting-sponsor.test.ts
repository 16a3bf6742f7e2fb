// The sponsor's side (main/hosting/sponsor.ts) on a real Hyperdrive in a temporary corestore,
// an in-memory chain view that records what would be submitted, and hand-driven timers: what a
// plan covers (an own space's cores and the space index), which requests are refused, and when
// an update of an own space's plan goes out.
import { describe, it, expect, afterEach } from 'vitest'
import { EventEmitter } from 'node:events'
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import type Hypercore from 'hypercore'
import { Sponsor, type SponsorOptions } from '../../main/hosting/sponsor.js'
import { HostingContext } from '../../main/hosting/context.js'
import { BLOCKS_PER_DAY, DEFAULT_HOSTING_LIMITS, newHostingCounters } from '../../main/hosting/config.js'
import { initialState, type MarketState, type Plan } from '../../main/chain/marketplace.js'
import type { DriveRanges } from '../../main/chain/records.js'
import { TempDirs } from '../helpers/engines.js'
import { keyId } from '../../main/engine/paths.js'
import { ManualTimers } from '../helpers/manual-timers.js'

const tmp = new TempDirs()
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
  await tmp.cleanup()
})

type Published = Parameters<SponsorOptions['chain']['publishPlan']>[0]
type Updated = Parameters<SponsorOptions['chain']['updatePlan']>[0]

class FakeChain extends EventEmitter {
  market: MarketState = initialState()
  readonly addressHex = '0xsponsor'
  published: Published[] = []
  updates: Updated[] = []
  failUpdate: Error | null = null
  async publishPlan (p: Published): Promise<{ planId: number, blockHash: string, blockNumber: number, index: number, applied: string[] }> {
    this.published.push(p)
    return { planId: 40 + this.published.length, blockHash: '0x00', blockNumber: 1, index: 0, applied: ['publish'] }
  }

  async updatePlan (u: Updated): Promise<{ planId: number, blockHash: string, blockNumber: number, index: number, applied: string[] }> {
    if (this.failUpdate !== null) throw this.failUpdate
    this.updates.push(u)
    return { planId: u.planId, blockHash: '0x00', blockNumber: 2, index: 0, applied: ['update'] }
  }
}

/** A vault: its home drive, a second space's drive, and a space index core with one block. */
async function vaultDrives (): Promise<{ drive: Hyperdrive, other: Hyperdrive, index: Hypercore, store: Corestore }> {
  const store = new Corestore(await tmp.make('datdot-sponsor-'))
  const drive = new Hyperdrive(store.namespace('vault'))
  const other = new Hyperdrive(store.namespace('datdot/space/0123456789abcdef'))
  const index = store.namespace('datdot/spaces').get({ name: 'index' })
  await Promise.all([drive.ready(), other.ready(), index.ready()])
  await index.append(b4a.from('{"v":1}'))
  closers.push(async () => { await drive.close(); await other.close(); await index.close(); await store.close() })
  return { drive, other, index, store }
}

interface Setup { store: Corestore, sponsor: Sponsor, chain: FakeChain, timers: ManualTimers, drive: Hyperdrive, other: Hyperdrive, index: Hypercore, ctx: HostingContext, updated: number[][], errors: unknown[], outcome: () => Promise<void> }

async function setup (): Promise<Setup> {
  const { drive, other, index, store } = await vaultDrives()
  const chain = new FakeChain()
  const timers = new ManualTimers()
  const ctx = new HostingContext({ chain, limits: { ...DEFAULT_HOSTING_LIMITS, updateDebounceMs: 1000 }, counters: newHostingCounters(), keyPair: hcrypto.keyPair(), timers, now: timers.now })
  const updated: number[][] = []
  const errors: unknown[] = []
  const outcomes = new EventEmitter()
  const sponsor = new Sponsor({
    ctx,
    chain,
    own: {
      find: (key) => [drive, other].find((d) => b4a.equals(d.key, key)) ?? null,
      all: () => [drive, other],
      index: () => index
    },
    corestore: store,
    onUpdated: (_id, lengths) => { updated.push(lengths); outcomes.emit('outcome') },
    onError: (err) => { errors.push(err); outcomes.emit('outcome') }
  })
  closers.push(async () => { sponsor.close() })
  /** The next update round's end: an update sent or an error. */
  const outcome = (): Promise<void> => new Promise((resolve) => outcomes.once('outcome', () => resolve()))
  return { store, sponsor, chain, timers, drive, other, index, ctx, updated, errors, outcome }
}

const link = (drive: Hyperdrive): string => `hyper://${b4a.toString(drive.key, 'hex')}`

/** A plan on chain for the vault as it is now (what publishing would have recorded). */
function planOf (chain: FakeChain, drives: DriveRanges[], over: Partial<Plan> = {}): Plan {
  const plan: Plan = {
    id: 7, sponsor: chain.addressHex, drives, replicas: 1, startBlock: 1, endBlock: 1000, budgetPlanck: 10n, accruedPlanck: 0n, refundPlanck: 0n, status: 'active', contractIds: [], ...over
  }
  chain.market.plans[plan.id] = plan
  return plan
}

describe('the sponsor', () => {
  it('publishes a plan with the signed roots and full ranges of both cores of its vault, and the space index as a third core', async () => {
    const { sponsor, chain, drive, index } = await setup()
    await drive.put('/a.txt', b4a.alloc(100_000, 1))
    const res = await sponsor.sponsor({ link: link(drive), replicas: 2, days: 3, pricePlanck: 5n })
    expect(res.planId).toBe(41)
    const p = chain.published[0]
    expect(p).toMatchObject({ replicas: 2, durationBlocks: 3 * BLOCKS_PER_DAY, budgetPlanck: 5n })
    expect(p.drives).toHaveLength(3)
    expect(p.drives[0].keyHex).toBe(b4a.toString(drive.key, 'hex'))
    expect(p.drives[0].ranges).toEqual([[0, drive.core.length]])
    expect(p.drives[0].root.length).toBe(drive.core.length)
    const blobs = await drive.getBlobs()
    expect(p.drives[1].ranges).toEqual([[0, blobs?.core.length]])
    expect(p.drives[2].keyHex).toBe(b4a.toString(index.key as Buffer, 'hex'))
    expect(p.drives[2].ranges).toEqual([[0, 1]])
    expect(p.drives[2].root.length).toBe(1)
  })

  it("publishes a plan for another author's encrypted drive it holds without the read key (its cores by key, nothing decrypted)", async () => {
    const { sponsor, chain, store } = await setup()
    const authorStore = new Corestore(await tmp.make('datdot-author-'))
    const author = new Hyperdrive(authorStore.namespace('secret'), null, { encryptionKey: b4a.alloc(32, 9) })
    closers.push(async () => { await author.close(); await authorStore.close() })
    await author.put('/secret.txt', b4a.alloc(70_000, 2))
    const authorBlobs = await author.getBlobs()
    // the sponsor's store gets every block of both cores by replication, and never the key
    type Stream = NodeJS.ReadWriteStream & { destroy (): void }
    const a = authorStore.replicate(true) as Stream
    const b = store.replicate(false) as Stream
    a.pipe(b).pipe(a)
    closers.push(async () => { a.destroy(); b.destroy() })
    const meta = store.get({ key: author.key })
    const blobs = store.get({ key: authorBlobs!.core.key! })
    await Promise.all([meta.ready(), blobs.ready()])
    await meta.download({ start: 0, end: author.core.length }).done()
    await blobs.download({ start: 0, end: authorBlobs!.core.length }).done()
    closers.push(async () => { await meta.close(); await blobs.close() })

    await sponsor.sponsor({ link: `hyper://${keyId(author.key)}`, replicas: 1, days: 1, pricePlanck: 5n })
    const p = chain.published[0]
    expect(p.drives.map((d) => d.keyHex)).toEqual([b4a.toString(author.key, 'hex'), b4a.toString(authorBlobs!.core.key!, 'hex')])
    expect(p.drives[0].ranges).toEqual([[0, author.core.length]])
    expect(p.drives[1].ranges).toEqual([[0, authorBlobs!.core.length]])
  })

  it('publishes a plan for any own space named by its bare drive key (hex or z-base-32: a private space has no link), with the space index', async () => {
    const { sponsor, chain, other, index } = await setup()
    await other.put('/secret.txt', b4a.alloc(10_000, 3))
    await sponsor.sponsor({ link: b4a.toString(other.key, 'hex'), replicas: 1, days: 1, pricePlanck: 1n })
    await sponsor.sponsor({ link: keyId(other.key), replicas: 1, days: 1, pricePlanck: 1n })
    const blobs = await other.getBlobs()
    const expected = [other.key, blobs?.core.key, index.key].map((k) => b4a.toString(k as Buffer, 'hex'))
    for (const p of chain.published) expect(p.drives.map((d) => d.keyHex)).toEqual(expected)
    expect(chain.published).toHaveLength(2)
  })

  it('refuses bad requests before touching the chain, naming the field', async () => {
    const { sponsor, chain, drive } = await setup()
    await drive.put('/a.txt', b4a.from('x'))
    const ok = { link: link(drive), replicas: 1, days: 1, pricePlanck: 1n }
    await expect(sponsor.sponsor({ ...ok, link: 'not a link' })).rejects.toMatchObject({ code: 'INVALID_LINK' })
    await expect(sponsor.sponsor({ ...ok, replicas: 0 })).rejects.toThrow(/replicas must be 1 to 8/)
    await expect(sponsor.sponsor({ ...ok, replicas: 9 })).rejects.toThrow(/replicas must be 1 to 8/)
    await expect(sponsor.sponsor({ ...ok, replicas: 1.5 })).rejects.toThrow(/replicas/)
    await expect(sponsor.sponsor({ ...ok, days: 0 })).rejects.toThrow(/days must be 1 to 3650/)
    await expect(sponsor.sponsor({ ...ok, days: 3651 })).rejects.toThrow(/days/)
    await expect(sponsor.sponsor({ ...ok, pricePlanck: 0n })).rejects.toThrow(/price must be positive/)
    expect(chain.published).toHaveLength(0)
  })

  it('refuses to publish an empty vault with NOT_FOUND', async () => {
    const { sponsor, chain, drive } = await setup()
    await expect(sponsor.sponsor({ link: link(drive), replicas: 1, days: 1, pricePlanck: 1n })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(chain.published).toHaveLength(0)
  })

  it('lists as own plans only the active plans it sponsors for one of its own spaces', async () => {
    const { sponsor, chain, drive, other } = await setup()
    await drive.put('/a.txt', b4a.from('x'))
    const drives = (await sponsor.sponsor({ link: link(drive), replicas: 1, days: 1, pricePlanck: 1n }), chain.published[0].drives)
    planOf(chain, drives, { id: 1 })
    planOf(chain, drives, { id: 2, status: 'unpublished' })
    planOf(chain, drives, { id: 3, sponsor: '0xsomeoneelse' })
    planOf(chain, [{ ...drives[0], keyHex: 'ee'.repeat(32) }], { id: 4 })
    planOf(chain, [{ ...drives[0], keyHex: b4a.toString(other.key, 'hex') }], { id: 5 })
    expect(sponsor.ownPlans().map((p) => p.id)).toEqual([1, 5])
  })

  it('sends one update after the vault has been quiet for the debounce time, with the new blocks only', async () => {
    const { sponsor, chain, timers, drive, ctx, updated, outcome } = await setup()
    await drive.put('/a.txt', b4a.alloc(50_000, 1))
    await sponsor.sponsor({ link: link(drive), replicas: 1, days: 1, pricePlanck: 1n })
    const before = chain.published[0].drives
    planOf(chain, before)
    await drive.put('/b.txt', b4a.alloc(50_000, 2))
    sponsor.schedule()
    timers.advance(999)
    sponsor.schedule() // the vault grew again: the quiet time starts over
    timers.advance(999)
    expect(chain.updates).toHaveLength(0)
    expect(timers.size).toBe(1)
    const sent = outcome()
    timers.advance(1)
    await sent
    expect(chain.updates).toHaveLength(1)
    const u = chain.updates[0]
    expect(u.planId).toBe(7)
    expect(u.budgetPlanck).toBe(0n)
    expect(u.drives[0].ranges).toEqual([[before[0].root.length, drive.core.length]])
    expect(u.drives[0].root.length).toBe(drive.core.length)
    expect(ctx.counters.planUpdates).toBe(1)
    expect(updated).toEqual([u.drives.map((d) => d.root.length)])
  })

  it('sends nothing when no vault plan is behind the vault', async () => {
    const { sponsor, chain, timers, drive } = await setup()
    await drive.put('/a.txt', b4a.from('x'))
    await sponsor.sponsor({ link: link(drive), replicas: 1, days: 1, pricePlanck: 1n })
    planOf(chain, chain.published[0].drives)
    sponsor.check()
    expect(timers.size).toBe(0)
    expect(chain.updates).toHaveLength(0)
  })

  it('schedules an update from the chain’s side when a vault plan is behind, and not again while one is pending', async () => {
    const { sponsor, chain, timers, drive, outcome } = await setup()
    await drive.put('/a.txt', b4a.from('x'))
    await sponsor.sponsor({ link: link(drive), replicas: 1, days: 1, pricePlanck: 1n })
    planOf(chain, chain.published[0].drives)
    await drive.put('/b.txt', b4a.from('y'))
    sponsor.check()
    expect(timers.size).toBe(1)
    sponsor.check()
    expect(timers.size).toBe(1)
    const sent = outcome()
    timers.advance(1000)
    await sent
    expect(chain.updates).toHaveLength(1)
  })

  it('keeps the space index current in the plans of every own space: when only the list of spaces grew, the chain\'s side schedules an update of that core alone', async () => {
    const { sponsor, chain, timers, drive, other, index, outcome } = await setup()
    await drive.put('/a.txt', b4a.from('x'))
    await other.put('/b.txt', b4a.from('y'))
    await sponsor.sponsor({ link: link(drive), replicas: 1, days: 1, pricePlanck: 1n })
    await sponsor.sponsor({ link: link(other), replicas: 1, days: 1, pricePlanck: 1n })
    planOf(chain, chain.published[0].drives, { id: 1 })
    planOf(chain, chain.published[1].drives, { id: 2 })
    sponsor.check()
    expect(timers.size).toBe(0)
    await index.append([b4a.from('{"v":1}'), b4a.from('{"v":1}')])
    sponsor.check()
    expect(timers.size).toBe(1)
    const sent = outcome()
    timers.advance(1000)
    await sent
    if (chain.updates.length < 2) await outcome()
    const indexHex = b4a.toString(index.key as Buffer, 'hex')
    expect(chain.updates.map((u) => u.planId)).toEqual([1, 2])
    for (const u of chain.updates) {
      expect(u.drives.map((d) => d.keyHex)).toEqual([indexHex])
      expect(u.drives[0].ranges).toEqual([[1, 3]])
      expect(u.drives[0].root.length).toBe(3)
    }
  })

  it('reports a failed update to onError and tries again when the vault grows', async () => {
    const { sponsor, chain, timers, drive, errors, outcome } = await setup()
    await drive.put('/a.txt', b4a.from('x'))
    await sponsor.sponsor({ link: link(drive), replicas: 1, days: 1, pricePlanck: 1n })
    planOf(chain, chain.published[0].drives)
    await drive.put('/b.txt', b4a.from('y'))
    chain.failUpdate = new Error('chain down')
    sponsor.schedule()
    let done = outcome()
    timers.advance(1000)
    await done
    expect(errors).toHaveLength(1)
    chain.failUpdate = null
    sponsor.schedule()
    done = outcome()
    timers.advance(1000)
    await done
    expect(chain.updates).toHaveLength(1)
  })

  it('refuses to update a plan whose core was truncated (another fork): a new plan is needed', async () => {
    const { sponsor, chain, timers, drive, errors, outcome } = await setup()
    await drive.put('/a.txt', b4a.from('x'))
    await sponsor.sponsor({ link: link(drive), replicas: 1, days: 1, pricePlanck: 1n })
    const drives = chain.published[0].drives
    planOf(chain, [{ ...drives[0], root: { ...drives[0].root, fork: 3 } }])
    await drive.put('/b.txt', b4a.from('y'))
    sponsor.schedule()
    const done = outcome()
    timers.advance(1000)
    await done
    expect(chain.updates).toHaveLength(0)
    expect(String(errors[0])).toMatch(/was truncated.*publish a new plan/)
  })

  it('starts nothing after close, and close clears a pending debounce', async () => {
    const { sponsor, timers } = await setup()
    sponsor.schedule()
    expect(timers.size).toBe(1)
    sponsor.close()
    expect(timers.size).toBe(0)
    sponsor.schedule()
    expect(timers.size).toBe(0)
  })
})
