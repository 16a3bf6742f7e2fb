/**
 * The attestor's challenges: the storage challenges and performance checks the chain assigns to
 * this node. A storage challenge walks the hoster's encoded chunks (a commitment before a
 * deadline, then openings); a performance check reads a few blocks of the contract from the
 * hoster's plain replica through a fresh single-use swarm, as a reader would. Each ends in a
 * report on chain and a proof row.
 */
import { join } from 'node:path'
import { mkdir, rm } from 'node:fs/promises'
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import type Hyperswarm from 'hyperswarm'
import { MARKET_PARAMS, performanceUnits, type BlockOutcome, type Challenge, type Contract, type MarketState } from '../chain/marketplace.js'
import { RECORD_LIMITS, STORAGE_FAILURES, type StorageFailure } from '../chain/records.js'
import { DatdotError } from '../shared/errors.js'
import { toHex } from '../engine/paths.js'
import type { Attestor } from './roles.js'
import { challengeSeed } from './proof.js'
import { measurePerformance, performanceRange } from './performance.js'
import type { HostingChain, HostingContext } from './context.js'
import type { Peers, Connected } from './peers.js'
import type { TaskQueue } from './tasks.js'
import type { HostingBehaviour } from './behaviour.js'
import type { ProofRow } from './config.js'
import { gradeOfUnits, type EpochLeaves, type Leaf } from './epoch-leaves.js'
import { auditOfRecheck } from '../chain/audits.js'
import { runAudit, type AuditResult } from './audits.js'

/** Evidence of a pass without a commitment (a behaviour's forced verdict): the check's own id, hashed. */
function seedless (ch: Challenge): Buffer { return b4a.from(`datdot/no-commitment/${ch.id}`) }

/** Maps an attestor's failure reason (PROOF_FAILURE or an error code) to the storage-report reason. */
export function storageFailure (reason: string | null): StorageFailure {
  if (reason === null) return 'OTHER'
  if ((STORAGE_FAILURES as readonly string[]).includes(reason) && reason !== 'NONE') return reason as StorageFailure
  if (reason === 'TIMEOUT') return 'DEADLINE_MISSED'
  if (reason === 'CLOSED' || reason === 'UNREACHABLE') return 'UNREACHABLE'
  return 'OTHER'
}

/** Block hashes of challenges remembered from followed blocks (older ones are asked of the chain). */
const HASHES_KEPT = 4096

export interface ChallengeRolesOptions {
  ctx: HostingContext
  chain: Pick<HostingChain, 'submitStorageReport' | 'submitPerformanceReport'>
  tasks: TaskQueue
  peers: Pick<Peers, 'channelTo'>
  attestor: Attestor
  behaviour: HostingBehaviour
  /** The hash (0x-hex) of block `number`, for challenges issued before this node followed the chain. */
  blockHash: (number: number) => Promise<string>
  /** Makes the single-use swarm of one performance measurement. */
  createMeasureSwarm: (keyPair: { publicKey: Buffer, secretKey: Buffer }) => Hyperswarm
  /** Folder for the measurements' throw-away stores. */
  measureDir: string
  /** A report went on chain: the proof row to keep. */
  onProof: (row: Omit<ProofRow, 'id' | 'timeMs'>) => void
  /** A challenge closed before its report went in (not this node's error). */
  onDropped?: (challengeId: number, err: DatdotError) => void
  /** Aggregated networks: where a regular check's pass is kept until the epoch aggregate (epoch-leaves.ts). */
  leaves: Pick<EpochLeaves, 'add'>
  /** An audit this node ran as the attestor of an audit check (audits.ts). */
  onAudit?: (r: AuditResult) => void
}

interface Measured { reachable: boolean, ttfbMs: number | null, throughputBps: number | null, reason: string | null }

export class ChallengeRoles {
  private readonly hashes = new Map<number, string>()
  /** The tail of this node's queue of performance measurements (exclusively). */
  private measuring: Promise<void> = Promise.resolve()

  constructor (private readonly opts: ChallengeRolesOptions) {}

  /** Remembers the block hash each new challenge was issued in (its seed). */
  onBlock (out: BlockOutcome): void {
    for (const id of out.newChallenges) this.hashes.set(id, out.hash)
    while (this.hashes.size > HASHES_KEPT) this.hashes.delete(this.hashes.keys().next().value as number)
  }

