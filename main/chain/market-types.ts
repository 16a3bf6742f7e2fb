/**
 * The marketplace's vocabulary: its fixed parameters (MARKET_PARAMS), its input (a block of
 * actions), its state (providers, plans, contracts, challenges, owed items, escrow totals) and its
 * output (what each record and block did, penalties, reject reasons). Types and the empty state
 * only; the rules live in the other market files (marketplace.ts lists them).
 */
import type { MarketRecord, DriveRanges, NetworkParams, SignedRootHex } from './record-types.js'

// ---------------------------------------------------------------- parameters

/**
 * Constants of the state machine. The parameters a network may choose (contract size, challenge
 * interval and timeout, attestors per performance check) come from its network record
 * (`state.network.params`, records.ts NetworkParams), not from here.
 */
export const MARKET_PARAMS = {
  chunkBytes: 64 * 1024,
  contractsPerPlan: 1024,
  setupTimeoutBlocks: 20,
  /**
   * Regular checks issued per block at most: above twice the hosting slots per challenge interval
   * (2 x 300 000 slots / 600 blocks = 1000 at 100 000 three-replica contracts), else the slots
   * after the cut (in contract order) would go unchecked for a whole interval (docs/chain.md "Scale").
   */
  challengesPerBlock: 4096,
  /**
   * Contracts given providers per block at most: above the contracts churn vacates per block
   * (20% of 10 000 providers an hour, ~40 contracts each: ~130 a block), else repair falls behind.
   */
  assignmentsPerBlock: 512,
  jobsPerProvider: 256,
  recordsPerAction: 32,
  transfersPerAction: 64,
  reputationStart: 500,
  reputationMax: 1000,
  /** Below this reputation a provider loses all its assignments and gets no new ones. */
  reputationFloor: 250,
  /** Failed setup slots remembered per slot (those providers are not assigned to it again). */
  blamedPerSlot: 4,
  retiredMax: 100_000,
  /**
   * Reward units (times the network's unit price). Per storage challenge and performance check;
   * encoding per chunk; setup attest per setup report; challengeAttest per report.
   */
  units: {
    encoding: 10n,
    setupAttest: 20n,
    storageProof: 60n,
    challengeAttest: 10n,
    performanceMax: 40n,
    performanceMin: 10n
  },
  /**
   * Performance grading from the medians of the attestors' measurements: time to first byte full
   * score at <= fullMs, zero at >= zeroMs; throughput zero at <= zeroBps, full at >= fullBps; the
   * grade is the lower of the two scores.
   */
  performance: { ttfbFullMs: 100, ttfbZeroMs: 1500, throughputZeroBps: 64 * 1024, throughputFullBps: 4 * 1024 * 1024 },
  /**
   * Penalties, each to the reputation of one role (reputation.ts PENALTY_ROLE): a failed proof to
   * the hoster's, a missed report and a lost dispute to the attestor's, a failed setup to the
   * blamed encoder's or hoster's, a pause to the hoster's.
   */
  penalties: { failedProof: 50, missedReport: 20, pause: 10, failedSetup: 30, lostDispute: 100 },
  /**
   * A storage dispute (disputes.ts): the hoster is replaced once `disputeFails` independent
   * attestors reported it failed (the accuser and two re-checks), cleared once `disputePasses`
   * reported a pass; the side that lost loses `penalties.lostDispute` attestor reputation each.
   */
  disputeFails: 3,
  disputePasses: 2,
  /** Accusations in a row that a re-check did not confirm before an attestor is rested (performance checks only). */
  unconfirmedLimit: 3,
  /** Blocks an attestor with `unconfirmedLimit` unconfirmed accusations in a row is not chosen to attest. */
  attestSuspensionBlocks: 600,
  rewardsOnSuccess: 5,
  /** Attestor reputation for a report made in time, and for each verdict a dispute confirmed. */
  rewardsOnReport: 1,
  /**
   * Epoch committees (aggregated networks, committee.ts; docs/chain.md "Committees"): an epoch's
   * regular checks go to K attestors drawn at its first regular check, K = the expected regular
   * attestations of the epoch / `checksPerMember`, at least `minMembers` (and 2 x
   * performanceAttestors + 1), at most every eligible attestor (then no committee: everyone).
   * `checksPerMember` 5000: an attestor's one extrinsic an epoch (base fee ~7.24e-6 ROC on the
   * embedded Asset Hub runtime) against the rewards of the checks it covers (35 units = 1.4e5
   * planck an attestation at 4000 planck a unit): 7.24e6 / (5000 x 1.4e5) = ~1% of them.
   * `minMembers` 7 = 2 x 3 performance attestors + 1: three distinct attestors a performance
   * check even with three members excluded (hoster, accusers, same-key) and a spare.
   * Liveness: all but `freshShare` of the seats go to attestors that sent an aggregate of one of
   * the last `liveEpochs` epochs (or registered in them), the rest, and whatever the live ones
   * cannot fill, to everyone eligible: a provider that churned away stays registered and
   * eligible, and is never penalised while it is not drawn, so without the preference dead
   * attestors piled up among the eligible and a drawn one left 1/K of the epoch unanswered.
   */
  committee: { checksPerMember: 5000, minMembers: 7, liveEpochs: 2, freshShare: 0.25 }
} as const

