/**
 * The chain service: this node's account, its connection to the chain (embedded chopsticks or a
 * ws:// endpoint), the marketplace state derived from the chain, and the earnings ledger.
 *
 * It follows the chain block by block: for each block it derives the marketplace actions
 * (follower.ts), applies them (marketplace.ts), turns balance events touching tracked accounts
 * into double-entry ledger transactions, checks the ledger balances against the chain, and
 * writes ledger rows, cursor and a marketplace snapshot in one SQLite transaction (crash-safe).
 * A re-org or a reset chain is corrected with reversing entries and an earlier snapshot.
 *
 * Where it runs the local chain (embedded) it is also the network operator: it pays owed items
 * from escrow with `multisig.asMultiThreshold1(batchAll([payout record, transfers...]))`.
 *
 * It does not log: it emits 'status' (ChainStatus), 'ledger-entry' (LedgerEntry), 'block'
 * (BlockOutcome) and keeps counters.
 */
import '@polkadot/api-augment'
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import { ApiPromise, WsProvider, Keyring } from '@polkadot/api'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import { cryptoWaitReady, mnemonicGenerate, encodeAddress } from '@polkadot/util-crypto'
import { u8aToHex, hexToU8a } from '@polkadot/util'
import { Resource } from '../shared/resource.js'
import { DatdotError, formatBytes } from '../shared/errors.js'
import { formatTokens } from '../shared/tokens.js'
import { withTimeout as sharedWithTimeout } from '../shared/timeout.js'
import { Coalescer } from '../shared/coalescer.js'
import { migrate, type Db, type Migration } from '../shared/db.js'
import type { ChainStatus, Wallet, LedgerEntry } from '../shared/contract.js'
import { Ledger, type TxInput, type LedgerReason } from '../ledger/ledger.js'
import {
  applyBlock, initialState, serializeState, deserializeState, conservation, owedItems, stateDigest,
  MARKET_PARAMS, type MarketState, type BlockOutcome, type Conservation, type Plan, type NetworkConfig
} from './marketplace.js'
import { verifyRootHex } from './roots.js'
import { encodeRecord, ROLE, type MarketRecord, type RoleName, type DriveRanges, type SetupSlot, type StorageFailure, type NetworkParams } from './records.js'
import { readBlock, missingApis, toHex, type ReadBlock } from './follower.js'
import { LocalChain, FAUCET_URI, DEFAULT_BLOCK_INTERVAL_MS } from './local-chain.js'
import { createApi } from './connect.js'

export const CHAIN_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'marketplace snapshots per followed block',
    up: `CREATE TABLE chain_snapshots (
      block_number INTEGER NOT NULL,
      block_hash TEXT NOT NULL PRIMARY KEY,
      chain_id TEXT NOT NULL,
      state TEXT NOT NULL
    ) STRICT;
    CREATE INDEX chain_snapshots_number ON chain_snapshots(block_number);`
  }
]

export const CHAIN_LIMITS = {
  snapshotsKept: 256,
  payoutItems: 200,
  catchUpBatch: 64,
  submitTimeoutMs: 120_000,
  reorgDepth: 1000
} as const

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
}

export interface SubmitResult { blockHash: string, blockNumber: number, index: number, applied: string[] }

export interface ChainCounters {
  blocksFollowed: number
  ledgerRows: number
  reconciles: number
  reorgs: number
  resets: number
  payouts: number
  payoutFailures: number
  followErrors: number
  /** Extrinsics sent by the record queue, and the records they carried (coalescing). */
  batches: number
  batchedRecords: number
}

type Deferred = { resolve: () => void, reject: (e: unknown) => void, hash: string }
interface QueuedRecord {
  kind: MarketRecord['kind']
  bytes: Uint8Array
  transfers: Array<{ to: string, amountPlanck: bigint }>
  resolve: (r: SubmitResult) => void
  reject: (e: unknown) => void
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

export class ChainService extends Resource {
  readonly options: ChainServiceOptions
  readonly now: () => number
  api!: ApiPromise
  ledger!: Ledger
  local: LocalChain | null = null
  private ownsLocal = false
  private pair!: KeyringPair
  private keyring!: Keyring
  private state: MarketState = initialState()
  private chainId = ''
  private genesisHash = ''
  private tokenSymbol = 'UNIT'
  private tokenDecimals = 12
  private chainName: string | null = null
  private ss58 = 42
  private isLocal = false
  private connected = false
  private headNumber: number | null = null
  private unsubHeads: (() => void) | null = null
  /** Follows the chain: catchUp() now, once more after when asked again meanwhile. */
  private readonly follower = new Coalescer(() => this.catchUp(), {
    onError: (err) => { this.counters.followErrors++; this.emit('follow-error', err) },
    stopped: () => this.closing
  })
  private waiters: Deferred[] = []
  private outcomes = new Map<string, BlockOutcome>()
  private paying = false
  private readonly submitQueue = new Map<string, Promise<void>>()
  private recordQueue: QueuedRecord[] = []
  private recordsInFlight = false
  private recordsDone: Promise<void> = Promise.resolve()
  private payingDone: Promise<void> = Promise.resolve()
  private escrowBaselinePlanck = 0n
  readonly counters: ChainCounters = { blocksFollowed: 0, ledgerRows: 0, reconciles: 0, reorgs: 0, resets: 0, payouts: 0, payoutFailures: 0, followErrors: 0, batches: 0, batchedRecords: 0 }

