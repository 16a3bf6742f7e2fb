/**
 * The hosting service: drives the hosting roles (main/hosting/roles.ts) from chain state.
 *
 * It watches the chain service's blocks and the marketplace state (`chain.market`) and does
 * what the state machine assigned to this node's account (`chain.addressHex`):
 * - encoder: replicates the plan's cores from the swarm (the author, other seeders), verifies
 *   every block against the signed root, encodes it for its hoster and delivers it to the
 *   contract's attestor;
 * - attestor: checks every delivery, relays it to the hoster, submits the setup report; runs the
 *   storage and performance challenges the chain issues and submits their reports;
 * - hoster: stores encoded chunks (FileChunkStore under storageDir), answers challenges, and
 *   keeps a plain replica of the plan's cores, announced on the drive's discovery topic, so
 *   ordinary readers replicate the drive from it while the author is offline;
 * - sponsor: when a plan it sponsors hosts its own vault and the vault grows, submits an `update`
 *   record (debounced, one at a time) with the new signed roots and the new ranges.
 * Every party works against the signed root the chain recorded for the contract
 * (`contract.root`), never against its own capture.
 * Peers are reached by the Hyperswarm public key they registered on chain (`joinPeer`); one
 * `datdot/hosting/2` channel runs on every engine connection, next to corestore replication.
 *
 * Seeding mode and limits are persisted in the engine's SQLite ('hosting' migrations).
 * It never logs: it emits 'status' (HostingStatus), 'proof' (ProofRow), 'job' (HostingJob),
 * 'task-error' ({ task, error }), 'seeding' ({ planId, lengths }), 'plan-updated'
 * ({ planId, lengths }) and keeps counters.
 */
import { join } from 'node:path'
import { mkdir, rm } from 'node:fs/promises'
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import Hyperswarm, { type SwarmConnection, type Discovery } from 'hyperswarm'
import DHT from 'hyperdht'
import Hyperdrive from 'hyperdrive'
import type Hypercore from 'hypercore'
import { Resource } from '../shared/resource.js'
import { DatdotError } from '../shared/errors.js'
import { migrate, type Migration } from '../shared/db.js'
import { parseLink, toHex } from '../engine/paths.js'
import type { Engine } from '../engine/engine.js'
import type { ChainService } from '../chain/service.js'
import type { BlockOutcome, Contract, MarketState, Plan, Challenge } from '../chain/marketplace.js'
import { toSignedRoot, toRootHex, type SignedRoot } from '../chain/roots.js'
import { RECORD_LIMITS, STORAGE_FAILURES, type RoleName, type DriveRanges, type SetupFailure, type SetupSlot, type StorageFailure } from '../chain/records.js'
import { FileChunkStore } from './chunk-store.js'
import { Hoster, Attestor, deliverContract, blameOf, withBlame, type HostedContract, type RelayTarget, type KeyPair } from './roles.js'
import { HostingChannel } from './wire.js'
import { realTimers, withTimeout, type Timers } from '../shared/timeout.js'
import { Coalescer } from '../shared/coalescer.js'
import { captureSignedRoot, challengeSeed, commitDeadlineMs, checkContract, type ContractView } from './proof.js'
import { DEFAULT_ROUNDS, encodedChunkHash, signEncodedChunk } from './encoding.js'
import { measurePerformance, performanceRange } from './performance.js'
import { TokenBucket } from './throttle.js'
import type { DeliverMessage, StoredChunk } from './messages.js'

export const HOSTING_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'hosting settings and proofs',
    up: `CREATE TABLE hosting_settings (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      seeding INTEGER NOT NULL,
      storage_bytes INTEGER NOT NULL,
      bandwidth_bps INTEGER NOT NULL,
      region TEXT NOT NULL,
      updated_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE hosting_proofs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      challenge_id INTEGER NOT NULL,
      kind TEXT NOT NULL,
      role TEXT NOT NULL,
      contract_id INTEGER NOT NULL,
      hoster TEXT NOT NULL,
      ok INTEGER NOT NULL,
      reason TEXT,
      latency_ms INTEGER,
      time_ms INTEGER NOT NULL
    ) STRICT;`
  },
  {
    version: 2,
    description: 'performance measurements in proof rows',
    up: 'ALTER TABLE hosting_proofs ADD COLUMN throughput_bps INTEGER;'
  }
]

/** 6 s blocks: 14 400 a day. */
export const BLOCKS_PER_DAY = 14_400

export interface HostingLimits {
  /** Walk length K of a storage challenge (docs/protocol.md section 5). */
  walkSteps: number
  openings: number
  /** Commitment deadline base; 2 x the measured connect time is added. */
  commitBaseMs: number
  /** Connecting to a provider by its noise key. */
  connectTimeoutMs: number
  /** Replicating a block / a range from the swarm. */
  fetchTimeoutMs: number
  requestTimeoutMs: number
  /** How long a hoster waits for its plain replica of a contract before it signs the slot receipt anyway. */
  plainWaitMs: number
  /** Blocks a performance measurement reads. */
  measureBlocks: number
  /** A performance measurement's connect timeout, and again its read timeout (first block, then the rest). */
  measureTimeoutMs: number
  /** Tasks (encode, attest, challenge) running at once. */
  concurrentTasks: number
  /** Proof rows kept in SQLite. */
  proofsKept: number
  /** Plans this node seeds at once. */
  plansSeeded: number
  rounds: number
  /** The setup attestor reports what it has this many blocks before the contract's setup deadline. */
  setupReportMarginBlocks: number
  /** A sponsor waits this long after its vault last grew before it submits a plan update. */
  updateDebounceMs: number
}

export const DEFAULT_HOSTING_LIMITS: HostingLimits = {
  walkSteps: 1024,
  openings: 8,
  commitBaseMs: 2000,
  connectTimeoutMs: 20_000,
  fetchTimeoutMs: 60_000,
  requestTimeoutMs: 30_000,
  plainWaitMs: 5_000,
  measureBlocks: 32,
  measureTimeoutMs: 10_000,
  concurrentTasks: 8,
  proofsKept: 10_000,
  plansSeeded: 256,
  rounds: DEFAULT_ROUNDS,
  setupReportMarginBlocks: 3,
  updateDebounceMs: 10_000
}

/**
 * TEST-ONLY fault injection: makes this node a cheating provider so integration tests can run
 * attacks against the live chain (docs/protocol.md section 7). Never set by the app, the daemon
 * or the CLI; the default is no fault. Each flag is a role's misbehaviour:
 */
export interface HostingFaults {
  /** Hoster: deletes all its encoded chunk files of a contract once its slot is hosting. */
  deleteEncoded?: boolean
  /** Hoster: keeps only this fraction (0..1) of its encoded chunks once its slot is hosting (a fixed pseudo-random subset). */
  keepFraction?: number
  /** Hoster: answers storage challenges (the commitment) only well after the deadline: 2 x commitBaseMs + 2 s after the walk (a hoster re-encoding or fetching its chunks just in time). */
  lateAnswers?: boolean
  /** Hoster: does not serve its plain replica once one of its slots is hosting: drops every new connection from a key that is not a registered provider (readers, performance attestors). */
  refuseReaders?: boolean
  /** Encoder: changes every encoded chunk (and signs the changed chunk), so it does not decode to the original. */
  corruptEncoding?: boolean
  /** Attestor: reports every storage challenge and performance check it is assigned as failed, without running it. */
  failHonest?: boolean
}

export interface HostingSettings { seeding: boolean, storageBytes: number, bandwidthBps: number, region: string }

export interface HostingJob {
  id: string
  role: 'encoder' | 'attestor' | 'hoster' | 'challenge'
  planId: number
  contractId: number
  slot: number | null
  state: 'running' | 'done' | 'failed'
  detail: string | null
  updatedMs: number
}

export interface ProofRow {
  id: number
  challengeId: number
  kind: 'storage' | 'performance'
  role: 'attestor' | 'hoster'
  contractId: number
  hoster: string
  ok: boolean
  reason: string | null
  /** Storage: time to the commitment; performance: time to first block. */
  latencyMs: number | null
  /** Performance only: measured throughput in bytes per second. */
  throughputBps: number | null
  timeMs: number
}

