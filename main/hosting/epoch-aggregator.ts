/**
 * The attestor's epoch aggregates (docs/chain.md "Aggregated attestations"): once an epoch
 * closes (every check of it past its own deadline), one `epoch-report` over the checks the chain
 * listed for this node in that epoch, in its order: a bit per check (a leaf kept = passed), the
 * grade of each performance pass, passes per plan, and the merkle root of the passes' leaves.
 * More than RECORD_LIMITS.aggregateChecksMax checks go in several parts (`from`). Sent through
 * the chain service's submitter like any record; the chain's list says what is still uncovered,
 * so a restart (leaves are in SQLite) or a refused part is simply built again at the next block.
 */
import b4a from 'b4a'
import { RECORD_LIMITS, type MarketRecord } from '../chain/records.js'
import type { MarketState } from '../chain/marketplace.js'
import { epochClose, epochDeadline, epochOf } from '../chain/epoch-records.js'
import { merkleRoot, leafHash, type EpochLeaves, type Leaf } from './epoch-leaves.js'

type EpochReport = Extract<MarketRecord, { kind: 'epoch-report' }>

/** The aggregate of an attestor's checks `from..` (at most aggregateChecksMax) of one epoch from its leaves. */
export function buildEpochReport (epoch: number, checks: Array<[number, number, number]>, from: number, kept: Map<number, Leaf>): EpochReport {
  const part = checks.slice(from, from + RECORD_LIMITS.aggregateChecksMax)
  const passed: boolean[] = []
  const units: number[] = []
  const perPlan = new Map<number, number>()
  const hashes: Buffer[] = []
  for (const [id, plan, perf] of part) {
    const leaf = kept.get(id)
    // a leaf of the other kind cannot be this check's pass
    const ok = leaf !== undefined && (leaf.kind === 'performance') === (perf === 1)
    passed.push(ok)
    if (!ok) continue
    if (perf === 1) {
      const u = Math.min(RECORD_LIMITS.aggregateUnitsMax, Math.max(0, leaf.units ?? 0))
      units.push(u - (u % RECORD_LIMITS.aggregateUnitsStep))
    }
    perPlan.set(plan, (perPlan.get(plan) ?? 0) + 1)
    hashes.push(leafHash(leaf))
  }
  const plans = [...perPlan.entries()].sort((a, b) => a[0] - b[0])
  return { kind: 'epoch-report', epoch, from, passed, units, plans, rootHex: b4a.toString(merkleRoot(hashes), 'hex') }
}

export interface EpochAggregatorOptions {
  me: () => string
  leaves: EpochLeaves
  submit: (rec: EpochReport) => Promise<unknown>
  /** An aggregate went on chain (counted by the service). */
  onSubmitted: (rec: EpochReport) => void
  onError: (err: unknown) => void
}

export class EpochAggregator {
  /** `${epoch}:${from}` of the aggregates in flight. */
  private readonly inFlight = new Map<string, Promise<void>>()

  constructor (private readonly opts: EpochAggregatorOptions) {}

  /** Submits the next part of every closed epoch this node has uncovered checks in; prunes old leaves. */
  sync (market: MarketState): void {
    const p = market.network?.params
    if (p === undefined || (p.epochBlocks ?? 0) === 0 || market.block === null) return
    const now = market.block.number
    this.opts.leaves.prune(epochOf(p, now))
    const me = this.opts.me()
    for (const [key, byAttestor] of Object.entries(market.epochs ?? {})) {
      const epoch = Number(key)
      const entry = byAttestor[me]
      if (entry === undefined || entry.covered >= entry.checks.length) continue
      if (now < epochClose(p, epoch) || now >= epochDeadline(p, epoch)) continue
      const id = `${epoch}:${entry.covered}`
      if (this.inFlight.has(id)) continue
      const rec = buildEpochReport(epoch, entry.checks, entry.covered, this.opts.leaves.ofEpoch(epoch))
      const sent = this.opts.submit(rec).then(() => { this.opts.onSubmitted(rec) }, (err) => { this.opts.onError(err) })
        .finally(() => { this.inFlight.delete(id) })
      this.inFlight.set(id, sent)
    }
  }

  /** Resolves when the aggregates in flight are settled (close). */
  async idle (): Promise<void> { await Promise.allSettled([...this.inFlight.values()]) }
}