  /** Starts a task for every open challenge this node attests and has not reported. */
  sync (market: MarketState): void {
    const me = this.opts.ctx.me
    for (const ch of Object.values(market.challenges)) {
      if (!ch.attestors.includes(me)) continue
      if (ch.kind === 'performance' && ch.reports.some((r) => r.attestor === me)) continue
      const contract = market.contracts[ch.contractId]
      if (contract === undefined) continue
      this.opts.tasks.start(`challenge:${ch.id}`, { role: 'challenge', planId: contract.planId, contractId: ch.contractId, slot: ch.slot }, () => this.run(ch))
    }
  }

  private async run (ch: Challenge): Promise<void> {
    const contract = this.opts.ctx.market.contracts[ch.contractId]
    if (contract === undefined) return
    if (ch.kind === 'storage') await this.runStorage(ch, contract)
    else await this.runPerformance(ch, contract)
    // the audit check of a sampled pass (chain/audits.ts): then the audited attestor's leaf and the hoster's re-walk
    const sample = auditOfRecheck(this.opts.ctx.market, ch.id)
    if (sample !== undefined) await runAudit({ ...this.opts, onAudit: this.opts.onAudit }, sample)
  }

  private async seedOf (ch: Challenge, contract: Contract, hosterKey: Buffer): Promise<Buffer> {
    const known = this.hashes.get(ch.id) ?? await this.opts.blockHash(ch.issuedAt)
    return challengeSeed(b4a.from(known.slice(2), 'hex'), contract.id, hosterKey)
  }

  private async runStorage (ch: Challenge, contract: Contract): Promise<void> {
    const { ctx } = this.opts
    const hosterKeyHex = ctx.providerKey(ch.hoster)
    const hosterKey = b4a.from(hosterKeyHex, 'hex')
    let ok = false
    let reason: StorageFailure = 'OTHER'
    let latencyMs: number | null = null
    let evidence: Buffer | null = null
    const forced = this.opts.behaviour.verdict?.('storage') ?? null
    if (forced === 'NONE') {
      // a behaviour's pass without a walk (attack tests: an attestor colluding with a hoster)
      ok = true
    } else if (forced !== null) {
      reason = storageFailure(forced)
    } else {
      const seed = await this.seedOf(ch, contract, hosterKey)
      let connected: Connected | null = null
      try {
        connected = await this.opts.peers.channelTo(hosterKeyHex)
      } catch {
        reason = 'UNREACHABLE'
      }
      if (connected !== null) {
        // a local error (bad arguments) throws: this node then does not report rather than blame the hoster
        const report = await this.opts.attestor.challenge(connected.channel, ctx.storageChallenge(contract, ch.slot, hosterKey, seed, connected.connectMs))
        ok = report.ok
        reason = ok ? 'NONE' : storageFailure(report.reason)
        latencyMs = report.commitElapsedMs
        evidence = report.commitmentHash
      }
    }
    if (ok && ch.epoch !== undefined) {
      // a regular check's pass is a leaf of this node's epoch aggregate, not a record
      this.keepPass(ch, contract, { evidenceHex: toHex(evidence ?? hcrypto.hash(seedless(ch))), units: null, ttfbMs: null, throughputBps: null }, latencyMs, null)
      return
    }
    if (ctx.market.challenges[ch.id] === undefined) return
    if (!await this.report(ch, () => this.opts.chain.submitStorageReport(ch.id, ok, ok ? 'NONE' : reason))) return
    ctx.counters.storageReports++
    this.opts.onProof({ challengeId: ch.id, kind: 'storage', role: 'attestor', contractId: contract.id, hoster: ch.hoster, ok, reason: ok ? null : reason, latencyMs, throughputBps: null })
  }

  /**
   * One attestor's share of a performance check: a fresh single-use key pair and swarm, a read of
   * `measureBlocks` blocks of the contract (a range drawn from the check's block hash and this
   * attestor's index, so every attestor reads a different one).
   */
  private async runPerformance (ch: Challenge, contract: Contract): Promise<void> {
    const { ctx } = this.opts
    const me = ctx.me
    const keyPair = hcrypto.keyPair()
    const forced = this.opts.behaviour.verdict?.('performance') ?? null
    const m: Measured = forced !== null
      ? { reachable: false, ttfbMs: null, throughputBps: null, reason: forced }
      : await this.measure(ch, contract, keyPair)
    const L = RECORD_LIMITS
    const measured = {
      reachable: m.reachable,
      ttfbMs: Math.min(L.latencyMsMax, m.ttfbMs ?? L.latencyMsMax),
      throughputBps: Math.min(L.throughputBpsMax, m.throughputBps ?? 0),
      measureKeyHex: toHex(keyPair.publicKey)
    }
    if (m.reachable && ch.epoch !== undefined) {
      // a regular check's pass is a leaf of this node's epoch aggregate, with its grade: units
      // above the minimum, rounded down to the aggregate's steps (two bits on chain)
      const units = gradeOfUnits(Number(performanceUnits(measured.ttfbMs, measured.throughputBps) - MARKET_PARAMS.units.performanceMin))
      this.keepPass(ch, contract, { evidenceHex: measured.measureKeyHex, units, ttfbMs: measured.ttfbMs, throughputBps: measured.throughputBps }, m.ttfbMs, m.throughputBps)
      return
    }
    const live = ctx.market.challenges[ch.id]
    if (live === undefined || live.reports.some((rep) => rep.attestor === me)) return
    if (!await this.report(ch, () => this.opts.chain.submitPerformanceReport(ch.id, measured))) return
    ctx.counters.performanceReports++
    this.opts.onProof({ challengeId: ch.id, kind: 'performance', role: 'attestor', contractId: contract.id, hoster: ch.hoster, ok: m.reachable, reason: m.reason, latencyMs: m.ttfbMs, throughputBps: m.throughputBps })
  }