export interface HostingStatus {
  seeding: boolean
  registered: boolean
  storageBytes: number
  bandwidthBps: number
  region: string
  usedBytes: number
  hostedContracts: number
  seededPlans: number
  proofsPassed: number
  proofsFailed: number
  lastProof: ProofRow | null
}

export interface HostingServiceOptions {
  engine: Engine
  chain: ChainService
  /** Folder for encoded chunks and throw-away measurement stores. */
  storageDir: string
  now?: () => number
  timers?: Timers
  limits?: Partial<HostingLimits>
  /** Makes the single-use swarm of a performance measurement (tests: on the loopback testnet). */
  createMeasureSwarm?: (keyPair: { publicKey: Buffer, secretKey: Buffer }) => Hyperswarm
  /** TEST-ONLY: see HostingFaults. */
  faults?: HostingFaults
}

interface SeededPlan {
  planId: number
  cores: Map<string, Hypercore>
  /** Length of each core the plain replica was asked to download (grows with plan updates). */
  lengths: Map<string, number>
  version: number
}

/** The setup attestor's view of one slot. */
interface SetupProgress {
  /** Encoded chunk hash per block index, for every chunk the hoster took and receipted. */
  hashes: Map<number, Buffer>
  failure: SetupFailure | null
  outcome: SetupSlot | null
  settling: boolean
}

/** Maps an attestor's failure reason (PROOF_FAILURE or an error code) to the storage-report reason. */
export function storageFailure (reason: string | null): StorageFailure {
  if (reason === null) return 'OTHER'
  if ((STORAGE_FAILURES as readonly string[]).includes(reason) && reason !== 'NONE') return reason as StorageFailure
  if (reason === 'TIMEOUT') return 'DEADLINE_MISSED'
  if (reason === 'CLOSED' || reason === 'UNREACHABLE') return 'UNREACHABLE'
  return 'OTHER'
}

/** True for the share `keepFraction` of a contract's blocks a keep-fraction hoster keeps (deterministic). */
export function faultKeeps (contractId: number, index: number, keepFraction: number): boolean {
  const h = hcrypto.hash(b4a.from(`datdot/fault/keep/${contractId}/${index}`))
  return h.readUInt32LE(0) / 2 ** 32 < keepFraction
}

/** The chunk an encoder with the corruptEncoding fault sends: one word changed, signed again. */
export function corruptChunk (chunk: StoredChunk, binding: { coreKey: Uint8Array, hosterKey: Uint8Array }, secretKey: Uint8Array): StoredChunk {
  const encoded = b4a.from(chunk.encoded)
  if (encoded.byteLength > 6) encoded[6] ^= 0x01
  else encoded[0] ^= 0x01
  return { ...chunk, encoded, encoderSignature: signEncodedChunk({ coreKey: binding.coreKey, index: chunk.index, hosterKey: binding.hosterKey }, encoded, secretKey) }
}

/**
 * A plan drive entry from a signed root: the blocks of [from, root.length) this node has, as
 * ranges. Blocks it does not have (cleared after a crash-aborted import, or never fetched for a
 * followed drive) are left out: nobody could be sure to fetch them to encode. Null when it has none.
 */
export async function driveRanges (core: Hypercore, root: SignedRoot, from: number): Promise<DriveRanges | null> {
  const { keyHex, root: hex } = toRootHex(root)
  const ranges: Array<[number, number]> = []
  if (await core.has(from, root.length)) {
    ranges.push([from, root.length])
  } else {
    let start = -1
    for (let i = from; i < root.length; i++) {
      const has = await core.has(i)
      if (has && start === -1) start = i
      if (!has && start !== -1) { ranges.push([start, i]); start = -1 }
    }
    if (start !== -1) ranges.push([start, root.length])
  }
  if (ranges.length === 0) return null
  if (ranges.length > RECORD_LIMITS.rangesPerDrive) {
    throw DatdotError.invalidArgument(`core ${keyHex.slice(0, 8)} has blocks missing in ${ranges.length} places (at most ${RECORD_LIMITS.rangesPerDrive} ranges per core): replicate it fully first`)
  }
  return { keyHex, ranges, root: hex }
}

export class HostingService extends Resource {
  readonly engine: Engine
  readonly chain: ChainService
  readonly storageDir: string
  readonly limits: HostingLimits
  readonly now: () => number
  readonly counters = {
    blocks: 0, encoded: 0, relayed: 0, stored: 0, settled: 0, setupReports: 0, storageReports: 0, performanceReports: 0,
    planUpdates: 0, taskErrors: 0, connections: 0, refusedReaders: 0, proofsPassed: 0, proofsFailed: 0
  }

  readonly faults: HostingFaults

  private readonly timers: Timers
  private readonly opts: HostingServiceOptions
  private settings: HostingSettings = { seeding: false, storageBytes: 0, bandwidthBps: 0, region: 'unknown' }
  private store!: FileChunkStore
  private hoster!: Hoster
  private attestor!: Attestor
  private keyPair!: KeyPair
  private swarm!: Hyperswarm
  private readonly channels = new Map<string, HostingChannel>()
  private readonly channelWaiters = new Map<string, Array<() => void>>()
  private readonly tasks = new Map<string, Promise<void>>()
  private readonly done = new Set<string>()
  private readonly queue: Array<() => void> = []
  private running = 0
  private readonly jobs = new Map<string, HostingJob>()
  private readonly seeded = new Map<number, SeededPlan>()
  private readonly openCores = new Map<string, Hypercore>()
  private readonly drivesJoined = new Map<string, Discovery>()
  private readonly setup = new Map<string, SetupProgress>()
  private readonly challengeHashes = new Map<number, string>()
  private readonly peersJoined = new Set<string>()
  /** Brings seeding, encoding and attesting in line with the marketplace: now, and once more after when asked again meanwhile. */
  private readonly syncer = new Coalescer(() => this.sync(), { onError: (err) => { this.taskError('sync', err) }, stopped: () => this.closing })
  private bucket!: TokenBucket
  private readonly sabotaged = new Set<string>()
  /** Pending waits for a block: rejected with CLOSED when the service closes. */
  private readonly waits = new Set<(err: Error) => void>()
  /** Aborted when the service closes: in-flight withTimeout waits and performance measurements stop at once. */
  private readonly closeSignal = new AbortController()
  /** The tail of this node's queue of performance measurements (measureExclusively). */
  private measuring: Promise<void> = Promise.resolve()
  private updateTimer: unknown = null
  private updating = false
  private updateAgain = false
  private readonly onBlock = (out: BlockOutcome): void => { this.onChainBlock(out) }
  private readonly onConnection = (conn: SwarmConnection): void => { this.attach(conn) }
  private readonly onVaultAppend = (): void => { this.scheduleUpdate() }

  constructor (opts: HostingServiceOptions) {
    super()
    if (!opts.storageDir) throw DatdotError.invalidArgument('storageDir is required')
    this.opts = opts
    this.engine = opts.engine
    this.chain = opts.chain
    this.storageDir = opts.storageDir
    this.limits = { ...DEFAULT_HOSTING_LIMITS, ...opts.limits }
    this.now = opts.now ?? Date.now
    this.timers = opts.timers ?? realTimers
    this.faults = { ...opts.faults }
    const kf = this.faults.keepFraction
    if (kf !== undefined && !(kf >= 0 && kf <= 1)) throw DatdotError.invalidArgument('faults.keepFraction must be 0 to 1')
  }

  // ---------------------------------------------------------------- lifecycle

  protected async _open (): Promise<void> {
    const swarm = this.engine.network?.swarm
    if (swarm === null || swarm === undefined) throw DatdotError.invalidArgument('hosting needs the network (the engine is offline)')
    this.swarm = swarm
    migrate(this.engine.db, 'hosting', HOSTING_MIGRATIONS, this.now)
    this.loadSettings()
    await mkdir(join(this.storageDir, 'chunks'), { recursive: true })
    this.store = new FileChunkStore(join(this.storageDir, 'chunks'))
    this.bucket = new TokenBucket({ bytesPerSec: this.settings.seeding ? this.settings.bandwidthBps : 0, now: this.now, timers: this.timers })
    this.keyPair = { publicKey: swarm.keyPair.publicKey, secretKey: swarm.keyPair.secretKey }
    this.hoster = new Hoster({ keyPair: this.keyPair, store: this.store, contract: (id) => this.hostedContract(id) })
    this.hoster.on('stored', () => { this.counters.stored++ })
    this.hoster.on('settled', () => { this.counters.settled++ })
    this.attestor = new Attestor({ keyPair: this.keyPair, route: (msg, from) => this.route(msg, from) })
    swarm.on('connection', this.onConnection)
    for (const conn of swarm.connections) this.attach(conn)
    this.chain.on('block', this.onBlock)
    this.engine.vault.drive.core.on('append', this.onVaultAppend)
    this.scheduleSync()
    this.scheduleUpdate()
  }

