/**
 * Ledger sync: follows the chain into the marketplace state and the SQLite earnings ledger. For
 * each block it applies the marketplace actions (marketplace.ts), turns the balance events that
 * touch tracked accounts into double-entry ledger transactions, reconciles the ledger balances
 * against the chain's, and writes ledger rows, cursor and the block's marketplace input (a snapshot
 * of the whole state only every `snapshotEveryBlocks`, market-store.ts) in one SQLite transaction
 * (crash-safe). A re-org or a reset chain is corrected with reversing entries and the state
 * restored from a snapshot and the inputs after it. `waitFollowed` resolves once a given block has
 * been applied.
 *
 * It reads the chain through a `ChainReader` and reports through callbacks: no api, no events.
 */
import type { Db } from '../shared/db.js'
import type { LedgerEntry } from '../shared/contract.js'
import type { Ledger, TxInput, LedgerReason } from '../ledger/ledger.js'
import { applyBlock, initialState, type MarketState, type BlockOutcome } from './marketplace.js'
import type { ReadBlock, BalanceEvent } from './follower.js'
import type { ChainReader } from './connection.js'
import { blockWallClock } from './block-clock.js'
import { feeLegs, workOf } from './work-fees.js'
import { MarketStore } from './market-store.js'

export { CHAIN_MIGRATIONS } from './market-store.js'

export const SYNC_LIMITS = {
  /**
   * A snapshot of the whole marketplace state at the blocks whose number is a multiple of this (and
   * at the first block followed); the other blocks store only their input. A restart or a re-org
   * applies at most this many stored inputs again (docs/chain.md "Following the chain").
   */
  snapshotEveryBlocks: 100,
  /** Applied blocks searched for the common ancestor of a re-org; snapshots and inputs are kept that deep (plus `snapshotEveryBlocks`). */
  reorgDepth: 1000,
  /** Block outcomes kept for the submitter to find its records in. */
  outcomesKept: 256
} as const

export interface SyncCounters {
  blocksFollowed: number
  ledgerRows: number
  reconciles: number
  reorgs: number
  resets: number
  /** Snapshots of the whole marketplace state written (one every `snapshotEveryBlocks` blocks). */
  snapshotsWritten: number
}

export interface LedgerSyncDeps {
  db: Db
  ledger: Ledger
  now: () => number
  /** The chain being followed (`ChainConnection.chainId`); a cursor of another chain is reverted. */
  chainId: string
  chain: ChainReader
  /** The first block to follow when nothing is followed yet: 1 (default), or the network record's block (network-ref.ts). */
  startBlock?: number
  /** ss58 address (the ledger's account name) of a 0x account id. */
  formatAddress: (hex: string) => string
  /** The 0x accounts whose balances the ledger mirrors, given the current state. */
  tracked: (state: MarketState) => string[]
  /** The local chain's faucet (0x): a transfer from it is booked as 'faucet'. */
  faucetHex: string
  counters: SyncCounters
  onEntries: (entries: LedgerEntry[]) => void
  onBlock: (outcome: BlockOutcome) => void
  /** The chain head as read at the start of each catch-up. */
  onHead: (head: number) => void
  /** True once the owner closes: following stops between blocks. */
  stopped: () => boolean
  /** SYNC_LIMITS' snapshot interval and re-org depth, smaller in tests. */
  limits?: { snapshotEveryBlocks: number, reorgDepth: number }
}

interface Waiter { number: number, hash: string | undefined, resolve: () => void, reject: (e: unknown) => void }
type Transfer = BalanceEvent & { from: string, to: string }

export class LedgerSync {
  state: MarketState = initialState()
  private waiters: Waiter[] = []
  private readonly outcomes = new Map<string, BlockOutcome>()
  /** Wall-clock time given to the last applied block (block-clock.ts), null before the first. */
  private lastTimeMs: number | null

  private readonly store: MarketStore
  private readonly reorgDepth: number
  /** True while `state` is not the cursor's (a restore failed): following restores it first, or says why it cannot. */
  private stale = false

