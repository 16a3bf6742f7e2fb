/**
 * Keep online's arithmetic, exact in the smallest unit (bigint): the quote's total, price per
 * GiB-month and balance after; a plan's budget spent and left, the refund an unpublish brings and
 * the days it still covers; its phase; and the watch that turns followed blocks into each slot's
 * last storage proof and the plan's events.
 */
import { describe, it, expect } from 'vitest'
import { quoteFigures } from '../../main/hosting/sponsor-quote.js'
import { planBudget, planPhase, PlanWatch, plansView } from '../../main/hosting/plans-view.js'
import { BLOCKS_PER_DAY } from '../../main/hosting/config.js'
import { formatAmountShort } from '../../renderer/src/lib/format.js'
import { encodeAddress } from '@polkadot/util-crypto'
import { hexToU8a } from '@polkadot/util'
import { initialState, type BlockOutcome, type Contract, type MarketState, type Plan, type Slot } from '../../main/chain/market-types.js'

const GIB = 1024 ** 3
const ME = '0x' + 'aa'.repeat(32)
const HOSTER = '0x' + 'bb'.repeat(32)
/** The chain's formatter, ss58 format 42 (a dev chain's). */
const ss58 = (hex: string): string => encodeAddress(hexToU8a(hex), 42)

function plan (over: Partial<Plan> = {}): Plan {
  return { id: 1, sponsor: ME, drives: [], replicas: 2, startBlock: 0, endBlock: 30 * BLOCKS_PER_DAY, budgetPlanck: 1000n, accruedPlanck: 0n, refundPlanck: 0n, status: 'active', contractIds: [], ...over }
}

function slot (over: Partial<Slot> = {}): Slot {
  return { hoster: null, encoder: null, state: 'unassigned', since: 0, phase: 0, receiptsRootHex: null, strikes: { storage: 0, performance: 0 }, accusers: { storage: [], performance: [] }, blamed: [], ...over }
}

function market (p: Plan, slots: Slot[], head = 0): MarketState {
  const s = initialState()
  const c: Contract = { id: 7, planId: p.id, driveIndex: 0, keyHex: 'cc'.repeat(32), start: 0, end: 10, root: { length: 10, fork: 0, treeHashHex: '', signatureHex: '', manifestHex: '' }, attestor: null, setupDeadline: null, slots }
  p.contractIds = [c.id]
  s.plans[p.id] = p
  s.contracts[c.id] = c
  s.block = { number: head, hash: '0x' }
  return s
}

function outcome (over: Partial<BlockOutcome>): BlockOutcome {
  return { number: 1, hash: '0x', actions: [], notices: [], newChallenges: [], newAssignments: [], penalties: [], ...over }
}

describe('the quote of a plan', () => {
  it('adds the chain fee to the budget and subtracts both from the balance, exactly', () => {
    const q = quoteFigures({ sizeBytes: GIB, days: 30, pricePlanck: 10n ** 13n, feePlanck: 123_456_789n, balancePlanck: 5n * 10n ** 13n })
    expect(q.totalPlanck).toBe(10n ** 13n + 123_456_789n)
    expect(q.balanceAfterPlanck).toBe(5n * 10n ** 13n - 10n ** 13n - 123_456_789n)
  })

  it('prices one GiB for 30 days at the whole budget, and half a GiB for 60 days at four times it per GiB-month', () => {
    expect(quoteFigures({ sizeBytes: GIB, days: 30, pricePlanck: 1000n, feePlanck: 0n, balancePlanck: 0n }).perGiBMonthPlanck).toBe(1000n)
    expect(quoteFigures({ sizeBytes: GIB / 2, days: 15, pricePlanck: 1000n, feePlanck: 0n, balancePlanck: 0n }).perGiBMonthPlanck).toBe(4000n)
  })

  it('rounds the price per GiB-month up, never down to a cheaper figure than the truth', () => {
    // 1 planck for 3 GiB over 30 days: a third of a planck per GiB-month, shown as 1.
    expect(quoteFigures({ sizeBytes: 3 * GIB, days: 30, pricePlanck: 1n, feePlanck: 0n, balancePlanck: 0n }).perGiBMonthPlanck).toBe(1n)
  })

  it('shows a negative balance after when the wallet cannot pay', () => {
    expect(quoteFigures({ sizeBytes: 100, days: 1, pricePlanck: 50n, feePlanck: 10n, balancePlanck: 40n }).balanceAfterPlanck).toBe(-20n)
  })
})

describe('the budget of a plan', () => {
  it('refunds exactly what is neither accrued nor already refunded', () => {
    const b = planBudget(plan({ budgetPlanck: 1000n, accruedPlanck: 300n }), 10)
    expect(b).toMatchObject({ spentPlanck: 300n, leftPlanck: 700n, refundPlanck: 700n })
  })

  it('covers the days to its end when nothing was spent yet', () => {
    const b = planBudget(plan({ endBlock: 10 * BLOCKS_PER_DAY }), 4 * BLOCKS_PER_DAY)
    expect(b.daysCovered).toBe(6)
    expect(b.limitedBy).toBe('end')
  })

  it('covers fewer days when the budget at the rate so far runs out before the end', () => {
    // 2 days spent 600 of 1000: 400 left lasts 400 * 2 / 600 = 1.33 days, before the end 28 days away.
    const b = planBudget(plan({ budgetPlanck: 1000n, accruedPlanck: 600n }), 2 * BLOCKS_PER_DAY)
    expect(b.limitedBy).toBe('budget')
    expect(b.daysCovered).toBeCloseTo(4 / 3, 3)
  })

  it('refunds nothing and covers no day once the plan ended', () => {
    const b = planBudget(plan({ status: 'unpublished', budgetPlanck: 1000n, accruedPlanck: 200n, refundPlanck: 800n }), 5)
    expect(b).toMatchObject({ refundPlanck: 0n, leftPlanck: 0n, daysCovered: 0, limitedBy: 'ended' })
  })
})