  protected async _close (): Promise<void> {
    this.chain.off('block', this.onBlock)
    this.engine.vault?.drive?.core?.off('append', this.onVaultAppend)
    if (this.updateTimer !== null) this.timers.clearTimeout(this.updateTimer)
    this.updateTimer = null
    this.bucket?.close()
    this.swarm?.off('connection', this.onConnection)
    for (const abort of [...this.waits]) abort(DatdotError.closed('hosting service'))
    this.closeSignal.abort()
    await this.syncer.idle()
    for (const ch of this.channels.values()) await ch.close()
    this.channels.clear()
    for (const w of this.channelWaiters.values()) for (const f of w) f()
    for (const f of this.queue.splice(0)) f()
    await Promise.allSettled([...this.tasks.values()])
    for (const key of this.peersJoined) this.swarm?.leavePeer(b4a.from(key, 'hex'))
    for (const d of this.drivesJoined.values()) await d.destroy().catch(() => {})
    for (const core of this.openCores.values()) await core.close().catch(() => {})
  }

  // ---------------------------------------------------------------- settings

  private loadSettings (): void {
    const row = this.engine.db.prepare('SELECT seeding, storage_bytes, bandwidth_bps, region FROM hosting_settings WHERE id = 1').get() as
      { seeding: number, storage_bytes: number, bandwidth_bps: number, region: string } | undefined
    if (row !== undefined) this.settings = { seeding: row.seeding === 1, storageBytes: row.storage_bytes, bandwidthBps: row.bandwidth_bps, region: row.region }
  }

  private saveSettings (): void {
    const s = this.settings
    this.engine.db.prepare(`INSERT INTO hosting_settings (id, seeding, storage_bytes, bandwidth_bps, region, updated_ms) VALUES (1, ?, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET seeding = excluded.seeding, storage_bytes = excluded.storage_bytes, bandwidth_bps = excluded.bandwidth_bps, region = excluded.region, updated_ms = excluded.updated_ms`)
      .run(s.seeding ? 1 : 0, s.storageBytes, s.bandwidthBps, s.region, this.now())
  }

  getSettings (): HostingSettings { return { ...this.settings } }

  /**
   * Seeding on registers this node as a provider with its limits, by default in every role
   * (`roles` narrows it: tests register single-role providers); off unregisters.
   */
  async setSeeding (opts: { on: boolean, storageBytes?: number, bandwidthBps?: number, region?: string, roles?: RoleName[] }): Promise<HostingStatus> {
    this.assertOpen()
    const next: HostingSettings = {
      seeding: opts.on,
      storageBytes: opts.storageBytes ?? this.settings.storageBytes,
      bandwidthBps: opts.bandwidthBps ?? this.settings.bandwidthBps,
      region: opts.region ?? this.settings.region
    }
    if (next.seeding && (!Number.isSafeInteger(next.storageBytes) || next.storageBytes <= 0)) throw DatdotError.invalidArgument('storageBytes must be a positive whole number')
    if (next.seeding && (!Number.isSafeInteger(next.bandwidthBps) || next.bandwidthBps <= 0)) throw DatdotError.invalidArgument('bandwidthBps must be a positive whole number')
    if (next.region.length === 0 || next.region.length > 32) throw DatdotError.invalidArgument('region must be 1 to 32 characters')
    const roles: RoleName[] = opts.roles ?? ['encoder', 'hoster', 'attestor']
    if (roles.length === 0 || roles.some((r) => !['encoder', 'hoster', 'attestor'].includes(r))) throw DatdotError.invalidArgument('roles must be some of encoder, hoster, attestor')
    const registered = this.chain.market.providers[this.chain.addressHex] !== undefined
    if (next.seeding) {
      await this.chain.registerProvider({
        roles,
        storageBytes: next.storageBytes,
        bandwidthBps: next.bandwidthBps,
        region: next.region,
        noiseKeyHex: toHex(this.keyPair.publicKey)
      })
    } else if (registered) {
      await this.chain.unregisterProvider()
    }
    this.settings = next
    this.saveSettings()
    this.bucket.setRate(next.seeding ? next.bandwidthBps : 0)
    this.scheduleSync()
    return this.emitStatus()
  }

  // ---------------------------------------------------------------- sponsor side

  /** Publishes a plan for a drive this node has (its vault or a followed drive): both its cores. */
  async sponsor (opts: { link: string, replicas: number, days: number, pricePlanck: bigint }): Promise<{ planId: number }> {
    this.assertOpen()
    const { key } = parseLink(opts.link)
    if (!Number.isSafeInteger(opts.replicas) || opts.replicas < 1 || opts.replicas > 8) throw DatdotError.invalidArgument('replicas must be 1 to 8')
    if (!Number.isSafeInteger(opts.days) || opts.days < 1 || opts.days > 3650) throw DatdotError.invalidArgument('days must be 1 to 3650')
    if (opts.pricePlanck <= 0n) throw DatdotError.invalidArgument('the price must be positive')
    const vault = this.engine.vault.drive
    const own = b4a.equals(vault.key, key)
    const drive = own ? vault : new Hyperdrive(this.engine.store.session(), b4a.from(key))
    try {
      await drive.ready()
      if (!own) await drive.update({ wait: true })
      if (drive.core.length === 0) throw DatdotError.notFound('the drive’s content (not replicated yet)')
      // the signed roots of both cores as they are now: every party works against these
      const drives: DriveRanges[] = []
      const meta = await driveRanges(drive.core, await captureSignedRoot(drive.core), 0)
      if (meta === null) throw DatdotError.notFound('the drive’s content (not replicated yet)')
      drives.push(meta)
      const blobs = await drive.getBlobs()
      if (blobs !== null && blobs.core.length > 0) {
        const b = await driveRanges(blobs.core, await captureSignedRoot(blobs.core), 0)
        if (b !== null) drives.push(b)
      }
      const res = await this.chain.publishPlan({ drives, replicas: opts.replicas, durationBlocks: opts.days * BLOCKS_PER_DAY, budgetPlanck: opts.pricePlanck })
      return { planId: res.planId }
    } finally {
      if (!own) await drive.close().catch(() => {})
    }
  }

  async unpublish (planId: number): Promise<void> {
    this.assertOpen()
    await this.chain.unpublish(planId)
  }

  // ---------------------------------------------------------------- sponsor: plan updates

  /** The active plans this node sponsors for its own vault. */
  private vaultPlans (): Plan[] {
    const me = this.chain.addressHex
    const vaultKey = toHex(this.engine.vault.drive.key)
    return Object.values(this.chain.market.plans).filter((p) => p.sponsor === me && p.status === 'active' && p.drives[0]?.keyHex === vaultKey)
  }

  /** Debounced: the vault grew (or the chain moved); an update goes out when it has been quiet for updateDebounceMs. */
  private scheduleUpdate (): void {
    if (this.closing || !this.opened && this.swarm === undefined) return
    if (this.updating) { this.updateAgain = true; return }
    if (this.updateTimer !== null) this.timers.clearTimeout(this.updateTimer)
    this.updateTimer = this.timers.setTimeout(() => {
      this.updateTimer = null
      this.runUpdates()
    }, this.limits.updateDebounceMs)
  }

  private runUpdates (): void {
    if (this.closing || this.updating) return
    this.updating = true
    this.updateAgain = false
    ;(async () => {
      for (const plan of this.vaultPlans()) await this.updatePlan(plan)
    })().catch((err) => { this.taskError('plan-update', err) }).finally(() => {
      this.updating = false
      if (this.updateAgain) this.scheduleUpdate()
    })
  }

