/**
 * Topping a plan up (`extend`, main/chain/plan-records.ts) through the state machine's own entry
 * point (applyBlock with encoded records): more budget into escrow with one transfer, more blocks
 * before the end, or both; refused for someone else's plan, an ended plan, nothing to add, a
 * transfer that does not match, or a plan running past the longest duration. Conservation is
 * asserted by applyBlock after every block.
 */
import { describe, it, expect } from 'vitest'
import { applyBlock } from '../../main/chain/marketplace.js'
import { decodeRecord, encodeRecord } from '../../main/chain/records.js'
import { RECORD_LIMITS, type MarketRecord } from '../../main/chain/record-types.js'
import type { MarketState, Transfer } from '../../main/chain/market-types.js'
import { ESCROW, SPONSOR, acct, marketWith } from '../helpers/market-state.js'

let n = 0
function block (state: MarketState, signer: string, rec: MarketRecord, transfers: Transfer[] = []): ReturnType<typeof applyBlock> {
  const number = (state.block?.number ?? 9) + 1
  state.block ??= { number: number - 1, hash: '0x' + (n++).toString(16).padStart(64, '0') }
  const hash = '0x' + (n++).toString(16).padStart(64, '0')
  return applyBlock(state, { number, hash, parentHash: state.block.hash, timeMs: number * 6000, actions: [{ index: 0, signer, remarks: [encodeRecord(rec)], transfers }] })
}

describe('topping a plan up', () => {
  it('adds budget (one transfer to escrow) and blocks, and the plan keeps going longer', () => {
    const state = marketWith({ providers: ['p1'] })
    const plan = state.plans[1]
    const before = { budget: plan.budgetPlanck, end: plan.endBlock, escrow: state.escrow.budgetsInPlanck }
    const out = block(state, SPONSOR, { kind: 'extend', planId: 1, blocks: 500, budgetPlanck: 7000n }, [{ from: SPONSOR, to: ESCROW, amountPlanck: 7000n }])
    expect(out.actions[0].rejected).toEqual([])
    expect(plan.budgetPlanck).toBe(before.budget + 7000n)
    expect(plan.endBlock).toBe(before.end + 500)
    expect(state.escrow.budgetsInPlanck).toBe(before.escrow + 7000n)
    // Days alone move no value.
    const days = block(state, SPONSOR, { kind: 'extend', planId: 1, blocks: 100, budgetPlanck: 0n })
    expect(days.actions[0].rejected).toEqual([])
    expect(plan.endBlock).toBe(before.end + 600)
  })

  it('refuses another account, a plan that ended, a transfer that does not match, and a plan past the longest duration, changing nothing', () => {
    const state = marketWith({ providers: ['p1'] })
    const plan = state.plans[1]
    const snapshot = JSON.stringify({ budget: plan.budgetPlanck.toString(), end: plan.endBlock })
    const why = (signer: string, rec: MarketRecord, transfers: Transfer[] = []): string | undefined => block(state, signer, rec, transfers).actions[0].rejected[0]?.why
    expect(why(acct('mallory'), { kind: 'extend', planId: 1, blocks: 10, budgetPlanck: 0n })).toBe('wrong-signer')
    expect(why(SPONSOR, { kind: 'extend', planId: 1, blocks: 0, budgetPlanck: 5n }, [{ from: SPONSOR, to: ESCROW, amountPlanck: 4n }])).toBe('bad-value')
    expect(why(SPONSOR, { kind: 'extend', planId: 1, blocks: 0, budgetPlanck: 5n })).toBe('bad-value')
    expect(why(SPONSOR, { kind: 'extend', planId: 1, blocks: RECORD_LIMITS.durationBlocksMax, budgetPlanck: 0n })).toBe('over-limits')
    expect(why(SPONSOR, { kind: 'extend', planId: 99, blocks: 1, budgetPlanck: 0n })).toBe('out-of-order')
    expect(JSON.stringify({ budget: plan.budgetPlanck.toString(), end: plan.endBlock })).toBe(snapshot)
    plan.status = 'unpublished'
    expect(why(SPONSOR, { kind: 'extend', planId: 1, blocks: 10, budgetPlanck: 0n })).toBe('not-allowed')
  })

  it('cannot be encoded or decoded with nothing to add', () => {
    expect(() => encodeRecord({ kind: 'extend', planId: 1, blocks: 0, budgetPlanck: 0n })).toThrow()
    const ok = encodeRecord({ kind: 'extend', planId: 1, blocks: 1, budgetPlanck: 0n })
    expect(decodeRecord(ok)).toEqual({ ok: true, record: { kind: 'extend', planId: 1, blocks: 1, budgetPlanck: 0n } })
    const zero = Uint8Array.from(ok)
    zero[zero.length - 2] = 0
    expect(decodeRecord(zero).ok).toBe(false)
  })
})
