/**
 * The node's upload limit: one token bucket (bytes per second, burst bounded) that every write a
 * swarm connection makes waits in (main/engine/paced-writes.ts), so it covers hypercore
 * replication and the hosting channel alike. The hosting service sets the rate from the seeder's
 * `bandwidth_bps`; a rate of 0 means no limit (writes go at once, synchronously). Changing the
 * rate applies to the writes already waiting. Waiters are served in order (FIFO), so a large
 * frame is not starved by small ones; a frame larger than the burst (hypercore corks several
 * blocks into one write) waits until the bucket has filled to its size, so it pays before it goes
 * and no window of time sees more than the burst plus the rate.
 * An urgent write (a hosting commitment with a deadline, main/engine/paced-writes.ts
 * sendUrgently) goes at once, ahead of the queue, and leaves the bucket in debt as well: later
 * writes pay it back, so urgency moves bytes earlier without raising the long-run rate.
 *
 * Counters: bytes sent, the achieved rate over the last few seconds and the time spent with
 * writes waiting (throttled). Clock and timers are injected for the unit test.
 * See docs/protocol.md, section 9 ("Bandwidth limit").
 */
import { DatdotError } from './errors.js'
import { realTimers, type Timers } from './timeout.js'

export interface UploadLimiterOptions {
  /** Sustained rate in bytes per second; 0 means no limit. */
  bytesPerSec?: number
  /** Most bytes sent in one burst; default a quarter second of the rate, at least MIN_BURST. */
  burstBytes?: number
  now?: () => number
  timers?: Timers
}

export interface UploadStats {
  /** The limit in bytes per second; 0: none. */
  limitBps: number
  /** Bytes sent per second, averaged over the last RATE_WINDOW_S seconds (or since the start). */
  rateBps: number
  /** Bytes sent since the limiter was made. */
  sentBytes: number
  /** Milliseconds during which at least one write waited for the limit. */
  throttledMs: number
  /** Writes that had to wait. */
  waits: number
  /** Writes sent ahead of the queue because they were urgent. */
  urgent: number
}

/** The smallest burst: one hypercore block of 64 KiB with its proof and framing goes without debt. */
export const MIN_BURST = 64 * 1024 + 4096
const RATE_WINDOW_S = 5

/** A write waiting for the limit (what `pace` returns when it queued one). */
export interface Waiter { readonly bytes: number, readonly send: () => void }

export class UploadLimiter {
  private rate = 0
  private burst = MIN_BURST
  private tokens = MIN_BURST
  private last: number
  private readonly now: () => number
  private readonly timers: Timers
  private readonly waiters: Waiter[] = []
  private timer: unknown = null
  private closed = false
  private sent = 0
  private waits = 0
  private urgent = 0
  private throttled = 0
  private throttledSince: number | null = null
  private readonly started: number
  private readonly slotSec: number[] = new Array<number>(RATE_WINDOW_S).fill(-1)
  private readonly slotBytes: number[] = new Array<number>(RATE_WINDOW_S).fill(0)

  constructor (opts: UploadLimiterOptions = {}) {
    this.now = opts.now ?? Date.now
    this.timers = opts.timers ?? realTimers
    this.last = this.now()
    this.started = this.last
    this.setRate(opts.bytesPerSec ?? 0, opts.burstBytes)
  }

  /** The limit in bytes per second (0: none). */
  get bytesPerSec (): number { return this.rate }

  /**
   * Sets the limit (0: none), live: waiting writes are re-scheduled at the new rate. The bucket
   * keeps its tokens (capped at the new burst); coming from no limit it starts full.
   */
  setRate (bytesPerSec: number, burstBytes?: number): void {
    if (!Number.isFinite(bytesPerSec) || bytesPerSec < 0) throw DatdotError.invalidArgument('bytesPerSec must be a number of 0 or more', { bytesPerSec })
    if (burstBytes !== undefined && (!Number.isFinite(burstBytes) || burstBytes <= 0)) throw DatdotError.invalidArgument('burstBytes must be a positive number', { burstBytes })
    this.refill()
    const wasLimited = this.rate > 0
    this.rate = bytesPerSec
    this.burst = Math.max(burstBytes ?? Math.round(bytesPerSec / 4), MIN_BURST)
    this.tokens = wasLimited ? Math.min(this.tokens, this.burst) : this.burst
    this.reschedule()
  }