export type Reason = 'encoding' | 'setup' | 'storage-proof' | 'performance-proof' | 'refund' | 'budget'

// ---------------------------------------------------------------- input

export interface Transfer { from: string, to: string, amountPlanck: bigint }

export interface Action {
  /** Extrinsic index in the block. */
  index: number
  /** Dispatch origin as 0x-hex account id (for multisig calls: the multisig account). */
  signer: string
  /** Remarks of the batch that start with `datdot/`, in batch order. */
  remarks: Uint8Array[]
  transfers: Transfer[]
}

export interface BlockInput {
  number: number
  hash: string
  parentHash: string
  timeMs: number
  actions: Action[]
}

// ---------------------------------------------------------------- state

export interface Provider {
  address: string
  roles: number
  storageBytes: number
  bandwidthBps: number
  region: string
  noiseKeyHex: string
  registeredAt: number
  /** The hoster reputation (what a seeder is known by; the encoder's and attestor's are `roleReputation`). */
  reputation: number
  /**
   * The encoder and attestor reputations, separate from the hoster's: a liar loses its attestor
   * role whatever it earns as a hoster (reputation.ts). Absent (snapshots before): both equal `reputation`.
   */
  roleReputation?: { encoder: number, attestor: number }
  usedBytes: number
  jobs: number
  pausedUntil: number
  /** Accusations in a row not confirmed by a re-check (absent: none; snapshots before this field). */
  unconfirmed?: number
  /** Not chosen to attest before this block (see clearContainment). */
  attestSuspendedUntil?: number
  /** The latest epoch of an aggregate it sent (epoch-records.ts; committee.ts prefers recent senders); absent: none. */
  lastAggregateEpoch?: number
  /** Availability schedule (chain/schedule.ts): the one in force and the next; absent: always on. */
  schedules?: Array<{ fromBlock: number, hoursHex: string }>
}

/** A provider's reputation in each role. */
export interface RoleReputations { hoster: number, encoder: number, attestor: number }

export interface Slot {
  hoster: string | null
  /** Set from assignment on (hosters check the encoder's signatures); null when unassigned, after an encoder failure, or when the encoder left a hosting slot. */
  encoder: string | null
  /**
   * 'unassigned': needs providers (a slot whose encoder failed keeps its `hoster` and waits for
   * an encoder only); 'setup': encoder, hoster and the contract attestor set it up; 'hosting'.
   */
  state: 'unassigned' | 'setup' | 'hosting'
  since: number
  /** Offset so that challenges of different slots spread over the interval. */
  phase: number
  /** BLAKE2b-256 of the encoded chunk hashes the hoster signed for (setup receipt), or null before. */
  receiptsRootHex: string | null
  /**
   * Containment (one per challenge kind): 1 after a failed storage challenge / performance check,
   * reset by a pass; a second consecutive failure replaces the hoster.
   */
  strikes: { storage: number, performance: number }
  /**
   * Attestors whose failing reports put the slot in containment; for storage, every failing
   * verdict of the slot's open dispute (disputes.ts), so `strikes.storage` is its length.
   */
  accusers: { storage: string[], performance: string[] }
  /** The block the slot's performance containment began (absent: none, or snapshots before): only a check issued since re-checks it. */
  performanceContainedAt?: number
  /** Attestors whose passing storage reports defend the hoster in the open dispute (absent: none; snapshots before). */
  defenders?: string[]
  /** The accusers of the open storage dispute whose reason was a reading of the moment (disputes.ts MOMENT_FAILURES). */
  momentAccusers?: string[]
  /** Providers that failed this slot's setup (not assigned to it again), at most MARKET_PARAMS.blamedPerSlot. */
  blamed: string[]
}

export interface Contract {
  id: number
  planId: number
  driveIndex: number
  keyHex: string
  start: number
  end: number
  /** The core's signed root in force when the contract was cut: every party works against it (end <= root.length). */
  root: SignedRootHex
  /** The setup attestor (relays and checks the encoded chunks, reports the setup). */
  attestor: string | null
  setupDeadline: number | null
  slots: Slot[]
}

