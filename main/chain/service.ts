/**
 * The chain service: this node's link to the chain. A thin coordinator of
 *  - connection.ts: the connection (embedded chopsticks or a ws:// endpoint), api and keys;
 *  - ledger-sync.ts: following the chain block by block into the marketplace state and the
 *    earnings ledger (re-orgs, snapshots), driven by a `Coalescer` on every new head;
 *  - submitter.ts: the transaction queue (batching, one submission per signer at a time);
 *  - prechecks.ts: refusing, before sending, a record the marketplace would reject or this
 *    account cannot pay for;
 *  - operator.ts: paying owed items from escrow where this node runs the local chain.
 *
 * It does not log: it emits 'status' (ChainStatus), 'ledger-entry' (LedgerEntry), 'block'
 * (BlockOutcome), 'follow-error' and keeps counters.
 */
import '@polkadot/api-augment'
import { join } from 'node:path'
import type { ApiPromise } from '@polkadot/api'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import { encodeAddress } from '@polkadot/util-crypto'
import { u8aToHex, hexToU8a } from '@polkadot/util'
import { Resource } from '../shared/resource.js'
import { DatdotError } from '../shared/errors.js'
import { Coalescer } from '../shared/coalescer.js'
import { migrate, type Db } from '../shared/db.js'
import type { ChainStatus, Wallet, LedgerEntry } from '../shared/contract.js'
import { Ledger } from '../ledger/ledger.js'
import { initialState, conservation, stateDigest, type MarketState, type Conservation } from './marketplace.js'
import { encodeRecord, ROLE, type MarketRecord, type RoleName, type DriveRanges, type SetupSlot, type StorageFailure, type NetworkParams } from './records.js'
import { toHex } from './follower.js'
import type { LocalChain } from './local-chain.js'
import { ChainConnection } from './connection.js'
import { LedgerSync, CHAIN_MIGRATIONS, type SyncCounters } from './ledger-sync.js'
import { Submitter, buildRecordsTx, includeExtrinsic, type SubmitResult, type SubmitCounters, type ValueTransfer } from './submitter.js'
import { precheck, requireNetwork, checkFunds } from './prechecks.js'
import { Operator, type PayoutCounters } from './operator.js'
import { checkNetworkRef, normaliseNetworkRef, type NetworkRef } from './network-ref.js'

export interface ChainServiceOptions {
  /** Folder for keys and the embedded chain store. */
  storage: string
  /** 'embedded' (chopsticks in this process) or a ws:// URL. */
  endpoint: string
  db: Db
  now?: () => number
  /** Embedded chain: also serve it on ws://127.0.0.1:<port> (0: any port). */
  servePort?: number
  /**
   * Embedded chain: build a block every this many ms so deadlines advance when nobody transacts
   * (default DEFAULT_BLOCK_INTERVAL_MS, 6000; 0: blocks only for transactions and newBlock()).
   * Ignored with `localChain` (its owner decides: LocalChain.startTimer).
   */
  blockIntervalMs?: number
  /** Embedded chain created by this service: the network record's parameters (default DEFAULT_NETWORK_PARAMS). */
  networkParams?: NetworkParams
  /** Use this already open local chain (the `datdot chain` command, tests). The service does not close it. */
  localChain?: LocalChain
  /** Follow and keep the ledger, but never pay as operator even with the keys. */
  operator?: boolean
  /**
   * The network operator keys this node holds (default: all of the local chain's, when it runs
   * one). With a k-of-n escrow each operator node holds its own and approves payouts it checked.
   */
  operatorKeys?: KeyringPair[]
  /** The storage folder's Corestore primary key: a new wallet is derived from it (wallet.ts). */
  primaryKey?: Uint8Array
  /**
   * The network to follow (network-ref.ts): following starts at its record's block instead of #1,
   * and a chain or block without that record is refused (CHAIN_ERROR, details.why). Omitted: from
   * #1, the first network record wins (a local chain).
   */
  network?: NetworkRef
}