  constructor (private readonly deps: LedgerSyncDeps) {
    const limits = deps.limits ?? SYNC_LIMITS
    this.reorgDepth = limits.reorgDepth
    this.store = new MarketStore({ db: deps.db, chainId: deps.chainId, every: limits.snapshotEveryBlocks, keepBlocks: limits.reorgDepth + limits.snapshotEveryBlocks })
    this.restoreState()
    const last = deps.db.prepare("SELECT time_ms FROM ledger_blocks WHERE kind = 'apply' ORDER BY id DESC LIMIT 1").get() as { time_ms: number } | undefined
    this.lastTimeMs = last?.time_ms ?? null
  }

  /** Applies every block from the cursor to the chain head. */
  async catchUp (): Promise<void> {
    const { ledger, chain } = this.deps
    const head = await chain.head()
    this.deps.onHead(head)
    if (this.stale) this.restoreState()
    await this.detectReorg()
    for (;;) {
      if (this.deps.stopped()) return
      const cur = ledger.cursor()
      const next = cur === null ? (this.deps.startBlock ?? 1) : cur.number + 1
      if (next > head) break
      const block = await chain.read(next)
      if (cur !== null && block.input.parentHash !== cur.hash) {
        await this.detectReorg()
        continue
      }
      await this.applyRead(block)
    }
    this.settleWaiters()
  }

  /** True when block `number` (and it is `hash`, when given) has been applied. */
  followed (number: number, hash?: string): boolean {
    const cur = this.deps.ledger.cursor()
    return cur !== null && cur.number >= number && (hash === undefined || this.deps.ledger.appliedHashAt(number) === hash)
  }

  /** Resolves when block `number` (and it is `hash`, when given) has been applied. */
  waitFollowed (number: number, hash?: string): Promise<void> {
    if (this.followed(number, hash)) return Promise.resolve()
    return new Promise<void>((resolve, reject) => { this.waiters.push({ number, hash, resolve, reject }) })
  }

  rejectWaiters (err: unknown): void {
    for (const w of this.waiters.splice(0)) w.reject(err)
  }

  /** The marketplace outcome of a recently applied block. */
  outcome (hash: string): BlockOutcome | undefined { return this.outcomes.get(hash) }

  private settleWaiters (): void {
    this.waiters = this.waiters.filter((w) => {
      if (!this.followed(w.number, w.hash)) return true
      w.resolve()
      return false
    })
  }

  /** The marketplace state at the ledger cursor (market-store.ts); CORRUPT when it cannot be restored, and `stale` until it can. */
  private restoreState (): void {
    const { ledger } = this.deps
    this.stale = true
    this.state = this.store.restore(ledger.cursor(), (n) => ledger.appliedHashAt(n))
    this.stale = false
  }

  /** Finds where the ledger and the chain diverge and reverts to the common ancestor. */
  private async detectReorg (): Promise<void> {
    const { ledger, chain, counters } = this.deps
    const cur = ledger.cursor()
    if (cur === null) return
    if (cur.genesisHash !== this.deps.chainId) {
      // Another chain (a reset local chain): reverse everything, start again from the start block.
      counters.resets++
      this.deps.onEntries(ledger.revertAbove(-1, this.deps.now()))
      this.state = initialState()
      return
    }
    if ((await chain.hashAt(cur.number)) === cur.hash) return
    let ancestor = -1
    for (const b of ledger.appliedBlocks(this.reorgDepth)) {
      if ((await chain.hashAt(b.number)) === b.hash) { ancestor = b.number; break }
    }
    counters.reorgs++
    this.deps.onEntries(ledger.revertAbove(ancestor, this.deps.now()))
    this.restoreState()
  }

