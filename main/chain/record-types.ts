/**
 * DatDot marketplace records, the vocabulary: the format prefix, every field's limit, the failure
 * reasons, the roles and the record types. The codec (records.ts) and the state machine
 * (marketplace.ts) share these; nothing here runs.
 */

export const RECORD_PREFIX = 'datdot/2 '

export const RECORD_LIMITS = {
  /** Whole remark, prefix included. */
  recordBytes: 4096,
  regionChars: 32,
  drivesPerPlan: 16,
  rangesPerDrive: 64,
  /** Chunk indexes and counts. */
  chunkIndexMax: 2 ** 40,
  replicasMax: 8,
  durationBlocksMax: 10_000_000,
  storageBytesMax: 2 ** 50,
  bandwidthBpsMax: 2 ** 40,
  slotsPerSetupReport: 8,
  payoutItems: 256,
  operatorsMax: 16,
  latencyMsMax: 600_000,
  /** Amounts: at most 128 bits (Substrate u128). */
  amountBits: 128,
  pauseBlocksMax: 100_000,
  /** Signed roots: hypercore manifest and signature bytes (ed25519 manifests use ~70 and 64). */
  manifestBytes: 512,
  rootSignatureBytes: 256,
  forkMax: 2 ** 32,
  throughputBpsMax: 2 ** 40,
  /** Network parameters. */
  chunksPerContractMax: 4096,
  challengeIntervalBlocksMax: 1_000_000,
  challengeTimeoutBlocksMax: 10_000,
  performanceAttestorsMax: 5,
  /** Epoch of the aggregated attestations (network parameter `epochBlocks`; 0 = none). */
  epochBlocksMax: 1_000_000,
  /**
   * An `epoch-report` (docs/chain.md "Aggregated attestations") covers at most `aggregateChecksMax`
   * checks (`count`; its size does not grow with them), lists at most `aggregateFailedMax` failed
   * offsets and `aggregateGradesMax` hoster grades (the largest record stays under `recordBytes`);
   * an attestor with more checks, failures or hosters in an epoch sends several parts (`from`).
   */
  aggregateChecksMax: 65_536,
  aggregateFailedMax: 512,
  aggregateGradesMax: 4096,
  /**
   * A hoster's grade in an aggregate: units above performanceMin in steps of `aggregateUnitsStep`
   * (0, 10, 20, 30: two bits a hoster on chain).
   */
  aggregateUnitsMax: 30,
  aggregateUnitsStep: 10
} as const

/** Why a storage challenge failed (`storage-report.reason`); 'NONE' when it passed. */
export const STORAGE_FAILURES = [
  'NONE', 'UNREACHABLE', 'MISSING_CHUNK', 'WRONG_COMMITMENT', 'DEADLINE_MISSED', 'BAD_ENCODING',
  'BAD_ENCODER_SIGNATURE', 'ROOT_MISMATCH', 'MALFORMED_PROOF', 'WRONG_STEP_COUNT', 'WRONG_INDEX',
  'WRONG_LENGTH', 'WRONG_CORE', 'BAD_ROOT_SIGNATURE', 'OTHER'
] as const
export type StorageFailure = typeof STORAGE_FAILURES[number]

/**
 * Why a slot's setup failed (`setup-report`): the first two blame the encoder (it is replaced),
 * the last two the hoster.
 */
export const SETUP_FAILURES = ['bad-encoding', 'encoder-missing', 'hoster-refused', 'hoster-missing'] as const
export type SetupFailure = typeof SETUP_FAILURES[number]

export const ROLE = { encoder: 1, hoster: 2, attestor: 4 } as const
export type RoleName = keyof typeof ROLE
export const ROLE_MASK = ROLE.encoder | ROLE.hoster | ROLE.attestor

/**
 * A core's root as its author signed it: hypercore's manifest (hashes to the core key), the
 * tree length, fork and tree hash, and the signature over them. Hex is lower case, no `0x`.
 * Interpreters verify it against the core key (main/hosting/proof.ts `verifySignedRoot`).
 */
export interface SignedRootHex {
  manifestHex: string
  length: number
  fork: number
  treeHashHex: string
  signatureHex: string
}

