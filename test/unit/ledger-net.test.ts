/**
 * Honest money: the fees a seeder pays for its provider records are booked as the cost of its
 * earnings ('work-fee'), earnings are shown net of them (negative when the fees were higher), and
 * the ledger is listed per transaction as this node sees it (account, counterparties, plan, net)
 * with the double-entry legs behind it. Ledger times are wall-clock (block-clock.ts).
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { migrate } from '../../main/shared/db.js'
import { Ledger } from '../../main/ledger/ledger.js'
import { earningsSummary, ledgerTransactions } from '../../main/ledger/ledger-views.js'
import { LedgerSync, CHAIN_MIGRATIONS, type SyncCounters } from '../../main/chain/ledger-sync.js'
import type { BalanceEvent, ReadBlock } from '../../main/chain/follower.js'
import type { ChainReader } from '../../main/chain/connection.js'
import { encodeRecord } from '../../main/chain/records.js'
import { feeLegs } from '../../main/chain/work-fees.js'

const ME = '0x' + '11'.repeat(32)
const PAYER = '0x' + '22'.repeat(32)
const T0 = Date.UTC(2026, 5, 1, 12)

const storageReport = encodeRecord({ kind: 'storage-report', challengeId: 7, ok: true, reason: 'NONE' })
const unpublish = encodeRecord({ kind: 'unpublish', planId: 3 })

interface FakeBlock { remarks: Uint8Array[], events: Array<Omit<BalanceEvent, 'eventIndex'>>, chainMs: number }

/** A chain of scripted blocks: each block's balance events and the remarks of extrinsic 0; balances follow the events. */
class FakeChain implements ChainReader {
  blocks: ReadBlock[] = []
  private readonly balances: Array<Map<string, bigint>> = []

  add (b: FakeBlock): void {
    const number = this.blocks.length + 1
    const bal = new Map(this.balances[this.balances.length - 1] ?? [])
    for (const e of b.events) {
      if (e.kind === 'withdraw' && e.who !== null) bal.set(e.who, (bal.get(e.who) ?? 0n) - e.amountPlanck)
      if (e.kind === 'deposit' && e.who !== null) bal.set(e.who, (bal.get(e.who) ?? 0n) + e.amountPlanck)
      if (e.kind === 'transfer' && e.from !== null && e.to !== null) {
        bal.set(e.from, (bal.get(e.from) ?? 0n) - e.amountPlanck)
        bal.set(e.to, (bal.get(e.to) ?? 0n) + e.amountPlanck)
      }
    }
    this.balances.push(bal)
    this.blocks.push({
      input: { number, hash: `0xh${number}`, parentHash: `0xh${number - 1}`, timeMs: b.chainMs, actions: [{ index: 0, signer: ME, remarks: b.remarks, transfers: [] }] },
      events: b.events.map((e, i) => ({ ...e, eventIndex: i })),
      transfersByExtrinsic: new Map()
    })
  }

  async head (): Promise<number> { return this.blocks.length }
  async hashAt (n: number): Promise<string | null> { return this.blocks[n - 1]?.input.hash ?? null }
  async read (n: number): Promise<ReadBlock> { return this.blocks[n - 1] }
  async balanceOf (address: string, hash?: string): Promise<bigint> {
    const i = hash === undefined ? this.blocks.length - 1 : this.blocks.findIndex((b) => b.input.hash === hash)
    return i < 0 ? 0n : this.balances[i].get(address) ?? 0n
  }
}

const fee = (kind: 'withdraw' | 'deposit', amount: bigint): Omit<BalanceEvent, 'eventIndex'> =>
  ({ extrinsic: 0, kind, method: kind === 'withdraw' ? 'Withdraw' : 'Deposit', from: null, to: null, who: ME, amountPlanck: amount })
const payment = (amount: bigint): Omit<BalanceEvent, 'eventIndex'> =>
  ({ extrinsic: 0, kind: 'transfer', method: 'Transfer', from: PAYER, to: ME, who: null, amountPlanck: amount })

