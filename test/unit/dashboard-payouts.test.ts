/**
 * When a seeder is paid on a network that aggregates attestations (the dashboard's `payouts`,
 * main/api/handlers-dashboard.ts): the next payout point after the block now (k E + 2 T), none
 * without epochs; and how the page says the time to it (renderer/src/lib/format.ts formatSpan).
 */
import { describe, it, expect } from 'vitest'
import { payoutsOf } from '../../main/api/handlers-dashboard.js'
import { initialState, type MarketState } from '../../main/chain/marketplace.js'
import { formatSpan } from '../../renderer/src/lib/format.js'

function market (block: number, epochBlocks?: number): MarketState {
  const s = initialState()
  s.block = { number: block, hash: '0x00' }
  s.network = { operators: [], threshold: 1, escrow: '', unitPricePlanck: 1n, sinceBlock: 0, params: { chunksPerContract: 10, challengeIntervalBlocks: 600, challengeTimeoutBlocks: 20, performanceAttestors: 3, ...(epochBlocks === undefined ? {} : { epochBlocks }) } }
  return s
}

describe('the next payout on the seeder dashboard', () => {
  it('is the next epoch boundary plus two report timeouts', () => {
    // E = 600, 2T = 40: payout points at 40, 640, 1240...
    expect(payoutsOf(market(100, 600), 6000)).toEqual({ epochBlocks: 600, nextBlock: 640, blockNumber: 100, blockMs: 6000 })
    expect(payoutsOf(market(639, 600), 6000)?.nextBlock).toBe(640)
    expect(payoutsOf(market(641, 600), 6000)?.nextBlock).toBe(1240)
  })

  it('is now at a payout point itself', () => {
    expect(payoutsOf(market(640, 600), 6000)?.nextBlock).toBe(640)
  })

  it('is not given on a network that pays every reward as it comes, or before the first block', () => {
    expect(payoutsOf(market(100), 6000)).toBeNull()
    const s = market(100, 600)
    s.block = null
    expect(payoutsOf(s, 6000)).toBeNull()
  })

  it('says the wait in the largest units that fit', () => {
    expect(formatSpan(20_000)).toBe('20 s')
    expect(formatSpan(400)).toBe('1 s')
    expect(formatSpan(12 * 60_000)).toBe('12 min')
    expect(formatSpan(3_600_000)).toBe('1 h')
    expect(formatSpan(125 * 60_000)).toBe('2 h 5 min')
    expect(formatSpan(3 * 86_400_000)).toBe('3 days')
    expect(formatSpan(-1)).toBe('—')
  })
})