export interface DriveRanges {
  /** 32-byte hypercore key, hex (64 chars, lower case). */
  keyHex: string
  /** Half-open chunk ranges [start, end), all below `root.length`. */
  ranges: Array<[number, number]>
  /** The signed root the ranges are hosted against. */
  root: SignedRootHex
}

/** Marketplace parameters, fixed by the network record (docs/chain.md). */
export interface NetworkParams {
  /** Blocks (hypercore blocks, <= 64 KiB for Hyperdrive blobs) per contract. */
  chunksPerContract: number
  /** Each hosting slot gets a storage challenge and a performance check once per interval. */
  challengeIntervalBlocks: number
  /** Blocks an attestor has to report a challenge. */
  challengeTimeoutBlocks: number
  /** Attestors per performance check (graded from the median). */
  performanceAttestors: number
  /**
   * Blocks per epoch of aggregated attestations (docs/chain.md "Aggregated attestations"): a
   * regular check's pass is not its own record but covered by its attestor's one `epoch-report` per
   * epoch. Absent or 0: every report is its own record (the format before; written only when > 0).
   */
  epochBlocks?: number
}

/** A slot's outcome in a setup report. `receiptsRootHex` = BLAKE2b-256 of the slot's encoded chunk hashes in index order. */
export type SetupSlot =
  | { ok: true, receiptsRootHex: string, receiptHex: string }
  | { ok: false, reason: SetupFailure }

export type MarketRecord =
  | { kind: 'network', operators: string[], threshold: number, escrow: string, unitPricePlanck: bigint, params: NetworkParams }
  | { kind: 'register', roles: number, storageBytes: number, bandwidthBps: number, region: string, noiseKeyHex: string }
  | { kind: 'unregister' }
  | { kind: 'publish', drives: DriveRanges[], replicas: number, durationBlocks: number, budgetPlanck: bigint }
  | { kind: 'unpublish', planId: number }
  | { kind: 'pause', blocks: number }
  | { kind: 'unpause' }
  /** The hours of the week the provider serves (chain/schedule.ts): 21 bytes as 42 hex digits, bit 0 = Monday 00:00 UTC. */
  | { kind: 'schedule', hoursHex: string }
  /** The sponsor tops a plan up: more budget (one transfer to escrow) and/or more blocks before it ends; at least one of them. */
  | { kind: 'extend', planId: number, blocks: number, budgetPlanck: bigint }
  /** One entry per slot of the contract; slots not in setup are ignored by the state machine. */
  | { kind: 'setup-report', contractId: number, slots: SetupSlot[] }
  | { kind: 'storage-report', challengeId: number, ok: boolean, reason: StorageFailure }
  /** `measureKeyHex`: the fresh single-use Hyperswarm key the attestor measured with. */
  | { kind: 'performance-report', challengeId: number, reachable: boolean, ttfbMs: number, throughputBps: number, measureKeyHex: string }
  | { kind: 'payout', items: number[] }
  /**
   * An attestor's aggregate of one epoch (or a part of it): `count` of the checks the chain
   * assigned it in `epoch` (state.epochs[epoch][attestor].checks, in issue order), from index
   * `from` on. `failed`: the offsets (0..count - 1, strictly increasing) of those it did not pass
   * (its missed reports; normally none). `grades`: one per distinct hoster of the covered
   * performance checks it passed, in the order of each hoster's first appearance: the lower median
   * of its grades of that hoster, units above performanceMin (0, 10, 20, 30); every performance
   * pass of that hoster is paid with it. `rootHex`: the BLAKE2b merkle root of the passes' leaves
   * (challenge id, slot, evidence hash, reading) the attestor keeps.
   */
  | { kind: 'epoch-report', epoch: number, from: number, count: number, failed: number[], grades: number[], rootHex: string }
  /**
   * The sponsor extends an active plan to new versions of its cores: each drive names one of the
   * plan's cores with a newer signed root (same fork, not shorter) and ranges that only add
   * blocks; `budgetPlanck` > 0 tops the budget up with one transfer to escrow.
   */
  | { kind: 'update', planId: number, drives: DriveRanges[], budgetPlanck: bigint }

export type RecordKind = MarketRecord['kind']
