/**
 * The marketplace's accounting of value: budgets allocated to owed work items and refunds, plan
 * ends, escrow conservation, value no record explains (reputation is reputation.ts). Every planck
 * that enters escrow is, at every moment, paid out, refunded or held (conservation); a broken
 * balance is an internal error.
 */
import { DatdotError } from '../shared/errors.js'
import { MARKET_PARAMS, type Action, type ActionOutcome, type MarketState, type NetworkConfig, type Plan, type Reason } from './market-types.js'
import type { Ctx } from './market-context.js'
import { release, vacateSlot } from './assignments.js'
import { marketIndex, moveHeld, noteOpenItem, noteOwed, openItem } from './market-index.js'
import { payoutPoint } from './epoch-records.js'

// ---------------------------------------------------------------- value

/** Budget of a plan not yet allocated to work or refund. */
export function remainingPlanck (plan: Plan): bigint {
  return plan.budgetPlanck - plan.accruedPlanck - plan.refundPlanck
}

/**
 * Owes `amountPlanck` to `to`. On an aggregated network a reward is added to the payee's item of
 * the same plan and reason made since the last payout point (epoch-records.ts payoutPoint), so an
 * epoch's rewards are a few items a payee, not one per check; such an item is not due before the
 * next point, so no payout in flight can hold it. Refunds are always items of their own.
 */
export function addOwed (ctx: Ctx, plan: Plan, to: string, amountPlanck: bigint, reason: Reason): void {
  const { state, block } = ctx
  moveHeld(state, amountPlanck)
  const point = reason === 'refund' ? null : payoutPoint(state, block.number)
  const open = point === null ? null : openItem(state, to, plan.id, reason, point)
  if (open !== null) { open.amountPlanck += amountPlanck; return }
  const id = state.next.item++
  state.owed[id] = { id, to, amountPlanck, reason, planId: plan.id, block: block.number }
  noteOwed(state, id)
  if (point !== null) noteOpenItem(state, state.owed[id])
}

export function accrue (ctx: Ctx, plan: Plan, to: string, units: bigint, reason: Reason): void {
  if (plan.status !== 'active') return
  const net = ctx.state.network as NetworkConfig
  let amount = units * net.unitPricePlanck
  const left = remainingPlanck(plan)
  if (amount > left) amount = left
  if (amount > 0n) {
    moveHeld(ctx.state, -amount)
    plan.accruedPlanck += amount
    addOwed(ctx, plan, to, amount, reason)
  }
  // what remains now (addOwed does not touch the plan's budget), without computing it again
  if ((amount > 0n ? left - amount : left) === 0n) endPlan(ctx, plan, 'exhausted')
}

export function endPlan (ctx: Ctx, plan: Plan, status: Plan['status']): void {
  const { state } = ctx
  plan.status = status
  const left = remainingPlanck(plan)
  if (left > 0n) {
    moveHeld(state, -left)
    plan.refundPlanck += left
    addOwed(ctx, plan, plan.sponsor, left, 'refund')
  }
  for (const cid of plan.contractIds) {
    const contract = state.contracts[cid]
    if (contract === undefined) continue
    contract.slots.forEach((_, i) => vacateSlot(state, contract, i))
    if (contract.attestor !== null) release(state, contract.attestor, 0)
    delete state.contracts[cid]
  }
  // vacateSlot closed the challenges of every slot of the plan's contracts (deleteSlotChallenges)
  state.pending = state.pending.filter((id) => state.contracts[id] !== undefined)
  ctx.out.notices.push(`plan ${plan.id} ${status}`)
}

/** Held by escrow on behalf of someone: unspent budgets, owed unpaid items, unattributed value. */
export function heldPlanck (state: MarketState): bigint {
  let held = state.escrow.unattributedInPlanck
  for (const plan of Object.values(state.plans)) held += remainingPlanck(plan)
  for (const item of Object.values(state.owed)) held += item.amountPlanck
  return held
}

export interface Conservation {
  inPlanck: bigint
  payoutsPlanck: bigint
  refundsPlanck: bigint
  heldPlanck: bigint
  unaccountedOutPlanck: bigint
  /** What the escrow account should hold above its baseline. */
  expectedEscrowPlanck: bigint
  ok: boolean
}

