/**
 * The hosting service's limits, defaults and the shapes it reports (settings, jobs, proof rows,
 * status, counters). Plain data: every hosting module imports these, none of them imports back.
 */
import { DEFAULT_ROUNDS } from './encoding.js'

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

export interface HostingSettings { seeding: boolean, storageBytes: number, bandwidthBps: number, region: string }

export const DEFAULT_HOSTING_SETTINGS: HostingSettings = { seeding: false, storageBytes: 0, bandwidthBps: 0, region: 'unknown' }

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
  /** Free space of the storage folder's disk (statfs), null when it could not be read. */
  diskFreeBytes: number | null
}

/** What a hosting node has done since it opened; every role counts into the one object. */
export interface HostingCounters {
  blocks: number
  encoded: number
  relayed: number
  stored: number
  settled: number
  setupReports: number
  storageReports: number
  performanceReports: number
  /** Passes kept as leaves for epoch aggregates, and the aggregates sent (aggregated networks). */
  leavesKept: number
  epochReports: number
  /**
   * Audits of other attestors' aggregated passes this node ran (audits.ts): sent, passed, and
   * failed by reason: the attestor did not answer, its leaf or path did not reach the root on chain
   * or was not the sampled check, the hoster failed the re-walk, the re-walk was not the leaf's evidence.
   */
  auditsSent: number
  auditsPassed: number
  auditsUnanswered: number
  auditsBadLeaf: number
  auditsHosterFailed: number
  auditsWrongEvidence: number
  planUpdates: number
  taskErrors: number
  connections: number
  refusedConnections: number
  proofsPassed: number
  proofsFailed: number
  /** Bytes this node served as a seeder: hosting-channel replies and plain-replica uploads (the dashboard's bandwidth chart). */
  servedBytes: number
}

export function newHostingCounters (): HostingCounters {
  return {
    blocks: 0, encoded: 0, relayed: 0, stored: 0, settled: 0, setupReports: 0, storageReports: 0, performanceReports: 0, leavesKept: 0, epochReports: 0,
    auditsSent: 0, auditsPassed: 0, auditsUnanswered: 0, auditsBadLeaf: 0, auditsHosterFailed: 0, auditsWrongEvidence: 0,
    planUpdates: 0, taskErrors: 0, connections: 0, refusedConnections: 0, proofsPassed: 0, proofsFailed: 0, servedBytes: 0
  }
}
