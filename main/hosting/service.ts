/**
 * The hosting service: a thin coordinator of the hosting roles, driven by chain state.
 *
 * It follows the chain service's blocks and the marketplace state and, for what the state
 * machine assigned to this node's account, dispatches to one module per job:
 * - setup.ts: encoder (replicate, verify, encode, deliver) and setup attestor (check, relay,
 *   slot receipt, setup report);
 * - challenges.ts: storage challenges and performance checks as an attestor;
 * - hosted.ts + roles.ts (Hoster): the hoster's encoded chunks and its answers;
 * - replica.ts: the hoster's plain replicas, which ordinary readers replicate from;
 * - sponsor.ts: publishing plans and keeping the plans of the vault's own spaces current (own.ts);
 * - peers.ts (channels to providers), tasks.ts (the task queue), store.ts (settings, proofs),
 *   cores.ts (plan cores and drive topics), context.ts (what the roles share).
 * Every party works against the signed root the chain recorded for the contract, never its own
 * capture. It takes narrow dependencies (database, corestore, swarm, own drives, chain), never
 * the engine; main/hosting/node.ts wires it. How the node behaves as a provider is a strategy
 * (behaviour.ts): HONEST in the app, a cheat in attack tests.
 *
 * It never logs: it emits 'status' (HostingStatus), 'proof' (ProofRow), 'job' (HostingJob),
 * 'task-error' ({ task, error }), 'seeding' ({ planId, lengths }), 'unseeded' ({ planId }),
 * 'plan-updated' ({ planId, lengths }), 'slot-lost' ({ notice }), 'report-dropped'
 * ({ challengeId, error }), 'alert' (HostingAlert, once per alert id while it lasts), 'audit' (AuditResult, audits.ts) and keeps counters.
 */
import { join } from 'node:path'
import { mkdir, rm, statfs } from 'node:fs/promises'
import type Hyperswarm from 'hyperswarm'
import type { SwarmConnection } from 'hyperswarm'
import type Corestore from 'corestore'
import { Resource } from '../shared/resource.js'
import { DatdotError } from '../shared/errors.js'
import type { Db } from '../shared/db.js'
import { realTimers, type Timers } from '../shared/timeout.js'
import { Coalescer } from '../shared/coalescer.js'
import type { BlockOutcome } from '../chain/marketplace.js'
import type { ChainService } from '../chain/service.js'
import { FileChunkStore } from './chunk-store.js'
import { Hoster, Attestor } from './roles.js'
import type { UploadLimiter, UploadStats } from '../shared/upload-limiter.js'
import { BLOCKS_PER_DAY, DEFAULT_HOSTING_LIMITS, DEFAULT_HOSTING_SETTINGS, newHostingCounters, type HostingJob, type HostingLimits, type HostingSettings, type HostingStatus, type ProofRow } from './config.js'
import { HostingStore } from './store.js'
import { serveLeaves } from './audits.js'
import { EpochLeaves } from './epoch-leaves.js'
import { EpochAggregator } from './epoch-aggregator.js'

import { TaskQueue } from './tasks.js'
import { HostingContext } from './context.js'
import { Peers } from './peers.js'
import { PlanCores } from './cores.js'
import { PlainReplicas } from './replica.js'
import { Sponsor, type SponsorRequest } from './sponsor.js'
import { SetupRoles } from './setup.js'
import { ChallengeRoles } from './challenges.js'
import { HostedSlots } from './hosted.js'
import { HONEST, type HostingBehaviour } from './behaviour.js'
import { checkDiskLimit, checkSeeding, type SeedingRequest } from './seeding.js'
import { ProviderWatch, slotsHeld, type ProviderEvent } from './provider-watch.js'
import { hostingAlerts, type HostingAlert } from './alerts.js'
import type { OwnDrives } from './own.js'
import { PlanWatch, plansView, type PlanView } from './plans-view.js'
import { quoteSponsor, type Quote } from './sponsor-quote.js'
import { MetricsStore } from '../shared/metrics-store.js'
import { MetricsSampler } from './metrics.js'

