/**
 * The sponsor's side of hosting: publishing a plan for a drive this node has (a space of its
 * vault, found by its link or its key, or a followed drive) with the signed roots of its cores,
 * and keeping the plans it sponsors for its own spaces current: when a space or the list of
 * spaces grows, an `update` record (debounced, one at a time) adds the new blocks under new
 * signed roots.
 *
 * A plan of an own space holds the drive's cores and, as one more core, the space index
 * (main/engine/space-index.ts): its seeders keep the encrypted list of spaces that a restore from
 * the phrase needs before anything else (docs/protocol.md §7). A followed drive's plan holds its
 * two cores only.
 */
import b4a from 'b4a'
import Hyperdrive from 'hyperdrive'
import type Hypercore from 'hypercore'
import type Corestore from 'corestore'
import type { OwnDrives } from './own.js'
import { DatdotError } from '../shared/errors.js'
import { Coalescer } from '../shared/coalescer.js'
import { parseLink, toHex } from '../engine/paths.js'
import type { Plan } from '../chain/marketplace.js'
import { toRootHex, type SignedRoot } from '../chain/roots.js'
import { RECORD_LIMITS, type DriveRanges } from '../chain/records.js'
import { captureSignedRoot } from './proof.js'
import { BLOCKS_PER_DAY } from './config.js'
import type { HostingChain, HostingContext } from './context.js'

/**
 * A plan drive entry from a signed root: the blocks of [from, root.length) this node has, as
 * ranges. Blocks it does not have (cleared after a crash-aborted import, or never fetched for a
 * followed drive) are left out: nobody could be sure to fetch them to encode. Null when it has none.
 */
export async function driveRanges (core: Hypercore, root: SignedRoot, from: number): Promise<DriveRanges | null> {
  const { keyHex, root: hex } = toRootHex(root)
  const ranges: Array<[number, number]> = []
  if (await core.has(from, root.length)) {
    ranges.push([from, root.length])
  } else {
    let start = -1
    for (let i = from; i < root.length; i++) {
      const has = await core.has(i)
      if (has && start === -1) start = i
      if (!has && start !== -1) { ranges.push([start, i]); start = -1 }
    }
    if (start !== -1) ranges.push([start, root.length])
  }
  if (ranges.length === 0) return null
  if (ranges.length > RECORD_LIMITS.rangesPerDrive) {
    throw DatdotError.invalidArgument(`core ${keyHex.slice(0, 8)} has blocks missing in ${ranges.length} places (at most ${RECORD_LIMITS.rangesPerDrive} ranges per core): replicate it fully first`)
  }
  return { keyHex, ranges, root: hex }
}

export interface SponsorOptions {
  ctx: HostingContext
  chain: Pick<HostingChain, 'publishPlan' | 'updatePlan' | 'market' | 'addressHex'>
  /** This node's own drives (its vault's spaces) and the space index. */
  own: Pick<OwnDrives, 'find' | 'all' | 'index'>
  /** Opens followed drives to sponsor them. */
  corestore: Pick<Corestore, 'session'>
  /** A plan update went out: the new root lengths of its cores. */
  onUpdated?: (planId: number, lengths: number[]) => void
  /** A plan update failed (it is tried again when the vault grows or the chain moves). */
  onError?: (err: unknown) => void
}

export interface SponsorRequest { link: string, replicas: number, days: number, pricePlanck: bigint }

/** A plan before it is published: its drive entries and the bytes of their cores. */
export interface PreparedPlan { drives: DriveRanges[], sizeBytes: number }

export class Sponsor {
  private timer: unknown = null
  private closed = false
  /** Bytes of the plans this node published since it started (by plan id). */
  private readonly sizes = new Map<number, number>()
  /** Runs the updates: now, and once more after when the debounce ends again meanwhile. */
  private readonly updater: Coalescer

