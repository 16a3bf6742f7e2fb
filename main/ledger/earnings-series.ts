/**
 * Read-only queries of the earnings ledger for the seeder dashboard: earnings over time in buckets
 * by reason (the chart), earnings per plan (the table; plan ids come from the payout legs' memos,
 * `item <id> plan <id>`, which reversals copy), totals by reason, and an estimate of the current
 * month from the recent rate. Only the work reasons count (EARNING_REASONS), reversals included,
 * so every figure here adds up to what `Ledger.earnings` says for the same range. Amounts are
 * bigint (planck); nothing here writes.
 */
import type { Db } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import { EARNING_REASONS } from './ledger.js'

const HOUR = 3_600_000
const DAY = 86_400_000

/** Bucket sizes of the earnings chart, finest first; a range uses the finest with at most MAX_BUCKETS. */
export const EARNING_BUCKETS = [HOUR, DAY, 7 * DAY, 30 * DAY] as const
export const MAX_BUCKETS = 200

export interface EarningsBucket { t: number, reason: string, amountPlanck: bigint }
export interface PlanEarnings { planId: number | null, byReason: Map<string, bigint>, totalPlanck: bigint }

interface Row { amount: string, reason: string, time_ms: number, memo: string | null }

function rows (db: Db, account: string, fromMs: number, toMs: number): Iterable<Row> {
  const reasons = EARNING_REASONS.map(() => '?').join(', ')
  return db.prepare(`SELECT amount, reason, time_ms, memo FROM ledger_entries WHERE account = ? AND time_ms >= ? AND time_ms < ? AND reason IN (${reasons})`)
    .iterate(account, fromMs, toMs, ...EARNING_REASONS) as Iterable<Row>
}

function amountOf (r: Row): bigint {
  if (!/^-?\d{1,40}$/.test(r.amount)) throw DatdotError.ledgerInvariant(`amount ${JSON.stringify(r.amount)} is not an integer`)
  return BigInt(r.amount)
}

/** The bucket size for a range: the finest of EARNING_BUCKETS that gives at most MAX_BUCKETS buckets. */
export function bucketFor (fromMs: number, toMs: number): number {
  const span = Math.max(1, toMs - fromMs)
  return EARNING_BUCKETS.find((b) => span / b <= MAX_BUCKETS) ?? EARNING_BUCKETS[EARNING_BUCKETS.length - 1]
}

/** Earnings of `account` in [fromMs, toMs) summed per bucket (UTC-aligned starts) and reason; zero sums left out. */
export function earningsSeries (db: Db, q: { account: string, fromMs: number, toMs: number, bucketMs: number }): EarningsBucket[] {
  const sums = new Map<string, EarningsBucket>()
  for (const r of rows(db, q.account, q.fromMs, q.toMs)) {
    const t = Math.floor(r.time_ms / q.bucketMs) * q.bucketMs
    const k = `${t}/${r.reason}`
    const b = sums.get(k) ?? { t, reason: r.reason, amountPlanck: 0n }
    b.amountPlanck += amountOf(r)
    sums.set(k, b)
  }
  return [...sums.values()].filter((b) => b.amountPlanck !== 0n).sort((a, b) => a.t - b.t || (a.reason < b.reason ? -1 : 1))
}

const PLAN_MEMO = /\bplan (\d+)\b/

/** Earnings of `account` in [fromMs, toMs) per plan (null: no plan named in the memo) and reason, largest first. */
export function earningsByPlan (db: Db, q: { account: string, fromMs: number, toMs: number }): PlanEarnings[] {
  const plans = new Map<number | null, PlanEarnings>()
  for (const r of rows(db, q.account, q.fromMs, q.toMs)) {
    const m = r.memo === null ? null : PLAN_MEMO.exec(r.memo)
    const planId = m === null ? null : Number(m[1])
    const p = plans.get(planId) ?? { planId, byReason: new Map(), totalPlanck: 0n }
    const a = amountOf(r)
    p.byReason.set(r.reason, (p.byReason.get(r.reason) ?? 0n) + a)
    p.totalPlanck += a
    plans.set(planId, p)
  }
  return [...plans.values()]
    .filter((p) => p.totalPlanck !== 0n || [...p.byReason.values()].some((v) => v !== 0n))
    .sort((a, b) => (a.totalPlanck === b.totalPlanck ? (a.planId ?? -1) - (b.planId ?? -1) : a.totalPlanck > b.totalPlanck ? -1 : 1))
}

/** Earnings of `account` in [fromMs, toMs) by reason. */
export function earningsTotals (db: Db, q: { account: string, fromMs: number, toMs: number }): Map<string, bigint> {
  const out = new Map<string, bigint>()
  for (const r of rows(db, q.account, q.fromMs, q.toMs)) out.set(r.reason, (out.get(r.reason) ?? 0n) + amountOf(r))
  return out
}

/** Time of the first earning of `account`, or null. */
export function firstEarning (db: Db, account: string): number | null {
  const reasons = EARNING_REASONS.map(() => '?').join(', ')
  const row = db.prepare(`SELECT MIN(time_ms) AS t FROM ledger_entries WHERE account = ? AND reason IN (${reasons})`).get(account, ...EARNING_REASONS) as { t: number | null }
  return row.t
}

export interface MonthEstimate {
  monthStartMs: number
  monthEndMs: number
  /** Earned since the month started (UTC). */
  earnedPlanck: bigint
  /** Earned per day over the recent window. */
  perDayPlanck: bigint
  /** Earned so far plus the recent rate over what is left of the month. */
  projectedPlanck: bigint
  /** The window the rate is taken over (at most `windowMs`, from the first earning on, at least a day). */
  windowMs: number
}

/**
 * The current month (UTC) at `now`: what was earned since it started, and a projection at the
 * rate of the last `windowMs` (7 days by default; shorter when earning started later, never
 * under a day so one payout minutes ago does not project a fortune). The window may reach into
 * the previous month: on the 1st the rate still comes from last week. Null with no earnings yet.
 */
export function estimateMonth (db: Db, q: { account: string, now: number, windowMs?: number }): MonthEstimate | null {
  const first = firstEarning(db, q.account)
  if (first === null || first >= q.now) return null
  const d = new Date(q.now)
  const monthStartMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
  const monthEndMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
  const windowStart = Math.max(q.now - (q.windowMs ?? 7 * DAY), first)
  const windowMs = Math.max(DAY, q.now - windowStart)
  const sum = (from: number): bigint => [...earningsTotals(db, { account: q.account, fromMs: from, toMs: q.now }).values()].reduce((a, b) => a + b, 0n)
  const earnedPlanck = sum(monthStartMs)
  const recent = sum(windowStart)
  const left = BigInt(monthEndMs - q.now)
  const projectedPlanck = earnedPlanck + (recent * left) / BigInt(windowMs)
  return { monthStartMs, monthEndMs, earnedPlanck, perDayPlanck: (recent * BigInt(DAY)) / BigInt(windowMs), projectedPlanck, windowMs }
}