describe('earnings net of the fees paid to earn them', () => {
  let dir: string
  let db: Db
  let ledger: Ledger
  let chain: FakeChain
  let clock: number
  let sync: LedgerSync

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'datdot-net-'))
    db = openDatabase(join(dir, 'db.sqlite'))
    migrate(db, 'chain', CHAIN_MIGRATIONS)
    ledger = new Ledger(db)
    chain = new FakeChain()
    clock = T0
    const counters: SyncCounters = { blocksFollowed: 0, ledgerRows: 0, reconciles: 0, reorgs: 0, resets: 0, snapshotsWritten: 0 }
    sync = new LedgerSync({
      db, ledger, now: () => clock, chainId: 'g', chain, formatAddress: (hex) => hex, tracked: () => [ME], faucetHex: '0x' + '33'.repeat(32),
      counters, onEntries: () => {}, onBlock: () => {}, onHead: () => {}, stopped: () => false
    })
  })

  afterEach(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('books the fee of a report as a work fee, a sponsor fee as a plain fee, and says the net is negative when fees exceed the rewards', async () => {
    chain.add({ remarks: [], events: [payment(10_000_000n)], chainMs: T0 })
    chain.add({ remarks: [storageReport], events: [fee('withdraw', 6_300_000n), fee('deposit', 300_000n)], chainMs: T0 + 12_000 })
    chain.add({ remarks: [unpublish], events: [fee('withdraw', 5_000_000n)], chainMs: T0 + 24_000 })
    await sync.catchUp()

    const rows = ledger.allEntries().filter((e) => e.account === ME)
    expect(rows.map((e) => [e.reason, e.amount])).toEqual([['transfer', '10000000'], ['work-fee', '-6300000'], ['work-fee', '300000'], ['fee', '-5000000']])
    expect(ledgerTransactions(db, { account: ME, limit: 10 }).txs.map((t) => t.memo)).toEqual(['fee: unpublish', 'fee refund: storage-report', 'fee: storage-report', null])

    // a payout for the proof: 40 000 planck against 6 000 000 of fees
    const cur = ledger.cursor()!
    ledger.applyBlock({ number: cur.number + 1, hash: 'p', parentHash: cur.hash, genesisHash: 'g', timeMs: T0 + 30_000 }, [
      { key: 'p:0', reason: 'storage-proof', memo: 'item 9 plan 3', legs: [{ account: PAYER, amountPlanck: -40_000n }, { account: ME, amountPlanck: 40_000n }] }
    ])
    const s = earningsSummary(db, { account: ME })
    expect(s).toMatchObject({ grossPlanck: 40_000n, feesPlanck: 6_000_000n, netPlanck: -5_960_000n, feeCount: 2 })
    expect(s.byReason).toEqual([{ reason: 'storage-proof', amountPlanck: 40_000n }])
    expect(earningsSummary(db, { account: ME, fromMs: T0 + 29_000, toMs: T0 + 31_000 })).toMatchObject({ grossPlanck: 40_000n, feesPlanck: 0n, netPlanck: 40_000n })
  })

  it('splits the fee of a batch mixing provider and sponsor records by record count', () => {
    expect(feeLegs(ME, -900n, { work: 2, total: 3 }, '@fees')).toEqual([
      { account: ME, amountPlanck: -600n, reason: 'work-fee' },
      { account: ME, amountPlanck: -300n, reason: 'fee' },
      { account: '@fees', amountPlanck: 900n, reason: 'fee' }
    ])
    expect(feeLegs(ME, -900n, { work: 0, total: 0 }, '@fees').map((l) => l.reason)).toEqual(['fee', 'fee'])
    expect(feeLegs(ME, 0n, { work: 1, total: 1 }, '@fees')).toHaveLength(2)
  })

  it('lists transactions as this node sees them: account, counterparty, plan and net, the legs behind', () => {
    ledger.applyBlock({ number: 1, hash: 'a', parentHash: '0', genesisHash: 'g', timeMs: T0 }, [
      { key: 'a:0', reason: 'storage-proof', memo: 'item 1 plan 4; item 2 plan 5', legs: [
        { account: PAYER, amountPlanck: -30n, memo: 'item 1 plan 4' }, { account: ME, amountPlanck: 30n, memo: 'item 1 plan 4' },
        { account: PAYER, amountPlanck: -12n, memo: 'item 2 plan 5' }, { account: ME, amountPlanck: 12n, memo: 'item 2 plan 5' }
      ] },
      { key: 'a:1', reason: 'transfer', legs: [{ account: PAYER, amountPlanck: -1n }, { account: '0xother', amountPlanck: 1n }] }
    ])
    const page = ledgerTransactions(db, { account: ME, limit: 10 })
    expect(page.txs).toHaveLength(1)
    expect(page.txs[0]).toMatchObject({ account: ME, counterparties: [PAYER], planIds: [4, 5], netPlanck: 42n, reversal: false, reason: 'storage-proof' })
    expect(page.txs[0].legs).toHaveLength(4)
    expect(() => ledgerTransactions(db, { account: ME, limit: 0 })).toThrow(/limit/)
  })
})

describe('ledger times are wall-clock', () => {
  it('gives the local chain\'s blocks, whose clock runs 12 s a block ahead, the time this node saw them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'datdot-net-'))
    const db = openDatabase(join(dir, 'db.sqlite'))
    try {
      migrate(db, 'chain', CHAIN_MIGRATIONS)
      const ledger = new Ledger(db)
      const chain = new FakeChain()
      let clock = T0
      const sync = new LedgerSync({
        db, ledger, now: () => clock, chainId: 'g', chain, formatAddress: (hex) => hex, tracked: () => [ME], faucetHex: '0x' + '33'.repeat(32),
        counters: { blocksFollowed: 0, ledgerRows: 0, reconciles: 0, reorgs: 0, resets: 0, snapshotsWritten: 0 }, onEntries: () => {}, onBlock: () => {}, onHead: () => {}, stopped: () => false
      })
      // 600 blocks, one every 6 s of wall-clock: the chain's clock says 12 s each
      for (let n = 0; n < 600; n++) {
        chain.add({ remarks: [storageReport], events: [fee('withdraw', 5n)], chainMs: T0 + n * 12_000 })
        clock = T0 + n * 6_000
        await sync.catchUp()
      }
      const last = ledger.allEntries().at(-1)!
      expect(last.timeMs).toBe(T0 + 599 * 6_000)
      expect(T0 + 599 * 12_000 - last.timeMs).toBeGreaterThan(3_500_000)
    } finally {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
