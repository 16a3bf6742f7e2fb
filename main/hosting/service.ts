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
 *   ordinary readers replicate the drive from it while the author is offline.
 * Peers are reached by the Hyperswarm public key they registered on chain (`joinPeer`); one
 * `datdot/hosting/1` channel runs on every engine connection, next to corestore replication.
 *
 * Seeding mode and limits are persisted in the engine's SQLite ('hosting' migrations).
 * It never logs: it emits 'status' (HostingStatus), 'proof' (ProofRow), 'job' (HostingJob),
 * 'task-error' ({ task, error }) and keeps counters.
 */
import { join } from 'node:path'
import { mkdir, rm } from 'node:fs/promises'
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import Hyperswarm, { type SwarmConnection, type Discovery } from 'hyperswarm'
import DHT from 'hyperdht'
import Hyperdrive from 'hyperdrive'
import type Hypercore from 'hypercore'
import { Resource } from '../engine/resource.js'
import { DatdotError } from '../engine/errors.js'
import { migrate, type Migration } from '../engine/db.js'
import { parseLink, toHex } from '../engine/paths.js'
import type { Engine } from '../engine/engine.js'
import type { ChainService } from '../chain/service.js'
import type { BlockOutcome, Contract, MarketState, Plan, Challenge } from '../chain/marketplace.js'
import { FileChunkStore } from './chunk-store.js'
import { Hoster, Attestor, deliverContract, type HostedContract, type RelayTarget, type KeyPair } from './roles.js'
import { HostingChannel, type Timers } from './wire.js'
import { captureSignedRoot, challengeSeed, commitDeadlineMs, type ContractView, type SignedRoot } from './proof.js'
import { DEFAULT_ROUNDS } from './encoding.js'
import { measurePerformance, performanceRange } from './performance.js'
import type { DeliverMessage } from './messages.js'

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
  /** Blocks a performance measurement reads. */
  measureBlocks: number
  /** Tasks (encode, attest, challenge) running at once. */
  concurrentTasks: number
  /** Proof rows kept in SQLite. */
  proofsKept: number
  /** Plans this node seeds at once. */
  plansSeeded: number
  rounds: number
}

export const DEFAULT_HOSTING_LIMITS: HostingLimits = {
  walkSteps: 1024,
  openings: 8,
  commitBaseMs: 2000,
  connectTimeoutMs: 20_000,
  fetchTimeoutMs: 60_000,
  requestTimeoutMs: 30_000,
  measureBlocks: 32,
  concurrentTasks: 8,
  proofsKept: 10_000,
  plansSeeded: 256,
  rounds: DEFAULT_ROUNDS
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
  latencyMs: number | null
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
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>)
}

interface SeededPlan {
  planId: number
  cores: Map<string, Hypercore>
  discovery: Discovery | null
  ready: Promise<void>
}

interface SetupProgress { delivered: Set<number>, failed: boolean }