  constructor (private readonly opts: SponsorOptions) {
    this.updater = new Coalescer(() => this.updateAll(), { onError: (err) => { this.opts.onError?.(err) }, stopped: () => this.closed })
  }

  /**
   * Publishes a plan for a drive this node has, its cores as they are now: an own space (by its
   * link or, for a private space, which has none, its drive key) with the space index, or a
   * followed drive.
   */
  async sponsor (req: SponsorRequest): Promise<{ planId: number }> {
    const { drives, sizeBytes } = await this.prepare(req)
    const res = await this.opts.chain.publishPlan({ drives, replicas: req.replicas, durationBlocks: req.days * BLOCKS_PER_DAY, budgetPlanck: req.pricePlanck })
    this.sizes.set(res.planId, sizeBytes)
    return { planId: res.planId }
  }

  /**
   * What a plan for this request would hold, without publishing it: the drive entries (signed
   * roots and ranges) and the bytes of their cores. Checks the request first (INVALID_ARGUMENT).
   */
  async prepare (req: SponsorRequest): Promise<PreparedPlan> {
    const { key } = parseLink(req.link)
    if (!Number.isSafeInteger(req.replicas) || req.replicas < 1 || req.replicas > 8) throw DatdotError.invalidArgument('replicas must be 1 to 8')
    if (!Number.isSafeInteger(req.days) || req.days < 1 || req.days > 3650) throw DatdotError.invalidArgument('days must be 1 to 3650')
    if (req.pricePlanck <= 0n) throw DatdotError.invalidArgument('the price must be positive')
    const ownDrive = this.opts.own.find(key)
    return ownDrive !== null ? await this.ownRanges(ownDrive) : await this.otherRanges(b4a.from(key))
  }

  /**
   * The bytes a plan of this node holds: measured when this node published it, else (after a
   * restart) its own cores' sizes now; null for a followed drive's plan published before.
   */
  sizeOf (plan: Plan): number | null {
    const known = this.sizes.get(plan.id)
    if (known !== undefined) return known
    const cores = this.ownCores()
    if (!plan.drives.every((d) => cores.has(d.keyHex))) return null
    return plan.drives.reduce((n, d) => n + ((cores.get(d.keyHex) as Hypercore).byteLength), 0)
  }

  /** An own space's two cores, and the space index. */
  private async ownRanges (drive: Hyperdrive): Promise<PreparedPlan> {
    await drive.ready()
    const blobs = await drive.getBlobs()
    const plan = await this.rangesOf(drive.core, blobs?.core ?? null)
    const index = this.opts.own.index()
    const ranges = index.length > 0 ? await driveRanges(index, await captureSignedRoot(index), 0) : null
    if (ranges !== null) { plan.drives.push(ranges); plan.sizeBytes += index.byteLength }
    return plan
  }

  /**
   * Another author's drive this node holds (a follow): its two cores opened by key, never read
   * as a drive, so an encrypted drive is sponsored without its read key (its blobs core's key
   * follows from the metadata core's manifest; nothing is decrypted).
   */
  private async otherRanges (key: Buffer): Promise<PreparedPlan> {
    const store = this.opts.corestore.session()
    const meta = store.get({ key })
    try {
      await meta.ready()
      await meta.update({ wait: true })
      const blobsKey = meta.length > 0 ? Hyperdrive.getContentKey(meta) : null
      const blobs = blobsKey === null ? null : store.get({ key: blobsKey })
      try {
        if (blobs !== null) await blobs.ready()
        return await this.rangesOf(meta, blobs)
      } finally {
        await blobs?.close()
      }
    } finally {
      await meta.close()
      await store.close()
    }
  }

  /** The active plans this node sponsors for its own spaces (their first core is an own drive's). */
  ownPlans (): Plan[] {
    const { chain } = this.opts
    const me = chain.addressHex
    const keys = new Set(this.opts.own.all().map((d) => toHex(d.key)))
    return Object.values(chain.market.plans).filter((p) => p.sponsor === me && p.status === 'active' && keys.has(p.drives[0]?.keyHex))
  }

