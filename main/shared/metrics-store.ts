/**
 * Downsampled time series in SQLite (the seeder dashboard's disk used, bytes served, reputation).
 *
 * Every sample is written into three tiers at once: minute points (kept a day), hour points (kept
 * 31 days) and day points (kept until the row limit). Each tier has a row limit per series, so
 * the table stays bounded whatever the clock or the sampling rate. A 'gauge' keeps the last
 * value of a bucket, a 'sum' adds the samples (bytes served in that minute / hour / day).
 * A clock that goes back never rewrites older buckets: the sample counts in the newest bucket.
 * Reads pick the finest tier that still covers the range and fill missing buckets with null
 * (a gap: the node was not running), never with an invented value.
 */
import type { Db, Migration } from './db.js'
import { migrate } from './db.js'
import { DatdotError } from './errors.js'

export const METRICS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'metrics: downsampled time series (minute, hour and day points per series)',
    up: `CREATE TABLE metrics_points (
      series TEXT NOT NULL,
      tier INTEGER NOT NULL,
      t INTEGER NOT NULL,
      value REAL NOT NULL,
      PRIMARY KEY (series, tier, t)
    ) STRICT, WITHOUT ROWID;`
  }
]

const MINUTE = 60_000
const HOUR = 3_600_000
const DAY = 86_400_000

export interface MetricsTier {
  stepMs: number
  /** Points older than this (from the newest sample) are dropped; Infinity: kept until maxRows. */
  keepMs: number
  /** Most points of one series in this tier. */
  maxRows: number
}

export const METRIC_TIERS: readonly MetricsTier[] = [
  { stepMs: MINUTE, keepMs: DAY, maxRows: 1440 },
  { stepMs: HOUR, keepMs: 31 * DAY, maxRows: 744 },
  { stepMs: DAY, keepMs: Infinity, maxRows: 3660 }
]

export const METRICS_LIMITS = {
  /** Points one read returns at most (a longer range uses a coarser tier). */
  pointsPerRead: 4000,
  seriesNameChars: 64
} as const

export type SeriesKind = 'gauge' | 'sum'

/** Aligned columns for a chart: bucket starts and one value list per series (null: no sample). */
export interface MetricsRead {
  stepMs: number
  t: number[]
  values: Record<string, Array<number | null>>
}

const NAME = /^[a-z][a-z0-9.-]*$/

export class MetricsStore {
  private readonly tiers: readonly MetricsTier[]
  /** Newest sample time per series (a clock that goes back is clamped to it). */
  private readonly last = new Map<string, number>()

  constructor (private readonly db: Db, opts: { tiers?: readonly MetricsTier[] } = {}) {
    migrate(db, 'metrics', METRICS_MIGRATIONS)
    this.tiers = opts.tiers ?? METRIC_TIERS
  }

  /** Adds one sample of `series` at `atMs`; refuses a bad name or value (INVALID_ARGUMENT), writing nothing. */
  record (series: string, kind: SeriesKind, value: number, atMs: number): void {
    if (series.length > METRICS_LIMITS.seriesNameChars || !NAME.test(series)) throw DatdotError.invalidArgument(`bad metrics series name ${JSON.stringify(series)}`)
    if (!Number.isFinite(value)) throw DatdotError.invalidArgument(`metrics value of ${series} is not a finite number`, { series })
    if (!Number.isFinite(atMs)) throw DatdotError.invalidArgument(`metrics time of ${series} is not a finite number`, { series })
    const at = Math.max(atMs, this.newest(series))
    this.last.set(series, at)
    const upsert = kind === 'sum'
      ? 'INSERT INTO metrics_points (series, tier, t, value) VALUES (?, ?, ?, ?) ON CONFLICT (series, tier, t) DO UPDATE SET value = value + excluded.value'
      : 'INSERT INTO metrics_points (series, tier, t, value) VALUES (?, ?, ?, ?) ON CONFLICT (series, tier, t) DO UPDATE SET value = excluded.value'
    const ins = this.db.prepare(upsert)
    this.db.transaction(() => {
      this.tiers.forEach((tier, i) => {
        ins.run(series, i, Math.floor(at / tier.stepMs) * tier.stepMs, value)
        this.prune(series, i, at)
      })
    })()
  }

  /** The newest sample time of a series (from memory, else the newest minute bucket on disk). */
  private newest (series: string): number {
    const known = this.last.get(series)
    if (known !== undefined) return known
    const row = this.db.prepare('SELECT MAX(t) AS t FROM metrics_points WHERE series = ? AND tier = 0').get(series) as { t: number | null }
    return row.t ?? -Infinity
  }

  private prune (series: string, tier: number, at: number): void {
    const { keepMs, maxRows } = this.tiers[tier]
    if (Number.isFinite(keepMs)) this.db.prepare('DELETE FROM metrics_points WHERE series = ? AND tier = ? AND t < ?').run(series, tier, at - keepMs)
    this.db.prepare(`DELETE FROM metrics_points WHERE series = ? AND tier = ? AND t <= (
      SELECT t FROM metrics_points WHERE series = ? AND tier = ? ORDER BY t DESC LIMIT 1 OFFSET ?)`).run(series, tier, series, tier, maxRows)
  }

  /** The tier a read of [fromMs, toMs) uses at `nowMs`: the finest that still holds fromMs and fits the point limit. */
  tierFor (fromMs: number, toMs: number, nowMs: number): number {
    for (let i = 0; i < this.tiers.length; i++) {
      const { stepMs, keepMs, maxRows } = this.tiers[i]
      const points = Math.ceil((toMs - fromMs) / stepMs)
      const covers = !Number.isFinite(keepMs) || fromMs >= nowMs - keepMs
      if (covers && points <= Math.min(maxRows, METRICS_LIMITS.pointsPerRead)) return i
    }
    return this.tiers.length - 1
  }

  /** Every bucket of [fromMs, toMs) in the chosen tier, each series' value or null. */
  read (series: string[], fromMs: number, toMs: number, nowMs: number): MetricsRead {
    if (!(toMs > fromMs)) throw DatdotError.invalidArgument('metrics range must end after it starts', { fromMs, toMs })
    const tier = this.tierFor(fromMs, toMs, nowMs)
    const { stepMs } = this.tiers[tier]
    const start = Math.floor(fromMs / stepMs) * stepMs
    const count = Math.min(Math.ceil((toMs - start) / stepMs), METRICS_LIMITS.pointsPerRead)
    const t = Array.from({ length: count }, (_, i) => start + i * stepMs)
    const values: MetricsRead['values'] = {}
    const q = this.db.prepare('SELECT t, value FROM metrics_points WHERE series = ? AND tier = ? AND t >= ? AND t < ?')
    for (const name of series) {
      const col = new Array<number | null>(count).fill(null)
      for (const r of q.iterate(name, tier, start, start + count * stepMs) as Iterable<{ t: number, value: number }>) col[(r.t - start) / stepMs] = r.value
      values[name] = col
    }
    return { stepMs, t, values }
  }

  /** The oldest point of any of these series (any tier), or null when there is none. */
  firstTime (series: string[]): number | null {
    if (series.length === 0) return null
    const row = this.db.prepare(`SELECT MIN(t) AS t FROM metrics_points WHERE series IN (${series.map(() => '?').join(', ')})`).get(...series) as { t: number | null }
    return row.t
  }

  /** Rows of one series and tier (tests and limits). */
  rows (series: string, tier: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM metrics_points WHERE series = ? AND tier = ?').get(series, tier) as { n: number }).n
  }
}
