/**
 * Aggregated attestations (issue 12 item 3; docs/chain.md "Aggregated attestations"). On a network
 * with `epochBlocks` > 0 a regular check's pass is not its own record: the chain lists each
 * attestor's regular checks of an epoch in the order it issued them, a check past its own deadline
 * that was not failed individually waits (`state.awaiting`), and the attestor's `epoch-report`
 * (how many of that list it covers, the offsets it did not pass, one grade per hoster, the merkle
 * root of its leaves: a size that does not grow with the checks) settles them all: passes are paid
 * and rewarded then, a check it did not pass is its missed report. Failures, disputes and their
 * re-checks stay individual records.
 *
 * Windows, for epoch N of E blocks and a challenge timeout T: its checks are issued in
 * [N E, (N + 1) E), each answered individually (failures) before its own deadline; the
 * aggregates are accepted from `epochClose` = (N + 1) E + T (every check of the epoch is past its
 * deadline, so no failure can still come) until `epochDeadline` = close + T; at that block what
 * no aggregate covered is missed (the attestor's penalty, never the hoster's) and epoch N is forgotten.
 */
import { MARKET_PARAMS, type Challenge, type EpochCheck, type EpochChecks, type MarketState } from './market-types.js'
import type { MarketRecord, NetworkParams } from './record-types.js'
import { failedOffsetsProblem } from './record-validate.js'
import { epochOf, reject, type Ctx } from './market-context.js'
import { accrue } from './accounting.js'
import { penalise, reward } from './reputation.js'
import { settlePerformance } from './challenges.js'
import { forgetCommittees } from './committee.js'
import { runAudits, sampleAudits, AUDIT_PARAMS } from './audits.js'
import { marketIndex } from './market-index.js'

export { epochOf }

/** The network's epoch in blocks, 0 when attestations are not aggregated. */
export function epochBlocks (state: MarketState): number { return state.network?.params.epochBlocks ?? 0 }

/** The first block at which epoch `n`'s aggregates are accepted (every check of it is past its own deadline). */
export function epochClose (p: NetworkParams, n: number): number { return (n + 1) * (p.epochBlocks as number) + p.challengeTimeoutBlocks }
/** The block at which epoch `n`'s aggregates are due: what none covered is missed. */
export function epochDeadline (p: NetworkParams, n: number): number { return epochClose(p, n) + p.challengeTimeoutBlocks }

/** A regular check just issued on an aggregated network: listed under its epoch for each of its attestors. */
export function noteEpochCheck (ctx: Ctx, ch: Challenge, planId: number): void {
  const { state } = ctx
  const p = (state.network as NonNullable<MarketState['network']>).params
  ch.epoch = epochOf(p, ctx.block.number)
  ch.planId = planId
  const epochs = (state.epochs ??= {})
  const byAttestor = (epochs[ch.epoch] ??= {})
  const perf = ch.kind === 'performance' ? 1 : 0
  for (const a of ch.attestors) listOf(byAttestor[a] ??= new EpochList()).add(ch.id, planId, perf, ch.hoster)
}

/**
 * One attestor's list of an epoch as columns (market-types.ts EpochChecks): serialised as
 * `{ covered, ids, planPerf, hosters }`; `checks` (the tuples) is a getter of the class, so it is
 * not serialised and a parsed state gets the class back (`reviveEpochs`).
 */
export class EpochList implements EpochChecks {
  covered = 0
  ids: number[] = []
  planPerf: number[] = []
  hosters: string[] = []

  add (id: number, plan: number, perf: number, hoster: string): void {
    this.ids.push(id)
    this.planPerf.push(plan * 2 + perf)
    this.hosters.push(hoster)
  }

  get length (): number { return this.ids.length }
  /** The check at offset `i` as a tuple. */
  at (i: number): EpochCheck { return [this.ids[i], Math.floor(this.planPerf[i] / 2), this.planPerf[i] % 2, this.hosters[i]] }
  slice (from: number, to: number): EpochCheck[] {
    const out: EpochCheck[] = []
    for (let i = from; i < Math.min(to, this.ids.length); i++) out.push(this.at(i))
    return out
  }

  get checks (): EpochCheck[] { return this.slice(0, this.ids.length) }
}

/**
 * A parsed state's lists get their class back (deserializeState): lists of this form keep their
 * columns; lists of snapshots before it (`{ checks: EpochCheck[], covered }`) are converted.
 */
export function reviveEpochs (state: MarketState): void {
  for (const byAttestor of Object.values(state.epochs ?? {})) {
    for (const [a, entry] of Object.entries(byAttestor)) {
      const old = (entry as { checks?: unknown }).checks
      if (Array.isArray(old)) {
        const list = new EpochList()
        for (const [id, plan, perf, hoster] of old as EpochCheck[]) list.add(id, plan, perf, hoster)
        list.covered = entry.covered
        byAttestor[a] = list
      } else Object.setPrototypeOf(entry, EpochList.prototype)
    }
  }
}

function listOf (entry: EpochChecks): EpochList { return entry as EpochList }