/** Epochs whose passing leaves an attestor keeps after their aggregate (a third party's sample). */
const EPOCHS_KEPT = 8

/** How often the alerts are checked between blocks. */
const ALERT_CHECK_MS = 30_000
/** Gaps between followed blocks kept to estimate the block interval (a median: a catch-up burst or a pause moves it little). */
const BLOCK_GAPS_KEPT = 9

export interface HostingServiceOptions {
  /** The node's database (hosting settings and proofs). */
  db: Db
  /** The node's corestore: plan cores, followed drives to sponsor. */
  corestore: Corestore
  /** The node's swarm: hosting channels ride on its connections; its key is the provider's key. */
  swarm: Hyperswarm
  /** The node's upload limiter, which every connection's writes wait in (engine network.upload): set to the seeder's bandwidth while seeding. */
  upload: UploadLimiter
  /** The vault's own drives (its spaces) and space index: plans for them are kept current as they grow. */
  own: OwnDrives
  /** The chain client: the roles see only the parts they use (context.ts HostingChain). */
  chain: ChainService
  /** Folder for encoded chunks and throw-away measurement stores. */
  storageDir: string
  /** Makes the single-use swarm of a performance measurement (on the node's DHT bootstrap). */
  createMeasureSwarm: (keyPair: { publicKey: Buffer, secretKey: Buffer }) => Hyperswarm
  now?: () => number
  timers?: Timers
  limits?: Partial<HostingLimits>
  /** How this node behaves as a provider: HONEST (default); tests inject cheats. */
  behaviour?: HostingBehaviour
  /** True while the node's networking is paused (an alert when seeding). */
  networkPaused?: () => boolean
}

export class HostingService extends Resource {
  readonly chain: ChainService
  readonly storageDir: string
  readonly limits: HostingLimits
  readonly now: () => number
  readonly counters = newHostingCounters()
  readonly behaviour: HostingBehaviour

  private readonly opts: HostingServiceOptions
  private readonly timers: Timers
  private readonly ctx: HostingContext
  private readonly tasks: TaskQueue
  private settings: HostingSettings = { ...DEFAULT_HOSTING_SETTINGS }
  private store!: HostingStore
  private cores!: PlanCores
  private peers!: Peers
  private sponsorRole!: Sponsor
  private hosted!: HostedSlots
  private setup!: SetupRoles
  private challenges!: ChallengeRoles
  private aggregator!: EpochAggregator
  /** The plain replicas this node keeps (exposed for tests' traces). */
  replicas!: PlainReplicas
  /** Proofs and events of the plans this node sponsors, from the followed blocks. */
  private readonly planWatch: PlanWatch
  /** Brings seeding, encoding and attesting in line with the marketplace: now, and once more after when asked again meanwhile. */
  private readonly syncer = new Coalescer(() => this.sync(), { onError: (err) => { this.taskError('sync', err) }, stopped: () => this.closing })
  private readonly onBlock = (out: BlockOutcome): void => { this.onChainBlock(out) }
  private readonly onConnection = (conn: SwarmConnection): void => { this.peers.attach(conn) }
  /** What happened to this node as a provider (lost slots and why, containment, penalties). */
  private readonly providerWatch: ProviderWatch
  /** The slots this node hosted after the last followed block (to name what a block took away). */
  private held = new Map<number, number[]>()
  /** Alert ids raised and still standing (an alert is emitted once while it lasts). */
  private readonly alerted = new Set<string>()
  /** The alert check between blocks (a silent chain sends no block to check on). */
  private alertTimer: unknown = null
  /** Wall-clock time the last block was followed (the offline alert). */
  private lastBlockMs: number | null = null
  /** The last gaps between followed blocks (ms): the block interval of a chain whose interval is not configured (a joined devnet). */
  private readonly blockGaps: number[] = []
  /** The storage folder's disk (statfs), refreshed at open, on each sync and before a new limit. */
  private disk: { freeBytes: number, totalBytes: number } | null = null
  /** The dashboard's downsampled metrics (disk used, bytes served, reputation) and their sampler (set while open). */
  metrics!: MetricsStore
  private sampler: MetricsSampler | null = null
  /** Stops watching the own drives (set while open). */
  private unwatchOwn: (() => void) | null = null

