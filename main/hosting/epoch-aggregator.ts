/**
 * The attestor's epoch aggregates (docs/chain.md "Aggregated attestations"): once an epoch
 * closes (every check of it past its own deadline), one `epoch-report` over the checks the chain
 * listed for this node in that epoch, in its order: how many it covers, the offsets of those
 * without a leaf of their kind (not passed), one grade per hoster of its performance passes (the
 * lower median of its grades of that hoster), and the merkle root of the passes' leaves. A part
 * ends before a check that would take it over RECORD_LIMITS (aggregateChecksMax checks,
 * aggregateFailedMax failures, aggregateGradesMax hosters); the rest is the next part (`from`). Sent through
 * the chain service's submitter like any record; the chain's list says what is still uncovered,
 * so a restart (leaves are in SQLite) or a refused part is simply built again at the next block.
 */
import b4a from 'b4a'
import { RECORD_LIMITS as L, type MarketRecord } from '../chain/records.js'
import type { EpochCheck, MarketState } from '../chain/marketplace.js'
import { epochClose, epochDeadline, epochOf } from '../chain/epoch-records.js'
import { gradeOfUnits, merkleRoot, leafHash, type EpochLeaves, type Leaf } from './epoch-leaves.js'

type EpochReport = Extract<MarketRecord, { kind: 'epoch-report' }>

/** A performance leaf's grade as an aggregate carries it: units above the minimum, clamped to 0..30 and rounded down to a step. */
export function leafGrade (leaf: Leaf): number { return gradeOfUnits(leaf.units ?? 0) }

/** The lower median of grades counted by step (`counts[k]`: grades of k steps; at least one). */
function lowerMedian (counts: number[]): number {
  const n = counts.reduce((a, c) => a + c, 0)
  let seen = 0
  for (let k = 0; k < counts.length; k++) {
    seen += counts[k]
    if (seen > (n - 1) >> 1) return k * L.aggregateUnitsStep
  }
  return 0
}

function countGrade (byHoster: Map<string, number[]>, hoster: string, grade: number): void {
  let counts = byHoster.get(hoster)
  if (counts === undefined) byHoster.set(hoster, (counts = Array<number>(L.aggregateUnitsMax / L.aggregateUnitsStep + 1).fill(0)))
  counts[grade / L.aggregateUnitsStep]++
}

/**
 * The aggregate of an attestor's checks `from..` of one epoch from its leaves, as far as the
 * record's limits allow; the chain's grading rule (gradedHosters in epoch-records.ts) is the
 * order in which hosters first appear among the performance passes.
 */
export function buildEpochReport (epoch: number, checks: EpochCheck[], from: number, kept: Map<number, Leaf>): EpochReport {
  const failed: number[] = []
  /** Each graded hoster's grades counted by step, in the order of its first performance pass. */
  const byHoster = new Map<string, number[]>()
  const hashes: Buffer[] = []
  let count = 0
  for (const [id, , perf, hoster] of checks.slice(from, from + L.aggregateChecksMax)) {
    const leaf = kept.get(id)
    // a leaf of the other kind cannot be this check's pass
    const ok = leaf !== undefined && (leaf.kind === 'performance') === (perf === 1)
    if (!ok && failed.length === L.aggregateFailedMax) break
    if (ok && perf === 1 && !byHoster.has(hoster) && byHoster.size === L.aggregateGradesMax) break
    if (!ok) failed.push(count)
    else {
      if (perf === 1) countGrade(byHoster, hoster, leafGrade(leaf))
      hashes.push(leafHash(leaf))
    }
    count++
  }
  const grades = [...byHoster.values()].map(lowerMedian)
  return { kind: 'epoch-report', epoch, from, count, failed, grades, rootHex: b4a.toString(merkleRoot(hashes), 'hex') }
}

/** The challenge ids of a part's passes in the order of its leaves: its covered checks but the failed offsets. */
export function passIds (checks: EpochCheck[], rec: Pick<EpochReport, 'from' | 'count' | 'failed'>): number[] {
  const failed = new Set(rec.failed)
  return checks.slice(rec.from, rec.from + rec.count).filter((_, i) => !failed.has(i)).map(([id]) => id)
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
      // what the root is over, for an auditor asking for a leaf and its path (audits.ts)
      this.opts.leaves.keepPart(epoch, rec.from, passIds(entry.checks, rec))
      const sent = this.opts.submit(rec).then(() => { this.opts.onSubmitted(rec) }, (err) => { this.opts.onError(err) })
        .finally(() => { this.inFlight.delete(id) })
      this.inFlight.set(id, sent)
    }
  }

  /** Resolves when the aggregates in flight are settled (close). */
  async idle (): Promise<void> { await Promise.allSettled([...this.inFlight.values()]) }
}
