/**
 * Storage disputes: a failed storage report never replaces a hoster on one attestor's word, nor
 * on two. It opens a dispute of the slot (containment); every further verdict comes from a new
 * attestor the chain draws from a later block's hash, independent of every earlier party
 * (selection.ts notIndependent). The hoster is replaced once `disputeFails` attestors (the accuser
 * and two confirmations) reported it failed, and cleared once `disputePasses` reported a pass;
 * the side that lost loses `lostDispute` attestor reputation each, the side that won gains. An
 * accuser whose reason was a reading of the moment (unreachable, late) is not fined for losing:
 * the hoster can be down then and fine later; it is counted towards a rest instead (and a pass
 * outvoted by such readings only is not fined either). Why and the
 * residual odds: docs/protocol.md section 4, "Independent agreement".
 */
import { MARKET_PARAMS, type Contract } from './market-types.js'
import type { Ctx } from './market-context.js'
import { penalise, reward } from './reputation.js'
import { blame, markPending, vacateSlot } from './assignments.js'
import { issueChallenge } from './selection.js'
import { confirmAccusers, countUnconfirmed } from './challenges.js'
import { offHours } from './schedule.js'
import { recheckOtherSlots } from './challenge-issue.js'

/** Storage failures that are a reading of the moment, not a claim about the hoster's data. */
export const MOMENT_FAILURES: readonly string[] = ['UNREACHABLE', 'DEADLINE_MISSED', 'OTHER']

/**
 * One verdict on the hosting slot `i` by `attestor`: a pass outside a dispute is a plain pass; a
 * failure opens a dispute or adds to it; a dispute that is not decided yet gets its next re-check.
 */
export function storageVerdict (ctx: Ctx, contract: Contract, i: number, attestor: string, ok: boolean, why: string): void {
  const slot = contract.slots[i]
  if (ok && slot.strikes.storage === 0) return
  if (ok) slot.defenders = [...(slot.defenders ?? []), attestor]
  else {
    slot.accusers.storage = [...slot.accusers.storage, attestor]
    slot.strikes.storage = slot.accusers.storage.length
    if (MOMENT_FAILURES.includes(why)) slot.momentAccusers = [...(slot.momentAccusers ?? []), attestor]
  }
  const fails = slot.accusers.storage.length
  const passes = slot.defenders?.length ?? 0
  if (fails >= MARKET_PARAMS.disputeFails) { replaceHoster(ctx, contract, i, why); return }
  if (passes >= MARKET_PARAMS.disputePasses) { clearDispute(ctx, contract, i); return }
  const hoster = slot.hoster as string
  // the containment notice only for a failure (the hosting service and the alerts read it as one)
  if (ok) ctx.out.notices.push(`storage dispute of hoster ${hoster} of contract ${contract.id} slot ${i} undecided (${fails} failed, ${passes} passed): re-checking`)
  else ctx.out.notices.push(`hoster ${hoster} of contract ${contract.id} slot ${i} in storage containment (${why}): re-checking (${fails} failed, ${passes} passed)`)
  // off its hours the hoster owes no answer: its next scheduled challenge, in its hours, re-checks
  if (offHours(ctx, hoster)) ctx.out.notices.push(`storage re-check of contract ${contract.id} slot ${i} waits for the hoster's hours`)
  else issueChallenge(ctx, contract, i, 'storage', true)
}

/** Independent attestors agreed on a failure: the hoster is penalised and replaced; those who said it passed lost the dispute. */
function replaceHoster (ctx: Ctx, contract: Contract, i: number, why: string): void {
  const { state } = ctx
  const slot = contract.slots[i]
  const hoster = slot.hoster as string
  const accusers = slot.accusers.storage
  const defenders = slot.defenders ?? []
  for (const a of accusers) reward(state, a, 'attestor', MARKET_PARAMS.rewardsOnSuccess)
  // failures that were all readings of the moment (unreachable, late) do not make a pass false
  const moment = slot.momentAccusers ?? []
  if (accusers.some((a) => !moment.includes(a))) {
    for (const d of defenders) penalise(ctx, d, 'attestor', 'lostDispute', `passed the hoster of contract ${contract.id} slot ${i}; ${accusers.length} attestors found it failed`)
  }
  confirmAccusers(state, accusers)
  penalise(ctx, hoster, 'hoster', 'failedProof', `storage of contract ${contract.id} slot ${i} (${why})`)
  vacateSlot(state, contract, i)
  // the replacement is someone else: the failed hoster is not assigned to this slot again
  blame(slot, hoster)
  markPending(state, contract)
  ctx.out.notices.push(`storage dispute of hoster ${hoster} of contract ${contract.id} slot ${i} decided: ${accusers.length} attestors found it failed, ${defenders.length} passed`)
  ctx.out.notices.push(`hoster ${hoster} of contract ${contract.id} failed a storage challenge: replaced`)
  recheckOtherSlots(ctx, hoster)
}

/** Independent attestors found the hoster holding its data: the dispute ends; the accusers lost it. */
function clearDispute (ctx: Ctx, contract: Contract, i: number): void {
  const { state } = ctx
  const slot = contract.slots[i]
  const defenders = slot.defenders ?? []
  for (const d of defenders) reward(state, d, 'attestor', MARKET_PARAMS.rewardsOnSuccess)
  const moment = slot.momentAccusers ?? []
  for (const a of slot.accusers.storage) {
    ctx.out.notices.push(`attestor ${a} was contradicted on the storage of contract ${contract.id} slot ${i} (${defenders.length} attestors found it passed)`)
    if (moment.includes(a)) countUnconfirmed(ctx, a)
    else penalise(ctx, a, 'attestor', 'lostDispute', `failed the hoster of contract ${contract.id} slot ${i}; ${defenders.length} attestors found it passed`)
  }
  slot.strikes.storage = 0
  slot.accusers.storage = []
  slot.defenders = []
  slot.momentAccusers = []
}