/** budget in = payouts + refunds + held (+ leaks, which tests require to be zero). */
export function conservation (state: MarketState): Conservation {
  const e = state.escrow
  const inPlanck = e.budgetsInPlanck + e.unattributedInPlanck
  const held = heldPlanck(state)
  return {
    inPlanck,
    payoutsPlanck: e.payoutsPlanck,
    refundsPlanck: e.refundsPlanck,
    heldPlanck: held,
    unaccountedOutPlanck: e.unaccountedOutPlanck,
    expectedEscrowPlanck: inPlanck - e.payoutsPlanck - e.refundsPlanck - e.unaccountedOutPlanck,
    ok: inPlanck === e.payoutsPlanck + e.refundsPlanck + held
  }
}

/**
 * Conservation of escrow value at the end of a block. Every block: the running total of held
 * value (market-index.ts heldPlanck, kept by each change of it) against the escrow totals, O(1).
 * `full` (tests, the simulation, and every FULL_CHECK_EVERY blocks in the interpreters): the
 * sum over every plan and owed item as well, and the running total must equal it.
 */
export function assertConservation (state: MarketState, full = false): void {
  const e = state.escrow
  const held = marketIndex(state).heldPlanck
  if (e.budgetsInPlanck + e.unattributedInPlanck !== e.payoutsPlanck + e.refundsPlanck + held) {
    throw DatdotError.internal(`marketplace conservation broken: in ${e.budgetsInPlanck + e.unattributedInPlanck} != payouts ${e.payoutsPlanck} + refunds ${e.refundsPlanck} + held ${held} (running total)`)
  }
  if (!full) return
  const c = conservation(state)
  if (c.heldPlanck !== held) throw DatdotError.internal(`marketplace conservation broken: held ${c.heldPlanck} != running total ${held}`)
  if (!c.ok) throw DatdotError.internal(`marketplace conservation broken: in ${c.inPlanck} != payouts ${c.payoutsPlanck} + refunds ${c.refundsPlanck} + held ${c.heldPlanck}`)
}

/** Value of an action that no valid record claimed: counted so that escrow conservation stays exact. */
export function accountUnclaimed (state: MarketState, action: Action, res: ActionOutcome): void {
  const escrow = state.network?.escrow
  action.transfers.forEach((t, i) => {
    if (escrow === undefined) return
    if (t.to === escrow && t.from !== escrow) {
      moveHeld(state, t.amountPlanck)
      state.escrow.unattributedInPlanck += t.amountPlanck
      res.transferLegs[i] = [{ reason: 'unattributed', amountPlanck: t.amountPlanck, memo: 'value sent to escrow without a valid record' }]
    } else if (t.from === escrow && t.to !== escrow) {
      state.escrow.unaccountedOutPlanck += t.amountPlanck
      res.transferLegs[i] = [{ reason: 'unattributed', amountPlanck: t.amountPlanck, memo: 'value left escrow without a valid record' }]
    }
  })
}

/**
 * Reward units for a performance check from the medians of its reports: the lower of the
 * time-to-first-byte score (full at <= 100 ms, zero at >= 1500 ms) and the throughput score (zero
 * at <= 64 KiB/s, full at >= 4 MiB/s), scaled linearly between performanceMin and performanceMax.
 */
export function performanceUnits (ttfbMs: number, throughputBps: number): bigint {
  const { ttfbFullMs, ttfbZeroMs, throughputZeroBps, throughputFullBps } = MARKET_PARAMS.performance
  const { performanceMax: hi, performanceMin: lo } = MARKET_PARAMS.units
  const clamp = (x: number, a: number, b: number): number => Math.min(b, Math.max(a, x))
  // Scores as fractions num / den in [0, 1].
  const tNum = BigInt(ttfbZeroMs - clamp(ttfbMs, ttfbFullMs, ttfbZeroMs))
  const tDen = BigInt(ttfbZeroMs - ttfbFullMs)
  const bNum = BigInt(clamp(throughputBps, throughputZeroBps, throughputFullBps) - throughputZeroBps)
  const bDen = BigInt(throughputFullBps - throughputZeroBps)
  const [num, den] = tNum * bDen <= bNum * tDen ? [tNum, tDen] : [bNum, bDen]
  return lo + ((hi - lo) * num) / den
}