  constructor (opts: ChainServiceOptions) {
    super()
    if (!opts.storage) throw DatdotError.invalidArgument('storage folder is required')
    if (opts.endpoint !== 'embedded' && !/^wss?:\/\//.test(opts.endpoint)) throw DatdotError.invalidArgument(`chain endpoint must be 'embedded' or ws://...: ${opts.endpoint}`)
    this.options = opts
    this.now = opts.now ?? Date.now
  }

  // ---------------------------------------------------------------- lifecycle

  protected async _open (): Promise<void> {
    await cryptoWaitReady()
    const dir = join(this.options.storage, 'chain')
    mkdirSync(dir, { recursive: true })
    migrate(this.options.db, 'chain', CHAIN_MIGRATIONS, this.now)
    this.ledger = new Ledger(this.options.db)

    let provider: ConstructorParameters<typeof ApiPromise>[0] extends infer O ? O extends { provider?: infer P } ? P : never : never
    if (this.options.localChain !== undefined) {
      this.local = this.options.localChain
      provider = this.local.provider.clone()
    } else if (this.options.endpoint === 'embedded') {
      this.local = await LocalChain.open({
        dir: join(dir, 'local'),
        port: this.options.servePort,
        blockIntervalMs: this.options.blockIntervalMs ?? DEFAULT_BLOCK_INTERVAL_MS,
        networkParams: this.options.networkParams
      })
      this.ownsLocal = true
      provider = this.local.provider.clone()
    } else {
      if (!isLoopbackOrConfigured(this.options.endpoint)) throw DatdotError.invalidArgument(`refusing a non-loopback chain endpoint without wss://: ${this.options.endpoint}`)
      provider = new WsProvider(this.options.endpoint, 2500)
    }
    let api: ApiPromise
    try {
      api = await withTimeout(createApi(provider), 60_000, 'connecting to the chain')
    } catch (err) {
      await provider.disconnect().catch(() => {})
      throw err instanceof DatdotError ? err : DatdotError.chain(`cannot connect to the chain: ${(err as Error).message}`, err)
    }
    api.on('disconnected', () => { this.connected = false; this.emitStatus() })
    api.on('connected', () => { this.connected = true; this.emitStatus() })
    api.on('error', () => { this.connected = false })
    await withTimeout(api.isReadyOrError, 60_000, 'connecting to the chain')
    this.api = api
    this.connected = true

    const missing = missingApis(api)
    if (missing.length > 0) throw DatdotError.chain(`the chain lacks calls DatDot needs: ${missing.join(', ')}`)
    const props = await api.rpc.system.properties()
    this.tokenDecimals = props.tokenDecimals.isSome ? props.tokenDecimals.unwrap()[0].toNumber() : 12
    this.tokenSymbol = props.tokenSymbol.isSome ? props.tokenSymbol.unwrap()[0].toString() : 'UNIT'
    this.ss58 = api.registry.chainSS58 ?? 42
    this.chainName = (await api.rpc.system.chain()).toString()
    const methods = (await api.rpc.rpc.methods()).methods.map(String)
    this.isLocal = methods.includes('dev_newBlock')
    this.genesisHash = api.genesisHash.toHex()
    const block1 = (await api.rpc.chain.getBlockHash(1)).toHex()
    this.chainId = `${this.genesisHash}/${block1}`
    this.keyring = new Keyring({ type: 'sr25519', ss58Format: this.ss58 })
    this.pair = this.keyring.addFromUri(loadOrCreateSeed(join(dir, 'wallet.json')))
    if (this.local !== null) this.escrowBaselinePlanck = BigInt(this.local.store.getMeta('escrowBaselinePlanck') ?? '0')

    this.restoreState()
    await this.catchUp()
    const unsub = await api.rpc.chain.subscribeNewHeads((h) => {
      this.headNumber = h.number.toNumber()
      this.scheduleFollow()
    })
    this.unsubHeads = unsub
    this.emitStatus()
  }

  protected async _close (): Promise<void> {
    this.unsubHeads?.()
    this.unsubHeads = null
    await this.follower.idle()
    for (const q of this.recordQueue.splice(0)) q.reject(DatdotError.closed('chain service'))
    for (const w of this.waiters) w.reject(DatdotError.closed('chain service'))
    this.waiters = []
    await this.recordsDone
    await this.payingDone
    if (this.api !== undefined) await this.api.disconnect().catch(() => {})
    if (this.ownsLocal && this.local !== null) await this.local.close()
    this.connected = false
  }

  // ---------------------------------------------------------------- queries

  get address (): string { return this.pair.address }
  get addressHex (): string { return u8aToHex(this.pair.publicKey) }
  get market (): MarketState { return this.state }

  status (): ChainStatus {
    return {
      connected: this.connected,
      endpoint: this.local !== null ? (this.local.url ?? 'embedded') : this.options.endpoint,
      chainName: this.chainName,
      blockNumber: this.ledger?.cursor()?.number ?? null,
      tokenSymbol: this.opened ? this.tokenSymbol : null,
      tokenDecimals: this.opened ? this.tokenDecimals : null,
      address: this.pair?.address ?? null
    }
  }

  async wallet (): Promise<Wallet> {
    this.assertOpen()
    const acc = await this.api.query.system.account(this.pair.address)
    return {
      address: this.pair.address,
      free: acc.data.free.toString(),
      reserved: acc.data.reserved.toString(),
      tokenSymbol: this.tokenSymbol,
      tokenDecimals: this.tokenDecimals
    }
  }

  /** Balance (free + reserved) of an address at a block (head when omitted). */
  async balanceOf (address: string, blockHash?: string): Promise<bigint> {
    const api = blockHash === undefined ? this.api : await this.api.at(blockHash)
    const acc = await api.query.system.account(address)
    return acc.data.free.toBigInt() + acc.data.reserved.toBigInt()
  }

  conservation (): Conservation { return conservation(this.state) }
  stateDigest (): string { return stateDigest(this.state) }
  /** Escrow balance the chain should show: baseline + what the marketplace says it holds. */
  get escrowBaseline (): bigint { return this.escrowBaselinePlanck }
  get escrowAddress (): string | null { return this.state.network === null ? null : encodeAddress(hexToU8a(this.state.network.escrow), this.ss58) }

  /** ss58 address of a 0x account id, in this chain's format. */
  formatAddress (hex: string): string { return encodeAddress(hexToU8a(hex), this.ss58) }

  // ---------------------------------------------------------------- marketplace operations

  async registerProvider (offer: { roles: RoleName[], storageBytes: number, bandwidthBps: number, region: string, noiseKeyHex: string }): Promise<SubmitResult> {
    const roles = offer.roles.reduce((m, r) => m | ROLE[r], 0)
    return await this.submitChecked({ kind: 'register', roles, storageBytes: offer.storageBytes, bandwidthBps: offer.bandwidthBps, region: offer.region, noiseKeyHex: offer.noiseKeyHex })
  }

  async unregisterProvider (): Promise<SubmitResult> { return await this.submitChecked({ kind: 'unregister' }) }
  async pause (blocks: number): Promise<SubmitResult> { return await this.submitRecord({ kind: 'pause', blocks }) }
  async unpause (): Promise<SubmitResult> { return await this.submitRecord({ kind: 'unpause' }) }

  /**
   * Publishes a plan and pays its budget into escrow in the same batch. Every drive carries the
   * signed root its ranges are hosted against (the chain rejects a root that does not verify:
   * 'bad-proof'). Returns the plan id.
   */
  async publishPlan (plan: { drives: DriveRanges[], replicas: number, durationBlocks: number, budgetPlanck: bigint }): Promise<SubmitResult & { planId: number }> {
    const net = this.requireNetwork()
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
  async updatePlan (update: { planId: number, drives: DriveRanges[], budgetPlanck: bigint }): Promise<SubmitResult & { planId: number }> {
    const net = this.requireNetwork()
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

  /** Dev faucet: a signed transfer from the local chain's well-known faucet account. Local chains only. */
  async faucet (amountPlanck: bigint, to: string = this.pair.address): Promise<SubmitResult> {
    this.assertOpen()
    if (!this.isLocal) throw DatdotError.forbidden('the faucet exists only on a local chain')
    if (amountPlanck <= 0n || amountPlanck > 10n ** 22n) throw DatdotError.invalidArgument('faucet amount out of range')
    const faucet = this.keyring.addFromUri(FAUCET_URI)
    return await this.send(this.api.tx.balances.transferKeepAlive(to, amountPlanck), faucet)
  }

  /** Builds a block now (local chains only; tests and the CLI use it instead of waiting). */
  async newBlock (count = 1): Promise<void> {
    if (!this.isLocal) throw DatdotError.forbidden('blocks are built on demand only on a local chain')
    await this.api.rpc('dev_newBlock', { count })
    await this.waitFollowed(this.headNumber ?? 0)
  }

  /**
   * Submits a record (and transfers) signed by this node and resolves when its block is followed,
   * with this record's outcome; throws a CHAIN error with the reject reason when the marketplace
   * rejected it. Records submitted while an earlier extrinsic of this node is in flight are
   * coalesced into one `utility.batchAll` (at most MARKET_PARAMS.recordsPerAction); a record that
   * moves value always goes alone (the marketplace accepts value only with exactly one record).
   */
  submitRecord (rec: MarketRecord, transfers: Array<{ to: string, amountPlanck: bigint }> = []): Promise<SubmitResult> {
    try {
      this.assertOpen()
      const bytes = encodeRecord(rec)
      return new Promise<SubmitResult>((resolve, reject) => {
        this.recordQueue.push({ kind: rec.kind, bytes, transfers, resolve, reject })
        this.pumpRecords()
      })
    } catch (err) {
      return Promise.reject(err instanceof RangeError ? DatdotError.invalidArgument(err.message) : err)
    }
  }

  /**
   * A record a user asked for (seeding, sponsoring, plans): checked against the followed
   * marketplace state and this account's balance first, so a record the chain would reject, or
   * one this account cannot pay for, fails here with a clear error and costs nothing.
   */
  private async submitChecked (rec: MarketRecord, transfers: Array<{ to: string, amountPlanck: bigint }> = []): Promise<SubmitResult> {
    this.assertOpen()
    this.precheck(rec)
    await this.checkFunds(rec, transfers)
    return await this.submitRecord(rec, transfers)
  }

  private requireNetwork (): NetworkConfig {
    const net = this.state.network
    if (net === null) throw new DatdotError('CHAIN_ERROR', 'no DatDot network on this chain yet (its operator has not posted the network record: is this the chain `datdot chain` runs?)', { why: 'no-network' })
    return net
  }

  /**
   * The conditions under which the marketplace (marketplace.ts applyRecord) rejects a record of
   * this signer, checked on the state this node has followed. The chain stays the judge: a record
   * that passes here can still be rejected when the state moved on meanwhile.
   */
  private precheck (rec: MarketRecord): void {
    const net = this.requireNetwork()
    const me = this.addressHex
    const state = this.state
    type Code = 'NOT_FOUND' | 'FORBIDDEN' | 'INVALID_ARGUMENT'
    const refuse: (code: Code, why: string, message: string) => never = (code, why, message) => { throw new DatdotError(code, message, { why }) }
    const activePlan = (planId: number, verb: string): Plan => {
      const plan = state.plans[planId]
      if (plan === undefined) refuse('NOT_FOUND', 'unknown-ref', `no plan ${planId} on this chain (\`datdot seed\` lists the plans you sponsor)`)
      if (plan.sponsor !== me) refuse('FORBIDDEN', 'wrong-signer', `plan ${planId} is not yours (wrong-signer): only its sponsor can ${verb} it`)
      if (plan.status !== 'active') refuse('INVALID_ARGUMENT', 'replayed', `plan ${planId} has already ended (${plan.status})`)
      return plan
    }
    switch (rec.kind) {
      case 'register': {
        if (me === net.escrow) refuse('FORBIDDEN', 'wrong-signer', 'the escrow account cannot provide')
        const p = state.providers[me]
        if (p !== undefined && rec.storageBytes < p.usedBytes) refuse('INVALID_ARGUMENT', 'not-allowed', `storage ${formatBytes(rec.storageBytes)} is below the ${formatBytes(p.usedBytes)} this node already hosts`)
        return
      }
      case 'unregister':
        if (state.providers[me] === undefined) refuse('NOT_FOUND', 'unknown-ref', 'this node is not a registered provider (seeding is off)')
        return
      case 'unpublish':
        activePlan(rec.planId, 'unpublish')
        return
      case 'publish': {
        if (me === net.escrow || net.operators.includes(me)) refuse('FORBIDDEN', 'wrong-signer', 'the network operator and escrow do not sponsor plans: use another account')
        let contracts = 0
        for (const d of rec.drives) contracts += contractsIn(d.ranges, net.params.chunksPerContract)
        if (contracts > MARKET_PARAMS.contractsPerPlan) refuse('INVALID_ARGUMENT', 'over-limits', `the drive needs ${contracts} contracts, more than the ${MARKET_PARAMS.contractsPerPlan} a plan may have`)
        this.checkRoots(rec.drives)
        this.checkProviders(rec.replicas)
        return
      }
      case 'update': {
        const plan = activePlan(rec.planId, 'update')
        let contracts = plan.contractIds.length
        for (const d of rec.drives) {
          const old = plan.drives.find((pd) => pd.keyHex === d.keyHex)
          if (old === undefined) refuse('INVALID_ARGUMENT', 'unknown-ref', `core ${d.keyHex.slice(0, 16)} is not in plan ${plan.id}`)
          if (d.root.fork !== old.root.fork) refuse('INVALID_ARGUMENT', 'bad-value', `core ${d.keyHex.slice(0, 16)} is at fork ${d.root.fork}, the plan at ${old.root.fork}: publish a new plan`)
          if (d.root.length < old.root.length) refuse('INVALID_ARGUMENT', 'bad-value', `core ${d.keyHex.slice(0, 16)} is shorter (${d.root.length}) than the plan's root (${old.root.length})`)
          if (rangesOverlap(d.ranges, old.ranges)) refuse('INVALID_ARGUMENT', 'bad-value', `ranges of ${d.keyHex.slice(0, 16)} overlap what the plan hosts`)
          contracts += contractsIn(d.ranges, net.params.chunksPerContract)
        }
        if (contracts > MARKET_PARAMS.contractsPerPlan) refuse('INVALID_ARGUMENT', 'over-limits', `the plan would have ${contracts} contracts, more than ${MARKET_PARAMS.contractsPerPlan}`)
        this.checkRoots(rec.drives)
        return
      }
      default:
    }
  }

  private checkRoots (drives: DriveRanges[]): void {
    for (const d of drives) {
      const bad = verifyRootHex(d.keyHex, d.root)
      if (bad !== null) throw new DatdotError('INVALID_ARGUMENT', `the signed root of core ${d.keyHex.slice(0, 16)} does not verify: ${bad}`, { why: 'bad-proof' })
    }
  }

  /**
   * A plan of `replicas` copies needs, per contract, `replicas` hosters and `replicas` encoders and
   * one attestor, all different providers and none of them the sponsor (marketplace.ts
   * assignPending). Fewer eligible providers than that and the plan would pay into escrow and wait.
   */
  private checkProviders (replicas: number): void {
    const me = this.addressHex
    const head = this.state.block?.number ?? 0
    const eligible = Object.values(this.state.providers).filter((p) => p.address !== me && p.pausedUntil <= head && p.reputation >= MARKET_PARAMS.reputationFloor)
    const withRole = (role: number): number => eligible.filter((p) => (p.roles & role) !== 0).length
    const need = 2 * replicas + 1
    const hosters = withRole(ROLE.hoster)
    const encoders = withRole(ROLE.encoder)
    const attestors = withRole(ROLE.attestor)
    if (eligible.length < need || hosters < replicas || encoders < replicas || attestors < 1) {
      throw new DatdotError('INVALID_ARGUMENT',
        `too few providers for ${replicas} ${replicas === 1 ? 'replica' : 'replicas'}: it needs ${need} other providers (${replicas} hosting, ${replicas} encoding, 1 attesting); the network has ${eligible.length} (${hosters} hosting, ${encoders} encoding, ${attestors} attesting). Ask for fewer replicas or wait for more seeders`,
        { why: 'too-few-providers', need, providers: eligible.length, hosters, encoders, attestors })
    }
  }

  /**
   * Refuses a record this account cannot pay for: its free balance must cover the fee, the
   * transfers (a sponsor's budget) and the existential deposit that must stay in the account.
   */
  private async checkFunds (rec: MarketRecord, transfers: Array<{ to: string, amountPlanck: bigint }>): Promise<void> {
    const moved = transfers.reduce((a, t) => a + t.amountPlanck, 0n)
    const [fee, acc] = await Promise.all([this.estimateFee(rec, transfers), this.api.query.system.account(this.pair.address)])
    const free = acc.data.free.toBigInt()
    const ed = this.api.consts.balances.existentialDeposit.toBigInt()
    const need = fee + moved + ed
    if (free >= need) return
    const t = (planck: bigint): string => `${formatTokens(planck, this.tokenDecimals)} ${this.tokenSymbol}`
    const hint = this.isLocal ? '; use the faucet: datdot wallet --faucet 10' : ''
    const message = moved > 0n
      ? `the budget ${t(moved)} is more than this account can pay: it has ${t(free)} free and needs ${t(need)} (budget + fee about ${t(fee)} + ${t(ed)} that stays in the account)${hint}`
      : `this account needs at least ${t(fee + ed)} for fees (it has ${t(free)})${hint}`
    throw new DatdotError('FORBIDDEN', message, { why: 'insufficient-funds', freePlanck: free.toString(), needPlanck: need.toString() })
  }

  /** Records waiting for the next batch (not yet sent). */
  get queuedRecords (): number { return this.recordQueue.length }

  private pumpRecords (): void {
    if (this.recordsInFlight || this.recordQueue.length === 0) return
    if (this.closing) {
      for (const q of this.recordQueue.splice(0)) q.reject(DatdotError.closed('chain service'))
      return
    }
    const first = this.recordQueue[0]
    let n = 1
    if (first.transfers.length === 0) {
      while (n < this.recordQueue.length && n < MARKET_PARAMS.recordsPerAction && this.recordQueue[n].transfers.length === 0) n++
    }
    const batch = this.recordQueue.splice(0, n)
    this.recordsInFlight = true
    this.counters.batches++
    this.counters.batchedRecords += batch.length
    this.recordsDone = this.sendRecords(batch).finally(() => {
      this.recordsInFlight = false
      this.pumpRecords()
    })
  }

  private async sendRecords (batch: QueuedRecord[]): Promise<void> {
    try {
      const calls = batch.flatMap((q) => [
        this.api.tx.system.remarkWithEvent(u8aToHex(q.bytes)),
        ...q.transfers.map((t) => this.api.tx.balances.transferKeepAlive(this.formatAddress(t.to), t.amountPlanck))
      ])
      const res = await this.send(this.api.tx.utility.batchAll(calls), this.pair)
      const outcome = this.outcomes.get(res.blockHash)
      const action = outcome?.actions.find((a) => a.index === res.index)
      batch.forEach((q, i) => {
        const r = action?.records[i]
        if (r === undefined) q.reject(DatdotError.internal(`submitted ${q.kind} not found in block ${res.blockNumber}`))
        else if (!r.ok) q.reject(new DatdotError('CHAIN_ERROR', `the marketplace rejected the ${q.kind} record: ${r.why} (${r.detail})`, { why: r.why, detail: r.detail }))
        else q.resolve({ ...res, applied: [r.ref] })
      })
    } catch (err) {
      for (const q of batch) q.reject(err)
    }
  }

  /** Fee estimate for a record (and transfers), in planck. */
  async estimateFee (rec: MarketRecord, transfers: Array<{ to: string, amountPlanck: bigint }> = []): Promise<bigint> {
    const calls = [this.api.tx.system.remarkWithEvent(u8aToHex(encodeRecord(rec))), ...transfers.map((t) => this.api.tx.balances.transferKeepAlive(this.formatAddress(t.to), t.amountPlanck))]
    const info = await this.api.tx.utility.batchAll(calls).paymentInfo(this.pair)
    return info.partialFee.toBigInt()
  }

  private async send (tx: SubmittableExtrinsic<'promise'>, signer: KeyringPair): Promise<SubmitResult> {
    // One submission at a time per signer, until it is in a block: with { nonce: -1 } a second
    // submission while the first waits in the pool (or in a block being built) reads the same nonce.
    const prev = this.submitQueue.get(signer.address) ?? Promise.resolve()
    let release: () => void = () => {}
    const pooled = new Promise<void>((resolve) => { release = resolve })
    const turn = prev.then(() => pooled)
    this.submitQueue.set(signer.address, turn)
    void turn.then(() => { if (this.submitQueue.get(signer.address) === turn) this.submitQueue.delete(signer.address) })
    await prev
    const included = await withTimeout(new Promise<{ blockHash: string, index: number }>((resolve, reject) => {
      let unsub: (() => void) | null = null
      tx.signAndSend(signer, { nonce: -1 }, (r) => {
        if (r.dispatchError !== undefined) {
          unsub?.()
          let msg = r.dispatchError.toString()
          if (r.dispatchError.isModule) {
            const d = this.api.registry.findMetaError(r.dispatchError.asModule)
            msg = `${d.section}.${d.name}`
          }
          reject(DatdotError.chain(`transaction failed: ${msg}`))
        } else if (r.status.isInBlock || r.status.isFinalized) {
          // Over WebSocket chopsticks may report Finalized without InBlock first.
          unsub?.()
          resolve({ blockHash: (r.status.isInBlock ? r.status.asInBlock : r.status.asFinalized).toHex(), index: r.txIndex ?? -1 })
        } else if (r.isError) {
          unsub?.()
          reject(DatdotError.chain(`transaction not included: ${r.status.type}`))
        }
      }).then((u) => { unsub = u }, (err: unknown) => { release(); reject(DatdotError.chain(refusalMessage((err as Error).message), err)) })
    }), CHAIN_LIMITS.submitTimeoutMs, 'waiting for the transaction to be included').finally(() => release())
    const header = await this.api.rpc.chain.getHeader(included.blockHash)
    const blockNumber = header.number.toNumber()
    await this.waitFollowed(blockNumber, included.blockHash)
    return { blockHash: included.blockHash, blockNumber, index: included.index, applied: [] }
  }

  /** True while following or paying is in flight. */
  get busy (): boolean { return this.follower.running || this.paying }

  /** Resolves when following and (for the operator) paying have nothing left in flight. */
  async idle (): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await this.follower.idle()
      await this.payingDone
      if (!this.follower.running && !this.paying) return
    }
  }

  /** Resolves when the follower has applied block `number` (and it is `hash`, when given). */
  waitFollowed (number: number, hash?: string): Promise<void> {
    const cur = this.ledger.cursor()
    if (cur !== null && cur.number >= number && (hash === undefined || this.ledger.appliedHashAt(number) === hash)) return Promise.resolve()
    if (this.headNumber === null || this.headNumber < number) this.headNumber = number
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject, hash: `${number}:${hash ?? ''}` })
      this.scheduleFollow()
    })
  }

  private settleWaiters (): void {
    const cur = this.ledger.cursor()
    if (cur === null) return
    this.waiters = this.waiters.filter((w) => {
      const [n, h] = w.hash.split(':')
      if (Number(n) <= cur.number && (h === '' || this.ledger.appliedHashAt(Number(n)) === h)) { w.resolve(); return false }
      return true
    })
  }

  // ---------------------------------------------------------------- following

  private scheduleFollow (): void {
    this.follower.schedule()
  }

  /** Applies every block from the cursor to the chain head. Public for tests and the bench. */
  async catchUp (): Promise<void> {
    const head = (await this.api.rpc.chain.getHeader()).number.toNumber()
    if (this.headNumber === null || head > this.headNumber) this.headNumber = head
    await this.detectReorg()
    for (;;) {
      if (this.closing) return
      const cur = this.ledger.cursor()
      const next = cur === null ? 1 : cur.number + 1
      if (next > head) break
      const block = await readBlock(this.api, next)
      if (cur !== null && block.input.parentHash !== cur.hash) {
        await this.detectReorg()
        continue
      }
      await this.applyRead(block)
    }
    this.settleWaiters()
    this.emitStatus()
    // Not awaited here: paying waits for its own block to be followed by this same loop.
    if (this.isOperator && !this.paying) this.payingDone = this.maybePay()
  }

  private restoreState (): void {
    const cur = this.ledger.cursor()
    if (cur === null) { this.state = initialState(); return }
    const snap = this.options.db.prepare('SELECT state FROM chain_snapshots WHERE block_hash = ?').get(cur.hash) as { state: string } | undefined
    if (snap === undefined) throw DatdotError.corrupt(`no marketplace snapshot for the ledger cursor ${cur.number}`)
    this.state = deserializeState(snap.state)
  }

  /** Finds where the ledger and the chain diverge and reverts to the common ancestor. */
  private async detectReorg (): Promise<void> {
    const cur = this.ledger.cursor()
    if (cur === null) return
    if (cur.genesisHash !== this.chainId) {
      // Another chain (a reset local chain): reverse everything, start again from block 1.
      this.counters.resets++
      this.emitEntries(this.ledger.revertAbove(-1, this.now()))
      this.state = initialState()
      return
    }
    const chainHashAt = async (n: number): Promise<string | null> => {
      const h = await this.api.rpc.chain.getBlockHash(n)
      return h.isEmpty ? null : h.toHex()
    }
    if ((await chainHashAt(cur.number)) === cur.hash) return
    let ancestor = -1
    for (const b of this.ledger.appliedBlocks(CHAIN_LIMITS.reorgDepth)) {
      if ((await chainHashAt(b.number)) === b.hash) { ancestor = b.number; break }
    }
    this.counters.reorgs++
    this.emitEntries(this.ledger.revertAbove(ancestor, this.now()))
    this.restoreState()
  }

  private trackedAccounts (): string[] {
    const accounts = [this.addressHex]
    const net = this.state.network
    if (net !== null && this.local !== null && this.options.operator !== false) accounts.push(net.escrow)
    return [...new Set(accounts)]
  }

  private async applyRead (block: ReadBlock): Promise<void> {
    const outcome = applyBlock(this.state, block.input)
    const tracked = new Set(this.trackedAccounts())
    const txs: TxInput[] = []
    const hash = block.input.hash
    const name = (hex: string): string => this.formatAddress(hex)
    const faucetHex = toHex(this.keyring.addFromUri(FAUCET_URI).address)

    // Opening balance for an account the ledger has never seen, read at the parent block.
    for (const acc of tracked) {
      if (this.ledger.hasAccount(name(acc))) continue
      const bal = await this.balanceOf(name(acc), block.input.parentHash)
      if (bal !== 0n) txs.push({ key: `${hash}:opening:${acc}`, reason: 'opening', legs: [{ account: name(acc), amountPlanck: bal }, { account: '@opening', amountPlanck: -bal }] })
    }
    const transferSeen = new Map<number, number>()
    for (const ev of block.events) {
      const key = `${hash}:${ev.eventIndex}`
      if (ev.kind === 'transfer' && ev.from !== null && ev.to !== null) {
        // The k-th Transfer event of an extrinsic is its k-th transfer call: count them all.
        const k = transferSeen.get(ev.extrinsic ?? -1) ?? 0
        transferSeen.set(ev.extrinsic ?? -1, k + 1)
        if (!tracked.has(ev.from) && !tracked.has(ev.to)) continue
        const action = outcome.actions.find((a) => a.index === ev.extrinsic)
        const calls = ev.extrinsic === null ? undefined : block.transfersByExtrinsic.get(ev.extrinsic)
        const legs = action !== undefined && calls !== undefined && calls.length > k && calls[k].amountPlanck === ev.amountPlanck ? action.transferLegs[k] : []
        const sumLegs = legs.reduce((a, l) => a + l.amountPlanck, 0n)
        if (legs.length > 0 && sumLegs === ev.amountPlanck) {
          txs.push({
            key,
            reason: legs[0].reason,
            memo: legs.map((l) => l.memo).join('; '),
            legs: legs.flatMap((l) => [
              { account: name(ev.from as string), amountPlanck: -l.amountPlanck, reason: l.reason, memo: l.memo },
              { account: name(ev.to as string), amountPlanck: l.amountPlanck, reason: l.reason, memo: l.memo }
            ])
          })
        } else {
          const reason: LedgerReason = ev.from === faucetHex ? 'faucet' : 'transfer'
          txs.push({ key, reason, legs: [{ account: name(ev.from), amountPlanck: -ev.amountPlanck }, { account: name(ev.to), amountPlanck: ev.amountPlanck }] })
        }
      } else if ((ev.kind === 'withdraw' || ev.kind === 'deposit' || ev.kind === 'dust') && ev.who !== null && tracked.has(ev.who)) {
        const sign = ev.kind === 'deposit' ? 1n : -1n
        txs.push({ key, reason: 'fee', memo: ev.method, legs: [{ account: name(ev.who), amountPlanck: sign * ev.amountPlanck }, { account: ev.kind === 'dust' ? '@dust' : '@fees', amountPlanck: -sign * ev.amountPlanck }] })
      }
    }
    // Invariant: tracked balances in the ledger equal the chain's; anything else is reconciled and counted.
    const delta = new Map<string, bigint>()
    for (const tx of txs) for (const l of tx.legs) delta.set(l.account, (delta.get(l.account) ?? 0n) + l.amountPlanck)
    for (const acc of tracked) {
      const n = name(acc)
      const expected = this.ledger.balance(n) + (delta.get(n) ?? 0n)
      const onChain = await this.balanceOf(n, hash)
      if (onChain !== expected) {
        this.counters.reconciles++
        txs.push({ key: `${hash}:reconcile:${acc}`, reason: 'reconcile', memo: 'balance changed without an event DatDot understands', legs: [{ account: n, amountPlanck: onChain - expected }, { account: '@reconcile', amountPlanck: expected - onChain }] })
      }
    }
    const snapshot = serializeState(this.state)
    const db = this.options.db
    let entries: LedgerEntry[]
    try {
      entries = this.ledger.applyBlock(
        { number: block.input.number, hash, parentHash: block.input.parentHash, genesisHash: this.chainId, timeMs: block.input.timeMs },
        txs,
        () => {
          db.prepare('INSERT OR REPLACE INTO chain_snapshots (block_number, block_hash, chain_id, state) VALUES (?, ?, ?, ?)').run(block.input.number, hash, this.chainId, snapshot)
          db.prepare('DELETE FROM chain_snapshots WHERE block_number < ?').run(block.input.number - CHAIN_LIMITS.snapshotsKept)
        }
      )
    } catch (err) {
      this.restoreState()
      throw err
    }
    this.counters.blocksFollowed++
    this.counters.ledgerRows += entries.length
    this.outcomes.set(hash, outcome)
    if (this.outcomes.size > 256) this.outcomes.delete(this.outcomes.keys().next().value as string)
    this.emitEntries(entries)
    this.emit('block', outcome)
    this.settleWaiters()
  }

  private emitEntries (entries: LedgerEntry[]): void {
    for (const e of entries) this.emit('ledger-entry', e)
  }

  private emitStatus (): void { if (this.opened || this.pair !== undefined) this.emit('status', this.status()) }

  // ---------------------------------------------------------------- operator

  /** True when this service holds the operator keys of the network it follows. */
  get isOperator (): boolean {
    const net = this.state.network
    if (this.local === null || net === null || this.options.operator === false) return false
    return net.operators.includes(u8aToHex(this.local.keys.operators[0].publicKey)) && net.escrow === this.local.keys.escrowHex
  }

  /** Pays owed items from escrow (operator only). Payees without an account get paid once they are owed the existential deposit. */
  private async maybePay (): Promise<void> {
    if (!this.isOperator || this.paying || this.closing) return
    const local = this.local as LocalChain
    const items = owedItems(this.state, CHAIN_LIMITS.payoutItems)
    if (items.length === 0) return
    this.paying = true
    try {
      const ed = this.api.consts.balances.existentialDeposit.toBigInt()
      const sums = new Map<string, bigint>()
      for (const it of items) sums.set(it.to, (sums.get(it.to) ?? 0n) + it.amountPlanck)
      const payable = new Set<string>()
      for (const [to, sum] of sums) {
        if (sum >= ed || (await this.balanceOf(this.formatAddress(to))) > 0n) payable.add(to)
      }
      const chosen = items.filter((i) => payable.has(i.to))
      if (chosen.length === 0) return
      const order: string[] = []
      for (const it of chosen) if (!order.includes(it.to)) order.push(it.to)
      const rec = encodeRecord({ kind: 'payout', items: chosen.map((i) => i.id) })
      const calls = [this.api.tx.system.remarkWithEvent(u8aToHex(rec)), ...order.map((to) => this.api.tx.balances.transferKeepAlive(this.formatAddress(to), sums.get(to) as bigint))]
      const others = local.keys.operators.slice(1).map((o) => o.address)
      const tx = this.api.tx.multisig.asMultiThreshold1(others, this.api.tx.utility.batchAll(calls))
      await this.send(tx, local.keys.operators[0])
      this.counters.payouts++
    } catch (err) {
      this.counters.payoutFailures++
      this.emit('follow-error', err)
    } finally {
      this.paying = false
    }
  }

  private assertOpen (): void {
    if (this.closing) throw DatdotError.closed('chain service')
    if (!this.opened && this.api === undefined) throw DatdotError.chain('the chain service is not ready')
  }
}