  /** Submits an update for one plan when its cores grew past their recorded roots: new roots, ranges [old, new). */
  private async updatePlan (plan: Plan): Promise<void> {
    const vault = this.engine.vault.drive
    const cores = new Map<string, Hypercore>([[toHex(vault.key), vault.core]])
    const blobs = await vault.getBlobs()
    if (blobs !== null) cores.set(toHex(blobs.core.key as Buffer), blobs.core)
    const drives: DriveRanges[] = []
    for (const d of plan.drives) {
      const core = cores.get(d.keyHex)
      if (core === undefined || core.length <= d.root.length) continue
      if (core.fork !== d.root.fork) throw DatdotError.invalidArgument(`core ${d.keyHex.slice(0, 8)} was truncated (fork ${core.fork}, the plan has ${d.root.fork}): publish a new plan`)
      const grown = await driveRanges(core, await captureSignedRoot(core), d.root.length)
      if (grown !== null) drives.push(grown)
    }
    if (drives.length === 0) return
    await this.chain.updatePlan({ planId: plan.id, drives, budgetPlanck: 0n })
    this.counters.planUpdates++
    this.emit('plan-updated', { planId: plan.id, lengths: drives.map((d) => d.root.length) })
  }

  // ---------------------------------------------------------------- queries

  status (): HostingStatus {
    const me = this.chain.addressHex
    const p = this.chain.market.providers[me]
    const last = this.listProofs(1)[0] ?? null
    let hosted = 0
    for (const c of Object.values(this.chain.market.contracts)) hosted += c.slots.filter((s) => s.hoster === me).length
    return {
      seeding: this.settings.seeding,
      registered: p !== undefined,
      storageBytes: this.settings.storageBytes,
      bandwidthBps: this.settings.bandwidthBps,
      region: this.settings.region,
      usedBytes: p?.usedBytes ?? 0,
      hostedContracts: hosted,
      seededPlans: this.seeded.size,
      proofsPassed: this.counters.proofsPassed,
      proofsFailed: this.counters.proofsFailed,
      lastProof: last
    }
  }

  listJobs (): HostingJob[] {
    return [...this.jobs.values()].sort((a, b) => b.updatedMs - a.updatedMs)
  }

  listProofs (limit: number): ProofRow[] {
    const n = Math.max(1, Math.min(1000, Math.floor(limit)))
    const rows = this.engine.db.prepare('SELECT * FROM hosting_proofs ORDER BY id DESC LIMIT ?').all(n) as Array<{
      id: number, challenge_id: number, kind: string, role: string, contract_id: number, hoster: string, ok: number, reason: string | null, latency_ms: number | null, throughput_bps: number | null, time_ms: number
    }>
    return rows.map((r) => ({
      id: r.id, challengeId: r.challenge_id, kind: r.kind as ProofRow['kind'], role: r.role as ProofRow['role'], contractId: r.contract_id,
      hoster: r.hoster, ok: r.ok === 1, reason: r.reason, latencyMs: r.latency_ms, throughputBps: r.throughput_bps, timeMs: r.time_ms
    }))
  }

  /** Deletes this node's encoded chunks of a contract (tests: a hoster that throws data away). */
  async dropChunks (contractId: number): Promise<number> {
    const c = this.chain.market.contracts[contractId]
    if (c === undefined) throw DatdotError.notFound(`contract ${contractId}`)
    let n = 0
    for (let i = c.start; i < c.end; i++) if (await this.store.deleteChunk(b4a.from(c.keyHex, 'hex'), i)) n++
    return n
  }

  private emitStatus (): HostingStatus {
    const s = this.status()
    this.emit('status', s)
    return s
  }

  private assertOpen (): void {
    if (!this.opened || this.closing) throw DatdotError.closed('hosting service')
  }

  // ---------------------------------------------------------------- chain following

  private onChainBlock (out: BlockOutcome): void {
    this.counters.blocks++
    for (const id of out.newChallenges) this.challengeHashes.set(id, out.hash)
    if (this.challengeHashes.size > 4096) this.challengeHashes.delete(this.challengeHashes.keys().next().value as number)
    this.observeOutcome(out)
    this.scheduleSync()
  }

  /** What the hoster learns about challenges against it from reports and notices. */
  private observeOutcome (out: BlockOutcome): void {
    const me = this.chain.addressHex
    for (const n of out.notices) {
      if (n.startsWith(`hoster ${me} `)) this.emit('slot-lost', { notice: n })
    }
  }

  private scheduleSync (): void {
    this.syncer.schedule()
  }

  private async sync (): Promise<void> {
    if (this.closing || !this.opened && this.swarm === undefined) return
    const market = this.chain.market
    const me = this.chain.addressHex
    const wantPlans = new Set<number>()
    for (const contract of Object.values(market.contracts)) {
      const plan = market.plans[contract.planId]
      if (plan === undefined || plan.status !== 'active') continue
      contract.slots.forEach((slot, i) => {
        if (slot.hoster === me) {
          wantPlans.add(plan.id)
          if (slot.state === 'hosting') this.sabotage(contract, i)
        }
        if (slot.encoder === me && slot.state === 'setup' && slot.hoster !== null && contract.attestor !== null) {
          const id = `encode:${contract.id}:${i}:${slot.since}:${slot.hoster}:${contract.attestor}`
          this.startTask(id, { role: 'encoder', planId: plan.id, contractId: contract.id, slot: i }, () => this.encode(contract.id, i))
        }
      })
      if (contract.attestor === me && contract.slots.some((s) => s.state === 'setup')) this.maybeReportSetup(contract.id)
    }
    for (const ch of Object.values(market.challenges)) {
      if (!ch.attestors.includes(me)) continue
      if (ch.kind === 'performance' && ch.reports.some((r) => r.attestor === me)) continue
      const contract = market.contracts[ch.contractId]
      if (contract === undefined) continue
      this.startTask(`challenge:${ch.id}`, { role: 'challenge', planId: contract.planId, contractId: ch.contractId, slot: ch.slot }, () => this.runChallenge(ch))
    }
    for (const planId of wantPlans) {
      const entry = this.seeded.get(planId)
      if (entry === undefined) {
        if (this.seeded.size < this.limits.plansSeeded) this.seedPlan(market.plans[planId])
      } else {
        this.keepCurrent(entry, market.plans[planId])
      }
    }
    for (const planId of [...this.seeded.keys()]) {
      if (!wantPlans.has(planId)) await this.stopSeeding(planId)
    }
    await this.freeDroppedChunks(market)
    if (this.vaultPlans().length > 0 && this.updateTimer === null && !this.updating && this.vaultGrew()) this.scheduleUpdate()
  }

  /** True when a core of one of this node's vault plans is longer than the plan's recorded root. */
  private vaultGrew (): boolean {
    const core = this.engine.vault.drive.core
    return this.vaultPlans().some((p) => p.drives[0].root.length < core.length)
  }

  // ---------------------------------------------------------------- tasks

  private startTask (id: string, job: Omit<HostingJob, 'id' | 'state' | 'detail' | 'updatedMs'>, fn: () => Promise<void>): void {
    if (this.tasks.has(id) || this.done.has(id) || this.closing) return
    const rec: HostingJob = { id, ...job, state: 'running', detail: null, updatedMs: this.now() }
    this.jobs.set(id, rec)
    if (this.jobs.size > 1000) this.jobs.delete(this.jobs.keys().next().value as string)
    this.emit('job', rec)
    const p = (async () => {
      await this.slot()
      try {
        if (this.closing) return
        await fn()
        rec.state = 'done'
        this.done.add(id)
      } catch (err) {
        rec.state = 'failed'
        rec.detail = DatdotError.from(err).message
        this.done.add(id)
        this.taskError(id, err)
      } finally {
        this.running--
        this.queue.shift()?.()
        rec.updatedMs = this.now()
        this.emit('job', rec)
      }
    })()
    this.tasks.set(id, p)
    p.finally(() => { this.tasks.delete(id) }).catch(() => {})
  }

  private async slot (): Promise<void> {
    if (this.running < this.limits.concurrentTasks) { this.running++; return }
    await new Promise<void>((resolve) => this.queue.push(resolve))
    this.running++
  }

