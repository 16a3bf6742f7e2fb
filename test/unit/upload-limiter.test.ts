import { describe, it, expect } from 'vitest'
import { UploadLimiter, MIN_BURST } from '../../main/shared/upload-limiter.js'
import { ManualTimers } from '../helpers/manual-timers.js'

const KiB = 1024
const MiB = 1024 * KiB
const FRAME = 64 * KiB

/** A sender as a connection is: one frame at a time, the next asked for as soon as one goes. */
function greedySender (limiter: UploadLimiter, frame = FRAME): { sent: () => number, stop: () => void } {
  let sent = 0
  let stopped = false
  const next = (): void => {
    if (stopped) return
    limiter.pace(frame, () => { sent += frame; next() })
  }
  next()
  return { sent: () => sent, stop: () => { stopped = true } }
}

describe('UploadLimiter', () => {
  it('holds the rate over time: never more than the burst plus rate × time, and close to the rate', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ bytesPerSec: MiB, burstBytes: 256 * KiB, now: time.now, timers: time })
    const sender = greedySender(limiter)
    for (let ms = 100; ms <= 20_000; ms += 100) {
      time.advance(100)
      expect(sender.sent()).toBeLessThanOrEqual(256 * KiB + MiB * ms / 1000)
    }
    // Twenty seconds at 1 MiB/s: the rate is reached (within one frame), not just bounded.
    expect(sender.sent()).toBeGreaterThanOrEqual(20 * MiB - FRAME)
    const stats = limiter.stats()
    expect(stats.sentBytes).toBe(sender.sent())
    expect(stats.rateBps).toBeGreaterThan(0.95 * MiB)
    expect(stats.rateBps).toBeLessThanOrEqual(1.05 * MiB)
    expect(stats.throttledMs).toBeGreaterThan(19_000)
    sender.stop()
  })

  it('bounds the burst: after a long idle time only the burst (and the frame that fits it) goes at once', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ bytesPerSec: MiB, burstBytes: 256 * KiB, now: time.now, timers: time })
    time.advance(600_000)
    const sender = greedySender(limiter)
    expect(sender.sent()).toBe(256 * KiB)
    expect(limiter.stats().waits).toBe(1)
    sender.stop()
  })

  it('defaults the burst to a quarter second of the rate, never below one block with its proof', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ bytesPerSec: 16 * MiB, now: time.now, timers: time })
    const fast = greedySender(limiter)
    expect(fast.sent()).toBe(4 * MiB)
    fast.stop()
    const slow = new UploadLimiter({ bytesPerSec: 10 * KiB, now: time.now, timers: time })
    let went = 0
    slow.pace(MIN_BURST, () => { went++ })
    expect(went).toBe(1)
  })

  it('makes a frame larger than the burst wait until the bucket holds all of it, so no window sees more than the burst plus the rate', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ bytesPerSec: MiB, burstBytes: 256 * KiB, now: time.now, timers: time })
    const sender = greedySender(limiter, 2 * MiB)
    // the bucket starts with the burst: the first 2 MiB frame waits for the other 1.75 MiB
    expect(sender.sent()).toBe(0)
    time.advance(1749)
    expect(sender.sent()).toBe(0)
    time.advance(2)
    expect(sender.sent()).toBe(2 * MiB)
    for (let ms = 100; ms <= 10_000; ms += 100) {
      time.advance(100)
      expect(sender.sent()).toBeLessThanOrEqual(256 * KiB + MiB * (1751 + ms) / 1000)
    }
    expect(sender.sent()).toBeGreaterThanOrEqual(10 * MiB)
    sender.stop()
  })

  it('applies a new rate live to the writes already waiting', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ bytesPerSec: 256 * KiB, burstBytes: MIN_BURST, now: time.now, timers: time })
    const sender = greedySender(limiter)
    time.advance(10_000)
    const slow = sender.sent()
    expect(slow).toBeLessThanOrEqual(MIN_BURST + 2.5 * MiB)
    limiter.setRate(4 * MiB)
    time.advance(10_000)
    const fast = sender.sent() - slow
    expect(fast).toBeGreaterThan(39 * MiB)
    expect(fast).toBeLessThanOrEqual(MiB + 40 * MiB)
    expect(limiter.bytesPerSec).toBe(4 * MiB)
    sender.stop()
  })

  it('sends everything waiting at once when the limit is removed, and from then on synchronously', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ bytesPerSec: 100 * KiB, now: time.now, timers: time })
    const order: number[] = []
    for (let i = 0; i < 5; i++) limiter.pace(FRAME, () => { order.push(i) })
    expect(order.length).toBeLessThan(5)
    limiter.setRate(0)
    expect(order).toEqual([0, 1, 2, 3, 4])
    expect(time.size).toBe(0)
    let went = false
    limiter.pace(100 * MiB, () => { went = true })
    expect(went).toBe(true)
    expect(limiter.stats().sentBytes).toBe(5 * FRAME + 100 * MiB)
  })

  it('does not limit at all with no rate: every write goes synchronously, no timer, nothing throttled', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ now: time.now, timers: time })
    let went = 0
    for (let i = 0; i < 1000; i++) limiter.pace(MiB, () => { went++ })
    expect(went).toBe(1000)
    expect(time.size).toBe(0)
    const stats = limiter.stats()
    expect(stats).toMatchObject({ limitBps: 0, sentBytes: 1000 * MiB, throttledMs: 0, waits: 0 })
  })

  it('serves waiting writes in order, so a large frame is not starved by small ones', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ bytesPerSec: MiB, burstBytes: MIN_BURST, now: time.now, timers: time })
    const order: string[] = []
    limiter.pace(MIN_BURST, () => order.push('first'))
    limiter.pace(MIN_BURST, () => order.push('big'))
    limiter.pace(100, () => order.push('small'))
    expect(order).toEqual(['first'])
    time.advance(2000)
    expect(order).toEqual(['first', 'big', 'small'])
  })

  it('counts the time writes waited and the achieved rate over the last seconds', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ bytesPerSec: 128 * KiB, burstBytes: MIN_BURST, now: time.now, timers: time })
    limiter.pace(MIN_BURST, () => {})
    let done = false
    limiter.pace(FRAME, () => { done = true })
    time.advance(250)
    expect(limiter.stats().throttledMs).toBe(250)
    expect(done).toBe(false)
    time.advance(250)
    expect(done).toBe(true)
    expect(limiter.stats().throttledMs).toBe(500)
    expect(limiter.stats().rateBps).toBeCloseTo((MIN_BURST + FRAME) * 1000 / 500)
    time.advance(60_000)
    expect(limiter.stats().throttledMs).toBe(500)
    expect(limiter.stats().rateBps).toBe(0)
  })

  it('refuses a negative or non-numeric rate with a coded error and keeps the one it had', () => {
    const limiter = new UploadLimiter({ bytesPerSec: MiB })
    expect(() => { limiter.setRate(-1) }).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => { limiter.setRate(Number.NaN) }).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => { limiter.setRate(MiB, 0) }).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(limiter.bytesPerSec).toBe(MiB)
  })

  it('lets every waiting write go when closed, and paces nothing after', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ bytesPerSec: 10 * KiB, now: time.now, timers: time })
    let went = 0
    for (let i = 0; i < 4; i++) limiter.pace(FRAME, () => { went++ })
    limiter.close()
    expect(went).toBe(4)
    expect(time.size).toBe(0)
    limiter.pace(FRAME, () => { went++ })
    expect(went).toBe(5)
  })

  it('sends an urgent write at once, ahead of the queue, and makes later writes pay its bytes back', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ bytesPerSec: 100 * KiB, burstBytes: MIN_BURST, now: time.now, timers: time })
    const sender = greedySender(limiter)
    expect(sender.sent()).toBe(FRAME)
    let urgentWent = false
    expect(limiter.pace(4 * KiB, () => { urgentWent = true }, true)).toBeNull()
    expect(urgentWent).toBe(true)
    // the bucket had 4 KiB left after the first frame: the next one waited for 60 KiB (600 ms
    // at 100 KiB/s); the urgent write took those 4 KiB, so it now waits 40 ms more
    time.advance(600)
    expect(sender.sent()).toBe(FRAME)
    time.advance(40)
    expect(sender.sent()).toBe(2 * FRAME)
    expect(limiter.stats().urgent).toBe(1)
    sender.stop()
  })

  it('hurries a queued write out now, in debt, and leaves one that already went alone', () => {
    const time = new ManualTimers()
    const limiter = new UploadLimiter({ bytesPerSec: 10 * KiB, burstBytes: MIN_BURST, now: time.now, timers: time })
    const order: string[] = []
    limiter.pace(MIN_BURST, () => { order.push('first') })
    const a = limiter.pace(FRAME, () => { order.push('a') })
    const b = limiter.pace(FRAME, () => { order.push('b') })
    expect(a).not.toBeNull()
    expect(b).not.toBeNull()
    limiter.hurry(b!)
    expect(order).toEqual(['first', 'b'])
    limiter.hurry(b!)
    expect(order).toEqual(['first', 'b'])
    // 'a' now waits for its 64 KiB plus the 64 KiB 'b' borrowed: about 12.8 s at 10 KiB/s
    time.advance(12_000)
    expect(order).toEqual(['first', 'b'])
    time.advance(1_000)
    expect(order).toEqual(['first', 'b', 'a'])
    expect(limiter.stats().urgent).toBe(1)
  })
})
