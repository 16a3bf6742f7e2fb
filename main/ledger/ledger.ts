/**
 * The earnings ledger: double-entry, append-only rows in the engine's SQLite database.
 *
 * - A ledger *transaction* is one movement of value seen on chain (a transfer event, a fee, a
 *   payout leg...). Its rows (*entries*) sum to zero. Amounts are integers in the token's smallest
 *   unit, stored as TEXT decimal strings (no 2^63 limit; sums are done with bigint in JS).
 * - Every row has an idempotency key derived from the chain: `<block hash>:<event index>` for the
 *   transaction, `:<leg>` appended for each entry. Keys are UNIQUE in SQL.
 * - Rows are never updated nor deleted (SQL triggers refuse it). A block that leaves the canonical
 *   chain (re-org, reset chain) is corrected with *reversing* transactions (key `rev:<key>`), and
 *   a `revert` row in ledger_blocks.
 * - The ledger follows the chain block by block: `applyBlock` writes a block's transactions and
 *   its cursor row in one SQLite transaction, so a crash (kill -9) leaves either all of a block or
 *   none of it; catching up again skips what is there. Invariants are checked on write and on open.
 */
import type { Db, Migration } from '../shared/db.js'
import { migrate } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import type { EarningsRow, LedgerEntry } from '../shared/contract.js'

export const LEDGER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'double-entry ledger: transactions, entries, followed blocks (append-only)',
    up: `
      CREATE TABLE ledger_tx (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        reason TEXT NOT NULL,
        block_number INTEGER NOT NULL,
        block_hash TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        memo TEXT,
        reverses_tx INTEGER REFERENCES ledger_tx(id)
      ) STRICT;
      CREATE TABLE ledger_entries (
        id INTEGER PRIMARY KEY,
        tx_id INTEGER NOT NULL REFERENCES ledger_tx(id),
        key TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        amount TEXT NOT NULL CHECK (amount GLOB '[0-9]*' OR amount GLOB '-[0-9]*'),
        reason TEXT NOT NULL,
        block_number INTEGER NOT NULL,
        block_hash TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        memo TEXT
      ) STRICT;
      CREATE INDEX ledger_entries_tx ON ledger_entries(tx_id);
      CREATE INDEX ledger_entries_time ON ledger_entries(time_ms);
      CREATE INDEX ledger_entries_account ON ledger_entries(account, time_ms);
      CREATE TABLE ledger_blocks (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('apply', 'revert')),
        number INTEGER NOT NULL,
        hash TEXT NOT NULL,
        parent_hash TEXT NOT NULL,
        genesis_hash TEXT NOT NULL,
        time_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX ledger_blocks_hash ON ledger_blocks(hash);
      CREATE TRIGGER ledger_tx_no_update BEFORE UPDATE ON ledger_tx BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
      CREATE TRIGGER ledger_tx_no_delete BEFORE DELETE ON ledger_tx BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
      CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
      CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
      CREATE TRIGGER ledger_blocks_no_update BEFORE UPDATE ON ledger_blocks BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
      CREATE TRIGGER ledger_blocks_no_delete BEFORE DELETE ON ledger_blocks BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
    `
  }
]

/**
 * Reasons a row can carry. Earnings are the work reasons; 'work-fee' is a fee paid for a provider
 * record (a report, registering: the cost of earning, main/chain/work-fees.ts), 'fee' any other.
 */
export const LEDGER_REASONS = ['encoding', 'setup', 'storage-proof', 'performance-proof', 'refund', 'budget', 'fee', 'work-fee', 'transfer', 'opening', 'faucet', 'unattributed', 'reconcile'] as const
export type LedgerReason = (typeof LEDGER_REASONS)[number]
export const EARNING_REASONS: readonly LedgerReason[] = ['encoding', 'setup', 'storage-proof', 'performance-proof']

export const LEDGER_LIMITS = {
  legsPerTx: 512,
  txsPerBlock: 10_000,
  accountChars: 128,
  memoChars: 512,
  /** Amount digits (u128 has 39). */
  amountDigits: 40,
  revertBlocks: 100_000
} as const