export class HostingService extends Resource {
  readonly engine: Engine
  readonly chain: ChainService
  readonly storageDir: string
  readonly limits: HostingLimits
  readonly now: () => number
  readonly counters = {
    blocks: 0, encoded: 0, relayed: 0, stored: 0, setupReports: 0, storageReports: 0, performanceReports: 0,
    taskErrors: 0, connections: 0, proofsPassed: 0, proofsFailed: 0
  }

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
  private readonly roots = new Map<string, Promise<SignedRoot>>()
  private readonly openCores = new Map<string, Hypercore>()
  private readonly drivesJoined = new Map<string, Discovery>()
  private readonly setup = new Map<string, SetupProgress>()
  private readonly challengeHashes = new Map<number, string>()
  private readonly peersJoined = new Set<string>()
  private syncing: Promise<void> = Promise.resolve()
  private submitting: Promise<unknown> = Promise.resolve()
  private syncAgain = false
  private syncRunning = false
  private readonly onBlock = (out: BlockOutcome): void => { this.onChainBlock(out) }
  private readonly onConnection = (conn: SwarmConnection): void => { this.attach(conn) }

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
    this.keyPair = { publicKey: swarm.keyPair.publicKey, secretKey: swarm.keyPair.secretKey }
    this.hoster = new Hoster({ keyPair: this.keyPair, store: this.store, contract: (id) => this.hostedContract(id) })
    this.hoster.on('stored', () => { this.counters.stored++ })
    this.attestor = new Attestor({ keyPair: this.keyPair, route: (msg, from) => this.route(msg, from) })
    swarm.on('connection', this.onConnection)
    for (const conn of swarm.connections) this.attach(conn)
    this.chain.on('block', this.onBlock)
    this.scheduleSync()
  }

  protected async _close (): Promise<void> {
    this.chain.off('block', this.onBlock)
    this.swarm?.off('connection', this.onConnection)
    await this.syncing.catch(() => {})
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

  /** Seeding on registers this node as a provider (all roles) with its limits; off unregisters. */
  async setSeeding (opts: { on: boolean, storageBytes?: number, bandwidthBps?: number, region?: string }): Promise<HostingStatus> {
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
    const registered = this.chain.market.providers[this.chain.addressHex] !== undefined
    if (next.seeding) {
      await this.submit(() => this.chain.registerProvider({
        roles: ['encoder', 'hoster', 'attestor'],
        storageBytes: next.storageBytes,
        bandwidthBps: next.bandwidthBps,
        region: next.region,
        noiseKeyHex: toHex(this.keyPair.publicKey)
      }))
    } else if (registered) {
      await this.submit(() => this.chain.unregisterProvider())
    }
    this.settings = next
    this.saveSettings()
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
      const metaLength = drive.core.length
      if (metaLength === 0) throw DatdotError.notFound('the drive’s content (not replicated yet)')
      const blobs = await drive.getBlobs()
      const drives = [{ keyHex: toHex(drive.key), ranges: [[0, metaLength]] as Array<[number, number]> }]
      if (blobs !== null && blobs.core.length > 0) drives.push({ keyHex: toHex(blobs.core.key as Buffer), ranges: [[0, blobs.core.length]] })
      const res = await this.submit(() => this.chain.publishPlan({ drives, replicas: opts.replicas, durationBlocks: opts.days * BLOCKS_PER_DAY, budgetPlanck: opts.pricePlanck }))
      return { planId: res.planId }
    } finally {
      if (!own) await drive.close().catch(() => {})
    }
  }

  async unpublish (planId: number): Promise<void> {
    this.assertOpen()
    await this.submit(() => this.chain.unpublish(planId))
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
      id: number, challenge_id: number, kind: string, role: string, contract_id: number, hoster: string, ok: number, reason: string | null, latency_ms: number | null, time_ms: number
    }>
    return rows.map((r) => ({
      id: r.id, challengeId: r.challenge_id, kind: r.kind as ProofRow['kind'], role: r.role as ProofRow['role'], contractId: r.contract_id,
      hoster: r.hoster, ok: r.ok === 1, reason: r.reason, latencyMs: r.latency_ms, timeMs: r.time_ms
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
    if (this.closing) return
    if (this.syncRunning) { this.syncAgain = true; return }
    this.syncRunning = true
    this.syncing = (async () => {
      try {
        do {
          this.syncAgain = false
          await this.sync()
        } while (this.syncAgain && !this.closing)
      } finally {
        this.syncRunning = false
      }
    })().catch((err) => { this.taskError('sync', err) })
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
        if (slot.hoster === me) wantPlans.add(plan.id)
        if (slot.encoder === me && slot.state === 'setup' && slot.hoster !== null && contract.attestor !== null) {
          const id = `encode:${contract.id}:${i}:${slot.since}:${slot.hoster}:${contract.attestor}`
          this.startTask(id, { role: 'encoder', planId: plan.id, contractId: contract.id, slot: i }, () => this.encode(contract.id, i))
        }
      })
      if (contract.attestor === me && contract.slots.some((s) => s.state === 'setup')) {
        // prepare early so deliveries do not wait for the root
        this.startTask(`attest-prepare:${contract.id}`, { role: 'attestor', planId: plan.id, contractId: contract.id, slot: null }, async () => { await this.rootFor(contract.id) })
      }
    }
    for (const ch of Object.values(market.challenges)) {
      if (ch.attestor !== me) continue
      const contract = market.contracts[ch.contractId]
      if (contract === undefined) continue
      this.startTask(`challenge:${ch.id}`, { role: 'challenge', planId: contract.planId, contractId: ch.contractId, slot: ch.slot }, () => this.runChallenge(ch))
    }
    for (const planId of wantPlans) {
      if (!this.seeded.has(planId) && this.seeded.size < this.limits.plansSeeded) this.seedPlan(market.plans[planId])
    }
    for (const planId of [...this.seeded.keys()]) {
      if (!wantPlans.has(planId)) await this.stopSeeding(planId)
    }
    await this.freeDroppedChunks(market)
  }

  /**
   * Chain submissions of this node one at a time: the chain service signs with nonce -1 (next
   * pending nonce), so two concurrent reports of one account would get the same nonce.
   */
  private submit<T> (fn: () => Promise<T>): Promise<T> {
    const p = this.submitting.then(fn, fn)
    this.submitting = p.catch(() => {})
    return p
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

  private attach (conn: SwarmConnection): void {
    const key = toHex(conn.remotePublicKey)
    let channel: HostingChannel
    try {
      channel = new HostingChannel(conn, {
        ondeliver: (msg, from) => this.ondeliver(msg, from),
        onchallenge: (msg, from) => (this.hoster.handlers().onchallenge as NonNullable<ReturnType<Hoster['handlers']>['onchallenge']>)(msg, from),
        onopen: (msg, from) => (this.hoster.handlers().onopen as NonNullable<ReturnType<Hoster['handlers']>['onopen']>)(msg, from)
      }, { requestTimeoutMs: this.limits.requestTimeoutMs, timers: this.timers })
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

  private withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => reject(DatdotError.timeout(what, ms)), ms)
      p.then((v) => { this.timers.clearTimeout(timer); resolve(v) }, (err) => { this.timers.clearTimeout(timer); reject(err) })
    })
  }

  private providerKey (address: string | null): string {
    const p = address === null ? undefined : this.chain.market.providers[address]
    if (p === undefined) throw DatdotError.notFound(`provider ${address ?? '(none)'}`)
    return p.noiseKeyHex
  }

  // ---------------------------------------------------------------- cores and roots

  private planLength (plan: Plan, driveIndex: number): number {
    return Math.max(...plan.drives[driveIndex].ranges.map(([, e]) => e))
  }

  /** Opens a core of a plan and looks for it on the drive's topic (client; the hoster also announces). */
  private core (plan: Plan, keyHex: string, server: boolean): Hypercore {
    const driveKey = b4a.from(plan.drives[0].keyHex, 'hex')
    const topicHex = toHex(hcrypto.discoveryKey(driveKey))
    const joined = this.drivesJoined.get(topicHex)
    if (joined === undefined) {
      this.drivesJoined.set(topicHex, this.swarm.join(hcrypto.discoveryKey(driveKey), { server, client: true }))
    } else if (server) {
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
   * The signed root of a contract's core at the plan's length. The plan record does not carry it
   * yet (docs/protocol.md section 4): every party captures it from its replica of the core when
   * that replica has exactly the plan's length, verified by hypercore against the author's key.
   */
  private rootFor (contractId: number): Promise<SignedRoot> {
    const contract = this.chain.market.contracts[contractId]
    if (contract === undefined) return Promise.reject(DatdotError.notFound(`contract ${contractId}`))
    const plan = this.chain.market.plans[contract.planId]
    const length = this.planLength(plan, contract.driveIndex)
    const id = `${contract.keyHex}:${length}`
    let p = this.roots.get(id)
    if (p === undefined) {
      const core = this.core(plan, contract.keyHex, false)
      p = this.withTimeout((async () => {
        await core.ready()
        while (core.length < length) {
          const done = core.findingPeers()
          await core.update({ wait: true }).finally(done)
          if (core.length < length) await new Promise<void>((resolve) => core.once('append', () => resolve()))
        }
        if (core.length !== length) throw DatdotError.invalidArgument(`core ${contract.keyHex.slice(0, 8)} grew to ${core.length} blocks after the plan (${length}): plan updates are not hosted yet`)
        return await captureSignedRoot(core)
      })(), this.limits.fetchTimeoutMs, `the signed root of core ${contract.keyHex.slice(0, 8)}`)
      p.catch(() => { this.roots.delete(id) })
      this.roots.set(id, p)
    }
    return p
  }

  private async viewOf (contract: Contract): Promise<ContractView> {
    return { contractId: contract.id, root: await this.rootFor(contract.id), start: contract.start, end: contract.end }
  }

  // ---------------------------------------------------------------- encoder

  private async encode (contractId: number, slotIndex: number): Promise<void> {
    const contract = this.chain.market.contracts[contractId]
    if (contract === undefined) return
    const slot = contract.slots[slotIndex]
    const plan = this.chain.market.plans[contract.planId]
    const hosterKey = b4a.from(this.providerKey(slot.hoster), 'hex')
    const attestorKeyHex = this.providerKey(contract.attestor)
    const view = await this.viewOf(contract)
    const core = this.core(plan, contract.keyHex, false)
    await this.withTimeout(core.download({ start: contract.start, end: contract.end }).done(), this.limits.fetchTimeoutMs, `blocks of contract ${contractId}`)
    const { channel } = await this.channelTo(attestorKeyHex)
    const res = await deliverContract(core, view, hosterKey, this.keyPair, channel, {
      rounds: this.limits.rounds, attestorKey: b4a.from(attestorKeyHex, 'hex'), timeoutMs: this.limits.requestTimeoutMs
    })
    this.counters.encoded += res.delivered
  }

  // ---------------------------------------------------------------- attestor (setup)

  private async ondeliver (msg: DeliverMessage, from: HostingChannel): Promise<Buffer> {
    const contract = this.chain.market.contracts[msg.contractId]
    const sender = from.remotePublicKey === null ? '' : toHex(from.remotePublicKey)
    const me = this.chain.addressHex
    const slotIndex = contract === undefined
      ? -1
      : contract.slots.findIndex((s) => s.state === 'setup' && s.encoder !== null && this.chain.market.providers[s.encoder]?.noiseKeyHex === sender)
    if (contract !== undefined && contract.attestor === me && slotIndex !== -1) {
      const slot = contract.slots[slotIndex]
      const key = `${contract.id}:${slotIndex}:${slot.since}:${slot.hoster ?? ''}:${slot.encoder ?? ''}`
      const progress = this.setup.get(key) ?? { delivered: new Set<number>(), failed: false }
      this.setup.set(key, progress)
      try {
        const receipt = await (this.attestor.handlers().ondeliver as NonNullable<ReturnType<Attestor['handlers']>['ondeliver']>)(msg, from)
        progress.delivered.add(msg.chunk.index)
        this.counters.relayed++
        return receipt
      } catch (err) {
        const e = DatdotError.from(err)
        if (e.code === 'PROOF_FAILED') progress.failed = true
        throw err
      } finally {
        this.maybeReportSetup(contract.id)
      }
    }
    return await (this.hoster.handlers().ondeliver as NonNullable<ReturnType<Hoster['handlers']>['ondeliver']>)(msg, from)
  }

  private async route (msg: DeliverMessage, from: HostingChannel): Promise<RelayTarget | null> {
    const contract = this.chain.market.contracts[msg.contractId]
    if (contract === undefined || from.remotePublicKey === null) return null
    const sender = toHex(from.remotePublicKey)
    const slot = contract.slots.find((s) => s.state === 'setup' && s.encoder !== null && this.chain.market.providers[s.encoder]?.noiseKeyHex === sender)
    if (slot === undefined) return null
    const hosterKeyHex = this.providerKey(slot.hoster)
    const view = await this.viewOf(contract)
    const { channel } = await this.channelTo(hosterKeyHex)
    const hosted: HostedContract = { contract: view, encoderKey: from.remotePublicKey, rounds: this.limits.rounds }
    return { hosted, hosterKey: b4a.from(hosterKeyHex, 'hex'), hoster: channel }
  }

  private readonly reported = new Set<string>()

  private maybeReportSetup (contractId: number): void {
    const contract = this.chain.market.contracts[contractId]
    if (contract === undefined || contract.attestor !== this.chain.addressHex) return
    const n = contract.end - contract.start
    const status = contract.slots.map((s, i) => {
      if (s.state !== 'setup') return null
      const p = this.setup.get(`${contract.id}:${i}:${s.since}:${s.hoster ?? ''}:${s.encoder ?? ''}`)
      if (p === undefined) return 'waiting'
      if (p.failed) return 'failed'
      return p.delivered.size >= n ? 'ok' : 'waiting'
    })
    if (status.includes('waiting') || status.every((s) => s === null)) return
    const key = `${contract.id}:${contract.slots.map((s) => `${s.hoster ?? ''}/${s.state}/${s.since}`).join(',')}`
    if (this.reported.has(key)) return
    this.reported.add(key)
    const slotsOk = status.map((s) => s === 'ok')
    this.startTask(`setup-report:${key}`, { role: 'attestor', planId: contract.planId, contractId: contract.id, slot: null }, async () => {
      await this.submit(() => this.chain.submitSetupReport(contract.id, slotsOk))
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
    return { contract: await this.viewOf(contract), encoderKey: b4a.from(encoder.noiseKeyHex, 'hex'), rounds: this.limits.rounds }
  }

  /** Keeps a plain replica of every core of the plan and announces the drive: readers replicate from it. */
  private seedPlan (plan: Plan): void {
    const cores = new Map<string, Hypercore>()
    for (const d of plan.drives) cores.set(d.keyHex, this.core(plan, d.keyHex, true))
    const entry: SeededPlan = { planId: plan.id, cores, discovery: null, ready: Promise.resolve() }
    this.seeded.set(plan.id, entry)
    this.startTask(`seed:${plan.id}`, { role: 'hoster', planId: plan.id, contractId: plan.contractIds[0] ?? 0, slot: null }, async () => {
      for (const [i, d] of plan.drives.entries()) {
        const core = cores.get(d.keyHex) as Hypercore
        await core.ready()
        const length = this.planLength(plan, i)
        await this.withTimeout(core.download({ start: 0, end: length }).done(), this.limits.fetchTimeoutMs, `the plain replica of core ${d.keyHex.slice(0, 8)}`)
      }
      this.emit('seeding', { planId: plan.id })
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

  // ---------------------------------------------------------------- challenges (attestor)

  private async blockHashOf (ch: Challenge): Promise<string> {
    const known = this.challengeHashes.get(ch.id)
    if (known !== undefined) return known
    return (await this.chain.api.rpc.chain.getBlockHash(ch.issuedAt)).toHex()
  }

  private async runChallenge (ch: Challenge): Promise<void> {
    const contract = this.chain.market.contracts[ch.contractId]
    if (contract === undefined) return
    const slot = contract.slots[ch.slot]
    const hosterKeyHex = this.providerKey(ch.hoster)
    const hosterKey = b4a.from(hosterKeyHex, 'hex')
    const seed = challengeSeed(b4a.from((await this.blockHashOf(ch)).slice(2), 'hex'), contract.id, hosterKey)
    const view = await this.viewOf(contract)
    let ok = false
    let reason: string | null = null
    let latencyMs: number | null = null
    if (ch.kind === 'storage') {
      try {
        const { channel, connectMs } = await this.channelTo(hosterKeyHex)
        const report = await this.attestor.challenge(channel, {
          contract: view,
          hosterKey,
          encoderKey: b4a.from(this.providerKey(slot.encoder), 'hex'),
          rounds: this.limits.rounds,
          seed,
          steps: this.limits.walkSteps,
          openings: Math.min(this.limits.openings, this.limits.walkSteps),
          deadlineMs: commitDeadlineMs(connectMs, this.limits.commitBaseMs),
          openTimeoutMs: this.limits.requestTimeoutMs
        })
        ok = report.ok
        reason = report.reason
        latencyMs = report.commitElapsedMs
      } catch (err) {
        reason = DatdotError.from(err).code
      }
      if (this.chain.market.challenges[ch.id] === undefined) return
      await this.submit(() => this.chain.submitStorageReport(ch.id, ok))
      this.counters.storageReports++
    } else {
      const dir = join(this.storageDir, 'measure', `${ch.id}-${toHex(hcrypto.randomBytes(4))}`)
      await mkdir(dir, { recursive: true })
      try {
        const range = performanceRange(seed, 0, view.root.length, Math.min(this.limits.measureBlocks, view.root.length))
        const sample = await measurePerformance({
          createSwarm: (kp) => this.measureSwarm(kp),
          storageDir: dir,
          hosterKey,
          coreKey: view.root.coreKey,
          range,
          connectTimeoutMs: this.limits.connectTimeoutMs,
          readTimeoutMs: this.limits.fetchTimeoutMs,
          timers: this.timers
        })
        ok = sample.reachable && sample.ttfbMs !== null
        latencyMs = sample.ttfbMs === null ? null : Math.max(0, Math.round(sample.ttfbMs))
        if (!ok) reason = sample.reachable ? 'NO_DATA' : 'UNREACHABLE'
      } catch (err) {
        reason = DatdotError.from(err).code
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
      if (this.chain.market.challenges[ch.id] === undefined) return
      await this.submit(() => this.chain.submitPerformanceReport(ch.id, ok, Math.min(600_000, latencyMs ?? 600_000)))
      this.counters.performanceReports++
    }
    this.recordProof({ challengeId: ch.id, kind: ch.kind, role: 'attestor', contractId: contract.id, hoster: ch.hoster, ok, reason, latencyMs })
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
    const res = this.engine.db.prepare('INSERT INTO hosting_proofs (challenge_id, kind, role, contract_id, hoster, ok, reason, latency_ms, time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(p.challengeId, p.kind, p.role, p.contractId, p.hoster, p.ok ? 1 : 0, p.reason, p.latencyMs === null ? null : Math.round(p.latencyMs), timeMs)
    this.engine.db.prepare('DELETE FROM hosting_proofs WHERE id <= ?').run(Number(res.lastInsertRowid) - this.limits.proofsKept)
    if (p.ok) this.counters.proofsPassed++
    else this.counters.proofsFailed++
    const row: ProofRow = { ...p, id: Number(res.lastInsertRowid), timeMs }
    this.emit('proof', row)
    this.emitStatus()
  }
}
