/**
 * How performance checks settle: graded from their attestors' reports, containment (a first
 * failure puts a slot under re-check by its next check, a second replaces the hoster, a pass
 * clears it without penalising the accusers); and the per-block deadlines (plan ends, setup
 * timeouts, challenges not reported in time). Storage failures are disputes (disputes.ts).
 */
import { RECORD_LIMITS } from './record-types.js'
import { MARKET_PARAMS, type Challenge, type Contract, type MarketState, type Plan } from './market-types.js'
import type { Ctx } from './market-context.js'
import { accrue, endPlan, performanceUnits } from './accounting.js'
import { penalise, reward } from './reputation.js'
import { blame, markPending, release, vacateSlot } from './assignments.js'
import { issueChallenge } from './selection.js'
import { offHours } from './schedule.js'
import { ingest, marketIndex, providerTouched } from './market-index.js'
import { recheckOtherSlots } from './challenge-issue.js'
import { awaitAggregates, closeCheck, expireEpochs } from './epoch-records.js'

/**
 * The plans that may end at this block, in id order: every plan in the oracle mode, else those
 * whose queued end block came (an extended plan is queued again at its new end; ends only grow).
 */
function duePlans (ctx: Ctx): Plan[] {
  const { state, block } = ctx
  const ix = marketIndex(state)
  if (ix.scan) return Object.values(state.plans)
  ingest(state, ix)
  const out: Plan[] = []
  for (const id of uniqueSorted(ix.planEnds.popUpTo(block.number))) {
    const plan = state.plans[id]
    if (plan === undefined || plan.status !== 'active') continue
    if (plan.endBlock > block.number) ix.planEnds.push(plan.endBlock, id)
    else out.push(plan)
  }
  return out
}

/** The contracts whose setup deadline may have come, in id order (every contract in the oracle mode). */
function dueSetups (ctx: Ctx): Contract[] {
  const { state, block } = ctx
  const ix = marketIndex(state)
  if (ix.scan) return Object.values(state.contracts)
  const out: Contract[] = []
  for (const id of uniqueSorted(ix.setupDeadlines.popUpTo(block.number))) {
    const contract = state.contracts[id]
    if (contract === undefined || contract.setupDeadline === null) continue
    if (contract.setupDeadline > block.number) { ix.setupDeadlines.push(contract.setupDeadline, id); continue }
    out.push(contract)
    // without an attestor the deadline does not fire yet: due again at the next block
    if (contract.attestor === null) ix.setupDeadlines.push(contract.setupDeadline, id)
  }
  return out
}

function uniqueSorted (ids: number[]): number[] { return [...new Set(ids)].sort((a, b) => a - b) }

/** Lower median of integers (deterministic, no floating point). */
function median (values: number[]): number {
  const v = [...values].sort((a, b) => a - b)
  return v[Math.floor((v.length - 1) / 2)]
}

/**
 * Settles a performance check from its reports; attestors that did not report are penalised.
 * Reachable: a strict majority of the reports say so (graded from the medians, unreachable
 * reports counting as the worst values). Failed: a strict majority of the check's ATTESTORS
 * reported unreachable (so a lone report while the others missed the deadline cannot fail a
 * hoster). Anything else is inconclusive: no reward, no strike.
 */