export interface LegInput { account: string, amountPlanck: bigint, reason?: LedgerReason, memo?: string | null }
export interface TxInput {
  /** Idempotency key from the chain: `<block hash>:<event index>`. */
  key: string
  reason: LedgerReason
  memo?: string | null
  legs: LegInput[]
}
export interface BlockRef { number: number, hash: string, parentHash: string, genesisHash: string, timeMs: number }
export interface Cursor { number: number, hash: string, genesisHash: string }

interface EntryRow {
  id: number
  tx_key: string
  key: string
  account: string
  amount: string
  reason: string
  block_number: number
  block_hash: string
  time_ms: number
  memo: string | null
}

function toEntry (r: EntryRow): LedgerEntry {
  return {
    id: r.id,
    txId: r.tx_key,
    key: r.key,
    account: r.account,
    amount: r.amount,
    reason: r.reason,
    blockNumber: r.block_number,
    blockHash: r.block_hash,
    timeMs: r.time_ms,
    memo: r.memo
  }
}

function parseAmount (s: string, where: string): bigint {
  if (!/^-?\d{1,40}$/.test(s)) throw DatdotError.ledgerInvariant(`amount ${JSON.stringify(s)} is not an integer`, { where })
  return BigInt(s)
}

const ENTRY_SELECT = `SELECT e.id, t.key AS tx_key, e.key, e.account, e.amount, e.reason, e.block_number, e.block_hash, e.time_ms, e.memo
  FROM ledger_entries e JOIN ledger_tx t ON t.id = e.tx_id`

export class Ledger {
  readonly db: Db
  private readonly balancesPlanck = new Map<string, bigint>()
  /** The applied (not reverted) blocks, by number, as a stack. Loaded on open. */
  private readonly applied: Array<{ number: number, hash: string, genesisHash: string, applyId: number }> = []
  private readonly appliedCount = new Map<string, number>()

  constructor (db: Db) {
    this.db = db
    migrate(db, 'ledger', LEDGER_MIGRATIONS)
    this.load()
  }

  private load (): void {
    this.balancesPlanck.clear()
    this.applied.length = 0
    this.appliedCount.clear()
    const rows = this.db.prepare('SELECT id, kind, number, hash, genesis_hash FROM ledger_blocks ORDER BY id').all() as Array<{ id: number, kind: string, number: number, hash: string, genesis_hash: string }>
    for (const r of rows) {
      if (r.kind === 'apply') {
        const top = this.applied[this.applied.length - 1]
        if (top !== undefined && top.number >= r.number) throw DatdotError.ledgerInvariant(`block ${r.number} applied on top of ${top.number}`)
        this.applied.push({ number: r.number, hash: r.hash, genesisHash: r.genesis_hash, applyId: r.id })
        this.appliedCount.set(r.hash, (this.appliedCount.get(r.hash) ?? 0) + 1)
      } else {
        const top = this.applied.pop()
        if (top === undefined || top.hash !== r.hash) throw DatdotError.ledgerInvariant(`revert of ${r.hash} does not match the applied head`)
      }
    }
    for (const r of this.db.prepare('SELECT account, amount FROM ledger_entries').iterate() as Iterable<{ account: string, amount: string }>) {
      this.balancesPlanck.set(r.account, (this.balancesPlanck.get(r.account) ?? 0n) + parseAmount(r.amount, r.account))
    }
    this.checkInvariants()
  }

  /** Last applied block, or null for a fresh ledger. */
  cursor (): Cursor | null {
    const top = this.applied[this.applied.length - 1]
    return top === undefined ? null : { number: top.number, hash: top.hash, genesisHash: top.genesisHash }
  }

  /** Hash of the applied block at `number`, if the ledger has it. */
  appliedHashAt (number: number): string | null {
    for (let i = this.applied.length - 1; i >= 0; i--) {
      const b = this.applied[i]
      if (b.number === number) return b.hash
      if (b.number < number) return null
    }
    return null
  }

  /** Applied blocks, newest first (at most `limit`). */
  appliedBlocks (limit: number): Array<{ number: number, hash: string }> {
    return this.applied.slice(-limit).reverse().map((b) => ({ number: b.number, hash: b.hash }))
  }

  balance (account: string): bigint { return this.balancesPlanck.get(account) ?? 0n }

  /** True once any row names `account`. */
  hasAccount (account: string): boolean { return this.balancesPlanck.has(account) }

  balances (): Map<string, bigint> { return new Map(this.balancesPlanck) }