export interface ChainCounters extends SyncCounters, PayoutCounters, SubmitCounters {
  followErrors: number
}

/** What one attestor measured in a performance check (`submitPerformanceReport`). */
export interface PerformanceMeasurement {
  /** False when the hoster could not be reached or answered nothing in time. */
  reachable: boolean
  /** Time to first byte of the challenged block, ms (records.ts latencyMsMax when unreachable). */
  ttfbMs: number
  /** Bytes per second measured over the transfer (0 when unreachable). */
  throughputBps: number
  /** The fresh single-use Hyperswarm public key the attestor measured with, 64 hex chars. */
  measureKeyHex: string
}

type Tx = SubmittableExtrinsic<'promise'>

export class ChainService extends Resource {
  readonly options: ChainServiceOptions
  readonly now: () => number
  ledger!: Ledger
  private readonly conn: ChainConnection
  private sync: LedgerSync | null = null
  private submitter: Submitter<Tx, KeyringPair> | null = null
  private operator: Operator | null = null
  private readonly emptyState = initialState()
  private headNumber: number | null = null
  private unsubHeads: (() => void) | null = null
  /** Follows the chain: catchUp() now, once more after when asked again meanwhile. */
  private readonly follower = new Coalescer(() => this.catchUp(), {
    onError: (err) => { this.counters.followErrors++; this.emit('follow-error', err) },
    stopped: () => this.closing
  })

  readonly counters: ChainCounters = { blocksFollowed: 0, ledgerRows: 0, reconciles: 0, reorgs: 0, resets: 0, snapshotsWritten: 0, payouts: 0, payoutFailures: 0, followErrors: 0, batches: 0, batchedRecords: 0 }

