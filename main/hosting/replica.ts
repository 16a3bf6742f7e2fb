/**
 * Plain replicas: a hoster keeps a full, ordinary replica of every core of the plans it hosts a
 * slot of, and announces the drive, so readers replicate the drive from it while the author is
 * offline, and performance attestors measure what readers would get. A plan update makes the
 * plan's cores longer: the replica downloads the new blocks too. When the node hosts nothing of
 * a plan any more, the replica's blocks are cleared.
 */
import type Hypercore from 'hypercore'
import type { Plan } from '../chain/marketplace.js'
import { reachLength, type HostingContext } from './context.js'
import { planLength, type PlanCores } from './cores.js'
import type { TaskQueue } from './tasks.js'

export interface SeededPlan {
  planId: number
  cores: Map<string, Hypercore>
  /** Length of each core the plain replica was asked to download (grows with plan updates). */
  lengths: Map<string, number>
  version: number
}

export interface PlainReplicasOptions {
  ctx: HostingContext
  cores: PlanCores
  tasks: TaskQueue
  /** A replica downloaded the plan's ranges up to these lengths. */
  onSeeding?: (planId: number, lengths: number[]) => void
  /** The node stopped seeding a plan. */
  onUnseeded?: (planId: number) => void
  /** A core no plan of this node uses any more was cleared (its encoded chunks may go too). */
  onCoreDropped?: (keyHex: string) => Promise<void>
}

export class PlainReplicas {
  /** The plans this node seeds, by id. */
  readonly seeded = new Map<number, SeededPlan>()

  constructor (private readonly opts: PlainReplicasOptions) {}

  get size (): number { return this.seeded.size }

  /** Seeds exactly the plans in `want` (up to plansSeeded), keeping each current with its plan. */
  async sync (want: Set<number>, plans: Record<number, Plan>): Promise<void> {
    for (const planId of want) {
      const entry = this.seeded.get(planId)
      if (entry === undefined) {
        if (this.seeded.size < this.opts.ctx.limits.plansSeeded) this.seed(plans[planId])
      } else {
        this.keepCurrent(entry, plans[planId])
      }
    }
    for (const planId of [...this.seeded.keys()]) {
      if (!want.has(planId)) await this.stop(planId)
    }
  }

  /**
   * Resolves when the plain replica has every block of the contract, or after
   * `limits.plainWaitMs` anyway. A hoster signs a slot receipt after it, so a slot usually starts
   * hosting once its hoster can serve readers.
   */
  async ready (contractId: number): Promise<void> {
    const { ctx } = this.opts
    const contract = ctx.market.contracts[contractId]
    if (contract === undefined) return // the hoster's own handler refuses an unknown contract
    const timeoutMs = ctx.limits.plainWaitMs
    await ctx.untilChain(() => this.seeded.has(contract.planId), timeoutMs)
    const core = this.seeded.get(contract.planId)?.cores.get(contract.keyHex)
    if (core === undefined) return
    const what = `the plain replica of contract ${contractId}`
    try {
      await ctx.withTimeout(reachLength(core, contract.end), timeoutMs, what)
      await ctx.withTimeout(core.download({ start: contract.start, end: contract.end }).done(), timeoutMs, what)
    } catch {
      // not complete yet: sign anyway (the seed job keeps downloading). A setup must not miss its
      // deadline for it, and a lone empty performance reading is outvoted and costs nothing.
    }
  }

  /** Keeps a plain replica of every core of the plan and announces the drive. */
  private seed (plan: Plan): void {
    const cores = new Map<string, Hypercore>()
    for (const d of plan.drives) cores.set(d.keyHex, this.opts.cores.core(plan, d.keyHex, true))
    const entry: SeededPlan = { planId: plan.id, cores, lengths: new Map(), version: 0 }
    this.seeded.set(plan.id, entry)
    this.download(entry, plan, `seed:${plan.id}`)
  }

  /** A plan update made the plan's cores longer: the plain replica downloads the new blocks too. */
  private keepCurrent (entry: SeededPlan, plan: Plan): void {
    if (plan.drives.every((d, i) => (entry.lengths.get(d.keyHex) ?? 0) >= planLength(plan, i))) return
    for (const d of plan.drives) if (!entry.cores.has(d.keyHex)) entry.cores.set(d.keyHex, this.opts.cores.core(plan, d.keyHex, true))
    entry.version++
    this.download(entry, plan, `seed:${plan.id}:v${entry.version}`)
  }

  /** Downloads the plan's ranges past what was asked before (a plan leaves out blocks its sponsor lacked). */
  private download (entry: SeededPlan, plan: Plan, id: string): void {
    const { ctx } = this.opts
    const from = new Map(plan.drives.map((d) => [d.keyHex, entry.lengths.get(d.keyHex) ?? 0]))
    const ranges = plan.drives.flatMap((d) => d.ranges
      .filter(([, e]) => e > (from.get(d.keyHex) as number))
      .map(([s, e]) => ({ keyHex: d.keyHex, start: Math.max(s, from.get(d.keyHex) as number), end: e })))
    plan.drives.forEach((d, i) => entry.lengths.set(d.keyHex, Math.max(planLength(plan, i), from.get(d.keyHex) as number)))
    this.opts.tasks.start(id, { role: 'hoster', planId: plan.id, contractId: plan.contractIds[0] ?? 0, slot: null }, async () => {
      try {
        for (const r of ranges) {
          if (r.end <= r.start) continue
          const core = entry.cores.get(r.keyHex) as Hypercore
          const what = `the plain replica of core ${r.keyHex.slice(0, 8)}`
          await ctx.withTimeout(reachLength(core, r.end), ctx.limits.fetchTimeoutMs, what)
          await ctx.withTimeout(core.download({ start: r.start, end: r.end }).done(), ctx.limits.fetchTimeoutMs, what)
        }
      } catch (err) {
        // not there yet: the next block's sync asks again (a new version of the job)
        for (const [keyHex, was] of from) entry.lengths.set(keyHex, was)
        throw err
      }
      this.opts.onSeeding?.(plan.id, plan.drives.map((d) => entry.lengths.get(d.keyHex) ?? 0))
    })
  }

  private async stop (planId: number): Promise<void> {
    const entry = this.seeded.get(planId)
    if (entry === undefined) return
    this.seeded.delete(planId)
    const stillUsed = new Set<string>()
    for (const other of this.seeded.values()) for (const k of other.cores.keys()) stillUsed.add(k)
    for (const [keyHex, core] of entry.cores) {
      if (stillUsed.has(keyHex)) continue
      // free the space of the plain replica, then forget the core. The session stays open (closed
      // with the service): an encoder task of this node may hold the same core for a replacement.
      await core.clear(0, core.length).catch(() => {})
      await this.opts.cores.leave(keyHex)
      await this.opts.onCoreDropped?.(keyHex)
    }
    this.opts.onUnseeded?.(planId)
  }
}
