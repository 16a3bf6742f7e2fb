/**
 * Read-only views of the earnings ledger for people: earnings NET of the fees paid to earn them
 * (gross, fees, net: one definition for every figure the UI shows), and the ledger as
 * transactions seen from one account (what, with whom, for which plan, net) with the
 * double-entry legs kept for a detail view.
 */
import type { Db } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import { EARNING_REASONS } from './ledger.js'

export interface EarningsSummary {
  /** What the work earned (encoding, setup, proofs), reversals included. */
  grossPlanck: bigint
  /** Fees paid for provider records (reports, registering), net of refunds: a positive number. */
  feesPlanck: bigint
  /** gross - fees: what seeding changed the wallet by. Negative when the fees were higher. */
  netPlanck: bigint
  byReason: Array<{ reason: string, amountPlanck: bigint }>
  /** Fee transactions counted in `feesPlanck`. */
  feeCount: number
}

/** Earnings of `account` in [fromMs, toMs) (all time when absent), net of the fees paid to earn them. */
export function earningsSummary (db: Db, q: { account: string, fromMs?: number, toMs?: number }): EarningsSummary {
  const reasons = [...EARNING_REASONS, 'work-fee']
  const rows = db.prepare(`SELECT reason, amount, tx_id FROM ledger_entries WHERE account = ? AND time_ms >= ? AND time_ms < ? AND reason IN (${reasons.map(() => '?').join(', ')})`)
    .iterate(q.account, q.fromMs ?? -8.64e15, q.toMs ?? 8.64e15, ...reasons) as Iterable<{ reason: string, amount: string, tx_id: number }>
  const by = new Map<string, bigint>()
  const feeTxs = new Set<number>()
  for (const r of rows) {
    by.set(r.reason, (by.get(r.reason) ?? 0n) + BigInt(r.amount))
    if (r.reason === 'work-fee') feeTxs.add(r.tx_id)
  }
  const feesPlanck = -(by.get('work-fee') ?? 0n)
  by.delete('work-fee')
  const grossPlanck = [...by.values()].reduce((a, b) => a + b, 0n)
  return {
    grossPlanck,
    feesPlanck,
    netPlanck: grossPlanck - feesPlanck,
    byReason: [...by].filter(([, v]) => v !== 0n).map(([reason, amountPlanck]) => ({ reason, amountPlanck })),
    feeCount: feeTxs.size
  }
}

export interface LedgerLeg { id: number, key: string, account: string, amountPlanck: bigint, reason: string, memo: string | null }

/** One ledger transaction as `account` sees it. */
export interface LedgerTx {
  id: number
  txId: string
  timeMs: number
  blockNumber: number
  blockHash: string
  reason: string
  memo: string | null
  /** `account` when a leg names it, else the first leg's account. */
  account: string
  /** The other accounts of the transaction (`@fees`, escrow, a payer...). */
  counterparties: string[]
  /** Plans named by the legs' memos ("item 4 plan 2"). */
  planIds: number[]
  /** The change of `account`'s balance by this transaction (0 when it is not a party). */
  netPlanck: bigint
  /** True for a reversing transaction (a block that left the chain). */
  reversal: boolean
  legs: LedgerLeg[]
}

const TX_PAGE_MAX = 500

/** Transactions touching `account` (every one when null), newest first, paged by transaction id. */
export function ledgerTransactions (db: Db, q: { account: string | null, limit: number, beforeId?: number }): { txs: LedgerTx[], nextBeforeId: number | null } {
  if (!Number.isSafeInteger(q.limit) || q.limit < 1) throw DatdotError.invalidArgument('limit must be a positive whole number')
  const limit = Math.min(q.limit, TX_PAGE_MAX)
  const where: string[] = []
  const args: Array<string | number> = []
  if (q.beforeId !== undefined) { where.push('t.id < ?'); args.push(q.beforeId) }
  if (q.account !== null) { where.push('t.id IN (SELECT tx_id FROM ledger_entries WHERE account = ?)'); args.push(q.account) }
  const heads = db.prepare(`SELECT t.id, t.key, t.reason, t.block_number, t.block_hash, t.time_ms, t.memo, t.reverses_tx FROM ledger_tx t ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY t.id DESC LIMIT ?`)
    .all(...args, limit + 1) as Array<{ id: number, key: string, reason: string, block_number: number, block_hash: string, time_ms: number, memo: string | null, reverses_tx: number | null }>
  const page = heads.slice(0, limit)
  const legsOf = db.prepare('SELECT id, key, account, amount, reason, memo FROM ledger_entries WHERE tx_id = ? ORDER BY id')
  const txs = page.map((t): LedgerTx => {
    const legs = (legsOf.all(t.id) as Array<{ id: number, key: string, account: string, amount: string, reason: string, memo: string | null }>)
      .map((l) => ({ id: l.id, key: l.key, account: l.account, amountPlanck: BigInt(l.amount), reason: l.reason, memo: l.memo }))
    const account = q.account !== null && legs.some((l) => l.account === q.account) ? q.account : legs[0]?.account ?? ''
    const plans = new Set<number>()
    for (const l of [...legs.map((x) => x.memo), t.memo]) for (const m of (l ?? '').matchAll(/\bplan (\d+)/g)) plans.add(Number(m[1]))
    return {
      id: t.id,
      txId: t.key,
      timeMs: t.time_ms,
      blockNumber: t.block_number,
      blockHash: t.block_hash,
      reason: t.reason,
      memo: t.memo,
      account,
      counterparties: [...new Set(legs.map((l) => l.account).filter((a) => a !== account))],
      planIds: [...plans].sort((a, b) => a - b),
      netPlanck: legs.filter((l) => l.account === account).reduce((a, l) => a + l.amountPlanck, 0n),
      reversal: t.reverses_tx !== null,
      legs
    }
  })
  return { txs, nextBeforeId: heads.length > limit ? page[page.length - 1].id : null }
}