  constructor (opts: HostingServiceOptions) {
    super()
    if (!opts.storageDir) throw DatdotError.invalidArgument('storageDir is required')
    this.opts = opts
    this.chain = opts.chain
    this.storageDir = opts.storageDir
    this.limits = { ...DEFAULT_HOSTING_LIMITS, ...opts.limits }
    this.now = opts.now ?? Date.now
    this.timers = opts.timers ?? realTimers
    this.behaviour = opts.behaviour ?? HONEST
    const { publicKey, secretKey } = opts.swarm.keyPair
    this.planWatch = new PlanWatch(opts.chain, this.now)
    this.providerWatch = new ProviderWatch(() => opts.chain.addressHex, this.now)
    this.ctx = new HostingContext({ chain: opts.chain, limits: this.limits, counters: this.counters, keyPair: { publicKey, secretKey }, timers: this.timers, now: this.now })
    this.tasks = new TaskQueue({
      concurrency: this.limits.concurrentTasks,
      now: this.now,
      onJob: (job) => this.emit('job', job),
      onError: (id, err) => { this.taskError(id, err) }
    })
  }

  // ---------------------------------------------------------------- lifecycle

  protected async _open (): Promise<void> {
    const { swarm, chain } = this.opts
    this.store = new HostingStore(this.opts.db, { now: this.now, proofsKept: this.limits.proofsKept })
    this.settings = this.store.loadSettings() ?? { ...DEFAULT_HOSTING_SETTINGS }
    const chunkDir = join(this.storageDir, 'chunks')
    await mkdir(chunkDir, { recursive: true })
    await this.refreshDisk()
    this.held = slotsHeld(chain.market, chain.addressHex)
    this.applyLimit()
    this.buildRoles(new FileChunkStore(chunkDir))
    swarm.on('connection', this.onConnection)
    for (const conn of swarm.connections) this.peers.attach(conn)
    chain.on('block', this.onBlock)
    this.unwatchOwn = this.opts.own.watch(() => { this.sponsorRole.schedule() })
    this.syncer.schedule()
    this.sponsorRole.schedule()
    this.armAlerts()
    this.startMetrics()
  }

  /** Checks the alerts every ALERT_CHECK_MS, and after every block (onChainBlock). */
  private armAlerts (): void {
    this.alertTimer = this.timers.setTimeout(() => {
      if (this.closing) return
      this.checkAlerts()
      this.armAlerts()
    }, ALERT_CHECK_MS)
  }

  /** Emits 'alert' for each alert that was not standing before; forgets the ones that ended. */
  private checkAlerts (): void {
    const now = this.alerts()
    for (const a of now) if (!this.alerted.has(a.id)) { this.alerted.add(a.id); this.emit('alert', a) }
    for (const id of this.alerted) if (!now.some((a) => a.id === id)) this.alerted.delete(id)
  }

  /** Samples disk used, bytes served and the reputation on chain into the metrics store, once a minute. */
  private startMetrics (): void {
    this.metrics = new MetricsStore(this.opts.db)
    this.sampler = new MetricsSampler({
      store: this.metrics,
      now: this.now,
      timers: this.timers,
      read: () => {
        const p = this.chain.market.providers[this.chain.addressHex]
        return { usedBytes: p?.usedBytes ?? 0, servedBytesTotal: this.counters.servedBytes, reputation: p?.reputation ?? null }
      },
      onError: (err) => { this.taskError('metrics', err) }
    })
    this.sampler.start()
  }

