import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { Ledger, type BlockRef, type TxInput } from '../../main/ledger/ledger.js'

const ME = 'me'
const ESCROW = 'escrow'
const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 1)

function block (n: number, genesis = 'g1', salt = ''): BlockRef {
  return { number: n, hash: `h${n}${salt}`, parentHash: n === 1 ? 'h0' : `h${n - 1}${salt}`, genesisHash: genesis, timeMs: T0 + n * (DAY / 4) }
}

function pay (b: BlockRef, i: number, amount: bigint, reason: TxInput['reason'] = 'storage-proof'): TxInput {
  return { key: `${b.hash}:${i}`, reason, legs: [{ account: ESCROW, amountPlanck: -amount }, { account: ME, amountPlanck: amount }] }
}

describe('ledger', () => {
  let dir: string
  let db: Db
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'datdot-ledger-'))
    db = openDatabase(join(dir, 'db.sqlite'))
  })
  afterEach(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('writes balanced transactions and keeps balances, surviving a reopen', () => {
    const ledger = new Ledger(db)
    const b1 = block(1)
    const rows = ledger.applyBlock(b1, [pay(b1, 3, 100n), pay(b1, 4, 5n, 'encoding')])
    expect(rows).toHaveLength(4)
    expect(rows[1]).toMatchObject({ account: ME, amount: '100', reason: 'storage-proof', key: 'h1:3:1', txId: 'h1:3', blockNumber: 1 })
    expect(ledger.balance(ME)).toBe(105n)
    expect(ledger.balance(ESCROW)).toBe(-105n)
    const again = new Ledger(db)
    expect(again.balance(ME)).toBe(105n)
    expect(again.cursor()).toEqual({ number: 1, hash: 'h1', genesisHash: 'g1' })
  })

  it('refuses unbalanced transactions, single legs and blocks that do not extend the cursor', () => {
    const ledger = new Ledger(db)
    const b1 = block(1)
    expect(() => ledger.applyBlock(b1, [{ key: 'x', reason: 'fee', legs: [{ account: ME, amountPlanck: 1n }, { account: ESCROW, amountPlanck: 0n }] }])).toThrow(/sums to 1/)
    expect(() => ledger.applyBlock(b1, [{ key: 'x', reason: 'fee', legs: [{ account: ME, amountPlanck: 0n }] }])).toThrow(/1 legs/)
    expect(ledger.cursor()).toBeNull()
    ledger.applyBlock(b1, [])
    expect(() => ledger.applyBlock(block(2, 'g1', 'x'), [])).toThrow(/does not extend/)
    expect(() => ledger.applyBlock(block(2, 'g2'), [])).toThrow(/another chain/)
  })

  it('applies a block once even when asked twice (idempotent catch-up)', () => {
    const ledger = new Ledger(db)
    const b1 = block(1)
    ledger.applyBlock(b1, [pay(b1, 1, 7n)])
    expect(ledger.applyBlock(b1, [pay(b1, 1, 7n)])).toEqual([])
    expect(ledger.balance(ME)).toBe(7n)
    expect(ledger.counts().entries).toBe(2)
  })

  it('rolls a failed block write back completely', () => {
    const ledger = new Ledger(db)
    const b1 = block(1)
    expect(() => ledger.applyBlock(b1, [pay(b1, 1, 7n)], () => { throw new Error('crash inside the transaction') })).toThrow(/crash/)
    expect(ledger.counts()).toEqual({ txs: 0, entries: 0, blocks: 0 })
    expect(ledger.balance(ME)).toBe(0n)
    ledger.applyBlock(b1, [pay(b1, 1, 7n)])
    expect(ledger.balance(ME)).toBe(7n)
  })

  it('never updates or deletes a row (SQL triggers refuse it)', () => {
    const ledger = new Ledger(db)
    const b1 = block(1)
    ledger.applyBlock(b1, [pay(b1, 1, 7n)])
    expect(() => db.prepare("UPDATE ledger_entries SET amount = '8'").run()).toThrow(/append-only/)
    expect(() => db.prepare('DELETE FROM ledger_entries').run()).toThrow(/append-only/)
    expect(() => db.prepare('DELETE FROM ledger_tx').run()).toThrow(/append-only/)
    expect(() => db.prepare('DELETE FROM ledger_blocks').run()).toThrow(/append-only/)
    expect(() => db.prepare("INSERT INTO ledger_entries (tx_id, key, account, amount, reason, block_number, block_hash, time_ms) VALUES (1, 'h1:1:0', 'a', '1', 'fee', 1, 'h1', 0)").run()).toThrow(/UNIQUE/)
  })

  it('corrects a re-org with reversing entries and re-applies the new branch', () => {
    const ledger = new Ledger(db)
    const blocks = [1, 2, 3].map((n) => block(n))
    for (const b of blocks) ledger.applyBlock(b, [pay(b, 1, BigInt(b.number * 10))])
    expect(ledger.balance(ME)).toBe(60n)
    const reversed = ledger.revertAbove(1, T0)
    expect(reversed.map((r) => r.key)).toEqual(['rev:h3:1:0', 'rev:h3:1:1', 'rev:h2:1:0', 'rev:h2:1:1'])
    expect(ledger.balance(ME)).toBe(10n)
    expect(ledger.cursor()?.hash).toBe('h1')
    const b2 = { ...block(2, 'g1', 'b'), parentHash: 'h1' }
    ledger.applyBlock(b2, [pay(b2, 1, 1n)])
    expect(ledger.balance(ME)).toBe(11n)
    // the old branch comes back: its block gets new keys, nothing collides
    ledger.revertAbove(1, T0)
    ledger.applyBlock(blocks[1], [pay(blocks[1], 1, 20n)])
    expect(ledger.balance(ME)).toBe(30n)
    const reopened = new Ledger(db)
    reopened.checkInvariants()
    expect(reopened.balance(ME)).toBe(30n)
    expect(reopened.cursor()?.hash).toBe('h2')
    // a reset chain: everything reversed
    reopened.revertAbove(-1, T0)
    expect(reopened.balance(ME)).toBe(0n)
    expect(reopened.cursor()).toBeNull()
    reopened.applyBlock(block(1, 'g2'), [])
    expect(reopened.cursor()?.genesisHash).toBe('g2')
  })

  it('detects rows that do not sum to zero when it opens', () => {
    const ledger = new Ledger(db)
    const b1 = block(1)
    ledger.applyBlock(b1, [pay(b1, 1, 7n)])
    db.prepare("INSERT INTO ledger_entries (tx_id, key, account, amount, reason, block_number, block_hash, time_ms) VALUES (1, 'h1:1:2', 'x', '1', 'fee', 1, 'h1', 0)").run()
    expect(() => new Ledger(db)).toThrow(/sums to 1/)
  })

  it('pages entries newest first and sums earnings per day and reason, reversals included', () => {
    const ledger = new Ledger(db)
    for (let n = 1; n <= 12; n++) {
      const b = block(n)
      ledger.applyBlock(b, [pay(b, 1, 100n), pay(b, 2, 5n, 'encoding'), { key: `${b.hash}:9`, reason: 'fee', legs: [{ account: ME, amountPlanck: -1n }, { account: '@fees', amountPlanck: 1n }] }])
    }
    const p1 = ledger.entries({ limit: 10 })
    expect(p1.entries).toHaveLength(10)
    expect(p1.entries[0].id).toBeGreaterThan(p1.entries[9].id)
    const p2 = ledger.entries({ limit: 1000, beforeId: p1.nextBeforeId as number })
    expect(p2.entries).toHaveLength(72 - 10)
    expect(p2.nextBeforeId).toBeNull()
    const range = ledger.entries({ limit: 1000, fromMs: T0 + DAY, toMs: T0 + 2 * DAY })
    expect(range.entries.every((e) => e.timeMs >= T0 + DAY && e.timeMs < T0 + 2 * DAY)).toBe(true)
    expect(range.entries).toHaveLength(24)
    const earn = ledger.earnings({ fromMs: T0, toMs: T0 + 10 * DAY, account: ME })
    expect(earn).toEqual([
      { day: '2026-01-01', reason: 'encoding', amount: '15' },
      { day: '2026-01-01', reason: 'storage-proof', amount: '300' },
      { day: '2026-01-02', reason: 'encoding', amount: '20' },
      { day: '2026-01-02', reason: 'storage-proof', amount: '400' },
      { day: '2026-01-03', reason: 'encoding', amount: '20' },
      { day: '2026-01-03', reason: 'storage-proof', amount: '400' },
      { day: '2026-01-04', reason: 'encoding', amount: '5' },
      { day: '2026-01-04', reason: 'storage-proof', amount: '100' }
    ])
    ledger.revertAbove(11, T0 + 3 * DAY)
    const after = ledger.earnings({ fromMs: T0, toMs: T0 + 10 * DAY, account: ME })
    expect(after.find((r) => r.day === '2026-01-04' && r.reason === 'storage-proof')).toBeUndefined()
  })

  it('stores amounts beyond 2^63 exactly', () => {
    const ledger = new Ledger(db)
    const b1 = block(1)
    const big = 2n ** 100n + 12345n
    ledger.applyBlock(b1, [pay(b1, 1, big)])
    expect(new Ledger(db).balance(ME)).toBe(big)
  })
})
