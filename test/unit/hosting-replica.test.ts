/**
 * PlainReplicas (main/hosting/replica.ts) with real corestores on temporary folders (an author's
 * and the hoster's, replicated over an in-process stream), a fake PlanCores that opens the
 * hoster's cores, an in-memory market and hand-driven timers: which plans it seeds, what it
 * downloads after a plan update, what it clears when it stops seeding, and how long a slot
 * receipt waits for the replica.
 */
import { describe, it, expect, vi, afterEach } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline, type Duplex } from 'node:stream'
import b4a from 'b4a'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { PlainReplicas } from '../../main/hosting/replica.js'
import type { PlanCores } from '../../main/hosting/cores.js'
import type { Plan } from '../../main/chain/marketplace.js'
import { DatdotError } from '../../main/shared/errors.js'
import { MemoryMarket, contract, marketOf, party, plan, rootHex, slot } from '../helpers/market-fixtures.js'
import { roleHarness } from '../helpers/hosting-roles.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f()
})

async function tmpStore (): Promise<Corestore> {
  const dir = await mkdtemp(join(tmpdir(), 'datdot-replica-'))
  const store = new Corestore(dir)
  cleanups.push(async () => { await store.close(); await rm(dir, { recursive: true, force: true }) })
  return store
}

/** A fake PlanCores over the hoster's corestore: one session per core, and the calls it got. */
class StoreCores {
  readonly opened = new Map<string, Hypercore>()
  readonly calls: Array<{ planId: number, keyHex: string, server: boolean }> = []
  readonly left: string[] = []
  constructor (private readonly store: Corestore) {}
  core (p: Plan, keyHex: string, server: boolean): Hypercore {
    this.calls.push({ planId: p.id, keyHex, server })
    let core = this.opened.get(keyHex)
    if (core === undefined) {
      core = this.store.get({ key: b4a.from(keyHex, 'hex') })
      this.opened.set(keyHex, core)
    }
    return core
  }

  async leave (keyHex: string): Promise<void> { this.left.push(keyHex) }
}

/** The blocks of `core` in [0, n) the replica holds. */
async function blocks (core: Hypercore, n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) if (await core.has(i)) out.push(i)
  return out
}

async function world (limits: { plansSeeded?: number } = {}) {
  const author = await tmpStore()
  const x = author.get({ name: 'x' })
  const y = author.get({ name: 'y' })
  await x.ready()
  await y.ready()
  for (let i = 0; i < 8; i++) await x.append(b4a.from(`x block ${i}`))
  for (let i = 0; i < 4; i++) await y.append(b4a.from(`y block ${i}`))
  const hosterStore = await tmpStore()
  const s1 = author.replicate(true) as Duplex
  pipeline(s1, hosterStore.replicate(false) as Duplex, s1, () => {})
  const xHex = b4a.toString(x.key as Buffer, 'hex')
  const yHex = b4a.toString(y.key as Buffer, 'hex')
  const me = party('me')
  const p1 = plan({ id: 1, contractIds: [1], drives: [{ keyHex: xHex, ranges: [[0, 4]], root: rootHex(4) }] })
  const p2 = plan({ id: 2, contractIds: [2], drives: [{ keyHex: xHex, ranges: [[0, 2]], root: rootHex(8) }, { keyHex: yHex, ranges: [[0, 4]], root: rootHex(4) }] })
  const c1 = contract({ id: 1, planId: 1, keyHex: xHex, start: 0, end: 4, root: rootHex(4), slots: [slot({ hoster: 'me', state: 'setup' })] })
  const market = new MemoryMarket(marketOf({ providers: [me], plans: [p1, p2], contracts: [c1] }), 'me')
  const h = roleHarness(me, market, limits)
  const cores = new StoreCores(hosterStore)
  const seeding: Array<[number, number[]]> = []
  const unseeded: number[] = []
  const dropped: string[] = []
  const replicas = new PlainReplicas({
    ctx: h.ctx,
    cores: cores as unknown as PlanCores,
    tasks: h.tasks,
    onSeeding: (planId, lengths) => { seeding.push([planId, lengths]) },
    onUnseeded: (planId) => { unseeded.push(planId) },
    onCoreDropped: async (keyHex) => { dropped.push(keyHex) }
  })
  cleanups.push(async () => { h.ctx.close(); await h.tasks.close() })
  const plans = (): Record<number, Plan> => market.market.plans
  return { x, y, xHex, yHex, market, h, cores, seeding, unseeded, dropped, replicas, plans, replica: (keyHex: string) => cores.opened.get(keyHex) as Hypercore }
}