  /** Builds the role modules, each with the narrow dependencies it uses. */
  private buildRoles (chunks: FileChunkStore): void {
    const { ctx, tasks, behaviour } = this
    const { swarm, chain } = this.opts
    const hoster = new Hoster({ keyPair: ctx.keyPair, store: chunks, contract: (id) => this.hosted.contract(id) })
    hoster.on('stored', () => { this.counters.stored++ })
    hoster.on('settled', () => { this.counters.settled++ })
    const attestor = new Attestor({ keyPair: ctx.keyPair, route: (msg, from) => this.setup.route(msg, from) })
    this.cores = new PlanCores({ corestore: this.opts.corestore, swarm, announces: behaviour.announces !== false, onUpload: (bytes) => { this.counters.servedBytes += bytes } })
    this.replicas = new PlainReplicas({
      ctx,
      cores: this.cores,
      tasks,
      onSeeding: (planId, lengths) => { this.emit('seeding', { planId, lengths }); this.emitStatus() },
      onUnseeded: (planId) => { this.emit('unseeded', { planId }); this.emitStatus() },
      onCoreDropped: (keyHex) => rm(join(this.storageDir, 'chunks', keyHex), { recursive: true, force: true })
    })
    this.hosted = new HostedSlots({ ctx, store: chunks, tasks, behaviour, replicaReady: (id) => this.replicas.ready(id) })
    const handlers = this.hosted.handlers(hoster)
    this.setup = new SetupRoles({ ctx, chain, tasks, peers: { channelTo: (k) => this.peers.channelTo(k) }, cores: this.cores, attestor, hosterDeliver: handlers.ondeliver as NonNullable<typeof handlers.ondeliver>, behaviour })
    const leaves = new EpochLeaves(this.opts.db, { epochsKept: EPOCHS_KEPT })
    this.peers = new Peers({
      ctx,
      swarm,
      handlers: { ...handlers, ondeliver: (msg, from) => this.setup.ondeliver(msg, from), onleaves: async (msg) => serveLeaves(leaves, msg) }, // audits of its aggregates (audits.ts)
      admits: (key) => behaviour.admits?.(key, ctx) ?? true,
      // Counted only: the reply is paced with everything else the connection sends (opts.upload).
      replyLimiter: (bytes) => { this.counters.servedBytes += bytes; return Promise.resolve() }
    })
    this.aggregator = new EpochAggregator({
      me: () => ctx.me,
      leaves,
      submit: (rec) => chain.submitEpochReport(rec),
      onSubmitted: () => { this.counters.epochReports++ },
      onError: (err) => { this.taskError('epoch-report', err) }
    })
    this.challenges = new ChallengeRoles({
      ctx,
      chain,
      leaves,
      tasks,
      peers: this.peers,
      attestor,
      behaviour,
      blockHash: async (n) => (await chain.api.rpc.chain.getBlockHash(n)).toHex(),
      createMeasureSwarm: this.opts.createMeasureSwarm,
      measureDir: join(this.storageDir, 'measure'),
      onProof: (row) => { this.recordProof(row) },
      onAudit: (r) => this.emit('audit', r),
      onDropped: (challengeId, error) => this.emit('report-dropped', { challengeId, error })
    })
    this.sponsorRole = new Sponsor({
      ctx,
      chain,
      own: this.opts.own,
      corestore: this.opts.corestore,
      onUpdated: (planId, lengths) => this.emit('plan-updated', { planId, lengths }),
      onError: (err) => { this.taskError('plan-update', err) }
    })
  }

  protected async _close (): Promise<void> {
    this.ctx.close()
    if (this.alertTimer !== null) this.timers.clearTimeout(this.alertTimer)
    this.sampler?.stop()
    this.sponsorRole?.close()
    this.opts.chain.off('block', this.onBlock)
    this.unwatchOwn?.()
    this.unwatchOwn = null
    this.opts.upload.setRate(0)
    this.opts.swarm.off('connection', this.onConnection)
    await this.syncer.idle()
    await this.peers?.close()
    await this.tasks.close()
    await this.aggregator?.idle()
    await this.cores?.close()
  }

  // ---------------------------------------------------------------- settings

  getSettings (): HostingSettings { return { ...this.settings } }