  /** Applies one block: marketplace, ledger transactions, reconciliation, commit, events. */
  private async applyRead (block: ReadBlock): Promise<void> {
    const seenMs = this.deps.now()
    const timeMs = blockWallClock({ chainMs: block.input.timeMs, seenMs, prevMs: this.lastTimeMs })
    let outcome: BlockOutcome
    let entries: LedgerEntry[]
    try {
      outcome = applyBlock(this.state, block.input)
      const tracked = new Set(this.deps.tracked(this.state))
      const txs = [...await this.openingTxs(block, tracked), ...this.eventTxs(block, outcome, tracked)]
      txs.push(...await this.reconcileTxs(block.input.hash, txs, tracked))
      // the snapshot's JSON in parts before the (synchronous) transaction, the event loop turning
      // between them (a hoster's walk answers within its deadline); nothing applies a block meanwhile
      const first = this.deps.ledger.cursor() === null
      const snapshot = this.store.snapshotDue(block.input.number, first) ? await this.store.writeSnapshotParts(block.input.number, block.input.hash, this.state) : null
      entries = this.commit(block, timeMs, txs, snapshot)
    } catch (err) {
      // the state went past the cursor (a failed chain read or commit): back to the cursor's. The
      // error to report is this one; a state that cannot be restored stays `stale` and says why at the next catch-up.
      try { this.restoreState() } catch { /* stale */ }
      throw err
    }
    this.lastTimeMs = timeMs
    this.deps.counters.blocksFollowed++
    this.deps.counters.ledgerRows += entries.length
    this.outcomes.set(block.input.hash, outcome)
    if (this.outcomes.size > SYNC_LIMITS.outcomesKept) this.outcomes.delete(this.outcomes.keys().next().value as string)
    this.deps.onEntries(entries)
    this.deps.onBlock(outcome)
    this.settleWaiters()
  }

  /** Opening balance for a tracked account the ledger has never seen, read at the parent block. */
  private async openingTxs (block: ReadBlock, tracked: Set<string>): Promise<TxInput[]> {
    const txs: TxInput[] = []
    for (const acc of tracked) {
      const name = this.deps.formatAddress(acc)
      if (this.deps.ledger.hasAccount(name)) continue
      const bal = await this.deps.chain.balanceOf(name, block.input.parentHash)
      if (bal !== 0n) txs.push({ key: `${block.input.hash}:opening:${acc}`, reason: 'opening', legs: [{ account: name, amountPlanck: bal }, { account: '@opening', amountPlanck: -bal }] })
    }
    return txs
  }

  /** Ledger transactions of the block's balance events (transfers, fees, dust) touching tracked accounts. */
  private eventTxs (block: ReadBlock, outcome: BlockOutcome, tracked: Set<string>): TxInput[] {
    const txs: TxInput[] = []
    const transferSeen = new Map<number, number>()
    for (const ev of block.events) {
      const key = `${block.input.hash}:${ev.eventIndex}`
      if (ev.kind === 'transfer' && ev.from !== null && ev.to !== null) {
        // The k-th Transfer event of an extrinsic is its k-th transfer call: count them all.
        const k = transferSeen.get(ev.extrinsic ?? -1) ?? 0
        transferSeen.set(ev.extrinsic ?? -1, k + 1)
        if (!tracked.has(ev.from) && !tracked.has(ev.to)) continue
        txs.push(this.transferTx(block, outcome, ev as Transfer, k, key))
      } else if ((ev.kind === 'withdraw' || ev.kind === 'deposit' || ev.kind === 'dust') && ev.who !== null && tracked.has(ev.who)) {
        txs.push(this.feeTx(block, ev, key))
      }
    }
    return txs
  }

