import { describe, it, expect } from 'vitest'
import {
  accountUnclaimed, accrue, assertConservation, conservation, endPlan, remainingPlanck
} from '../../main/chain/accounting.js'
import { applyFloorDrops, penalise, reward, roleReputation, startingReputations } from '../../main/chain/reputation.js'
import { payout } from '../../main/chain/payout-record.js'
import { assignPending } from '../../main/chain/selection.js'
import { Reject } from '../../main/chain/market-context.js'
import { serializeState } from '../../main/chain/marketplace.js'
import { MARKET_PARAMS, type Action, type ActionOutcome, type MarketState, type OwedItem, type Reason } from '../../main/chain/market-types.js'
import { acct, ctxAt, ESCROW, marketWith, PRICE, SPONSOR } from '../helpers/market-state.js'

const NAMES = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']
const REASONS: Reason[] = ['encoding', 'setup', 'storage-proof', 'performance-proof']

const owedOf = (state: MarketState, planId: number): bigint =>
  Object.values(state.owed).filter((it) => it.planId === planId).reduce((a, it) => a + it.amountPlanck, 0n)

const outcome = (action: Action): ActionOutcome =>
  ({ index: action.index, signer: action.signer, applied: [], rejected: [], records: [], transferLegs: action.transfers.map(() => []) })

/** The payout action that pays `items`: one transfer per payee in order of first appearance. */
function payoutAction (items: OwedItem[]): Action {
  const sums = new Map<string, bigint>()
  for (const it of items) sums.set(it.to, (sums.get(it.to) ?? 0n) + it.amountPlanck)
  return { index: 1, signer: ESCROW, remarks: [], transfers: [...sums].map(([to, amountPlanck]) => ({ from: ESCROW, to, amountPlanck })) }
}

describe('accounting of escrow value', () => {
  it('credits every planck accrued to a provider by debiting its plan, until the budget is exhausted', () => {
    const state = marketWith({ providers: NAMES, budgetPlanck: 777_777n })
    const plan = state.plans[1]
    for (let i = 0; plan.status === 'active'; i++) {
      accrue(ctxAt(state, 1), plan, acct(NAMES[i % NAMES.length]), BigInt(1 + (i * 37) % 90), REASONS[i % REASONS.length])
      expect(owedOf(state, 1)).toBe(plan.accruedPlanck + plan.refundPlanck)
      expect(plan.accruedPlanck + plan.refundPlanck + remainingPlanck(plan)).toBe(plan.budgetPlanck)
      expect(conservation(state).ok).toBe(true)
    }
    expect(plan.status).toBe('exhausted')
    expect(remainingPlanck(plan)).toBe(0n)
    expect(plan.accruedPlanck).toBe(777_777n)
    // the last item was cut to what was left: nothing is owed beyond the budget
    expect(Object.values(state.owed).every((it) => it.amountPlanck > 0n && it.amountPlanck <= 90n * PRICE)).toBe(true)
  })

  it('refunds exactly the unspent budget to the sponsor when a plan ends, and releases its providers', () => {
    const state = marketWith({ providers: NAMES, contracts: 2, budgetPlanck: 1_000_000n })
    const ctx = ctxAt(state, 5)
    assignPending(ctx)
    const plan = state.plans[1]
    accrue(ctx, plan, acct('p1'), 100n, 'encoding')
    endPlan(ctx, plan, 'unpublished')
    const refund = Object.values(state.owed).find((it) => it.reason === 'refund')
    expect(refund).toMatchObject({ to: SPONSOR, amountPlanck: 1_000_000n - 100n * PRICE, planId: 1 })
    expect(plan.refundPlanck + plan.accruedPlanck).toBe(plan.budgetPlanck)
    expect(state.contracts).toEqual({})
    expect(state.pending).toEqual([])
    expect(Object.values(state.providers).every((p) => p.jobs === 0 && p.usedBytes === 0)).toBe(true)
    expect(ctx.out.notices).toContain('plan 1 unpublished')
    expect(conservation(state).ok).toBe(true)
  })

  it('moves paid items from owed to payouts and refunds without changing the total, and refuses a payout that does not match', () => {
    const state = marketWith({ providers: NAMES, budgetPlanck: 500_000n })
    const ctx = ctxAt(state, 3)
    const plan = state.plans[1]
    accrue(ctx, plan, acct('p1'), 40n, 'storage-proof')
    accrue(ctx, plan, acct('p2'), 30n, 'setup')
    accrue(ctx, plan, acct('p1'), 20n, 'encoding')
    endPlan(ctx, plan, 'ended')
    const items = Object.values(state.owed)
    const before = conservation(state)

    const wrong = payoutAction(items)
    wrong.transfers[0] = { ...wrong.transfers[0], amountPlanck: wrong.transfers[0].amountPlanck + 1n }
    const snapshot = serializeState(state)
    expect(() => payout(ctx, wrong, { kind: 'payout', items: items.map((it) => it.id) }, outcome(wrong))).toThrow(Reject)
    expect(serializeState(state)).toBe(snapshot)

    const action = payoutAction(items)
    const res = outcome(action)
    payout(ctx, action, { kind: 'payout', items: items.map((it) => it.id) }, res)
    const after = conservation(state)
    expect(state.owed).toEqual({})
    expect(after.payoutsPlanck).toBe(90n * PRICE)
    expect(after.refundsPlanck).toBe(500_000n - 90n * PRICE)
    expect(after.inPlanck).toBe(before.inPlanck)
    expect(after.payoutsPlanck + after.refundsPlanck + after.heldPlanck).toBe(before.heldPlanck)
    expect(after.ok).toBe(true)
    expect(res.transferLegs.flat().reduce((a, l) => a + l.amountPlanck, 0n)).toBe(500_000n)
  })

  it('holds value sent to escrow without a record as unattributed and counts value leaving without one as a leak', () => {
    const state = marketWith({ providers: NAMES })
    const action: Action = {
      index: 1,
      signer: acct('p1'),
      remarks: [],
      transfers: [{ from: acct('p1'), to: ESCROW, amountPlanck: 123n }, { from: ESCROW, to: acct('p2'), amountPlanck: 45n }, { from: acct('p1'), to: acct('p2'), amountPlanck: 9n }]
    }
    const res = outcome(action)
    const before = conservation(state)
    accountUnclaimed(state, action, res)
    const after = conservation(state)
    expect(after.inPlanck).toBe(before.inPlanck + 123n)
    expect(after.heldPlanck).toBe(before.heldPlanck + 123n)
    expect(after.unaccountedOutPlanck).toBe(45n)
    expect(after.expectedEscrowPlanck).toBe(before.expectedEscrowPlanck + 123n - 45n)
    expect(after.ok).toBe(true)
    expect(res.transferLegs.map((legs) => legs.map((l) => l.amountPlanck))).toEqual([[123n], [45n], []])
  })

  it('throws an internal error when value appears that no credit or debit explains (the full check)', () => {
    const state = marketWith({ providers: NAMES })
    expect(() => assertConservation(state, true)).not.toThrow()
    state.plans[1].accruedPlanck += 1n
    expect(() => assertConservation(state, true)).toThrow(/conservation broken/)
  })

  it('throws an internal error at every block when the escrow totals move without the value held moving with them (the running total)', () => {
    const state = marketWith({ providers: NAMES })
    expect(() => assertConservation(state)).not.toThrow()
    state.escrow.payoutsPlanck += 1n
    expect(() => assertConservation(state)).toThrow(/conservation broken.*running total/)
  })
})