  /** The node's upload limit follows the seeder's bandwidth while seeding; none otherwise. */
  private applyLimit (): void {
    this.opts.upload.setRate(this.settings.seeding ? this.settings.bandwidthBps : 0)
  }

  /** The upload limit and what the node achieves under it (the dashboard). */
  uploadStats (): UploadStats { return this.opts.upload.stats() }

  /**
   * Seeding on registers this node as a provider with its limits, by default in every role
   * (`roles` narrows it: tests register single-role providers); off unregisters.
   */
  async setSeeding (req: SeedingRequest): Promise<HostingStatus> {
    this.assertOpen()
    const { settings: next, roles } = checkSeeding(req, this.settings)
    const registered = this.chain.market.providers[this.chain.addressHex] !== undefined
    if (next.seeding) {
      await this.refreshDisk()
      if (this.disk !== null) checkDiskLimit(next.storageBytes, { freeBytes: this.disk.freeBytes, usedBytes: this.chain.market.providers[this.chain.addressHex]?.usedBytes ?? 0 })
    }
    if (next.seeding) {
      const noiseKeyHex = this.ctx.keyPair.publicKey.toString('hex')
      await this.chain.registerProvider({ roles, storageBytes: next.storageBytes, bandwidthBps: next.bandwidthBps, region: next.region, noiseKeyHex })
    } else if (registered) {
      await this.chain.unregisterProvider()
    }
    this.settings = next
    this.store.saveSettings(next)
    this.applyLimit()
    this.syncer.schedule()
    this.checkAlerts()
    return this.emitStatus()
  }

  // ---------------------------------------------------------------- sponsor side

  /** Publishes a plan for a drive this node has (a space of its vault, with the space index, or a followed drive). */
  async sponsor (req: SponsorRequest): Promise<{ planId: number }> {
    this.assertOpen()
    return await this.sponsorRole.sponsor(req)
  }

  /** The price of a plan for this request before paying: total, per GiB-month, chain fee, balance after. */
  async quoteSponsor (req: SponsorRequest): Promise<Quote> {
    this.assertOpen()
    return await quoteSponsor({ sponsor: this.sponsorRole, chain: this.chain }, req)
  }

  /** Every plan this node sponsors, as the Plans page shows it. */
  listPlans (): PlanView[] {
    return plansView(this.chain.market, this.chain.addressHex, this.planWatch, (p) => this.sponsorRole.sizeOf(p))
  }

  async unpublish (planId: number): Promise<void> {
    this.assertOpen()
    await this.chain.unpublish(planId)
  }

  /** Tops a plan up: `budgetPlanck` more into escrow and/or `days` more before it ends. */
  async topUp (req: { planId: number, days: number, budgetPlanck: bigint }): Promise<void> {
    this.assertOpen()
    if (req.days === 0 && req.budgetPlanck === 0n) throw DatdotError.invalidArgument('A top-up adds days or budget (or both)')
    await this.chain.extendPlan({ planId: req.planId, blocks: req.days * BLOCKS_PER_DAY, budgetPlanck: req.budgetPlanck })
  }

  // ---------------------------------------------------------------- queries