  /**
   * A fee (Withdraw), its refund (Deposit) or dust: the share paid for provider records is booked
   * 'work-fee' (work-fees.ts), the memo says what the extrinsic carried ("fee: storage-report").
   */
  private feeTx (block: ReadBlock, ev: BalanceEvent, key: string): TxInput {
    const sign = ev.kind === 'deposit' ? 1n : -1n
    const remarks = block.input.actions.find((a) => a.index === ev.extrinsic)?.remarks ?? []
    const share = ev.kind === 'dust' ? { work: 0, total: 0, kinds: [] } : workOf(remarks)
    const what = share.kinds.length > 0 ? share.kinds.join(', ') : 'transaction'
    const memo = ev.kind === 'dust' ? 'dust' : `${ev.kind === 'deposit' ? 'fee refund' : 'fee'}: ${what}`
    const legs = feeLegs(this.deps.formatAddress(ev.who as string), sign * ev.amountPlanck, share, ev.kind === 'dust' ? '@dust' : '@fees')
    return { key, reason: share.work > 0 ? 'work-fee' : 'fee', memo, legs }
  }

  /**
   * The k-th transfer of an extrinsic: booked with the marketplace's reasons (budget, payouts,
   * refunds) when it is the k-th transfer call of a DatDot action and the legs add up; otherwise
   * a plain transfer (or a faucet payment).
   */
  private transferTx (block: ReadBlock, outcome: BlockOutcome, ev: Transfer, k: number, key: string): TxInput {
    const name = this.deps.formatAddress
    const action = outcome.actions.find((a) => a.index === ev.extrinsic)
    const calls = ev.extrinsic === null ? undefined : block.transfersByExtrinsic.get(ev.extrinsic)
    const legs = action !== undefined && calls !== undefined && calls.length > k && calls[k].amountPlanck === ev.amountPlanck ? action.transferLegs[k] : []
    const sumLegs = legs.reduce((a, l) => a + l.amountPlanck, 0n)
    if (legs.length > 0 && sumLegs === ev.amountPlanck) {
      return {
        key,
        reason: legs[0].reason,
        memo: legs.map((l) => l.memo).join('; '),
        legs: legs.flatMap((l) => [
          { account: name(ev.from), amountPlanck: -l.amountPlanck, reason: l.reason, memo: l.memo },
          { account: name(ev.to), amountPlanck: l.amountPlanck, reason: l.reason, memo: l.memo }
        ])
      }
    }
    const reason: LedgerReason = ev.from === this.deps.faucetHex ? 'faucet' : 'transfer'
    return { key, reason, legs: [{ account: name(ev.from), amountPlanck: -ev.amountPlanck }, { account: name(ev.to), amountPlanck: ev.amountPlanck }] }
  }

  /** Invariant: tracked balances in the ledger equal the chain's; anything else is reconciled and counted. */
  private async reconcileTxs (hash: string, txs: TxInput[], tracked: Set<string>): Promise<TxInput[]> {
    const delta = new Map<string, bigint>()
    for (const tx of txs) for (const l of tx.legs) delta.set(l.account, (delta.get(l.account) ?? 0n) + l.amountPlanck)
    const out: TxInput[] = []
    for (const acc of tracked) {
      const n = this.deps.formatAddress(acc)
      const expected = this.deps.ledger.balance(n) + (delta.get(n) ?? 0n)
      const onChain = await this.deps.chain.balanceOf(n, hash)
      if (onChain !== expected) {
        this.deps.counters.reconciles++
        out.push({ key: `${hash}:reconcile:${acc}`, reason: 'reconcile', memo: 'balance changed without an event DatDot understands', legs: [{ account: n, amountPlanck: onChain - expected }, { account: '@reconcile', amountPlanck: expected - onChain }] })
      }
    }
    return out
  }

  /**
   * Ledger rows, cursor and the block's marketplace input (a snapshot of the whole state when one is
   * due) in one SQLite transaction: all of it or nothing (the caller restores the state on failure).
   */
  private commit (block: ReadBlock, timeMs: number, txs: TxInput[], snapshotParts: number | null): LedgerEntry[] {
    const { ledger, chainId } = this.deps
    const { number, hash, parentHash } = block.input
    let snapshot = false
    const entries = ledger.applyBlock({ number, hash, parentHash, genesisHash: chainId, timeMs }, txs, () => {
      snapshot = this.store.writeBlock(block.input, snapshotParts)
    })
    if (snapshot) this.deps.counters.snapshotsWritten++
    return entries
  }
}