  constructor (opts: ChainServiceOptions) {
    super()
    if (!opts.storage) throw DatdotError.invalidArgument('storage folder is required')
    if (opts.endpoint !== 'embedded' && !/^wss?:\/\//.test(opts.endpoint)) throw DatdotError.invalidArgument(`chain endpoint must be 'embedded' or ws://...: ${opts.endpoint}`)
    this.options = opts.network === undefined ? opts : { ...opts, network: normaliseNetworkRef(opts.network) }
    this.now = opts.now ?? Date.now
    this.conn = new ChainConnection({
      dir: join(opts.storage, 'chain'),
      endpoint: opts.endpoint,
      servePort: opts.servePort,
      blockIntervalMs: opts.blockIntervalMs,
      networkParams: opts.networkParams,
      localChain: opts.localChain,
      primaryKey: opts.primaryKey
    }, () => { this.emitStatus() })
  }

  // ---------------------------------------------------------------- lifecycle

  protected async _open (): Promise<void> {
    migrate(this.options.db, 'chain', CHAIN_MIGRATIONS, this.now)
    this.ledger = new Ledger(this.options.db)
    await this.conn.open()
    this.sync = this.createSync()
    await this.checkNetwork()
    this.submitter = this.createSubmitter()
    this.operator = this.createOperator()
    await this.catchUp()
    this.unsubHeads = await this.conn.subscribeHeads((n) => {
      this.headNumber = n
      this.scheduleFollow()
    })
    this.emitStatus()
  }

  protected async _close (): Promise<void> {
    this.unsubHeads?.()
    this.unsubHeads = null
    const submitted = this.submitter?.close()
    await this.follower.idle()
    this.sync?.rejectWaiters(DatdotError.closed('chain service'))
    await submitted
    await this.operator?.idle()
    await this.conn.close()
  }

  private createSync (): LedgerSync {
    const conn = this.conn
    return new LedgerSync({
      db: this.options.db,
      ledger: this.ledger,
      now: this.now,
      chainId: conn.chainId,
      chain: conn,
      startBlock: this.options.network?.recordBlock ?? 1,
      formatAddress: (hex) => conn.formatAddress(hex),
      tracked: (state) => this.trackedAccounts(state),
      faucetHex: toHex(conn.faucetPair().address),
      counters: this.counters,
      onEntries: (entries) => { this.emitEntries(entries) },
      onBlock: (outcome) => { this.emit('block', outcome) },
      onHead: (head) => { if (this.headNumber === null || head > this.headNumber) this.headNumber = head },
      stopped: () => this.closing
    })
  }

  /** With a configured network: this chain and block hold its record, and this node follows no other. */
  private async checkNetwork (): Promise<void> {
    const ref = this.options.network
    if (ref === undefined) return
    const conn = this.conn
    // A cursor on another chain (a reset local chain) is reverted when following starts: not a network of this chain.
    const sameChain = this.ledger.cursor()?.genesisHash === conn.chainId
    await checkNetworkRef({ ref, genesisHash: conn.api.genesisHash.toHex(), head: await conn.head(), read: (n) => conn.read(n), followed: sameChain ? this.market : this.emptyState })
  }

  private createSubmitter (): Submitter<Tx, KeyringPair> {
    const conn = this.conn
    return new Submitter<Tx, KeyringPair>({
      signer: conn.pair,
      recordsTx: (records) => buildRecordsTx(conn.api, (hex) => conn.formatAddress(hex), records),
      include: (tx, signer) => includeExtrinsic(conn.api, tx, signer),
      blockNumber: async (hash) => (await conn.api.rpc.chain.getHeader(hash)).number.toNumber(),
      waitFollowed: (number, hash) => this.waitFollowed(number, hash),
      outcome: (hash) => this.sync?.outcome(hash),
      counters: this.counters
    })
  }

  private createOperator (): Operator {
    const conn = this.conn
    return new Operator({
      market: () => this.market,
      keys: this.operatorKeys(),
      api: conn.api,
      balanceOf: (address) => conn.balanceOf(address),
      formatAddress: (hex) => conn.formatAddress(hex),
      send: (tx, signer) => this.send(tx, signer),
      counters: this.counters,
      onError: (err) => { this.emit('follow-error', err) },
      stopped: () => this.closing
    })
  }

  /** The operator keys this node may pay with: handed in, or the local chain's; none with `operator: false`. */
  private operatorKeys (): KeyringPair[] | null {
    if (this.options.operator === false) return null
    if (this.options.operatorKeys !== undefined) return this.options.operatorKeys
    return this.conn.local !== null ? this.conn.local.keys.operators : null
  }

  // ---------------------------------------------------------------- queries

  get api (): ApiPromise { return this.conn.api }
  get local (): LocalChain | null { return this.conn.local }
  get address (): string { return this.conn.pair.address }
  get addressHex (): string { return u8aToHex(this.conn.pair.publicKey) }
  get market (): MarketState { return this.sync?.state ?? this.emptyState }

  status (): ChainStatus {
    const conn = this.conn
    return {
      connected: conn.connected,
      endpoint: conn.endpoint,
      chainName: conn.chainName,
      blockNumber: this.ledger?.cursor()?.number ?? null,
      tokenSymbol: this.opened ? conn.tokenSymbol : null,
      tokenDecimals: this.opened ? conn.tokenDecimals : null,
      address: conn.pair?.address ?? null,
      devTokens: conn.devFaucet
    }
  }

  async wallet (): Promise<Wallet> {
    this.assertOpen()
    const conn = this.conn
    const acc = await conn.api.query.system.account(conn.pair.address)
    return {
      address: conn.pair.address,
      free: acc.data.free.toString(),
      reserved: acc.data.reserved.toString(),
      tokenSymbol: conn.tokenSymbol,
      tokenDecimals: conn.tokenDecimals
    }
  }

  /** Balance (free + reserved) of an address at a block (head when omitted). */
  async balanceOf (address: string, blockHash?: string): Promise<bigint> { return await this.conn.balanceOf(address, blockHash) }

  conservation (): Conservation { return conservation(this.market) }
  stateDigest (): string { return stateDigest(this.market) }
  /** Escrow balance the chain should show: baseline + what the marketplace says it holds. */
  get escrowBaseline (): bigint { return this.conn.escrowBaselinePlanck }
  get escrowAddress (): string | null { return this.market.network === null ? null : encodeAddress(hexToU8a(this.market.network.escrow), this.conn.ss58) }

  /** ss58 address of a 0x account id, in this chain's format. */
  formatAddress (hex: string): string { return this.conn.formatAddress(hex) }

  // ---------------------------------------------------------------- marketplace operations

  async registerProvider (offer: { roles: RoleName[], storageBytes: number, bandwidthBps: number, region: string, noiseKeyHex: string }): Promise<SubmitResult> {
    const roles = offer.roles.reduce((m, r) => m | ROLE[r], 0)
    return await this.submitChecked({ kind: 'register', roles, storageBytes: offer.storageBytes, bandwidthBps: offer.bandwidthBps, region: offer.region, noiseKeyHex: offer.noiseKeyHex })
  }

  async unregisterProvider (): Promise<SubmitResult> { return await this.submitChecked({ kind: 'unregister' }) }
  async pause (blocks: number): Promise<SubmitResult> { return await this.submitRecord({ kind: 'pause', blocks }) }
  async unpause (): Promise<SubmitResult> { return await this.submitRecord({ kind: 'unpause' }) }
  /** The hours of the week this provider serves (chain/schedule.ts); in force two challenge intervals after its block. */
  async setSchedule (hoursHex: string): Promise<SubmitResult> { return await this.submitChecked({ kind: 'schedule', hoursHex }) }

  /**
   * Publishes a plan and pays its budget into escrow in the same batch. Every drive carries the
   * signed root its ranges are hosted against (the chain rejects a root that does not verify:
   * 'bad-proof'). Returns the plan id.
   */
  async publishPlan (plan: { drives: DriveRanges[], replicas: number, durationBlocks: number, budgetPlanck: bigint }): Promise<SubmitResult & { planId: number }> {
    const net = requireNetwork(this.market)
    const res = await this.submitChecked({ kind: 'publish', drives: plan.drives, replicas: plan.replicas, durationBlocks: plan.durationBlocks, budgetPlanck: plan.budgetPlanck }, [{ to: net.escrow, amountPlanck: plan.budgetPlanck }])
    const ref = res.applied.find((r) => r.startsWith('plan:'))
    return { ...res, planId: Number(ref?.slice(5)) }
  }

  /**
   * Extends an active plan of this sponsor to newer signed roots of its cores: `drives` name the
   * plan's cores with their new root (same fork, not shorter) and only the ranges to add (they may
   * not overlap what the plan hosts). `budgetPlanck` > 0 tops the budget up (paid into escrow in
   * the same batch); 0 adds nothing.
   */
  /** Tops a plan up: `budgetPlanck` more into escrow (one transfer in the same batch) and/or `blocks` more before it ends. */
  async extendPlan (ext: { planId: number, blocks: number, budgetPlanck: bigint }): Promise<SubmitResult & { planId: number }> {
    const net = requireNetwork(this.market)
    const transfers = ext.budgetPlanck > 0n ? [{ to: net.escrow, amountPlanck: ext.budgetPlanck }] : []
    const res = await this.submitChecked({ kind: 'extend', planId: ext.planId, blocks: ext.blocks, budgetPlanck: ext.budgetPlanck }, transfers)
    return { ...res, planId: ext.planId }
  }

  async updatePlan (update: { planId: number, drives: DriveRanges[], budgetPlanck: bigint }): Promise<SubmitResult & { planId: number }> {
    const net = requireNetwork(this.market)
    const transfers = update.budgetPlanck > 0n ? [{ to: net.escrow, amountPlanck: update.budgetPlanck }] : []
    const res = await this.submitChecked({ kind: 'update', planId: update.planId, drives: update.drives, budgetPlanck: update.budgetPlanck }, transfers)
    return { ...res, planId: update.planId }
  }

  async unpublish (planId: number): Promise<SubmitResult> { return await this.submitChecked({ kind: 'unpublish', planId }) }
  /** One entry per slot of the contract (slots not in setup are ignored by the chain). */
  async submitSetupReport (contractId: number, slots: SetupSlot[]): Promise<SubmitResult> { return await this.submitRecord({ kind: 'setup-report', contractId, slots }) }
  /** `reason` is 'NONE' exactly when `ok`. */
  async submitStorageReport (challengeId: number, ok: boolean, reason: StorageFailure): Promise<SubmitResult> { return await this.submitRecord({ kind: 'storage-report', challengeId, ok, reason }) }
  /** One attestor's measurement of a performance check, with the fresh key it measured with. */
  async submitPerformanceReport (challengeId: number, m: PerformanceMeasurement): Promise<SubmitResult> {
    return await this.submitRecord({ kind: 'performance-report', challengeId, reachable: m.reachable, ttfbMs: m.ttfbMs, throughputBps: m.throughputBps, measureKeyHex: m.measureKeyHex })
  }

  /** An attestor's aggregate of an epoch's checks (epoch-records.ts): a count of checks, the failed ones, a grade per hoster; refused unless the epoch closed. */
  async submitEpochReport (rec: Extract<MarketRecord, { kind: 'epoch-report' }>): Promise<SubmitResult> { return await this.submitRecord(rec) }

  /** Dev faucet: a signed transfer from the local chain's well-known faucet account. Local chains only. */
  async faucet (amountPlanck: bigint, to: string = this.address): Promise<SubmitResult> {
    this.assertOpen()
    if (!this.conn.isLocal) throw DatdotError.forbidden('the faucet exists only on a local chain')
    if (amountPlanck <= 0n || amountPlanck > 10n ** 22n) throw DatdotError.invalidArgument('faucet amount out of range')
    const faucet = this.conn.faucetPair()
    if (await this.conn.balanceOf(faucet.address) <= amountPlanck) throw DatdotError.forbidden(`this local chain has no DatDot dev faucet with ${amountPlanck} planck (its account ${faucet.address} lacks the funds): start it with datdot chain or datdot devnet`)
    return await this.send(this.api.tx.balances.transferKeepAlive(to, amountPlanck), faucet)
  }

  /** A transfer from this node's wallet (balances.transferKeepAlive): an app's payment the user confirmed. */
  async transfer (to: string, amountPlanck: bigint): Promise<SubmitResult> {
    this.assertOpen()
    if (amountPlanck <= 0n) throw DatdotError.invalidArgument('the amount must be positive')
    return await this.send(this.api.tx.balances.transferKeepAlive(to, amountPlanck), this.conn.pair)
  }

  /** Builds a block now (local chains only; tests and the CLI use it instead of waiting). */
  async newBlock (count = 1): Promise<void> {
    if (!this.conn.isLocal) throw DatdotError.forbidden('blocks are built on demand only on a local chain')
    await this.api.rpc('dev_newBlock', { count })
    await this.waitFollowed(this.headNumber ?? 0)
  }

  /**
   * Submits a record (and transfers) signed by this node and resolves when its block is followed,
   * with this record's outcome; throws a CHAIN error with the reject reason when the marketplace
   * rejected it. Records submitted while an earlier extrinsic of this node is in flight are
   * coalesced into one `utility.batchAll` (submitter.ts).
   */
  submitRecord (rec: MarketRecord, transfers: ValueTransfer[] = []): Promise<SubmitResult> {
    try {
      this.assertOpen()
    } catch (err) {
      return Promise.reject(err)
    }
    return (this.submitter as Submitter<Tx, KeyringPair>).submitRecord(rec, transfers)
  }

  /** Records waiting for the next batch (not yet sent). */
  get queuedRecords (): number { return this.submitter?.queued ?? 0 }

  /** Fee estimate for a record (and transfers), in planck. */
  async estimateFee (rec: MarketRecord, transfers: ValueTransfer[] = []): Promise<bigint> {
    const tx = buildRecordsTx(this.api, (hex) => this.formatAddress(hex), [{ bytes: encodeRecord(rec), transfers }])
    const info = await tx.paymentInfo(this.conn.pair)
    return info.partialFee.toBigInt()
  }

  /** True while following or paying is in flight. */
  get busy (): boolean { return this.follower.running || (this.operator?.paying ?? false) }

  /** Resolves when following and (for the operator) paying have nothing left in flight. */
  async idle (): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await this.follower.idle()
      await this.operator?.idle()
      if (!this.busy) return
    }
  }

  /**
   * Resolves when the follower has applied block `number` (and it is `hash`, when given). CLOSED
   * once the service is closing: the follower stopped (a payout still in flight when close began
   * waits here after close rejected the waiters, and close waits for that payout).
   */
  waitFollowed (number: number, hash?: string): Promise<void> {
    const sync = this.sync as LedgerSync
    if (sync.followed(number, hash)) return Promise.resolve()
    if (this.closing) return Promise.reject(DatdotError.closed('chain service'))
    if (this.headNumber === null || this.headNumber < number) this.headNumber = number
    const followed = sync.waitFollowed(number, hash)
    this.scheduleFollow()
    return followed
  }

  /** True when this service holds the operator keys of the network it follows. */
  get isOperator (): boolean { return this.operator?.isOperator ?? false }

  // ---------------------------------------------------------------- following

  /** Applies every block from the cursor to the chain head. Public for tests and the bench. */
  async catchUp (): Promise<void> {
    await (this.sync as LedgerSync).catchUp()
    this.emitStatus()
    // Not awaited here: paying waits for its own block to be followed by this same loop.
    this.operator?.kick()
  }

  private scheduleFollow (): void {
    this.follower.schedule()
  }

  /**
   * A record a user asked for (seeding, sponsoring, plans): checked against the followed
   * marketplace state and this account's balance first (prechecks.ts), so a record the chain would
   * reject, or one this account cannot pay for, fails here with a clear error and costs nothing.
   */
  private async submitChecked (rec: MarketRecord, transfers: ValueTransfer[] = []): Promise<SubmitResult> {
    this.assertOpen()
    precheck(this.market, this.addressHex, rec)
    const conn = this.conn
    await checkFunds({
      estimateFee: (r, t) => this.estimateFee(r, t),
      freeBalance: async () => (await conn.api.query.system.account(conn.pair.address)).data.free.toBigInt(),
      existentialDeposit: conn.api.consts.balances.existentialDeposit.toBigInt(),
      tokenDecimals: conn.tokenDecimals,
      tokenSymbol: conn.tokenSymbol,
      isLocal: conn.isLocal
    }, rec, transfers)
    return await this.submitRecord(rec, transfers)
  }

  private async send (tx: Tx, signer: KeyringPair): Promise<SubmitResult> {
    return await (this.submitter as Submitter<Tx, KeyringPair>).send(tx, signer)
  }

  /** This node's account, and the escrow when this node may operate the network. */
  private trackedAccounts (state: MarketState): string[] {
    const accounts = [this.addressHex]
    const net = state.network
    if (net !== null && (this.operatorKeys()?.length ?? 0) > 0) accounts.push(net.escrow)
    return [...new Set(accounts)]
  }

  private emitEntries (entries: LedgerEntry[]): void {
    for (const e of entries) this.emit('ledger-entry', e)
  }

  private emitStatus (): void { if (this.opened || this.conn.pair !== undefined) this.emit('status', this.status()) }

  private assertOpen (): void {
    if (this.closing) throw DatdotError.closed('chain service')
    if (!this.opened && this.submitter === null) throw DatdotError.chain('the chain service is not ready')
  }
}
