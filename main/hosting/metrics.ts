/**
 * The seeder's metrics sampler: once a minute (and at start) it reads the hosting figures the
 * dashboard charts and writes them into the downsampled MetricsStore: disk used (the provider's
 * used bytes on chain), bytes served since the last sample (the hosting channel's replies and
 * the plain replicas' uploads, from the service's counter) and the provider's reputation on
 * chain. Clock and timers are injected; a failed sample is counted and reported, never thrown.
 */
import type { MetricsStore } from '../shared/metrics-store.js'
import { realTimers, type Timers } from '../shared/timeout.js'

export const METRIC_SERIES = { used: 'hosting.used-bytes', served: 'hosting.served-bytes', reputation: 'hosting.reputation' } as const

export interface MetricsReading {
  usedBytes: number
  /** The counter of bytes served since the service opened (the sampler stores the difference). */
  servedBytesTotal: number
  /** The provider's reputation on chain; null when this node is not a registered provider. */
  reputation: number | null
}

export interface MetricsSamplerOptions {
  store: MetricsStore
  read: () => MetricsReading
  now?: () => number
  timers?: Timers
  intervalMs?: number
  onError?: (err: unknown) => void
}

export class MetricsSampler {
  readonly counters = { samples: 0, errors: 0 }
  private readonly now: () => number
  private readonly timers: Timers
  private readonly intervalMs: number
  private timer: unknown = null
  private servedBefore: number | null = null
  private stopped = false

  constructor (private readonly opts: MetricsSamplerOptions) {
    this.now = opts.now ?? Date.now
    this.timers = opts.timers ?? realTimers
    this.intervalMs = opts.intervalMs ?? 60_000
  }

  /** Samples now, then every interval until stop(). */
  start (): void {
    this.stopped = false
    this.tick()
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== null) this.timers.clearTimeout(this.timer)
    this.timer = null
  }

  /** One sample of every series. */
  sample (): void {
    const r = this.opts.read()
    const at = this.now()
    const { store } = this.opts
    store.record(METRIC_SERIES.used, 'gauge', r.usedBytes, at)
    // The first sample only sets the baseline: what was served before it belongs to no bucket.
    const served = this.servedBefore === null ? 0 : Math.max(0, r.servedBytesTotal - this.servedBefore)
    this.servedBefore = r.servedBytesTotal
    store.record(METRIC_SERIES.served, 'sum', served, at)
    if (r.reputation !== null) store.record(METRIC_SERIES.reputation, 'gauge', r.reputation, at)
    this.counters.samples++
  }

  private tick (): void {
    if (this.stopped) return
    try {
      this.sample()
    } catch (err) {
      this.counters.errors++
      this.opts.onError?.(err)
    }
    this.timer = this.timers.setTimeout(() => { this.tick() }, this.intervalMs)
  }
}