export function settlePerformance (ctx: Ctx, ch: Challenge): void {
  const { state } = ctx
  closeCheck(state, ch.id)
  for (const a of ch.attestors) {
    if (!ch.reports.some((r) => r.attestor === a)) {
      penalise(ctx, a, 'attestor', 'missedReport', `performance check ${ch.id}`)
      ctx.out.notices.push(`attestor ${a} missed performance check ${ch.id}`)
    }
  }
  const contract = state.contracts[ch.contractId]
  if (contract === undefined) return
  if (ch.reports.length === 0) {
    ctx.out.notices.push(`challenge ${ch.id} expired without a report`)
    return
  }
  const slot = contract.slots[ch.slot]
  const current = slot.hoster === ch.hoster && slot.state === 'hosting'
  const reachable = ch.reports.filter((r) => r.reachable)
  const unreachable = ch.reports.length - reachable.length
  if (2 * reachable.length > ch.reports.length) {
    accrue(ctx, state.plans[contract.planId], ch.hoster, checkUnits(ch), 'performance-proof')
    reward(state, ch.hoster, 'hoster', MARKET_PARAMS.rewardsOnSuccess)
    // a reachable majority clears the containment, an aggregated check's too (as an individual check
    // issued before the containment and settled after it does): availability is a reading of the
    // moment and clearing fines no one, while a containment held until its re-check replaced honest
    // hosters that two busy moments made unreachable (hosting-e2e). Storage passes stay no verdicts.
    if (current) clearContainment(ctx, contract, ch.slot)
  } else if (2 * unreachable <= ch.attestors.length) {
    // Not a majority of the check's attestors: a lone (possibly lying) report decides nothing.
    ctx.out.notices.push(`performance check ${ch.id} of contract ${contract.id} slot ${ch.slot} inconclusive (${unreachable} of ${ch.attestors.length} unreachable)`)
  } else if (offHours(ctx, ch.hoster)) {
    // issued in the hoster's hours, settled after them: unreachable then is what it promised
    ctx.out.notices.push(`performance check ${ch.id} of contract ${contract.id} slot ${ch.slot} settled after the hoster's hours ended: no strike`)
  } else if (current) {
    strike(ctx, contract, ch, ch.reports.filter((r) => !r.reachable).map((r) => r.attestor))
  }
}

/**
 * The hoster's pay for a reachable check: units from the medians of the readings; a check with
 * passes from epoch aggregates (which carry a grade, not the reading) from the lower median of
 * each report's grade (an unreachable report counting as the lowest).
 */
function checkUnits (ch: Challenge): bigint {
  if (ch.reports.every((r) => r.units === undefined)) {
    const ttfb = median(ch.reports.map((r) => (r.reachable ? r.ttfbMs : RECORD_LIMITS.latencyMsMax)))
    const throughput = median(ch.reports.map((r) => (r.reachable ? r.throughputBps : 0)))
    return performanceUnits(ttfb, throughput)
  }
  const lo = MARKET_PARAMS.units.performanceMin
  const grades = ch.reports.map((r) => r.units !== undefined ? Number(lo) + r.units : r.reachable ? Number(performanceUnits(r.ttfbMs, r.throughputBps)) : Number(lo))
  return BigInt(median(grades))
}

/**
 * A performance pass: ends the slot's containment. The accusers are not penalised: a pass now
 * does not prove an earlier reading false (the hoster may have been unreachable then), so an
 * honest attestor could be punished for a true report. Each unconfirmed accusation is counted
 * instead; `unconfirmedLimit` in a row (none confirmed between) and the attestor is not chosen to
 * attest for `attestSuspensionBlocks` (docs/protocol.md, "No honest penalty").
 */
export function clearContainment (ctx: Ctx, contract: Contract, i: number): void {
  const slot = contract.slots[i]
  if (slot.strikes.performance === 0) return
  for (const a of slot.accusers.performance) {
    ctx.out.notices.push(`attestor ${a} was contradicted on the performance of contract ${contract.id} slot ${i} (not confirmed: no penalty)`)
    countUnconfirmed(ctx, a)
  }
  slot.strikes.performance = 0
  slot.accusers.performance = []
  delete slot.performanceContainedAt
}

/**
 * One more accusation of `a` that was not confirmed (a reading of the moment, not fined):
 * `unconfirmedLimit` in a row and it is not chosen to attest for `attestSuspensionBlocks`.
 */
export function countUnconfirmed (ctx: Ctx, a: string): void {
  const p = ctx.state.providers[a]
  if (p === undefined) return
  p.unconfirmed = (p.unconfirmed ?? 0) + 1
  if (p.unconfirmed < MARKET_PARAMS.unconfirmedLimit) return
  p.unconfirmed = 0
  p.attestSuspendedUntil = ctx.block.number + MARKET_PARAMS.attestSuspensionBlocks
  providerTouched(ctx.state, a)
  ctx.out.notices.push(`attestor ${a} not chosen to attest until block ${p.attestSuspendedUntil} (${MARKET_PARAMS.unconfirmedLimit} unconfirmed accusations in a row)`)
}

/** A confirmed accusation (a second failure by other attestors) ends the accusers' unconfirmed streaks. */
export function confirmAccusers (state: MarketState, accusers: string[]): void {
  for (const a of accusers) {
    const p = state.providers[a]
    if (p !== undefined && p.unconfirmed !== undefined) p.unconfirmed = 0
  }
}

