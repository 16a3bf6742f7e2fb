// The dashboard's read-only earnings queries (main/ledger/earnings-series.ts) over a real Ledger
// in SQLite: buckets by reason, the per-plan breakdown adding up to the ledger's own totals
// (reversals included), and the month estimate with the clock given by hand.
import { describe, it, expect, afterEach } from 'vitest'
import { Ledger, type LedgerReason } from '../../main/ledger/ledger.js'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { bucketFor, earningsByPlan, earningsSeries, earningsTotals, estimateMonth } from '../../main/ledger/earnings-series.js'

const HOUR = 3_600_000
const DAY = 86_400_000
const ME = '5Me'
const dbs: Db[] = []
afterEach(() => { for (const db of dbs.splice(0)) db.close() })

interface Pay { timeMs: number, reason: LedgerReason, amount: bigint, plan?: number, to?: string }

/** A ledger with one block per payment, each paying `to` (default ME) from escrow with the payout's memo. */
function ledgerWith (pays: Pay[]): Ledger {
  const db = openDatabase(':memory:')
  dbs.push(db)
  const ledger = new Ledger(db)
  pays.forEach((p, i) => {
    const memo = p.plan === undefined ? null : `item ${i + 1} plan ${p.plan}`
    ledger.applyBlock({ number: i + 1, hash: `h${i + 1}`, parentHash: `h${i}`, genesisHash: 'g', timeMs: p.timeMs }, [{
      key: `h${i + 1}:0`,
      reason: p.reason,
      memo,
      legs: [{ account: '@escrow', amountPlanck: -p.amount, memo }, { account: p.to ?? ME, amountPlanck: p.amount, memo }]
    }])
  })
  return ledger
}

const T0 = Date.UTC(2026, 10, 10) // 10 November 2026, midnight UTC

describe('earnings over time', () => {
  it('sums each bucket per reason and leaves out other accounts and non-work reasons', () => {
    const ledger = ledgerWith([
      { timeMs: T0 + 10, reason: 'storage-proof', amount: 60n, plan: 1 },
      { timeMs: T0 + 20, reason: 'storage-proof', amount: 40n, plan: 2 },
      { timeMs: T0 + 30, reason: 'encoding', amount: 5n, plan: 1 },
      { timeMs: T0 + HOUR + 1, reason: 'performance-proof', amount: 7n, plan: 1 },
      { timeMs: T0 + 40, reason: 'faucet', amount: 1000n },
      { timeMs: T0 + 50, reason: 'storage-proof', amount: 999n, plan: 1, to: '5Other' }
    ])
    const rows = earningsSeries(ledger.db, { account: ME, fromMs: T0, toMs: T0 + DAY, bucketMs: HOUR })
    expect(rows).toEqual([
      { t: T0, reason: 'encoding', amountPlanck: 5n },
      { t: T0, reason: 'storage-proof', amountPlanck: 100n },
      { t: T0 + HOUR, reason: 'performance-proof', amountPlanck: 7n }
    ])
  })

  it('picks hours for a day, days for a month, weeks for a year', () => {
    expect(bucketFor(T0, T0 + DAY)).toBe(HOUR)
    expect(bucketFor(T0, T0 + 7 * DAY)).toBe(HOUR)
    expect(bucketFor(T0, T0 + 30 * DAY)).toBe(DAY)
    expect(bucketFor(T0, T0 + 365 * DAY)).toBe(7 * DAY)
    expect(bucketFor(T0, T0 + 10 * 365 * DAY)).toBe(30 * DAY)
  })
})