function loadOrCreateSeed (file: string): string {
  if (existsSync(file)) {
    chmodSync(file, 0o600)
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { mnemonic?: unknown }
    if (typeof parsed.mnemonic !== 'string') throw DatdotError.corrupt(`wallet seed in ${file}`)
    return parsed.mnemonic
  }
  const mnemonic = mnemonicGenerate()
  writeFileSync(file, JSON.stringify({ mnemonic }), { mode: 0o600, flag: 'wx' })
  return mnemonic
}

/** Plain ws:// only to loopback; anything else must be wss:// (a real Asset Hub endpoint). */
function isLoopbackOrConfigured (url: string): boolean {
  if (url.startsWith('wss://')) return true
  try {
    const host = new URL(url).hostname
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]'
  } catch { return false }
}

/** A chain call that must answer in time: CHAIN_ERROR "timed out ..." at the deadline. */
function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  return sharedWithTimeout(p, ms, what, { onTimeout: () => DatdotError.chain(`timed out ${what}`) })
}

/** Turns the node's terse refusal codes into something a user can act on. */
export function refusalMessage (raw: string): string {
  if (/"payment"/.test(raw) || /Inability to pay/i.test(raw)) return `transaction refused: this account cannot pay the fee (no funds; on a local chain: datdot wallet --faucet 100) (${raw})`
  if (/"stale"|"future"/.test(raw)) return `transaction refused: nonce out of date, try again (${raw})`
  return `transaction refused: ${raw}`
}

/** Contracts `ranges` cut into at `chunksPerContract` blocks each (as marketplace.ts counts them). */
function contractsIn (ranges: Array<[number, number]>, chunksPerContract: number): number {
  let n = 0
  for (const [s, e] of ranges) n += Math.ceil((e - s) / chunksPerContract)
  return n
}

function rangesOverlap (a: Array<[number, number]>, b: Array<[number, number]>): boolean {
  return a.some(([s1, e1]) => b.some(([s2, e2]) => s1 < e2 && s2 < e1))
}