  /** Runs `fn` inside the same SQLite transaction as a block write (used to store chain state with it). */
  transaction<T> (fn: () => T): T { return this.db.transaction(fn)() }

  /**
   * Writes one block: its transactions and its cursor row, atomically. Idempotent: a block that is
   * already the applied block at its height returns []. The block must extend the cursor.
   */
  applyBlock (block: BlockRef, txs: TxInput[], alsoInTransaction?: () => void): LedgerEntry[] {
    const cur = this.cursor()
    if (cur !== null && this.appliedHashAt(block.number) === block.hash) return []
    if (cur !== null) {
      if (block.number <= cur.number) throw DatdotError.ledgerInvariant(`block ${block.number} is not above the cursor ${cur.number}`)
      if (block.genesisHash !== cur.genesisHash) throw DatdotError.ledgerInvariant('block of another chain: revert first')
      if (block.number === cur.number + 1 && block.parentHash !== cur.hash) throw DatdotError.ledgerInvariant(`block ${block.number} does not extend ${cur.hash}`)
    }
    if (txs.length > LEDGER_LIMITS.txsPerBlock) throw DatdotError.ledgerInvariant(`too many transactions in block ${block.number}`)
    const epoch = (this.appliedCount.get(block.hash) ?? 0) + 1
    const suffix = epoch === 1 ? '' : `#${epoch}`
    const prepared = txs.map((tx) => this.prepareTx(tx, suffix))
    const written: EntryRow[] = []
    const delta = new Map<string, bigint>()
    let applyId = 0
    this.db.transaction(() => {
      for (const tx of prepared) written.push(...this.insertTx(tx, block, null, delta))
      applyId = Number(this.db.prepare('INSERT INTO ledger_blocks (kind, number, hash, parent_hash, genesis_hash, time_ms) VALUES (?, ?, ?, ?, ?, ?)')
        .run('apply', block.number, block.hash, block.parentHash, block.genesisHash, block.timeMs).lastInsertRowid)
      if (alsoInTransaction !== undefined) alsoInTransaction()
    })()
    for (const [a, d] of delta) this.balancesPlanck.set(a, (this.balancesPlanck.get(a) ?? 0n) + d)
    this.applied.push({ number: block.number, hash: block.hash, genesisHash: block.genesisHash, applyId })
    this.appliedCount.set(block.hash, epoch)
    return written.map(toEntry)
  }

  private prepareTx (tx: TxInput, suffix: string): TxInput {
    if (tx.legs.length < 2 || tx.legs.length > LEDGER_LIMITS.legsPerTx) throw DatdotError.ledgerInvariant(`transaction ${tx.key} has ${tx.legs.length} legs`)
    let sum = 0n
    for (const leg of tx.legs) {
      if (typeof leg.amountPlanck !== 'bigint') throw DatdotError.ledgerInvariant(`amount of ${tx.key} is not a bigint`)
      if (leg.amountPlanck.toString().replace('-', '').length > LEDGER_LIMITS.amountDigits) throw DatdotError.ledgerInvariant(`amount of ${tx.key} too large`)
      if (leg.account.length === 0 || leg.account.length > LEDGER_LIMITS.accountChars) throw DatdotError.ledgerInvariant(`bad account in ${tx.key}`)
      sum += leg.amountPlanck
    }
    if (sum !== 0n) throw DatdotError.ledgerInvariant(`transaction ${tx.key} sums to ${sum}, not zero`, { key: tx.key })
    return { ...tx, key: tx.key + suffix }
  }