  private taskError (task: string, err: unknown): void {
    this.counters.taskErrors++
    this.emit('task-error', { task, error: DatdotError.from(err) })
  }

  // ---------------------------------------------------------------- connections

  /** True when one of this node's slots is hosting (test-only faults start then, like a cheater would). */
  private hostsAnySlot (): boolean {
    const me = this.chain.addressHex
    return Object.values(this.chain.market.contracts).some((c) => c.slots.some((s) => s.hoster === me && s.state === 'hosting'))
  }

  private isProviderKey (keyHex: string): boolean {
    return Object.values(this.chain.market.providers).some((p) => p.noiseKeyHex === keyHex)
  }

  private attach (conn: SwarmConnection): void {
    const key = toHex(conn.remotePublicKey)
    if (this.faults.refuseReaders === true && this.hostsAnySlot() && !this.isProviderKey(key)) {
      // test-only fault: a hoster that serves nobody but providers (readers and measuring attestors are dropped)
      this.counters.refusedReaders++
      conn.destroy()
      return
    }
    const hosterHandlers = this.hoster.handlers()
    let channel: HostingChannel
    try {
      channel = new HostingChannel(conn, {
        ondeliver: (msg, from) => this.ondeliver(msg, from),
        onchallenge: async (msg, from) => {
          const hashes = await (hosterHandlers.onchallenge as NonNullable<typeof hosterHandlers.onchallenge>)(msg, from)
          // test-only fault: clearly past the attestor's deadline (base + 2 x its connect time) for
          // any connect time under base / 2 + 1 s, so a re-check by another attestor fails too;
          // at or past its request timeout (2 x deadline + 1 s), which it reports as DEADLINE_MISSED
          if (this.faults.lateAnswers === true) await this.delay(2 * this.limits.commitBaseMs + 2000)
          return hashes
        },
        onopen: (msg, from) => (hosterHandlers.onopen as NonNullable<typeof hosterHandlers.onopen>)(msg, from),
        onsettle: async (msg, from) => {
          // the receipt says "stored and served": sign it once the plain replica has the contract's blocks
          await this.plainReplicaReady(msg.contractId)
          return await (hosterHandlers.onsettle as NonNullable<typeof hosterHandlers.onsettle>)(msg, from)
        }
      }, { requestTimeoutMs: this.limits.requestTimeoutMs, timers: this.timers, replyLimiter: (bytes) => this.bucket.take(bytes) })
    } catch {
      return
    }
    this.counters.connections++
    this.channels.set(key, channel)
    conn.once('close', () => { if (this.channels.get(key) === channel) this.channels.delete(key) })
    channel.ready().then(() => {
      for (const f of this.channelWaiters.get(key) ?? []) f()
      this.channelWaiters.delete(key)
    }, () => {})
  }

  private delay (ms: number): Promise<void> {
    return this.withTimeout(new Promise<void>(() => {}), ms, 'delay').catch((err: DatdotError) => {
      if (err.code !== 'TIMEOUT') throw err
    })
  }

  /** A ready hosting channel to the provider with this Hyperswarm key. */
  private async channelTo (noiseKeyHex: string): Promise<{ channel: HostingChannel, connectMs: number }> {
    const t0 = this.now()
    const existing = this.channels.get(noiseKeyHex)
    if (existing !== undefined && !existing.closed) {
      await this.withTimeout(existing.ready(), this.limits.connectTimeoutMs, 'hosting channel')
      return { channel: existing, connectMs: this.now() - t0 }
    }
    await new Promise<void>((resolve, reject) => {
      const list = this.channelWaiters.get(noiseKeyHex) ?? []
      const timer = this.timers.setTimeout(() => reject(DatdotError.timeout(`connecting to provider ${noiseKeyHex.slice(0, 8)}`, this.limits.connectTimeoutMs)), this.limits.connectTimeoutMs)
      list.push(() => { this.timers.clearTimeout(timer); resolve() })
      this.channelWaiters.set(noiseKeyHex, list)
      this.peersJoined.add(noiseKeyHex)
      this.swarm.joinPeer(b4a.from(noiseKeyHex, 'hex'))
    })
    if (this.closing) throw DatdotError.closed('hosting service')
    const ch = this.channels.get(noiseKeyHex)
    if (ch === undefined || ch.closed) throw DatdotError.closed('hosting channel')
    return { channel: ch, connectMs: this.now() - t0 }
  }