describe('plain replicas', { timeout: 20_000 }, () => {
  it('download every range of a wanted plan and announce its drive', async () => {
    const w = await world()
    await w.replicas.sync(new Set([1]), w.plans())
    await w.h.idle()
    expect(w.h.errors.size).toBe(0)
    expect(w.cores.calls).toEqual([{ planId: 1, keyHex: w.xHex, server: true }])
    expect(w.seeding).toEqual([[1, [4]]])
    expect(await blocks(w.replica(w.xHex), 8)).toEqual([0, 1, 2, 3])
    expect(w.replicas.size).toBe(1)
    expect(w.h.tasks.list()[0]).toMatchObject({ id: 'seed:1', role: 'hoster', planId: 1, contractId: 1, slot: null, state: 'done' })
  })

  it('seed no more plans than plansSeeded, and the next one once a place is free', async () => {
    const w = await world({ plansSeeded: 1 })
    await w.replicas.sync(new Set([1, 2]), w.plans())
    await w.h.idle()
    expect([...w.replicas.seeded.keys()]).toEqual([1])
    await w.replicas.sync(new Set([2]), w.plans())
    expect([...w.replicas.seeded.keys()]).toEqual([])
    await w.replicas.sync(new Set([2]), w.plans())
    await w.h.idle()
    expect([...w.replicas.seeded.keys()]).toEqual([2])
    expect(w.seeding.map(([id]) => id)).toEqual([1, 2])
  })

  it('download only the new range after a plan update, and nothing when the plan did not grow', async () => {
    const w = await world()
    await w.replicas.sync(new Set([1]), w.plans())
    await w.h.idle()
    const core = w.replica(w.xHex)
    const download = vi.spyOn(core, 'download')
    await w.replicas.sync(new Set([1]), w.plans())
    await w.h.idle()
    expect(download).not.toHaveBeenCalled()
    w.market.market.plans[1] = { ...w.plans()[1], drives: [{ keyHex: w.xHex, ranges: [[0, 8]], root: rootHex(8) }] }
    await w.replicas.sync(new Set([1]), w.plans())
    await w.h.idle()
    expect(w.h.errors.size).toBe(0)
    expect(download.mock.calls.map(([r]) => r)).toEqual([{ start: 4, end: 8 }])
    expect(w.h.started('seed:1')).toEqual(['seed:1', 'seed:1:v1'])
    expect(w.seeding).toEqual([[1, [4]], [1, [8]]])
    expect(await blocks(core, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
  })

  it('download only the plan’s ranges, leaving out the blocks its sponsor lacked', async () => {
    const w = await world()
    w.market.market.plans[1] = { ...w.plans()[1], drives: [{ keyHex: w.xHex, ranges: [[0, 2], [5, 8]], root: rootHex(8) }] }
    await w.replicas.sync(new Set([1]), w.plans())
    await w.h.idle()
    expect(await blocks(w.replica(w.xHex), 8)).toEqual([0, 1, 5, 6, 7])
    expect(w.seeding).toEqual([[1, [8]]])
  })

  it('ask again on the next sync after a download that timed out', async () => {
    const w = await world()
    // the plan asks for blocks the author does not have (yet)
    w.market.market.plans[1] = { ...w.plans()[1], drives: [{ keyHex: w.xHex, ranges: [[0, 12]], root: rootHex(12) }] }
    await w.replicas.sync(new Set([1]), w.plans())
    await w.h.timers.untilScheduled(w.h.ctx.limits.fetchTimeoutMs)
    w.h.timers.advance(w.h.ctx.limits.fetchTimeoutMs)
    await w.h.idle()
    expect(DatdotError.from(w.h.errors.get('seed:1')).code).toBe('TIMEOUT')
    expect(w.seeding).toEqual([])
    for (let i = 8; i < 12; i++) await w.x.append(b4a.from(`x block ${i}`))
    await w.replicas.sync(new Set([1]), w.plans())
    await w.h.idle()
    expect(w.h.started('seed:1')).toEqual(['seed:1', 'seed:1:v1'])
    expect(w.seeding).toEqual([[1, [12]]])
    expect((await blocks(w.replica(w.xHex), 12)).length).toBe(12)
  })

  it('stop seeding an unwanted plan, clearing and leaving only the cores no other plan uses', async () => {
    const w = await world()
    await w.replicas.sync(new Set([1, 2]), w.plans())
    await w.h.idle()
    expect(w.h.errors.size).toBe(0)
    expect(await blocks(w.replica(w.yHex), 4)).toEqual([0, 1, 2, 3])
    await w.replicas.sync(new Set([1]), w.plans())
    expect(w.unseeded).toEqual([2])
    expect(w.dropped).toEqual([w.yHex])
    expect(w.cores.left).toEqual([w.yHex])
    expect(await blocks(w.replica(w.yHex), 4)).toEqual([])
    expect(await blocks(w.replica(w.xHex), 8)).toEqual([0, 1, 2, 3]) // plan 1 still uses core x
    await w.replicas.sync(new Set(), w.plans())
    expect(w.unseeded).toEqual([2, 1])
    expect(w.dropped).toEqual([w.yHex, w.xHex])
    expect(await blocks(w.replica(w.xHex), 8)).toEqual([])
    expect(w.replicas.size).toBe(0)
  })

  it('have a contract’s replica ready at once when it holds the contract’s blocks', async () => {
    const w = await world()
    await w.replicas.sync(new Set([1]), w.plans())
    await w.h.idle()
    await w.replicas.ready(1)
    expect(w.h.timers.size).toBe(0)
    await w.replicas.ready(99) // unknown contract: nothing to wait for
  })

  it('wait for the plan to be seeded on a later block before it waits for the blocks', async () => {
    const w = await world()
    let ready = false
    const p = w.replicas.ready(1).then(() => { ready = true })
    await w.h.timers.untilScheduled(w.h.ctx.limits.plainWaitMs)
    await w.replicas.sync(new Set([1]), w.plans())
    w.market.advance(11)
    await p
    expect(ready).toBe(true)
    expect(await blocks(w.replica(w.xHex), 4)).toEqual([0, 1, 2, 3])
  })

  it('be ready after plainWaitMs when the plan is never seeded', async () => {
    const w = await world()
    const p = w.replicas.ready(1)
    await w.h.timers.untilScheduled(w.h.ctx.limits.plainWaitMs)
    w.h.timers.advance(w.h.ctx.limits.plainWaitMs - 1)
    w.market.advance(11) // a block, still nothing seeded
    w.h.timers.advance(1)
    await p
    expect(w.replicas.size).toBe(0)
  })

  it('be ready after plainWaitMs even when the replica does not have the contract’s blocks yet', async () => {
    const w = await world()
    w.market.market.contracts[1] = { ...w.market.market.contracts[1], end: 12, root: rootHex(12) }
    await w.replicas.sync(new Set([1]), w.plans())
    await w.h.idle()
    let ready = false
    const p = w.replicas.ready(1).then(() => { ready = true })
    await w.h.timers.untilScheduled(w.h.ctx.limits.plainWaitMs)
    expect(ready).toBe(false)
    w.h.timers.advance(w.h.ctx.limits.plainWaitMs)
    await p
    expect(ready).toBe(true)
  })
})