  private insertTx (tx: TxInput, block: BlockRef, reversesTx: number | null, delta: Map<string, bigint>): EntryRow[] {
    const memo = tx.memo === undefined || tx.memo === null ? null : tx.memo.slice(0, LEDGER_LIMITS.memoChars)
    const txId = Number(this.db.prepare('INSERT INTO ledger_tx (key, reason, block_number, block_hash, time_ms, memo, reverses_tx) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(tx.key, tx.reason, block.number, block.hash, block.timeMs, memo, reversesTx).lastInsertRowid)
    const ins = this.db.prepare('INSERT INTO ledger_entries (tx_id, key, account, amount, reason, block_number, block_hash, time_ms, memo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    const rows: EntryRow[] = []
    tx.legs.forEach((leg, i) => {
      const key = `${tx.key}:${i}`
      const legMemo = leg.memo === undefined || leg.memo === null ? memo : leg.memo.slice(0, LEDGER_LIMITS.memoChars)
      const reason = leg.reason ?? tx.reason
      const id = Number(ins.run(txId, key, leg.account, leg.amountPlanck.toString(), reason, block.number, block.hash, block.timeMs, legMemo).lastInsertRowid)
      delta.set(leg.account, (delta.get(leg.account) ?? 0n) + leg.amountPlanck)
      rows.push({ id, tx_key: tx.key, key, account: leg.account, amount: leg.amountPlanck.toString(), reason, block_number: block.number, block_hash: block.hash, time_ms: block.timeMs, memo: legMemo })
    })
    return rows
  }

  /**
   * Reverses every applied block above `number` (newest first) with reversing transactions; used
   * when the chain re-organised or was reset (`number` = -1 reverses everything).
   */
  revertAbove (number: number, timeMs: number): LedgerEntry[] {
    const written: EntryRow[] = []
    const delta = new Map<string, bigint>()
    const toRevert = this.applied.filter((b) => b.number > number).reverse()
    if (toRevert.length > LEDGER_LIMITS.revertBlocks) throw DatdotError.ledgerInvariant(`refusing to revert ${toRevert.length} blocks`)
    if (toRevert.length === 0) return []
    this.db.transaction(() => {
      for (const b of toRevert) {
        const txs = this.db.prepare('SELECT id, key, reason, memo, time_ms FROM ledger_tx WHERE block_hash = ? AND reverses_tx IS NULL AND id NOT IN (SELECT reverses_tx FROM ledger_tx WHERE reverses_tx IS NOT NULL) ORDER BY id DESC')
          .all(b.hash) as Array<{ id: number, key: string, reason: string, memo: string | null, time_ms: number }>
        for (const t of txs) {
          // A reversal carries the time of what it reverses, so per-day sums cancel out.
          const ref: BlockRef = { number: b.number, hash: b.hash, parentHash: '', genesisHash: b.genesisHash, timeMs: t.time_ms }
          const legs = (this.db.prepare('SELECT account, amount, reason, memo FROM ledger_entries WHERE tx_id = ? ORDER BY id').all(t.id) as Array<{ account: string, amount: string, reason: string, memo: string | null }>)
            .map((l) => ({ account: l.account, amountPlanck: -parseAmount(l.amount, t.key), reason: l.reason as LedgerReason, memo: l.memo }))
          written.push(...this.insertTx({ key: `rev:${t.key}`, reason: t.reason as LedgerReason, memo: `reverses ${t.key}`, legs }, ref, t.id, delta))
        }
        this.db.prepare('INSERT INTO ledger_blocks (kind, number, hash, parent_hash, genesis_hash, time_ms) VALUES (?, ?, ?, ?, ?, ?)')
          .run('revert', b.number, b.hash, '', b.genesisHash, timeMs)
      }
    })()
    for (const [a, d] of delta) this.balancesPlanck.set(a, (this.balancesPlanck.get(a) ?? 0n) + d)
    this.applied.splice(this.applied.length - toRevert.length, toRevert.length)
    return written.map(toEntry)
  }

  /**
   * Checks, over the whole table: every transaction sums to zero and has >= 2 legs, entry keys
   * extend their transaction's key, amounts are integers, in-memory balances equal the rows.
   * UNIQUE constraints make duplicate keys impossible; this also re-checks them.
   */
  checkInvariants (): void {
    const sums = new Map<number, { sum: bigint, legs: number, key: string }>()
    const balances = new Map<string, bigint>()
    const rows = this.db.prepare('SELECT e.tx_id, e.key, e.account, e.amount, t.key AS tx_key FROM ledger_entries e JOIN ledger_tx t ON t.id = e.tx_id').iterate() as Iterable<{ tx_id: number, key: string, account: string, amount: string, tx_key: string }>
    for (const r of rows) {
      const a = parseAmount(r.amount, r.key)
      if (!r.key.startsWith(r.tx_key + ':')) throw DatdotError.ledgerInvariant(`entry key ${r.key} does not extend ${r.tx_key}`)
      const s = sums.get(r.tx_id) ?? { sum: 0n, legs: 0, key: r.tx_key }
      s.sum += a
      s.legs++
      sums.set(r.tx_id, s)
      balances.set(r.account, (balances.get(r.account) ?? 0n) + a)
    }
    for (const [, s] of sums) {
      if (s.sum !== 0n) throw DatdotError.ledgerInvariant(`transaction ${s.key} sums to ${s.sum}`, { key: s.key })
      if (s.legs < 2) throw DatdotError.ledgerInvariant(`transaction ${s.key} has ${s.legs} leg(s)`)
    }
    const txCount = (this.db.prepare('SELECT COUNT(*) AS n FROM ledger_tx').get() as { n: number }).n
    if (txCount !== sums.size) throw DatdotError.ledgerInvariant(`${txCount - sums.size} transaction(s) without entries`)
    const dup = this.db.prepare('SELECT key, COUNT(*) AS n FROM ledger_entries GROUP BY key HAVING n > 1 LIMIT 1').get() as { key: string } | undefined
    if (dup !== undefined) throw DatdotError.ledgerInvariant(`duplicate key ${dup.key}`)
    const all = new Set([...balances.keys(), ...this.balancesPlanck.keys()])
    for (const a of all) {
      if ((balances.get(a) ?? 0n) !== (this.balancesPlanck.get(a) ?? 0n)) throw DatdotError.ledgerInvariant(`balance of ${a} in memory differs from the rows`)
    }
  }

  // ---------------------------------------------------------------- queries

  entries (q: { limit: number, beforeId?: number, fromMs?: number, toMs?: number, account?: string }): { entries: LedgerEntry[], nextBeforeId: number | null } {
    const limit = Math.max(1, Math.min(q.limit, 1000))
    const where: string[] = []
    const args: Array<string | number> = []
    if (q.beforeId !== undefined) { where.push('e.id < ?'); args.push(q.beforeId) }
    if (q.fromMs !== undefined) { where.push('e.time_ms >= ?'); args.push(q.fromMs) }
    if (q.toMs !== undefined) { where.push('e.time_ms < ?'); args.push(q.toMs) }
    if (q.account !== undefined) { where.push('e.account = ?'); args.push(q.account) }
    const sql = `${ENTRY_SELECT} ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY e.id DESC LIMIT ?`
    const rows = this.db.prepare(sql).all(...args, limit + 1) as EntryRow[]
    const more = rows.length > limit
    const page = rows.slice(0, limit)
    return { entries: page.map(toEntry), nextBeforeId: more ? page[page.length - 1].id : null }
  }

  /** Every entry, oldest first (for tests and `datdot ledger`). */
  allEntries (limit = 100_000): LedgerEntry[] {
    return (this.db.prepare(`${ENTRY_SELECT} ORDER BY e.id LIMIT ?`).all(limit) as EntryRow[]).map(toEntry)
  }

  /** Earnings of `account` per UTC day and reason in [fromMs, toMs): work reasons, reversals included. */
  earnings (q: { fromMs: number, toMs: number, account: string }): EarningsRow[] {
    const placeholders = EARNING_REASONS.map(() => '?').join(', ')
    const rows = this.db.prepare(`SELECT amount, reason, time_ms FROM ledger_entries WHERE account = ? AND time_ms >= ? AND time_ms < ? AND reason IN (${placeholders})`)
      .iterate(q.account, q.fromMs, q.toMs, ...EARNING_REASONS) as Iterable<{ amount: string, reason: string, time_ms: number }>
    const sums = new Map<string, bigint>()
    for (const r of rows) {
      const day = new Date(r.time_ms).toISOString().slice(0, 10)
      const k = `${day}\u0000${r.reason}`
      sums.set(k, (sums.get(k) ?? 0n) + parseAmount(r.amount, r.reason))
    }
    return [...sums.entries()]
      .filter(([, v]) => v !== 0n)
      .map(([k, v]) => { const [day, reason] = k.split('\u0000'); return { day, reason, amount: v.toString() } })
      .sort((a, b) => (a.day === b.day ? (a.reason < b.reason ? -1 : 1) : a.day < b.day ? -1 : 1))
  }

  counts (): { txs: number, entries: number, blocks: number } {
    const n = (sql: string): number => (this.db.prepare(sql).get() as { n: number }).n
    return { txs: n('SELECT COUNT(*) AS n FROM ledger_tx'), entries: n('SELECT COUNT(*) AS n FROM ledger_entries'), blocks: this.applied.length }
  }
}