  status (): HostingStatus {
    const me = this.chain.addressHex
    const p = this.chain.market.providers[me]
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
      seededPlans: this.replicas?.size ?? 0,
      proofsPassed: this.counters.proofsPassed,
      proofsFailed: this.counters.proofsFailed,
      lastProof: this.store === undefined ? null : this.listProofs(1)[0] ?? null,
      diskFreeBytes: this.disk?.freeBytes ?? null
    }
  }

  /** What a seeder should act on now (alerts.ts): containment, offline, networking paused, disk. */
  alerts (): HostingAlert[] {
    const p = this.chain.market.providers[this.chain.addressHex]
    return hostingAlerts({
      now: this.now(),
      me: this.chain.addressHex,
      market: this.chain.market,
      seeding: this.settings.seeding,
      connected: this.chain.status().connected,
      lastBlockMs: this.lastBlockMs,
      blockMs: this.blockMs(),
      networkPaused: this.opts.networkPaused?.() ?? false,
      disk: { limitBytes: this.settings.storageBytes, usedBytes: p?.usedBytes ?? 0, freeBytes: this.disk?.freeBytes ?? null, totalBytes: this.disk?.totalBytes ?? null },
      whyOf: (c, slot, kind) => this.providerWatch.whyOf(c, slot, kind)
    })
  }

  /** The chain's block interval: configured, else the median gap between the blocks followed lately, else 6 s. */
  blockMs (): number {
    const configured = this.chain.options.blockIntervalMs
    if (configured !== undefined && configured > 0) return configured
    if (this.blockGaps.length < BLOCK_GAPS_KEPT) return 6000
    return [...this.blockGaps].sort((a, b) => a - b)[Math.floor(BLOCK_GAPS_KEPT / 2)]
  }

  /** Lost slots and why, containment, penalties of this node, newest first. */
  providerEvents (): ProviderEvent[] { return this.providerWatch.list() }

  /** Reads the storage folder's free and total space (statfs); leaves the last reading when it fails. */
  private async refreshDisk (): Promise<void> {
    try {
      const s = await statfs(this.storageDir)
      this.disk = { freeBytes: Number(s.bavail) * Number(s.bsize), totalBytes: Number(s.blocks) * Number(s.bsize) }
    } catch {
      // a folder that cannot be read is reported by the operations that use it
    }
  }

  listJobs (): HostingJob[] { return this.tasks.list() }

  listProofs (limit: number): ProofRow[] { return this.store.listProofs(limit) }

  /** Deletes this node's encoded chunks of a contract (tests: a hoster that throws data away). */
  async dropChunks (contractId: number): Promise<number> {
    this.assertOpen()
    return await this.hosted.dropChunks(contractId)
  }

  // ---------------------------------------------------------------- chain following

  private onChainBlock (out: BlockOutcome): void {
    this.counters.blocks++
    const now = this.now()
    if (this.lastBlockMs !== null) {
      this.blockGaps.push(now - this.lastBlockMs)
      if (this.blockGaps.length > BLOCK_GAPS_KEPT) this.blockGaps.shift()
    }
    this.lastBlockMs = now
    this.planWatch.onBlock(out)
    this.providerWatch.onBlock(out, this.chain.market, this.held)
    this.held = slotsHeld(this.chain.market, this.chain.addressHex)
    this.checkAlerts()
    this.challenges.onBlock(out)
    const me = this.chain.addressHex
    for (const n of out.notices) if (n.startsWith(`hoster ${me} `)) this.emit('slot-lost', { notice: n })
    this.syncer.schedule()
  }

  /** One pass over the marketplace: every role starts what it owes, plain replicas follow the hosted plans. */
  private async sync (): Promise<void> {
    if (this.closing) return
    const market = this.chain.market
    const want = this.hosted.plansToSeed(market)
    for (const contract of Object.values(market.contracts)) {
      const plan = market.plans[contract.planId]
      if (plan !== undefined && plan.status === 'active') this.setup.sync(contract)
    }
    this.challenges.sync(market)
    this.aggregator.sync(market)
    await this.replicas.sync(want, market.plans)
    await this.hosted.freeDropped(market)
    this.sponsorRole.check()
    await this.refreshDisk()
  }

  private recordProof (p: Omit<ProofRow, 'id' | 'timeMs'>): void {
    const row = this.store.recordProof(p)
    if (p.ok) this.counters.proofsPassed++
    else this.counters.proofsFailed++
    this.emit('proof', row)
    this.emitStatus()
  }

  private taskError (task: string, err: unknown): void {
    this.counters.taskErrors++
    this.emit('task-error', { task, error: DatdotError.from(err) })
  }

  private emitStatus (): HostingStatus {
    const s = this.status()
    this.emit('status', s)
    return s
  }

  private assertOpen (): void {
    if (!this.opened || this.closing) throw DatdotError.closed('hosting service')
  }
}