  /** Rejects after `ms`, or with CLOSED as soon as the service closes (so closing never waits out a fetch). */
  private withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
    if (this.closing) return Promise.reject(DatdotError.closed('hosting service'))
    return withTimeout(p, ms, what, { timers: this.timers, signal: this.closeSignal.signal, closed: 'hosting service' })
  }

  private providerKey (address: string | null): string {
    const p = address === null ? undefined : this.chain.market.providers[address]
    if (p === undefined) throw DatdotError.notFound(`provider ${address ?? '(none)'}`)
    return p.noiseKeyHex
  }

  // ---------------------------------------------------------------- cores and roots

  /** The end of the plan's hosted ranges of one core (the plain replica downloads [0, end)). */
  private planLength (plan: Plan, driveIndex: number): number {
    return Math.max(...plan.drives[driveIndex].ranges.map(([, e]) => e))
  }

  /** Opens a core of a plan and looks for it on the drive's topic (client; the hoster also announces). */
  private core (plan: Plan, keyHex: string, server: boolean): Hypercore {
    const driveKey = b4a.from(plan.drives[0].keyHex, 'hex')
    const topicHex = toHex(hcrypto.discoveryKey(driveKey))
    // a hoster that refuses readers (test-only fault) does not announce the drive
    const announce = server && this.faults.refuseReaders !== true
    const joined = this.drivesJoined.get(topicHex)
    if (joined === undefined) {
      this.drivesJoined.set(topicHex, this.swarm.join(hcrypto.discoveryKey(driveKey), { server: announce, client: true }))
    } else if (announce) {
      joined.refresh({ server: true, client: true }).catch(() => {})
    }
    let core = this.openCores.get(keyHex)
    if (core === undefined) {
      core = this.engine.store.get({ key: b4a.from(keyHex, 'hex') })
      this.openCores.set(keyHex, core)
    }
    return core
  }

  /**
   * The contract's view: its range and the signed root the chain recorded when the contract was
   * cut (`contract.root`, verified by every interpreter). Never this node's own capture.
   */
  private viewOf (contract: Contract): ContractView {
    const view = { contractId: contract.id, root: toSignedRoot(contract.keyHex, contract.root), start: contract.start, end: contract.end }
    checkContract(view)
    return view
  }

  /** Waits until the local replica knows at least `length` blocks of the core (it may know more). */
  private async reachLength (core: Hypercore, length: number): Promise<void> {
    await core.ready()
    while (core.length < length) {
      const done = core.findingPeers()
      await core.update({ wait: true }).finally(done)
      if (core.length < length) await new Promise<void>((resolve) => core.once('append', () => resolve()))
    }
  }

  // ---------------------------------------------------------------- encoder

  private async encode (contractId: number, slotIndex: number): Promise<void> {
    const contract = this.chain.market.contracts[contractId]
    if (contract === undefined) return
    const slot = contract.slots[slotIndex]
    const plan = this.chain.market.plans[contract.planId]
    const hosterKey = b4a.from(this.providerKey(slot.hoster), 'hex')
    const attestorKeyHex = this.providerKey(contract.attestor)
    const view = this.viewOf(contract)
    const core = this.core(plan, contract.keyHex, false)
    const what = `blocks of contract ${contractId}`
    await this.withTimeout(this.reachLength(core, view.root.length), this.limits.fetchTimeoutMs, what)
    if (core.fork !== view.root.fork) throw DatdotError.invalidArgument(`core ${contract.keyHex.slice(0, 8)} is at fork ${core.fork}, the contract's root at ${view.root.fork}`)
    // The contract's blocks, and the last block of the root: its proof brings the full roots of the
    // tree at root.length, so merkle proofs against that length can be built even when this
    // replica is longer (the author appended after the contract was cut) and sparse.
    await this.withTimeout(core.download({ start: view.start, end: view.end }).done(), this.limits.fetchTimeoutMs, what)
    await this.withTimeout(core.get(view.root.length - 1).then(() => {}), this.limits.fetchTimeoutMs, what)
    const { channel } = await this.channelTo(attestorKeyHex)
    const res = await deliverContract(core, view, hosterKey, this.keyPair, channel, {
      rounds: this.limits.rounds,
      attestorKey: b4a.from(attestorKeyHex, 'hex'),
      timeoutMs: this.limits.requestTimeoutMs,
      ...(this.faults.corruptEncoding === true ? { tamper: (chunk: StoredChunk, hk: Uint8Array) => corruptChunk(chunk, { coreKey: view.root.coreKey, hosterKey: hk }, this.keyPair.secretKey) } : {})
    })
    this.counters.encoded += res.delivered
  }

  // ---------------------------------------------------------------- attestor (setup)

  private slotKey (contract: Contract, i: number): string {
    const s = contract.slots[i]
    return `${contract.id}:${i}:${s.since}:${s.hoster ?? ''}:${s.encoder ?? ''}`
  }

  private progressOf (contract: Contract, i: number): SetupProgress {
    const key = this.slotKey(contract, i)
    let p = this.setup.get(key)
    if (p === undefined) {
      p = { hashes: new Map(), failure: null, outcome: null, settling: false }
      this.setup.set(key, p)
    }
    return p
  }

  /** The setup slot this channel's peer encodes for, when this node is the contract's attestor. */
  private setupSlotOf (contract: Contract | undefined, from: HostingChannel): number {
    if (contract === undefined || contract.attestor !== this.chain.addressHex || from.remotePublicKey === null) return -1
    const sender = toHex(from.remotePublicKey)
    return contract.slots.findIndex((s) => s.state === 'setup' && s.encoder !== null && this.chain.market.providers[s.encoder]?.noiseKeyHex === sender)
  }

  /** True when this node hosts a slot of the contract and the channel's peer is the contract's attestor. */
  private deliveryToHost (contract: Contract | undefined, from: HostingChannel): boolean {
    if (contract === undefined || contract.attestor === null || from.remotePublicKey === null) return false
    const me = this.chain.addressHex
    return contract.slots.some((s) => s.hoster === me) && this.chain.market.providers[contract.attestor]?.noiseKeyHex === toHex(from.remotePublicKey)
  }

  /**
   * Resolves when `check()` holds, re-checking on every followed block, or after `ms` anyway:
   * a peer may act on a block this node has not followed yet.
   */
  private untilChain (check: () => boolean, ms: number): Promise<void> {
    if (check() || this.closing) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => { this.chain.off('block', onblock); this.timers.clearTimeout(timer); this.waits.delete(done); resolve() }
      const onblock = (): void => { if (check() || this.closing) done() }
      const timer = this.timers.setTimeout(done, ms)
      this.waits.add(done)
      this.chain.on('block', onblock)
    })
  }

  private async ondeliver (msg: DeliverMessage, from: HostingChannel): Promise<Buffer> {
    let contract = this.chain.market.contracts[msg.contractId]
    let slotIndex = this.setupSlotOf(contract, from)
    if (slotIndex === -1 && !this.deliveryToHost(contract, from)) {
      // neither an encoder's delivery to me as the attestor nor the attestor's to me as a hoster, yet
      await this.untilChain(() => {
        contract = this.chain.market.contracts[msg.contractId]
        slotIndex = this.setupSlotOf(contract, from)
        return slotIndex !== -1 || this.deliveryToHost(contract, from)
      }, this.limits.connectTimeoutMs)
    }
    if (contract === undefined || slotIndex === -1) {
      return await (this.hoster.handlers().ondeliver as NonNullable<ReturnType<Hoster['handlers']>['ondeliver']>)(msg, from)
    }
    const progress = this.progressOf(contract, slotIndex)
    try {
      const receipt = await (this.attestor.handlers().ondeliver as NonNullable<ReturnType<Attestor['handlers']>['ondeliver']>)(msg, from)
      progress.hashes.set(msg.chunk.index, encodedChunkHash(msg.chunk.encoded))
      this.counters.relayed++
      if (progress.hashes.size === contract.end - contract.start) this.settleSlot(contract, slotIndex, progress)
      return receipt
    } catch (err) {
      const blame = blameOf(err)
      if (blame !== null && progress.failure === null && progress.outcome === null) progress.failure = blame
      throw err
    } finally {
      this.maybeReportSetup(contract.id)
    }
  }

  private async route (msg: DeliverMessage, from: HostingChannel): Promise<RelayTarget | null> {
    const contract = this.chain.market.contracts[msg.contractId]
    const slotIndex = this.setupSlotOf(contract, from)
    if (contract === undefined || slotIndex === -1 || from.remotePublicKey === null) return null
    const slot = contract.slots[slotIndex]
    const hosterKeyHex = this.providerKey(slot.hoster)
    let channel: HostingChannel
    try {
      channel = (await this.channelTo(hosterKeyHex)).channel
    } catch (err) {
      throw withBlameMissing(err)
    }
    const hosted: HostedContract = { contract: this.viewOf(contract), encoderKey: from.remotePublicKey, rounds: this.limits.rounds }
    return { hosted, hosterKey: b4a.from(hosterKeyHex, 'hex'), hoster: channel }
  }

  /** After the slot's last chunk: the hoster signs the receipts root (slot receipt). */
  private settleSlot (contract: Contract, i: number, progress: SetupProgress): void {
    if (progress.settling) return
    progress.settling = true
    const slot = contract.slots[i]
    this.startTask(`settle:${this.slotKey(contract, i)}`, { role: 'attestor', planId: contract.planId, contractId: contract.id, slot: i }, async () => {
      try {
        const hosterKeyHex = this.providerKey(slot.hoster)
        const view = this.viewOf(contract)
        const hashes: Buffer[] = []
        for (let index = view.start; index < view.end; index++) hashes.push(progress.hashes.get(index) as Buffer)
        let channel: HostingChannel
        try {
          channel = (await this.channelTo(hosterKeyHex)).channel
        } catch (err) {
          throw withBlameMissing(err)
        }
        const r = await this.attestor.settle(channel, { contract: view, hosterKey: b4a.from(hosterKeyHex, 'hex'), encodedHashes: hashes, timeoutMs: this.limits.requestTimeoutMs })
        progress.outcome = { ok: true, receiptsRootHex: toHex(r.receiptsRoot), receiptHex: toHex(r.signature) }
      } catch (err) {
        if (progress.outcome === null && progress.failure === null) progress.failure = blameOf(err) ?? 'hoster-missing'
        throw err
      } finally {
        this.maybeReportSetup(contract.id)
      }
    })
  }

  private readonly reported = new Set<string>()

  /**
   * Reports the contract's setup once every slot in setup has an outcome (a slot receipt or a
   * blame), or, when the setup deadline is near, what it has: a slot still waiting for chunks
   * blames its encoder ('encoder-missing'). One entry per slot; entries of slots not in setup
   * are ignored by the state machine.
   */
  private maybeReportSetup (contractId: number): void {
    const contract = this.chain.market.contracts[contractId]
    if (contract === undefined || contract.attestor !== this.chain.addressHex) return
    if (!contract.slots.some((s) => s.state === 'setup')) return
    const now = this.chain.market.block?.number ?? 0
    const late = contract.setupDeadline !== null && now >= contract.setupDeadline - this.limits.setupReportMarginBlocks
    const slots: Array<SetupSlot | null> = contract.slots.map((s, i) => {
      if (s.state !== 'setup') return { ok: false, reason: 'encoder-missing' } // ignored: not in setup
      const p = this.setup.get(this.slotKey(contract, i))
      if (p?.outcome !== null && p?.outcome !== undefined) return p.outcome
      if (p?.failure !== null && p?.failure !== undefined) return { ok: false, reason: p.failure }
      if (!late || p?.settling === true) return null
      return { ok: false, reason: 'encoder-missing' }
    })
    if (slots.includes(null)) return
    const key = `${contract.id}:${contract.slots.map((s) => `${s.hoster ?? ''}/${s.encoder ?? ''}/${s.state}/${s.since}`).join(',')}`
    if (this.reported.has(key)) return
    this.reported.add(key)
    this.startTask(`setup-report:${key}`, { role: 'attestor', planId: contract.planId, contractId: contract.id, slot: null }, async () => {
      await this.chain.submitSetupReport(contract.id, slots as SetupSlot[])
      this.counters.setupReports++
    })
  }

  // ---------------------------------------------------------------- hoster

  private async hostedContract (contractId: number): Promise<HostedContract | null> {
    const contract = this.chain.market.contracts[contractId]
    const me = this.chain.addressHex
    if (contract === undefined) return null
    const slot = contract.slots.find((s) => s.hoster === me)
    if (slot === undefined || slot.encoder === null) return null
    const encoder = this.chain.market.providers[slot.encoder]
    if (encoder === undefined) return null
    return { contract: this.viewOf(contract), encoderKey: b4a.from(encoder.noiseKeyHex, 'hex'), rounds: this.limits.rounds }
  }

  /**
   * Resolves when this hoster's plain replica (what readers and performance checks are served
   * from) has every block of the contract, or after `limits.plainWaitMs` anyway. A hoster signs a
   * slot receipt after it, so a slot usually starts hosting once its hoster can serve readers.
   */
  private async plainReplicaReady (contractId: number): Promise<void> {
    const contract = this.chain.market.contracts[contractId]
    if (contract === undefined) return // the hoster's own handler refuses an unknown contract
    const timeoutMs = this.limits.plainWaitMs
    await this.untilChain(() => this.seeded.has(contract.planId), timeoutMs)
    const core = this.seeded.get(contract.planId)?.cores.get(contract.keyHex)
    if (core === undefined) return
    const what = `the plain replica of contract ${contractId}`
    try {
      await this.withTimeout(this.reachLength(core, contract.end), timeoutMs, what)
      await this.withTimeout(core.download({ start: contract.start, end: contract.end }).done(), timeoutMs, what)
    } catch {
      // not complete yet: sign anyway (the seed job keeps downloading). A setup must not miss its
      // deadline for it, and a lone empty performance reading is outvoted and costs nothing.
    }
  }

  /** Keeps a plain replica of every core of the plan and announces the drive: readers replicate from it. */
  private seedPlan (plan: Plan): void {
    const cores = new Map<string, Hypercore>()
    for (const d of plan.drives) cores.set(d.keyHex, this.core(plan, d.keyHex, true))
    const entry: SeededPlan = { planId: plan.id, cores, lengths: new Map(), version: 0 }
    this.seeded.set(plan.id, entry)
    this.download(entry, plan, `seed:${plan.id}`)
  }

  /** A plan update made the plan's cores longer: the plain replica downloads the new blocks too. */
  private keepCurrent (entry: SeededPlan, plan: Plan): void {
    if (plan.drives.every((d, i) => (entry.lengths.get(d.keyHex) ?? 0) >= this.planLength(plan, i))) return
    for (const d of plan.drives) if (!entry.cores.has(d.keyHex)) entry.cores.set(d.keyHex, this.core(plan, d.keyHex, true))
    entry.version++
    this.download(entry, plan, `seed:${plan.id}:v${entry.version}`)
  }

  private download (entry: SeededPlan, plan: Plan, id: string): void {
    // the plan's ranges past what was asked before (a plan leaves out blocks its sponsor lacked)
    const from = new Map(plan.drives.map((d) => [d.keyHex, entry.lengths.get(d.keyHex) ?? 0]))
    const ranges = plan.drives.flatMap((d) => d.ranges
      .filter(([, e]) => e > (from.get(d.keyHex) as number))
      .map(([s, e]) => ({ keyHex: d.keyHex, start: Math.max(s, from.get(d.keyHex) as number), end: e })))
    plan.drives.forEach((d, i) => entry.lengths.set(d.keyHex, Math.max(this.planLength(plan, i), from.get(d.keyHex) as number)))
    this.startTask(id, { role: 'hoster', planId: plan.id, contractId: plan.contractIds[0] ?? 0, slot: null }, async () => {
      try {
        for (const r of ranges) {
          if (r.end <= r.start) continue
          const core = entry.cores.get(r.keyHex) as Hypercore
          await this.withTimeout(this.reachLength(core, r.end), this.limits.fetchTimeoutMs, `the plain replica of core ${r.keyHex.slice(0, 8)}`)
          await this.withTimeout(core.download({ start: r.start, end: r.end }).done(), this.limits.fetchTimeoutMs, `the plain replica of core ${r.keyHex.slice(0, 8)}`)
        }
      } catch (err) {
        // not there yet: the next block's sync asks again (a new version of the job)
        for (const [keyHex, was] of from) entry.lengths.set(keyHex, was)
        throw err
      }
      this.emit('seeding', { planId: plan.id, lengths: plan.drives.map((d) => entry.lengths.get(d.keyHex) ?? 0) })
      this.emitStatus()
    })
  }

  private async stopSeeding (planId: number): Promise<void> {
    const entry = this.seeded.get(planId)
    if (entry === undefined) return
    this.seeded.delete(planId)
    const stillUsed = new Set<string>()
    for (const other of this.seeded.values()) for (const k of other.cores.keys()) stillUsed.add(k)
    for (const [keyHex, core] of entry.cores) {
      if (stillUsed.has(keyHex)) continue
      // free the space of the plain replica, then forget the core
      await core.clear(0, core.length).catch(() => {})
      // The session stays open (closed with the service): an encoder task of this node may hold
      // the same core for a replacement; closing it here failed that task with SESSION_CLOSED.
      const dk = toHex(hcrypto.discoveryKey(b4a.from(keyHex, 'hex')))
      const d = this.drivesJoined.get(dk)
      if (d !== undefined) { this.drivesJoined.delete(dk); await d.destroy().catch(() => {}) }
      await rm(join(this.storageDir, 'chunks', keyHex), { recursive: true, force: true })
    }
    this.emit('unseeded', { planId })
    this.emitStatus()
  }

  /** Encoded chunks of contracts this node no longer hosts are deleted (unpublish, replacement). */
  private readonly holding = new Map<number, { keyHex: string, start: number, end: number }>()
  private async freeDroppedChunks (market: MarketState): Promise<void> {
    const me = this.chain.addressHex
    for (const c of Object.values(market.contracts)) {
      if (c.slots.some((s) => s.hoster === me)) this.holding.set(c.id, { keyHex: c.keyHex, start: c.start, end: c.end })
    }
    for (const [id, h] of [...this.holding]) {
      const c = market.contracts[id]
      if (c !== undefined && c.slots.some((s) => s.hoster === me)) continue
      this.holding.delete(id)
      for (let i = h.start; i < h.end; i++) await this.store.deleteChunk(b4a.from(h.keyHex, 'hex'), i).catch(() => false)
    }
  }

  /** Test-only faults of a hoster whose slot is hosting: throw encoded chunks away (all or a share). */
  private sabotage (contract: Contract, i: number): void {
    const { deleteEncoded, keepFraction } = this.faults
    if (deleteEncoded !== true && keepFraction === undefined) return
    const key = `${contract.id}:${i}:${contract.slots[i].since}`
    if (this.sabotaged.has(key)) return
    this.sabotaged.add(key)
    this.startTask(`fault:${key}`, { role: 'hoster', planId: contract.planId, contractId: contract.id, slot: i }, async () => {
      const coreKey = b4a.from(contract.keyHex, 'hex')
      for (let index = contract.start; index < contract.end; index++) {
        if (deleteEncoded === true || !faultKeeps(contract.id, index, keepFraction ?? 1)) await this.store.deleteChunk(coreKey, index)
      }
    })
  }

  // ---------------------------------------------------------------- challenges (attestor)

  private async blockHashOf (ch: Challenge): Promise<string> {
    const known = this.challengeHashes.get(ch.id)
    if (known !== undefined) return known
    return (await this.chain.api.rpc.chain.getBlockHash(ch.issuedAt)).toHex()
  }

  private async runChallenge (ch: Challenge): Promise<void> {
    const contract = this.chain.market.contracts[ch.contractId]
    if (contract === undefined) return
    if (ch.kind === 'storage') await this.runStorageChallenge(ch, contract)
    else await this.runPerformanceCheck(ch, contract)
  }

  private async runStorageChallenge (ch: Challenge, contract: Contract): Promise<void> {
    const slot = contract.slots[ch.slot]
    const hosterKeyHex = this.providerKey(ch.hoster)
    const hosterKey = b4a.from(hosterKeyHex, 'hex')
    let ok = false
    let reason: StorageFailure = 'OTHER'
    let latencyMs: number | null = null
    if (this.faults.failHonest === true) {
      reason = 'MISSING_CHUNK' // test-only fault: a lying attestor
    } else {
      const seed = challengeSeed(b4a.from((await this.blockHashOf(ch)).slice(2), 'hex'), contract.id, hosterKey)
      const view = this.viewOf(contract)
      let connected: { channel: HostingChannel, connectMs: number } | null = null
      try {
        connected = await this.channelTo(hosterKeyHex)
      } catch {
        reason = 'UNREACHABLE'
      }
      if (connected !== null) {
        // a local error (bad arguments) throws: this node then does not report rather than blame the hoster
        const report = await this.attestor.challenge(connected.channel, {
          contract: view,
          hosterKey,
          encoderKey: b4a.from(this.providerKey(slot.encoder), 'hex'),
          rounds: this.limits.rounds,
          seed,
          steps: this.limits.walkSteps,
          openings: Math.min(this.limits.openings, this.limits.walkSteps),
          deadlineMs: commitDeadlineMs(connected.connectMs, this.limits.commitBaseMs),
          openTimeoutMs: this.limits.requestTimeoutMs
        })
        ok = report.ok
        reason = ok ? 'NONE' : storageFailure(report.reason)
        latencyMs = report.commitElapsedMs
      }
    }
    if (this.chain.market.challenges[ch.id] === undefined) return
    if (!await this.report(ch, () => this.chain.submitStorageReport(ch.id, ok, ok ? 'NONE' : reason))) return
    this.counters.storageReports++
    this.recordProof({ challengeId: ch.id, kind: 'storage', role: 'attestor', contractId: contract.id, hoster: ch.hoster, ok, reason: ok ? null : reason, latencyMs, throughputBps: null })
  }

  /**
   * One attestor's share of a performance check: a fresh single-use key pair and swarm, a read of
   * `measureBlocks` blocks of the contract (a range drawn from the check's block hash and this
   * attestor's index, so every attestor reads a different one).
   */
  private async runPerformanceCheck (ch: Challenge, contract: Contract): Promise<void> {
    const me = this.chain.addressHex
    const hosterKey = b4a.from(this.providerKey(ch.hoster), 'hex')
    const keyPair = hcrypto.keyPair()
    let reachable = false
    let ttfbMs: number | null = null
    let throughputBps: number | null = null
    let reason: string | null = null
    if (this.faults.failHonest === true) {
      reason = 'UNREACHABLE' // test-only fault: a lying attestor
    } else {
      const seed = challengeSeed(b4a.from((await this.blockHashOf(ch)).slice(2), 'hex'), contract.id, hosterKey)
      const view = this.viewOf(contract)
      const n = view.end - view.start
      const r = performanceRange(seed, Math.max(0, ch.attestors.indexOf(me)), n, Math.min(this.limits.measureBlocks, n))
      const dir = join(this.storageDir, 'measure', `${ch.id}-${toHex(hcrypto.randomBytes(4))}`)
      await mkdir(dir, { recursive: true })
      try {
        // one measurement at a time on this node: concurrent ones compete for its CPU and link, and
        // under load an honest hoster read late (NO_DATA) when a dozen ran at once
        const sample = await this.measureExclusively(() => measurePerformance({
          createSwarm: (kp) => this.measureSwarm(kp),
          storageDir: dir,
          hosterKey,
          coreKey: view.root.coreKey,
          range: { start: view.start + r.start, end: view.start + r.end },
          connectTimeoutMs: this.limits.measureTimeoutMs,
          readTimeoutMs: this.limits.measureTimeoutMs,
          timers: this.timers,
          keyPair,
          signal: this.closeSignal.signal
        }))
        ttfbMs = sample.ttfbMs === null ? null : Math.max(0, Math.round(sample.ttfbMs))
        throughputBps = sample.throughputBytesPerSec === null ? null : Math.max(0, Math.round(sample.throughputBytesPerSec))
        // reachable for a reader: a hoster that accepts the connection but serves no block is not
        reachable = sample.reachable && ttfbMs !== null
        if (!sample.reachable) reason = 'UNREACHABLE'
        else if (ttfbMs === null) reason = 'NO_DATA'
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
    const live = this.chain.market.challenges[ch.id]
    if (live === undefined || live.reports.some((rep) => rep.attestor === me)) return
    const L = RECORD_LIMITS
    const measured = {
      reachable,
      ttfbMs: Math.min(L.latencyMsMax, ttfbMs ?? L.latencyMsMax),
      throughputBps: Math.min(L.throughputBpsMax, throughputBps ?? 0),
      measureKeyHex: toHex(keyPair.publicKey)
    }
    if (!await this.report(ch, () => this.chain.submitPerformanceReport(ch.id, measured))) return
    this.counters.performanceReports++
    const ok = reachable
    this.recordProof({ challengeId: ch.id, kind: 'performance', role: 'attestor', contractId: contract.id, hoster: ch.hoster, ok, reason, latencyMs: ttfbMs, throughputBps })
  }

  /**
   * Submits a challenge report. False when the challenge was closed meanwhile (its plan was
   * unpublished or ended, its slot vacated, its deadline passed): the record is then refused as
   * replayed, which is not this node's error. Any other refusal throws.
   */
  private async report (ch: Challenge, submit: () => Promise<unknown>): Promise<boolean> {
    try {
      await submit()
      return true
    } catch (err) {
      if (this.chain.market.challenges[ch.id] === undefined) {
        this.emit('report-dropped', { challengeId: ch.id, error: DatdotError.from(err) })
        return false
      }
      throw err
    }
  }

  /** Runs `fn` after every measurement started before it has ended (a FIFO of one). */
  private async measureExclusively<T> (fn: () => Promise<T>): Promise<T> {
    const turn = this.measuring.then(fn)
    this.measuring = turn.then(() => {}, () => {})
    return await turn
  }

  private measureSwarm (keyPair: { publicKey: Buffer, secretKey: Buffer }): Hyperswarm {
    if (this.opts.createMeasureSwarm !== undefined) return this.opts.createMeasureSwarm(keyPair)
    const bootstrap = this.engine.options.bootstrap
    if (this.engine.options.dht !== undefined) throw DatdotError.invalidArgument('an injected DHT needs createMeasureSwarm for performance measurements')
    if (bootstrap !== undefined && bootstrap.every((b) => b.host === '127.0.0.1' || b.host === 'localhost')) {
      return new Hyperswarm({ keyPair, dht: new DHT({ ephemeral: true, firewalled: false, bootstrap, host: '127.0.0.1' }) })
    }
    return new Hyperswarm(bootstrap === undefined ? { keyPair } : { keyPair, bootstrap })
  }

  private recordProof (p: Omit<ProofRow, 'id' | 'timeMs'>): void {
    const timeMs = this.now()
    const res = this.engine.db.prepare('INSERT INTO hosting_proofs (challenge_id, kind, role, contract_id, hoster, ok, reason, latency_ms, throughput_bps, time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(p.challengeId, p.kind, p.role, p.contractId, p.hoster, p.ok ? 1 : 0, p.reason, p.latencyMs === null ? null : Math.round(p.latencyMs), p.throughputBps === null ? null : Math.round(p.throughputBps), timeMs)
    this.engine.db.prepare('DELETE FROM hosting_proofs WHERE id <= ?').run(Number(res.lastInsertRowid) - this.limits.proofsKept)
    if (p.ok) this.counters.proofsPassed++
    else this.counters.proofsFailed++
    const row: ProofRow = { ...p, id: Number(res.lastInsertRowid), timeMs }
    this.emit('proof', row)
    this.emitStatus()
  }
}

/** Could not reach the hoster: its fault for a setup ('hoster-missing'). */
function withBlameMissing (err: unknown): DatdotError {
  return withBlame(err, 'hoster-missing')
}
