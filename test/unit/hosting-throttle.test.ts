import { describe, it, expect } from 'vitest'
import { TokenBucket } from '../../main/hosting/throttle.js'
import type { Timers } from '../../main/shared/timeout.js'

/** A clock and timers the test advances by hand. */
class ManualTime implements Timers {
  t = 0
  private next = 1
  private readonly pending = new Map<number, { at: number, fn: () => void }>()
  now = (): number => this.t
  setTimeout (fn: () => void, ms: number): unknown {
    const id = this.next++
    this.pending.set(id, { at: this.t + ms, fn })
    return id
  }

  clearTimeout (h: unknown): void { this.pending.delete(h as number) }
  /** Moves the clock and runs the timers that are due, in order. */
  advance (ms: number): void {
    const end = this.t + ms
    for (;;) {
      const due = [...this.pending].filter(([, p]) => p.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
      if (due === undefined) break
      this.pending.delete(due[0])
      this.t = due[1].at
      due[1].fn()
    }
    this.t = end
  }
}

const MiB = 1024 * 1024

describe('TokenBucket', () => {
  it('lets a burst through at once, then paces to the rate', async () => {
    const time = new ManualTime()
    const bucket = new TokenBucket({ bytesPerSec: MiB, burstBytes: 2 * MiB, now: time.now, timers: time })
    await bucket.take(2 * MiB) // the full burst
    let done = false
    const p = bucket.take(MiB).then(() => { done = true })
    await Promise.resolve()
    expect(done).toBe(false)
    time.advance(999)
    await Promise.resolve()
    expect(done).toBe(false)
    time.advance(1)
    await p
    expect(done).toBe(true)
    expect(bucket.counters.waited).toBe(1)
  })

  it('serves waiters in order, so a large reply is not starved by small ones', async () => {
    const time = new ManualTime()
    const bucket = new TokenBucket({ bytesPerSec: 2 * MiB, burstBytes: 2 * MiB, now: time.now, timers: time })
    await bucket.take(2 * MiB)
    const order: string[] = []
    const big = bucket.take(2 * MiB).then(() => order.push('big'))
    const small = bucket.take(1024).then(() => order.push('small'))
    time.advance(1000)
    await big
    time.advance(10)
    await small
    expect(order).toEqual(['big', 'small'])
  })

  it('does not limit with a rate of 0, and changes its rate when the seeder changes the setting', async () => {
    const time = new ManualTime()
    const bucket = new TokenBucket({ bytesPerSec: 0, now: time.now, timers: time })
    for (let i = 0; i < 100; i++) await bucket.take(MiB)
    expect(bucket.counters.waited).toBe(0)
    bucket.setRate(MiB, 2 * MiB)
    await bucket.take(2 * MiB)
    let done = false
    const p = bucket.take(MiB / 2).then(() => { done = true })
    time.advance(499)
    await Promise.resolve()
    expect(done).toBe(false)
    time.advance(1)
    await p
  })

  it('rejects waiters with CLOSED when closed', async () => {
    const time = new ManualTime()
    const bucket = new TokenBucket({ bytesPerSec: 1024, now: time.now, timers: time })
    await bucket.take(2 * MiB)
    const p = bucket.take(MiB)
    bucket.close()
    await expect(p).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(bucket.take(1)).rejects.toMatchObject({ code: 'CLOSED' })
  })
})