describe('the phase of a plan', () => {
  it('goes published, selecting, encoding, hosted, ended as its slots move', () => {
    const p = plan()
    expect(planPhase(p, market(p, [slot(), slot()]))).toBe('published')
    expect(planPhase(p, market(p, [slot({ hoster: HOSTER }), slot()]))).toBe('selecting')
    expect(planPhase(p, market(p, [slot({ hoster: HOSTER, state: 'setup' }), slot()]))).toBe('encoding')
    expect(planPhase(p, market(p, [slot({ hoster: HOSTER, state: 'hosting' }), slot({ hoster: ME, state: 'hosting' })]))).toBe('hosted')
    expect(planPhase({ ...p, status: 'exhausted' }, market(p, []))).toBe('ended')
  })
})

describe('the watch of a sponsor’s plans', () => {
  it('records a storage proof that passed, one that failed (containment) and the hoster replaced as an event', () => {
    const p = plan()
    const state = market(p, [slot({ hoster: HOSTER, state: 'hosting' })])
    const watch = new PlanWatch({ market: state, addressHex: ME, formatAddress: ss58 }, () => 1234)
    state.challenges[5] = { id: 5, kind: 'storage', contractId: 7, slot: 0, hoster: HOSTER, attestors: [], reports: [], chunk: 0, issuedAt: 1, deadline: 9, recheck: false }
    watch.onBlock(outcome({ newChallenges: [5] }))
    delete state.challenges[5]
    watch.onBlock(outcome({ actions: [{ index: 0, signer: '0x', applied: [{ kind: 'storage-report', ref: 'challenge:5' }], rejected: [], records: [], transferLegs: [] }] }))
    expect(watch.storage.get('7:0')).toEqual({ timeMs: 1234, ok: true })

    state.challenges[6] = { id: 6, kind: 'storage', contractId: 7, slot: 0, hoster: HOSTER, attestors: [], reports: [], chunk: 0, issuedAt: 1, deadline: 9, recheck: false }
    watch.onBlock(outcome({ newChallenges: [6] }))
    delete state.challenges[6]
    const replaced = `hoster ${HOSTER} of contract 7 failed a storage challenge: replaced`
    watch.onBlock(outcome({ number: 3, notices: [replaced, 'plan 99 ended'], actions: [{ index: 0, signer: '0x', applied: [{ kind: 'storage-report', ref: 'challenge:6' }], rejected: [], records: [], transferLegs: [] }] }))
    expect(watch.storage.get('7:0')).toEqual({ timeMs: 1234, ok: false })
    const events = watch.eventsOf(1)
    expect(events).toHaveLength(1)
    // the hoster as the Plans page shows accounts: its short ss58 address
    const hosterSs58 = ss58(HOSTER)
    expect(events[0].text).toBe(`hoster ${hosterSs58.slice(0, 6)}…${hosterSs58.slice(-6)} of contract 7 failed a storage challenge: replaced`)

    const [view] = plansView(state, ME, watch, () => 2048)
    expect(view).toMatchObject({ planId: 1, sizeBytes: 2048, hosting: 1, phase: 'hosted' })
    expect(view.contracts[0].slots[0].storage).toEqual({ timeMs: 1234, ok: false })
  })

  it('ignores the challenges of plans another account sponsors', () => {
    const p = plan({ sponsor: HOSTER })
    const state = market(p, [slot({ hoster: ME, state: 'hosting' })])
    const watch = new PlanWatch({ market: state, addressHex: ME, formatAddress: ss58 }, () => 1)
    state.challenges[5] = { id: 5, kind: 'storage', contractId: 7, slot: 0, hoster: ME, attestors: [], reports: [], chunk: 0, issuedAt: 1, deadline: 9, recheck: false }
    watch.onBlock(outcome({ newChallenges: [5] }))
    delete state.challenges[5]
    watch.onBlock(outcome({ actions: [{ index: 0, signer: '0x', applied: [{ kind: 'storage-report', ref: 'challenge:5' }], rejected: [], records: [], transferLegs: [] }] }))
    expect(watch.storage.size).toBe(0)
    expect(plansView(state, ME, watch, () => null)).toEqual([])
  })
})

describe('an amount shortened for a glance', () => {
  it('keeps four decimals above 1 and four significant digits below 1, truncated, with the symbol', () => {
    expect(formatAmountShort('35726609880749575', 12, 'ROC')).toBe('35726.6098 ROC')
    expect(formatAmountShort('28225711', 12, 'ROC')).toBe('0.00002822 ROC')
    expect(formatAmountShort('10000000000000', 12)).toBe('10')
    expect(formatAmountShort('-1500000000000', 12)).toBe('-1.5')
  })
})