export interface Plan {
  id: number
  sponsor: string
  /** The latest signed root of each core and every range hosted so far (merged, sorted). */
  drives: DriveRanges[]
  replicas: number
  startBlock: number
  endBlock: number
  budgetPlanck: bigint
  /** Allocated to owed work items (paid or not). */
  accruedPlanck: bigint
  /** Allocated to the sponsor's refund. */
  refundPlanck: bigint
  status: 'active' | 'ended' | 'unpublished' | 'exhausted'
  contractIds: number[]
}

/** One attestor's report of a performance check. */
export interface PerformanceReport {
  attestor: string
  reachable: boolean
  ttfbMs: number
  throughputBps: number
  measureKeyHex: string
  /** A pass from an epoch aggregate: the grade its attestor gave the check's hoster over the epoch, units above performanceMin (the readings are in the attestor's leaves). */
  units?: number
}

/**
 * A storage challenge or a performance check of one hosting slot. `attestors` is uniform:
 * storage challenges have exactly one (never the hoster or the sponsor; a re-check after a
 * failure never one of the slot's accusers); performance checks have 1..performanceAttestors
 * distinct ones, each reports once (`reports`). A storage challenge settles on its report; a
 * performance check when every attestor reported or at `deadline` (missing reporters penalised).
 */
export interface Challenge {
  id: number
  kind: 'storage' | 'performance'
  contractId: number
  slot: number
  hoster: string
  attestors: string[]
  /** Performance reports received so far (always empty for storage). */
  reports: PerformanceReport[]
  /** The block to challenge (storage) or fetch (performance), in [contract.start, contract.end). */
  chunk: number
  issuedAt: number
  deadline: number
  /** True for a containment re-check issued right after a failure. */
  recheck: boolean
  /**
   * Aggregated networks (`epochBlocks` > 0), regular checks only: the epoch it was issued in (its
   * pass goes in the attestor's epoch aggregate, epoch-records.ts) and its plan (paid from it).
   */
  epoch?: number
  planId?: number
  /** Performance checks awaiting aggregates: attestors whose aggregate did not pass it (they reported nothing). */
  missed?: string[]
}

/**
 * One attestor's checks of one epoch, in the order the chain issued them, each as [challenge id,
 * plan id, 1 for a performance check else 0, the hoster checked]; the first `covered` of them are
 * aggregated. The hoster is kept here (not read from the check) so that the grades an aggregate
 * owes (one per hoster) follow from this list alone, fixed at issue: a check closed meanwhile
 * does not change them between the attestor's building and the chain's applying.
 */
export type EpochCheck = [id: number, plan: number, perf: number, hoster: string]
/**
 * Stored as three columns (epoch-records.ts EpochList; docs/chain.md "Scale"): `ids`, `planPerf`
 * (plan id x 2, + 1 for a performance check) and `hosters`, a third of the memory of a tuple a
 * check and no object a check to collect; `checks` gives the tuples (built at each read, not
 * serialised: the attestor's builder and the tests read it, the rules read the columns).
 */
export interface EpochChecks {
  covered: number
  ids: number[]
  planPerf: number[]
  hosters: string[]
  readonly checks: EpochCheck[]
}

export interface OwedItem {
  id: number
  to: string
  amountPlanck: bigint
  reason: Reason
  planId: number
  block: number
}

export interface NetworkConfig {
  operators: string[]
  threshold: number
  escrow: string
  unitPricePlanck: bigint
  params: NetworkParams
  sinceBlock: number
}

export interface EscrowTotals {
  /** Budgets paid in with publish records. */
  budgetsInPlanck: bigint
  /** Value sent to escrow without a valid record (kept, owed to nobody). */
  unattributedInPlanck: bigint
  payoutsPlanck: bigint
  refundsPlanck: bigint
  /** Value that left escrow without a valid record (a leak: counted so conservation shows it). */
  unaccountedOutPlanck: bigint
}

