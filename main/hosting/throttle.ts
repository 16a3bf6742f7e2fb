/**
 * A token bucket for a seeder's upload limit (`hosting_settings.bandwidth_bps`): what the hosting
 * service serves on its own channel (opened chunks) waits for tokens. Clock and timers are
 * injected; waiters are served in order (FIFO), so a large reply cannot be starved by small ones.
 * See docs/protocol.md, section 9 ("Bandwidth limit"), for what it covers and what it cannot.
 */
import { DatdotError } from '../shared/errors.js'
import { realTimers, type Timers } from '../shared/timeout.js'

export interface TokenBucketOptions {
  /** Sustained rate in bytes per second; 0 or less means no limit. */
  bytesPerSec: number
  /** Most bytes sent in one burst; default one second of the rate, at least 1 MiB + proof (one opened chunk). */
  burstBytes?: number
  now?: () => number
  timers?: Timers
}

const MIN_BURST = 1024 * 1024 + 8192

interface Waiter { bytes: number, resolve: () => void, reject: (err: Error) => void }

export class TokenBucket {
  private rate: number
  private burst: number
  private tokens: number
  private last: number
  private readonly now: () => number
  private readonly timers: Timers
  private readonly waiters: Waiter[] = []
  private timer: unknown = null
  private closed = false
  readonly counters = { bytes: 0, waited: 0 }

  constructor (opts: TokenBucketOptions) {
    this.now = opts.now ?? Date.now
    this.timers = opts.timers ?? realTimers
    this.rate = 0
    this.burst = 0
    this.tokens = 0
    this.last = this.now()
    this.setRate(opts.bytesPerSec, opts.burstBytes)
  }

  get bytesPerSec (): number { return this.rate }

  /** Changes the rate (the seeder changed its setting); the bucket starts full. */
  setRate (bytesPerSec: number, burstBytes?: number): void {
    if (!Number.isFinite(bytesPerSec)) throw DatdotError.invalidArgument('bytesPerSec must be a number')
    this.rate = Math.max(0, bytesPerSec)
    this.burst = Math.max(burstBytes ?? this.rate, MIN_BURST)
    this.tokens = this.burst
    this.last = this.now()
    this.pump()
  }

  /** Resolves when `bytes` may be sent. A request larger than the burst waits for a full bucket and then goes. */
  take (bytes: number): Promise<void> {
    if (this.closed) return Promise.reject(DatdotError.closed('bandwidth limiter'))
    this.counters.bytes += bytes
    if (this.rate <= 0) return Promise.resolve()
    this.refill()
    if (this.waiters.length === 0 && this.tokens >= Math.min(bytes, this.burst)) {
      this.tokens -= bytes
      return Promise.resolve()
    }
    this.counters.waited++
    return new Promise((resolve, reject) => {
      this.waiters.push({ bytes, resolve, reject })
      this.pump()
    })
  }

  close (): void {
    this.closed = true
    if (this.timer !== null) this.timers.clearTimeout(this.timer)
    this.timer = null
    const err = DatdotError.closed('bandwidth limiter')
    for (const w of this.waiters.splice(0)) w.reject(err)
  }

  private refill (): void {
    const t = this.now()
    const elapsed = Math.max(0, t - this.last)
    this.last = t
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate / 1000)
  }

  private pump (): void {
    if (this.timer !== null || this.closed) return
    this.refill()
    while (this.waiters.length > 0) {
      const w = this.waiters[0]
      if (this.rate > 0 && this.tokens < Math.min(w.bytes, this.burst)) break
      this.waiters.shift()
      this.tokens -= w.bytes
      w.resolve()
    }
    if (this.waiters.length === 0) return
    const missing = Math.min(this.waiters[0].bytes, this.burst) - this.tokens
    const ms = Math.max(1, Math.ceil(missing * 1000 / this.rate))
    this.timer = this.timers.setTimeout(() => { this.timer = null; this.pump() }, ms)
  }
}