describe('accounting of reputation', () => {
  it('keeps reputations within zero and the maximum and lists every penalty in the block outcome', () => {
    const state = marketWith({ providers: NAMES })
    const ctx = ctxAt(state, 1)
    const p = state.providers[acct('p1')]
    for (let i = 0; i < 200; i++) reward(state, p.address, 'hoster', MARKET_PARAMS.rewardsOnSuccess)
    expect(p.reputation).toBe(MARKET_PARAMS.reputationMax)
    for (let i = 0; i < 30; i++) penalise(ctx, p.address, 'hoster', 'failedProof', `test ${i}`)
    expect(p.reputation).toBe(0)
    expect(ctx.out.penalties).toHaveLength(30)
    expect(ctx.out.penalties[0]).toEqual({ address: p.address, role: 'hoster', reason: 'failedProof', amount: MARKET_PARAMS.penalties.failedProof, detail: 'test 0' })
  })

  it('drops a provider that fell below the hoster reputation floor from its hosting slots', () => {
    const state = marketWith({ providers: NAMES, replicas: 2 })
    const ctx = ctxAt(state, 1)
    assignPending(ctx)
    const contract = state.contracts[1]
    const hoster = contract.slots[0].hoster as string
    const p = state.providers[hoster]
    while (p.reputation >= MARKET_PARAMS.reputationFloor) penalise(ctx, hoster, 'hoster', 'failedProof', 'test')
    expect(ctx.floorDrops).toEqual([{ address: hoster, role: 'hoster' }])
    applyFloorDrops(ctx)
    expect(contract.slots[0]).toMatchObject({ hoster: null, encoder: null, state: 'unassigned' })
    expect(p.jobs).toBe(0)
    expect(p.usedBytes).toBe(0)
    expect(state.pending).toEqual([1])
    expect(ctx.out.notices.some((n) => n.includes(`provider ${hoster} fell below the reputation floor`))).toBe(true)
  })

  it('reads a provider and a retired entry from a snapshot before per-role reputation as that one number in every role, and splits them at the first change', () => {
    const state = marketWith({ providers: NAMES })
    const ctx = ctxAt(state, 1)
    const p = state.providers[acct('p1')]
    delete p.roleReputation
    p.reputation = 400
    expect(['hoster', 'encoder', 'attestor'].map((r) => roleReputation(p, r as 'hoster'))).toEqual([400, 400, 400])
    penalise(ctx, p.address, 'hoster', 'failedProof', 'test')
    expect([roleReputation(p, 'hoster'), roleReputation(p, 'encoder'), roleReputation(p, 'attestor')]).toEqual([350, 400, 400])
    state.retired[acct('gone')] = 300
    expect(startingReputations(state, acct('gone'))).toEqual({ hoster: 300, encoder: 300, attestor: 300 })
    state.retired[acct('gone')] = { hoster: 600, encoder: 500, attestor: 100 }
    expect(startingReputations(state, acct('gone'))).toEqual({ hoster: MARKET_PARAMS.reputationStart, encoder: 500, attestor: 100 })
  })
})