  /** The own cores by key: every own drive's metadata core, its blobs core once loaded, and the space index. */
  private ownCores (): Map<string, Hypercore> {
    const index = this.opts.own.index()
    const cores = new Map<string, Hypercore>([[toHex(index.key as Buffer), index]])
    for (const drive of this.opts.own.all()) {
      cores.set(toHex(drive.key), drive.core)
      if (drive.blobs !== null) cores.set(toHex(drive.blobs.core.key as Buffer), drive.blobs.core)
    }
    return cores
  }

  /** The chain moved: an update is due when a core of an own plan is longer than its root there and none is on its way. */
  check (): void {
    if (this.timer !== null || this.updater.running) return
    const plans = this.ownPlans()
    if (plans.length === 0) return
    const cores = this.ownCores()
    if (plans.some((p) => p.drives.some((d) => (cores.get(d.keyHex)?.length ?? 0) > d.root.length))) this.schedule()
  }

  /**
   * Debounced: the vault grew; an update goes out when it has been quiet for updateDebounceMs
   * (after the update in flight, if one is).
   */
  schedule (): void {
    const { ctx } = this.opts
    if (this.closed) return
    if (this.timer !== null) ctx.timers.clearTimeout(this.timer)
    this.timer = ctx.timers.setTimeout(() => {
      this.timer = null
      this.updater.schedule()
    }, ctx.limits.updateDebounceMs)
  }

  /**
   * Starts nothing more. An update in flight is not waited for: it ends with the chain
   * service's own close (CLOSED), reported to onError.
   */
  close (): void {
    this.closed = true
    if (this.timer !== null) this.opts.ctx.timers.clearTimeout(this.timer)
    this.timer = null
  }

  /** The signed roots of both cores of a drive as they are now (every party works against these), and their bytes. */
  private async rangesOf (core: Hypercore, blobs: Hypercore | null): Promise<PreparedPlan> {
    const notYet = (): DatdotError => DatdotError.notFound('the drive’s content (not replicated yet)')
    if (core.length === 0) throw notYet()
    const meta = await driveRanges(core, await captureSignedRoot(core), 0)
    if (meta === null) throw notYet()
    const plan: PreparedPlan = { drives: [meta], sizeBytes: core.byteLength }
    if (blobs !== null && blobs.length > 0) {
      const b = await driveRanges(blobs, await captureSignedRoot(blobs), 0)
      if (b !== null) { plan.drives.push(b); plan.sizeBytes += blobs.byteLength }
    }
    return plan
  }

  /** One round: an update for every own plan that is behind (a failure is reported to onError). */
  private async updateAll (): Promise<void> {
    const plans = this.ownPlans()
    if (plans.length === 0) return
    for (const drive of this.opts.own.all()) await drive.getBlobs()
    const cores = this.ownCores()
    for (const plan of plans) await this.update(plan, cores)
  }

  /** Submits an update for one plan when its cores grew past their recorded roots: new roots, ranges [old, new). */
  private async update (plan: Plan, cores: Map<string, Hypercore>): Promise<void> {
    const drives: DriveRanges[] = []
    for (const d of plan.drives) {
      const core = cores.get(d.keyHex)
      if (core === undefined || core.length <= d.root.length) continue
      if (core.fork !== d.root.fork) throw DatdotError.invalidArgument(`core ${d.keyHex.slice(0, 8)} was truncated (fork ${core.fork}, the plan has ${d.root.fork}): publish a new plan`)
      const grown = await driveRanges(core, await captureSignedRoot(core), d.root.length)
      if (grown !== null) drives.push(grown)
    }
    if (drives.length === 0) return
    await this.opts.chain.updatePlan({ planId: plan.id, drives, budgetPlanck: 0n })
    this.opts.ctx.counters.planUpdates++
    this.opts.onUpdated?.(plan.id, drives.map((d) => d.root.length))
  }
}