export interface MarketState {
  /** 2: datdot/2 records (signed roots, receipts, containment, several performance attestors). */
  version: 2
  block: { number: number, hash: string } | null
  network: NetworkConfig | null
  providers: Record<string, Provider>
  plans: Record<string, Plan>
  contracts: Record<string, Contract>
  /** Contracts with an unassigned slot or no attestor, in order of creation. */
  pending: number[]
  challenges: Record<string, Challenge>
  owed: Record<string, OwedItem>
  /**
   * Reputation of providers that unregistered below the starting reputation in a role, so that
   * leaving and registering again does not wash a penalty away (at most MARKET_PARAMS.retiredMax,
   * oldest dropped): per role, or one number for every role (snapshots before per-role reputation).
   */
  retired: Record<string, number | RoleReputations>
  next: { plan: number, contract: number, challenge: number, item: number }
  escrow: EscrowTotals
  counters: { blocks: number, applied: number, rejected: Record<string, number> }
  /**
   * Aggregated networks only (absent until the first regular check of an epoch): the checks of
   * each epoch by attestor (`epochs[epoch][attestor]`), until that epoch's aggregate deadline; and
   * the checks past their own deadline that wait for their attestors' aggregates (`awaiting`).
   */
  epochs?: Record<string, Record<string, EpochChecks>>
  awaiting?: Record<string, Challenge>
  /**
   * Aggregated networks only (absent in snapshots before): the attestors of each epoch's regular
   * checks (committee.ts), drawn at the epoch's first regular check, in address order, until that
   * epoch's aggregate deadline; an empty list: no committee (every eligible attestor is in).
   */
  committees?: Record<string, string[]>
  /**
   * Aggregated networks only (absent when none): the storage passes the chain drew from accepted
   * aggregates for a third party to audit (audits.ts), by the sampled check's id, until `until`.
   */
  audits?: Record<string, AuditSample>
}

/**
 * One aggregated storage pass drawn for an audit (audits.ts; docs/chain.md "Audits"): where its
 * leaf is in the attestor's aggregate (the part of epoch `epoch` from check `from`: leaf
 * `position` of `leaves`, under `rootHex`) and what the check was, so that the auditor can ask the
 * attestor for the leaf and its merkle path and re-walk the hoster after the check left the state.
 */
export interface AuditSample {
  epoch: number
  attestor: string
  from: number
  position: number
  leaves: number
  rootHex: string
  challengeId: number
  contractId: number
  slot: number
  hoster: string
  /** The check's block (its hash seeds the walk the leaf's evidence commits to). */
  issuedAt: number
  /** The block the sample was drawn in (the aggregate's). */
  at: number
  /** The audit check issued on the slot (a storage check whose attestor is the auditor), null until one could be. */
  recheck: number | null
  /** Forgotten at this block. */
  until: number
}

export function initialState (): MarketState {
  return {
    version: 2,
    block: null,
    network: null,
    providers: {},
    plans: {},
    contracts: {},
    pending: [],
    challenges: {},
    owed: {},
    retired: {},
    next: { plan: 1, contract: 1, challenge: 1, item: 1 },
    escrow: { budgetsInPlanck: 0n, unattributedInPlanck: 0n, payoutsPlanck: 0n, refundsPlanck: 0n, unaccountedOutPlanck: 0n },
    counters: { blocks: 0, applied: 0, rejected: {} }
  }
}

// ---------------------------------------------------------------- output

export type RecordOutcome =
  | { ok: true, kind: MarketRecord['kind'], ref: string }
  | { ok: false, why: RejectReason, detail: string }

/** How one transfer of an action is explained: one or more legs (payouts aggregate items). */
export interface TransferLeg { reason: Reason | 'unattributed', amountPlanck: bigint, memo: string }

export interface ActionOutcome {
  index: number
  signer: string
  applied: Array<{ kind: MarketRecord['kind'], ref: string }>
  rejected: Array<{ why: RejectReason, detail: string }>
  /**
   * One entry per DatDot remark of the action, in batch order: what became of that record. When
   * the whole action is refused (over limits, value with several records) every record carries
   * that reason. The chain service resolves each submitter's promise from its own entry.
   */
  records: RecordOutcome[]
  /** Same length and order as the action's transfers. */
  transferLegs: TransferLeg[][]
}

export interface BlockOutcome {
  number: number
  hash: string
  actions: ActionOutcome[]
  /** Things that happened without a record (timeouts, challenges issued, plans ended). */
  notices: string[]
  newChallenges: number[]
  newAssignments: number[]
  /** Every reputation penalty of this block, with its reason (what a provider is warned about). */
  penalties: Penalty[]
}

export type PenaltyReason = keyof typeof MARKET_PARAMS.penalties

export interface Penalty { address: string, role: keyof RoleReputations, reason: PenaltyReason, amount: number, detail: string }

export type RejectReason =
  | 'malformed' | 'unknown-version' | 'no-network' | 'wrong-signer' | 'over-limits'
  | 'out-of-order' | 'replayed' | 'bad-value' | 'unknown-ref' | 'not-allowed'
  /** A signed root or a setup receipt whose signature does not verify. */
  | 'bad-proof'
