/**
 * The seeder dashboard's state (Hosting page): whose (this node, or one of its local seeders), the chosen range (24 h, 7 d, 30 d, 12 months,
 * all, or custom dates), the last getHostingDashboard answer for it, and the columns the charts
 * draw (earnings stacked by reason, metrics aligned on their buckets). The charts take plain
 * arrays of numbers: amounts as planck (Number, for drawing only; every figure shown as text is
 * formatted from the exact decimal string).
 */
import type { HostingDashboard, LocalSeedersState } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { toApiError, type ApiError } from './errors.js'

const HOUR = 3_600_000
const DAY = 86_400_000

export type RangeKey = '24h' | '7d' | '30d' | '12m' | 'all' | 'custom'

export const RANGES: ReadonlyArray<{ key: Exclude<RangeKey, 'custom'>, label: string, name: string, ms: number }> = [
  { key: '24h', label: '24 h', name: 'last 24 hours', ms: 24 * HOUR },
  { key: '7d', label: '7 d', name: 'last 7 days', ms: 7 * DAY },
  { key: '30d', label: '30 d', name: 'last 30 days', ms: 30 * DAY },
  { key: '12m', label: '12 months', name: 'last 12 months', ms: 365 * DAY },
  { key: 'all', label: 'All', name: 'all time', ms: 0 }
]

/** The work reasons, bottom of the stack first, with their names and chart colours. */
export const EARNING_REASONS = [
  { reason: 'storage-proof', label: 'Storage proofs', colour: '#2f6fdf' },
  { reason: 'performance-proof', label: 'Performance', colour: '#1f9a5a' },
  { reason: 'encoding', label: 'Encoding', colour: '#d08a10' },
  { reason: 'setup', label: 'Setup', colour: '#9a4fd0' }
] as const

export function reasonLabel (reason: string): string {
  return EARNING_REASONS.find((r) => r.reason === reason)?.label ?? reason
}

/** 'yyyy-mm-dd' (an <input type=date> value, a UTC day) -> ms, or null. */
export function parseDay (s: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return null
  const ms = Date.parse(`${s}T00:00:00Z`)
  return Number.isFinite(ms) ? ms : null
}

/** Earnings columns for a stacked chart: bucket starts, then per reason the running sum up to it (planck, as numbers). */
export function stackedEarnings (d: Pick<HostingDashboard, 'earnings' | 'bucketMs' | 'fromMs' | 'toMs'>): { t: number[], stacks: number[][], values: number[][] } {
  const start = Math.floor(d.fromMs / d.bucketMs) * d.bucketMs
  const n = Math.max(1, Math.ceil((d.toMs - start) / d.bucketMs))
  const t = Array.from({ length: n }, (_, i) => start + i * d.bucketMs)
  const values = EARNING_REASONS.map(() => new Array<number>(n).fill(0))
  for (const e of d.earnings) {
    const i = Math.floor((e.t - start) / d.bucketMs)
    const r = EARNING_REASONS.findIndex((x) => x.reason === e.reason)
    if (i >= 0 && i < n && r >= 0) values[r][i] += Number(e.amount)
  }
  const stacks = values.map((_, r) => t.map((__, i) => values.slice(0, r + 1).reduce((a, v) => a + v[i], 0)))
  return { t, stacks, values }
}

export class DashboardStore {
  range = $state<RangeKey>('30d')
  /** Custom range: first and last day shown (inclusive), as <input type=date> values. */
  customFrom = $state('')
  customTo = $state('')
  customError = $state<string | null>(null)
  /** Whose dashboard: null for this node, else a local seeder's name (its own wallet and ledger). */
  seeder = $state<string | null>(null)
  data = $state<HostingDashboard | null>(null)
  error = $state<ApiError | null>(null)
  loading = $state(false)
  /** Loads answered so far (the panel shows it as data-loads: a test waits for the next answer). */
  loads = $state(0)

  #client: Client
  #now: () => number
  #seq = 0
  /** An event asked for a load while one ran: one more after it. */
  #again = false
  /** The shown seeder's slots and earnings in the last status event (a change means new figures). */
  #seen: string | null = null

  constructor (client: Client, now: () => number = Date.now) {
    this.#client = client
    this.#now = now
  }

  /** The range asked of the engine for the current choice. */
  request (): { fromMs: number, toMs: number } | null {
    const now = this.#now()
    if (this.range === 'custom') {
      const from = parseDay(this.customFrom)
      const to = parseDay(this.customTo)
      if (from === null || to === null || to < from) return null
      return { fromMs: from, toMs: to + DAY }
    }
    const r = RANGES.find((x) => x.key === this.range)!
    return { fromMs: r.ms === 0 ? 0 : now - r.ms, toMs: now }
  }

  async setRange (key: Exclude<RangeKey, 'custom'>): Promise<void> {
    this.range = key
    this.customError = null
    await this.load()
  }

  /** Shows the custom dates; says what is wrong with them instead of loading. */
  async applyCustom (): Promise<void> {
    const from = parseDay(this.customFrom)
    const to = parseDay(this.customTo)
    if (from === null || to === null) { this.customError = 'Pick both dates.'; return }
    if (to < from) { this.customError = 'The end date is before the start date.'; return }
    this.customError = null
    this.range = 'custom'
    await this.load()
  }

  /** Shows the dashboard of this node (null) or of a local seeder. */
  async show (seeder: string | null): Promise<void> {
    if (seeder === this.seeder) return
    this.seeder = seeder
    this.data = null
    this.error = null
    this.#seen = null
    await this.load()
  }

  /**
   * Live figures, pushed by events instead of polled: this node's ledger got an entry or a proof
   * was recorded (`mine`), or the local seeders' status came (their slots and earnings): when it
   * concerns the dashboard shown, it loads again (one load at a time; one more if asked meanwhile).
   */
  onEvent (ev: { mine: true } | { seeders: LocalSeedersState }): void {
    if ('mine' in ev) {
      if (this.seeder === null) this.#refresh()
      return
    }
    if (this.seeder === null) return
    const s = ev.seeders.seeders.find((x) => x.name === this.seeder)
    const seen = s === undefined ? null : `${s.slots}/${s.earned}`
    if (seen === this.#seen) return
    this.#seen = seen
    this.#refresh()
  }

  #refresh (): void {
    if (this.data === null && this.error === null) return
    if (this.loading) { this.#again = true; return }
    void this.load()
  }

  /** Loads the dashboard for the current range; a later load wins over an earlier one still running. */
  async load (): Promise<void> {
    const q = this.request()
    if (q === null) return
    const seq = ++this.#seq
    this.loading = true
    try {
      const data = await this.#client.call('getHostingDashboard', this.seeder === null ? q : { ...q, seeder: this.seeder })
      if (seq !== this.#seq) return
      this.data = data
      this.error = null
      this.loads++
    } catch (err) {
      if (seq === this.#seq) this.error = toApiError(err)
    } finally {
      if (seq === this.#seq) {
        this.loading = false
        if (this.#again) { this.#again = false; void this.load() }
      }
    }
  }
}