/** A regular check past its own deadline on an aggregated network: it waits for its attestors' aggregates. */
export function awaitAggregates (state: MarketState, ch: Challenge): void {
  delete state.challenges[ch.id]
  const awaiting = (state.awaiting ??= {})
  if (awaiting[ch.id] === undefined) marketIndex(state).awaitingCount++
  awaiting[ch.id] = ch
}

/** Removes a check from the open and the awaiting ones. */
export function closeCheck (state: MarketState, id: number): void {
  delete state.challenges[id]
  if (state.awaiting === undefined || state.awaiting[id] === undefined) return
  delete state.awaiting[id]
  marketIndex(state).awaitingCount--
}

/** True when no check awaits aggregates (counted by the index; a scan of them in the oracle mode). */
function noneAwaiting (state: MarketState): boolean {
  const ix = marketIndex(state)
  return ix.scan ? Object.keys(state.awaiting ?? {}).length === 0 : ix.awaitingCount === 0
}

type EpochReport = Extract<MarketRecord, { kind: 'epoch-report' }>

/**
 * The hosters an aggregate of `checks` grades, in the order of each one's first appearance among
 * the performance checks it passed (the offsets not in `failed`): one grade each. The attestor
 * (main/hosting/epoch-aggregator.ts) and the chain both follow it over the chain's list.
 */
export function gradedHosters (checks: EpochCheck[], failed: ReadonlySet<number>): string[] {
  const seen = new Set<string>()
  checks.forEach(([, , perf, hoster], i) => { if (perf === 1 && !failed.has(i)) seen.add(hoster) })
  return [...seen]
}

/** Refuses an aggregate that is not for a closed epoch within its window, or not the attestor's next checks. */
function epochEntry (ctx: Ctx, signer: string, rec: EpochReport): EpochChecks {
  const { state, block } = ctx
  if (epochBlocks(state) === 0) reject('not-allowed', 'this network does not aggregate attestations (epochBlocks 0)')
  const p = (state.network as NonNullable<MarketState['network']>).params
  const close = epochClose(p, rec.epoch)
  const due = epochDeadline(p, rec.epoch)
  if (block.number < close) reject('out-of-order', `epoch ${rec.epoch}: aggregates are accepted from block ${close} (block ${block.number} is in epoch ${epochOf(p, block.number)})`)
  if (block.number >= due) reject('replayed', `epoch ${rec.epoch}: aggregates were due before block ${due}`)
  const entry = state.epochs?.[rec.epoch]?.[signer]
  if (entry === undefined) reject('unknown-ref', `epoch ${rec.epoch}: no checks were assigned to this attestor`)
  const assigned = listOf(entry).length
  if (rec.from < entry.covered) reject('replayed', `epoch ${rec.epoch}: checks ${rec.from}.. already aggregated (${entry.covered} of ${assigned} covered)`)
  if (rec.from > entry.covered) reject('out-of-order', `epoch ${rec.epoch}: the next aggregate starts at check ${entry.covered}, not ${rec.from}`)
  const end = rec.from + rec.count
  if (end > assigned) reject('bad-value', `epoch ${rec.epoch}: ${assigned} checks were assigned, the aggregate covers checks ${rec.from}..${end - 1}`)
  // the codec refuses these too; an aggregate applied otherwise (a replayed state) is held to the same
  const failed = failedOffsetsProblem(rec.failed, rec.count)
  if (failed !== null) reject('bad-value', `epoch ${rec.epoch}: ${failed}`)
  return entry
}

/** The grade of each hoster the aggregate grades: exactly one per hoster of its performance passes. */
function gradesOf (rec: EpochReport, covered: EpochCheck[]): Map<string, number> {
  const hosters = gradedHosters(covered, new Set(rec.failed))
  if (rec.grades.length !== hosters.length) {
    reject('bad-value', `epoch ${rec.epoch}: the performance checks it passes are of ${hosters.length} hoster(s), so ${hosters.length} grade(s) (one a hoster, in the order each first appears), not ${rec.grades.length}`)
  }
  return new Map(hosters.map((h, i) => [h, rec.grades[i]]))
}

/** An attestor's epoch aggregate: every check it covers is settled (passes paid, the failed ones missed). */
export function epochReport (ctx: Ctx, signer: string, rec: EpochReport): string {
  const entry = epochEntry(ctx, signer, rec)
  const covered = listOf(entry).slice(rec.from, rec.from + rec.count)
  const grades = gradesOf(rec, covered)
  const failed = new Set(rec.failed)
  sampleAudits(ctx, signer, rec, covered, epochDeadline((ctx.state.network as NonNullable<MarketState['network']>).params, rec.epoch + AUDIT_PARAMS.keepEpochs))
  covered.forEach(([id, , perf, hoster], i) => {
    if (failed.has(i)) missCheck(ctx, signer, id, 'not passed in its epoch aggregate')
    else passCheck(ctx, signer, id, perf === 1 ? grades.get(hoster) : undefined)
  })
  entry.covered += rec.count
  const sender = ctx.state.providers[signer]
  if (sender !== undefined && (sender.lastAggregateEpoch ?? -1) < rec.epoch) sender.lastAggregateEpoch = rec.epoch
  ctx.out.notices.push(`attestor ${signer} aggregated ${rec.count} checks of epoch ${rec.epoch} (${rec.count - rec.failed.length} passed, ${rec.grades.length} hoster grade(s), root ${rec.rootHex})`)
  return `epoch:${rec.epoch}:${rec.from}`
}