  /**
   * Calls `send` once `bytes` may go: at once (synchronously) when there is no limit, the write
   * is urgent, or the bucket holds them and nobody waits; later otherwise, in order. Closed: at
   * once. Returns the waiting write when it was queued (see `hurry`), null when it went.
   */
  pace (bytes: number, send: () => void, urgent = false): Waiter | null {
    if (this.rate > 0 && !this.closed) {
      this.refill()
      if (!urgent && (this.waiters.length > 0 || this.tokens < bytes)) {
        this.waits++
        if (this.throttledSince === null) this.throttledSince = this.now()
        const w: Waiter = { bytes, send }
        this.waiters.push(w)
        this.reschedule()
        return w
      }
      if (urgent) this.urgent++
      this.tokens -= bytes
    }
    this.count(bytes)
    send()
    return null
  }

  /**
   * Sends a queued write now, ahead of the others, in debt (an urgent write waits behind it on
   * its own connection). A write that already went is left alone.
   */
  hurry (w: Waiter): void {
    const i = this.waiters.indexOf(w)
    if (i === -1) return
    this.waiters.splice(i, 1)
    this.refill()
    this.tokens -= w.bytes
    this.urgent++
    this.count(w.bytes)
    w.send()
    this.reschedule()
  }

  /** The limit and what was achieved. */
  stats (): UploadStats {
    const t = this.now()
    const ongoing = this.throttledSince === null ? 0 : t - this.throttledSince
    return { limitBps: this.rate, rateBps: this.achieved(t), sentBytes: this.sent, throttledMs: this.throttled + ongoing, waits: this.waits, urgent: this.urgent }
  }

  /** Stops limiting: every waiting write goes now, later ones at once. */
  close (): void {
    this.closed = true
    this.cancelTimer()
    this.release()
  }

  private count (bytes: number): void {
    this.sent += bytes
    const sec = Math.floor(this.now() / 1000)
    const i = sec % RATE_WINDOW_S
    if (this.slotSec[i] !== sec) { this.slotSec[i] = sec; this.slotBytes[i] = 0 }
    this.slotBytes[i] += bytes
  }

  private achieved (t: number): number {
    const sec = Math.floor(t / 1000)
    let bytes = 0
    for (let i = 0; i < RATE_WINDOW_S; i++) if (this.slotSec[i] > sec - RATE_WINDOW_S) bytes += this.slotBytes[i]
    // The window: the whole seconds before this one and the part of this one, never before the start.
    const windowMs = Math.min((RATE_WINDOW_S - 1) * 1000 + (t % 1000), t - this.started)
    return windowMs <= 0 ? 0 : bytes * 1000 / windowMs
  }

  private refill (): void {
    const t = this.now()
    // the bucket holds the burst, or more for a waiting write larger than the burst: it pays in full before it goes
    const cap = Math.max(this.burst, this.waiters[0]?.bytes ?? 0)
    if (this.rate > 0) this.tokens = Math.min(cap, this.tokens + Math.max(0, t - this.last) * this.rate / 1000)
    this.last = t
  }

  private cancelTimer (): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer)
    this.timer = null
  }

  /** Sends the waiters the bucket (or no limit) allows now, then sets a timer for the next one. */
  private reschedule (): void {
    this.cancelTimer()
    if (this.closed) return
    this.refill()
    this.release()
    // A send may have written again (a stream's next write) and set a timer already.
    this.cancelTimer()
    if (this.waiters.length === 0 || this.closed) return
    const missing = this.waiters[0].bytes - this.tokens
    const ms = Math.max(1, Math.ceil(missing * 1000 / this.rate))
    this.timer = this.timers.setTimeout(() => { this.timer = null; this.reschedule() }, ms)
  }

  /** Sends waiters in order while the bucket covers them (all of them with no limit or closed). */
  private release (): void {
    const limited = this.rate > 0 && !this.closed
    while (this.waiters.length > 0) {
      const w = this.waiters[0]
      if (limited && this.tokens < w.bytes) break
      this.waiters.shift()
      if (limited) this.tokens -= w.bytes
      this.count(w.bytes)
      w.send()
    }
    if (this.waiters.length === 0 && this.throttledSince !== null) {
      this.throttled += this.now() - this.throttledSince
      this.throttledSince = null
    }
  }
}