/**
 * A failed performance check. Availability is a reading of the moment: the first failure puts the
 * slot in containment, re-checked by its next scheduled check (a challenge interval later, other
 * attestors), so a hoster is replaced only when it failed twice, an interval apart, never for one
 * busy moment (docs/protocol.md, "No honest penalty"). A check issued before the containment began
 * is no re-check of it: it read the same moment (on an aggregated network such checks settle an
 * epoch late, all at once), so its failure joins the containment's accusers and replaces no one.
 */
export function strike (ctx: Ctx, contract: Contract, ch: Challenge, accusers: string[]): void {
  const { state } = ctx
  const i = ch.slot
  const slot = contract.slots[i]
  const hoster = slot.hoster as string
  if (slot.strikes.performance === 0) {
    slot.strikes.performance = 1
    slot.accusers.performance = [...accusers]
    slot.performanceContainedAt = ctx.block.number
    ctx.out.notices.push(`hoster ${hoster} of contract ${contract.id} slot ${i} in performance containment (unreachable): re-checked by its next check`)
    return
  }
  if (ch.issuedAt < (slot.performanceContainedAt ?? 0)) {
    slot.accusers.performance = [...new Set([...slot.accusers.performance, ...accusers])]
    ctx.out.notices.push(`performance check ${ch.id} of contract ${contract.id} slot ${i} was issued before its containment began (block ${slot.performanceContainedAt ?? 0}): no re-check, no strike`)
    return
  }
  confirmAccusers(state, [...slot.accusers.performance, ...accusers])
  penalise(ctx, hoster, 'hoster', 'failedProof', `performance of contract ${contract.id} slot ${i} (unreachable)`)
  vacateSlot(state, contract, i)
  // the replacement is someone else: the failed hoster is not assigned to this slot again
  blame(slot, hoster)
  markPending(state, contract)
  ctx.out.notices.push(`hoster ${hoster} of contract ${contract.id} failed a performance challenge: replaced`)
  recheckOtherSlots(ctx, hoster)
}

/**
 * Plan ends, setup timeouts (new attestor), challenge deadlines: a storage challenge without a
 * report costs its attestor (a slot in containment is re-checked by another one); a performance
 * check settles with the reports it has and penalises the attestors that did not report.
 */
export function expireAndEnd (ctx: Ctx): void {
  const { state, block } = ctx
  for (const plan of duePlans(ctx)) {
    if (plan.status === 'active' && block.number >= plan.endBlock) endPlan(ctx, plan, 'ended')
  }
  for (const contract of dueSetups(ctx)) {
    if (contract.setupDeadline !== null && block.number >= contract.setupDeadline && contract.attestor !== null) {
      penalise(ctx, contract.attestor, 'attestor', 'missedReport', `setup of contract ${contract.id}`)
      release(state, contract.attestor, 0)
      ctx.out.notices.push(`attestor ${contract.attestor} missed the setup of contract ${contract.id}: replaced`)
      contract.attestor = null
      contract.setupDeadline = null
      markPending(state, contract)
    }
  }
  for (const id of Object.keys(state.challenges)) {
    const ch = state.challenges[id]
    if (ch === undefined) continue
    if (ch.kind === 'performance') {
      if (ch.reports.length >= ch.attestors.length) settlePerformance(ctx, ch)
      else if (block.number >= ch.deadline && ch.epoch !== undefined) awaitAggregates(state, ch)
      else if (block.number >= ch.deadline) settlePerformance(ctx, ch)
      continue
    }
    if (block.number < ch.deadline) continue
    // a regular check of an aggregated network not failed by its deadline: its pass comes in the epoch aggregate
    if (ch.epoch !== undefined) { awaitAggregates(state, ch); continue }
    delete state.challenges[id]
    for (const a of ch.attestors) penalise(ctx, a, 'attestor', 'missedReport', `storage challenge ${ch.id}`)
    ctx.out.notices.push(`challenge ${ch.id} expired without a report`)
    const contract = state.contracts[ch.contractId]
    const slot = contract?.slots[ch.slot]
    if (slot !== undefined && slot.hoster === ch.hoster && slot.state === 'hosting' && slot.strikes.storage > 0) {
      issueChallenge(ctx, contract, ch.slot, 'storage', true, ch.attestors)
    }
  }
  expireEpochs(ctx)
}