  /** Reads the check's range from the hoster, one measurement at a time on this node. */
  private async measure (ch: Challenge, contract: Contract, keyPair: { publicKey: Buffer, secretKey: Buffer }): Promise<Measured> {
    const { ctx } = this.opts
    const hosterKey = ctx.providerKeyBytes(ch.hoster)
    const seed = await this.seedOf(ch, contract, hosterKey)
    const view = ctx.viewOf(contract)
    const n = view.end - view.start
    const r = performanceRange(seed, Math.max(0, ch.attestors.indexOf(ctx.me)), n, Math.min(ctx.limits.measureBlocks, n))
    const dir = join(this.opts.measureDir, `${ch.id}-${toHex(hcrypto.randomBytes(4))}`)
    await mkdir(dir, { recursive: true })
    try {
      // one measurement at a time on this node: concurrent ones compete for its CPU and link, and
      // under load an honest hoster read late (NO_DATA) when a dozen ran at once
      const sample = await this.exclusively(() => measurePerformance({
        createSwarm: (kp) => this.opts.createMeasureSwarm(kp),
        storageDir: dir,
        hosterKey,
        coreKey: view.root.coreKey,
        range: { start: view.start + r.start, end: view.start + r.end },
        connectTimeoutMs: ctx.limits.measureTimeoutMs,
        readTimeoutMs: ctx.limits.measureTimeoutMs,
        timers: ctx.timers,
        keyPair,
        signal: ctx.closeSignal
      }))
      const ttfbMs = sample.ttfbMs === null ? null : Math.max(0, Math.round(sample.ttfbMs))
      const throughputBps = sample.throughputBytesPerSec === null ? null : Math.max(0, Math.round(sample.throughputBytesPerSec))
      // reachable for a reader: a hoster that accepts the connection but serves no block is not
      const reason = !sample.reachable ? 'UNREACHABLE' : ttfbMs === null ? 'NO_DATA' : null
      return { reachable: sample.reachable && ttfbMs !== null, ttfbMs, throughputBps, reason }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
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
      if (this.opts.ctx.market.challenges[ch.id] === undefined) {
        this.opts.onDropped?.(ch.id, DatdotError.from(err))
        return false
      }
      throw err
    }
  }

  /** Keeps a regular check's pass as a leaf of this node's epoch aggregate (while the check is open or waits for the aggregates) and shows it as a proof. */
  private keepPass (ch: Challenge, contract: Contract, reading: Pick<Leaf, 'evidenceHex' | 'units' | 'ttfbMs' | 'throughputBps'>, latencyMs: number | null, throughputBps: number | null): void {
    if (!this.live(ch.id)) return
    this.opts.leaves.add({ epoch: ch.epoch as number, challengeId: ch.id, kind: ch.kind, slot: ch.slot, ...reading })
    this.opts.ctx.counters.leavesKept++
    this.opts.onProof({ challengeId: ch.id, kind: ch.kind, role: 'attestor', contractId: contract.id, hoster: ch.hoster, ok: true, reason: null, latencyMs, throughputBps })
  }

  /** True while the check is open or waits for its epoch's aggregates. */
  private live (id: number): boolean {
    const market = this.opts.ctx.market
    return market.challenges[id] !== undefined || market.awaiting?.[id] !== undefined
  }

  /** Runs `fn` after every measurement started before it has ended (a FIFO of one). */
  private async exclusively<T> (fn: () => Promise<T>): Promise<T> {
    const turn = this.measuring.then(fn)
    this.measuring = turn.then(() => {}, () => {})
    return await turn
  }
}