describe('earnings per plan', () => {
  it('adds up, per reason and in total, to what the ledger itself reports, reversals included', () => {
    const ledger = ledgerWith([
      { timeMs: T0 + 1, reason: 'storage-proof', amount: 600n, plan: 3 },
      { timeMs: T0 + 2, reason: 'performance-proof', amount: 250n, plan: 3 },
      { timeMs: T0 + DAY, reason: 'encoding', amount: 640n, plan: 4 },
      { timeMs: T0 + DAY + 1, reason: 'setup', amount: 80n, plan: 4 },
      { timeMs: T0 + 2 * DAY, reason: 'storage-proof', amount: 600n, plan: 4 },
      { timeMs: T0 + 2 * DAY + 1, reason: 'storage-proof', amount: 33n }
    ])
    // the last block leaves the chain: its payment is reversed
    ledger.revertAbove(5, T0 + 3 * DAY)
    const range = { account: ME, fromMs: T0, toMs: T0 + 10 * DAY }
    const plans = earningsByPlan(ledger.db, range)
    expect(plans.map((p) => [p.planId, p.totalPlanck])).toEqual([[4, 1320n], [3, 850n]])
    const fromLedger = new Map<string, bigint>()
    for (const r of ledger.earnings(range)) fromLedger.set(r.reason, (fromLedger.get(r.reason) ?? 0n) + BigInt(r.amount))
    const fromPlans = new Map<string, bigint>()
    for (const p of plans) for (const [reason, a] of p.byReason) fromPlans.set(reason, (fromPlans.get(reason) ?? 0n) + a)
    expect(fromPlans).toEqual(fromLedger)
    expect(earningsTotals(ledger.db, range)).toEqual(fromLedger)
    const sum = (m: Map<string, bigint>): bigint => [...m.values()].reduce((a, b) => a + b, 0n)
    expect(plans.reduce((a, p) => a + p.totalPlanck, 0n)).toBe(sum(fromLedger))
    expect(sum(fromLedger)).toBe(2170n)
  })

  it('lists earnings whose memo names no plan under no plan', () => {
    const ledger = ledgerWith([{ timeMs: T0, reason: 'setup', amount: 9n }, { timeMs: T0 + 1, reason: 'setup', amount: 1n, plan: 12 }])
    expect(earningsByPlan(ledger.db, { account: ME, fromMs: T0, toMs: T0 + DAY }).map((p) => [p.planId, p.totalPlanck])).toEqual([[null, 9n], [12, 1n]])
  })
})

describe('the month estimate', () => {
  it('is null before anything was earned', () => {
    const ledger = ledgerWith([{ timeMs: T0, reason: 'faucet', amount: 100n }])
    expect(estimateMonth(ledger.db, { account: ME, now: T0 + DAY })).toBeNull()
  })

  it('after one day takes the rate over a whole day, not over the minutes since the first payment', () => {
    const now = T0 + 20 * HOUR // 10 November, 20:00
    const ledger = ledgerWith([{ timeMs: now - 10 * 60_000, reason: 'storage-proof', amount: 100n, plan: 1 }])
    const e = estimateMonth(ledger.db, { account: ME, now })!
    expect(e.monthStartMs).toBe(Date.UTC(2026, 10, 1))
    expect(e.monthEndMs).toBe(Date.UTC(2026, 11, 1))
    expect(e.windowMs).toBe(DAY)
    expect(e.earnedPlanck).toBe(100n)
    expect(e.perDayPlanck).toBe(100n)
    const left = BigInt(Date.UTC(2026, 11, 1) - now)
    expect(e.projectedPlanck).toBe(100n + (100n * left) / BigInt(DAY))
  })

  it('on the first of a month counts only this month as earned but keeps last week\'s rate', () => {
    const monthStart = Date.UTC(2026, 11, 1)
    const now = monthStart + 6 * HOUR
    const pays: Pay[] = []
    for (let d = 10; d >= 1; d--) pays.push({ timeMs: monthStart - d * DAY + HOUR, reason: 'storage-proof', amount: 700n, plan: 2 })
    pays.push({ timeMs: monthStart + HOUR, reason: 'performance-proof', amount: 70n, plan: 2 })
    const ledger = ledgerWith(pays)
    const e = estimateMonth(ledger.db, { account: ME, now })!
    expect(e.monthStartMs).toBe(monthStart)
    expect(e.earnedPlanck).toBe(70n)
    expect(e.windowMs).toBe(7 * DAY)
    // the last 7 days before 06:00 on the 1st: 7 payments of 700 (25..30 Nov and... the 70 today)
    const recent = earningsTotals(ledger.db, { account: ME, fromMs: now - 7 * DAY, toMs: now })
    const recentSum = [...recent.values()].reduce((a, b) => a + b, 0n)
    expect(recentSum).toBe(7n * 700n + 70n - 700n)
    const left = BigInt(Date.UTC(2027, 0, 1) - now)
    expect(e.perDayPlanck).toBe(recentSum / 7n)
    expect(e.projectedPlanck).toBe(70n + (recentSum * left) / BigInt(7 * DAY))
  })
})
