/** A block's wall-clock time: the earlier of its chain timestamp and when it was seen, never before the block before it. */
import { describe, it, expect } from 'vitest'
import { blockWallClock } from '../../main/chain/block-clock.js'

const T = Date.UTC(2026, 5, 1, 12)

describe('block wall-clock time', () => {
  it('keeps a real chain\'s timestamp, which is before the block is seen, also when catching up hours later', () => {
    expect(blockWallClock({ chainMs: T, seenMs: T + 800, prevMs: T - 6000 })).toBe(T)
    expect(blockWallClock({ chainMs: T, seenMs: T + 3 * 3_600_000, prevMs: null })).toBe(T)
  })

  it('uses the time a block was seen when the chain\'s clock runs ahead (a local chain: 12 s a block at 6 s blocks)', () => {
    expect(blockWallClock({ chainMs: T + 3_600_000, seenMs: T, prevMs: T - 6000 })).toBe(T)
  })

  it('never goes back in time, and a missing timestamp falls back to when the block was seen', () => {
    expect(blockWallClock({ chainMs: T - 60_000, seenMs: T, prevMs: T - 1000 })).toBe(T - 1000)
    expect(blockWallClock({ chainMs: 0, seenMs: T, prevMs: null })).toBe(T)
    expect(blockWallClock({ chainMs: Number.NaN, seenMs: T, prevMs: null })).toBe(T)
  })
})