/** A pass in an aggregate: the attestor is paid for its report, the hoster for its proof (performance: when the check settles). */
function passCheck (ctx: Ctx, signer: string, id: number, units: number | undefined): void {
  const { state } = ctx
  const ch = state.awaiting?.[id]
  // closed meanwhile (failed individually, slot vacated, plan ended) or no longer this attestor's: nothing to pay
  if (ch === undefined || !ch.attestors.includes(signer)) return
  const plan = state.plans[ch.planId as number]
  const reason = ch.kind === 'storage' ? 'storage-proof' : 'performance-proof'
  if (plan !== undefined) accrue(ctx, plan, signer, MARKET_PARAMS.units.challengeAttest, reason)
  reward(state, signer, 'attestor', MARKET_PARAMS.rewardsOnReport)
  if (ch.kind === 'performance') {
    ch.reports.push({ attestor: signer, reachable: true, ttfbMs: 0, throughputBps: 0, measureKeyHex: '', units })
    settleIfDone(ctx, ch)
    return
  }
  closeCheck(state, id)
  if (plan !== undefined) accrue(ctx, plan, ch.hoster, MARKET_PARAMS.units.storageProof, 'storage-proof')
  reward(state, ch.hoster, 'hoster', MARKET_PARAMS.rewardsOnSuccess)
  // a plain pass: it was issued outside a dispute and is older than any dispute opened since, so it
  // is no verdict in one (a walk that passed before a hoster dropped its chunks defends nothing)
}

/** A check its attestor neither failed individually nor passed in an aggregate: its missed report (the hoster is not blamed). */
function missCheck (ctx: Ctx, signer: string, id: number, why: string): void {
  const { state } = ctx
  const ch = state.awaiting?.[id]
  if (ch === undefined || !ch.attestors.includes(signer)) return
  if (ch.kind === 'storage') {
    closeCheck(state, id)
    penalise(ctx, signer, 'attestor', 'missedReport', `storage challenge ${id} (${why})`)
    return
  }
  if (ch.reports.some((r) => r.attestor === signer) || (ch.missed ?? []).includes(signer)) return
  ch.missed = [...(ch.missed ?? []), signer]
  // settlePerformance penalises every attestor of the check without a report
  settleIfDone(ctx, ch)
}

function settleIfDone (ctx: Ctx, ch: Challenge): void {
  if (ch.reports.length + (ch.missed?.length ?? 0) >= ch.attestors.length) settlePerformance(ctx, ch)
}

/** Epochs whose aggregate deadline came: what no aggregate covered is missed, waiting checks settle, the epoch is forgotten. */
export function expireEpochs (ctx: Ctx): void {
  const { state, block } = ctx
  if (state.network === null) return
  const p = state.network.params
  forgetCommittees(state, (n) => epochDeadline(p, n), block.number)
  runAudits(ctx)
  if (state.epochs === undefined) return
  for (const key of Object.keys(state.epochs)) {
    const n = Number(key)
    if (block.number < epochDeadline(p, n)) continue
    const byAttestor = state.epochs[key]
    for (const a of Object.keys(byAttestor).sort()) {
      const entry = listOf(byAttestor[a])
      const missed = entry.length - entry.covered
      for (let i = entry.covered; i < entry.length; i++) missCheck(ctx, a, entry.ids[i], `no aggregate of epoch ${n}`)
      if (missed > 0) ctx.out.notices.push(`attestor ${a} missed ${missed} checks of epoch ${n} (no aggregate by block ${epochDeadline(p, n)})`)
    }
    for (const ch of Object.values(state.awaiting ?? {})) {
      if (ch.epoch !== n) continue
      if (ch.kind === 'performance') settlePerformance(ctx, ch)
      else closeCheck(state, ch.id)
    }
    delete state.epochs[key]
  }
  if (Object.keys(state.epochs).length === 0) delete state.epochs
  if (state.awaiting !== undefined && noneAwaiting(state)) delete state.awaiting
}

/**
 * Payouts once per epoch: the block before which owed items are paid now. Without epochs every
 * owed item is due; with them, the items owed before the latest payout point k E + 2 T (just after
 * epoch k - 1's aggregates were due), so an epoch's rewards go out in one payout.
 */
export function payoutCutoff (state: MarketState): number {
  if (state.block === null) return Number.POSITIVE_INFINITY
  return payoutPoint(state, state.block.number) ?? Number.POSITIVE_INFINITY
}

/** The latest payout point at or before `block` (k E + 2 T), or null without epochs. */
export function payoutPoint (state: MarketState, block: number): number | null {
  const p = state.network?.params
  if (p === undefined || (p.epochBlocks ?? 0) === 0) return null
  const E = p.epochBlocks as number
  const lag = 2 * p.challengeTimeoutBlocks
  return Math.floor((block - lag) / E) * E + lag
}
