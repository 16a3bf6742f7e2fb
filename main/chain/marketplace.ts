/**
 * The DatDot marketplace: a deterministic state machine whose only input is the chain's ordered
 * log. Every daemon that applies the same blocks derives the same state (compare `stateDigest`).
 *
 * Input per block: number, hash, time, and the block's *actions*: one per successful extrinsic
 * that carries DatDot records (`system.remarkWithEvent` with the `datdot/2 ` prefix, see
 * records.ts) or moves value to or from the escrow account. An action is one `utility.batchAll`:
 * its dispatch origin (`signer`; the multisig account for operator payouts), its records in batch
 * order and its balance transfers in batch order. Value moves only together with exactly one
 * record (publish pays the budget into escrow; payout pays verified work out of it).
 *
 * Randomness (selection of encoders, hosters, attestors; challenge chunks) comes from the block
 * hash through SHA-256 in counter mode. Nothing here reads the clock, the disk or the network.
 *
 * Hostile input (malformed, replayed, wrong signer, over limits, out of order, wrong value) is
 * rejected with a reason and counted in `state.counters.rejected`; it never throws. Only a broken
 * invariant of the machine itself (conservation of escrow value) throws, as an internal error.
 */
import { createHash } from 'node:crypto'
import hypercoreCrypto from 'hypercore-crypto'
import b4a from 'b4a'
import {
  decodeRecord, isDatdotRemark, receiptMessage, ROLE, RECORD_LIMITS,
  type MarketRecord, type DriveRanges, type NetworkParams, type SignedRootHex
} from './records.js'
import { verifyRootHex } from './roots.js'
import { DatdotError } from '../shared/errors.js'

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
  challengesPerBlock: 256,
  assignmentsPerBlock: 64,
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
  penalties: { failedProof: 50, missedReport: 20, pause: 10, failedSetup: 30 },
  /** Accusations in a row that a re-check did not confirm before an attestor is rested (not penalised). */
  unconfirmedLimit: 3,
  /** Blocks an attestor with `unconfirmedLimit` unconfirmed accusations in a row is not chosen to attest. */
  attestSuspensionBlocks: 600,
  rewardsOnSuccess: 5
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
  reputation: number
  usedBytes: number
  jobs: number
  pausedUntil: number
  /** Accusations in a row not confirmed by a re-check (absent: none; snapshots before this field). */
  unconfirmed?: number
  /** Not chosen to attest before this block (see clearContainment). */
  attestSuspendedUntil?: number
}

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
  /** Attestors whose failing reports put the slot in containment (never the re-check's attestors). */
  accusers: { storage: string[], performance: string[] }
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
   * Reputation of providers that unregistered below the starting reputation, so that leaving and
   * registering again does not wash a penalty away (at most MARKET_PARAMS.retiredMax, oldest dropped).
   */
  retired: Record<string, number>
  next: { plan: number, contract: number, challenge: number, item: number }
  escrow: EscrowTotals
  counters: { blocks: number, applied: number, rejected: Record<string, number> }
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

export interface Penalty { address: string, reason: PenaltyReason, amount: number, detail: string }

export type RejectReason =
  | 'malformed' | 'unknown-version' | 'no-network' | 'wrong-signer' | 'over-limits'
  | 'out-of-order' | 'replayed' | 'bad-value' | 'unknown-ref' | 'not-allowed'
  /** A signed root or a setup receipt whose signature does not verify. */
  | 'bad-proof'

// ---------------------------------------------------------------- randomness

/** Deterministic bytes from a block hash and a purpose (SHA-256 in counter mode). */
export class BlockRng {
  private counter = 0
  constructor (private readonly seed: string) {}
  next64 (): bigint {
    const h = createHash('sha256').update(this.seed).update(':').update(String(this.counter++)).digest()
    return h.readBigUInt64BE(0)
  }

  /** Uniform integer in [0, n) for n >= 1 (rejection sampling, no modulo bias). */
  below (n: bigint): bigint {
    if (n <= 0n) throw DatdotError.internal('BlockRng.below needs n >= 1')
    const max = 1n << 64n
    const limit = max - (max % n)
    for (;;) {
      const x = this.next64()
      if (x < limit) return x % n
    }
  }
}

// ---------------------------------------------------------------- apply

/**
 * Applies one block to `state` (mutates it) and returns what happened. Blocks must come in chain
 * order; a block that does not follow `state.block` is an internal error of the caller.
 */
export function applyBlock (state: MarketState, block: BlockInput): BlockOutcome {
  if (state.block !== null && block.number !== state.block.number + 1) {
    throw DatdotError.internal(`marketplace: block ${block.number} does not follow ${state.block.number}`)
  }
  if (state.block !== null && block.parentHash !== state.block.hash) {
    throw DatdotError.internal(`marketplace: block ${block.number} has parent ${block.parentHash}, expected ${state.block.hash}`)
  }
  const out: BlockOutcome = { number: block.number, hash: block.hash, actions: [], notices: [], newChallenges: [], newAssignments: [], penalties: [] }
  const ctx: Ctx = { state, block, out, rng: new BlockRng(block.hash), sorted: null, floorDrops: [] }

  const actions = [...block.actions].sort((a, b) => a.index - b.index)
  for (const action of actions) out.actions.push(applyAction(ctx, action))

  if (state.network !== null) {
    expireAndEnd(ctx)
    applyFloorDrops(ctx)
    assignPending(ctx)
    issueChallenges(ctx)
  }
  state.block = { number: block.number, hash: block.hash }
  state.counters.blocks++
  assertConservation(state)
  return out
}

interface Ctx {
  state: MarketState
  block: BlockInput
  out: BlockOutcome
  rng: BlockRng
  /** Providers sorted by address, built once per block and dropped when the set changes. */
  sorted: Provider[] | null
  /** Providers whose reputation fell below the floor, dropped after the current record (applyFloorDrops). */
  floorDrops: string[]
}

class Reject extends Error {
  constructor (readonly why: RejectReason, readonly detail: string) { super(detail) }
}

function reject (why: RejectReason, detail: string): never { throw new Reject(why, detail) }

function count (state: MarketState, why: RejectReason): void {
  state.counters.rejected[why] = (state.counters.rejected[why] ?? 0) + 1
}

function applyAction (ctx: Ctx, action: Action): ActionOutcome {
  const { state } = ctx
  const res: ActionOutcome = { index: action.index, signer: action.signer, applied: [], rejected: [], records: [], transferLegs: action.transfers.map(() => []) }
  const fail = (why: RejectReason, detail: string): void => { res.rejected.push({ why, detail }); count(state, why) }
  const remarks = action.remarks.filter(isDatdotRemark)
  const failAll = (why: RejectReason, detail: string): void => {
    fail(why, detail)
    for (let i = 0; i < remarks.length; i++) res.records.push({ ok: false, why, detail })
  }

  // Decide what the value of this action is for; anything not claimed by a valid record is
  // accounted as unattributed (in) or unaccounted (out) so escrow conservation stays exact.
  let valueClaimed = false
  if (remarks.length > MARKET_PARAMS.recordsPerAction || action.transfers.length > MARKET_PARAMS.transfersPerAction) {
    failAll('over-limits', `${remarks.length} records, ${action.transfers.length} transfers`)
  } else if (action.transfers.length > 0 && remarks.length !== 1) {
    if (remarks.length > 1) failAll('bad-value', 'value moved with more than one record')
  } else {
    for (const bytes of remarks) {
      const dec = decodeRecord(bytes)
      if (!dec.ok) {
        const why: RejectReason = dec.why === 'unknown-version' ? 'unknown-version' : 'malformed'
        fail(why, dec.why)
        res.records.push({ ok: false, why, detail: dec.why })
        continue
      }
      try {
        const ref = applyRecord(ctx, action, dec.record, res)
        res.applied.push({ kind: dec.record.kind, ref })
        res.records.push({ ok: true, kind: dec.record.kind, ref })
        state.counters.applied++
        if (action.transfers.length > 0) valueClaimed = true
      } catch (err) {
        if (err instanceof Reject) {
          fail(err.why, err.detail)
          res.records.push({ ok: false, why: err.why, detail: err.detail })
        } else throw err
      }
      applyFloorDrops(ctx)
    }
  }
  if (!valueClaimed) accountUnclaimed(state, action, res)
  return res
}

function accountUnclaimed (state: MarketState, action: Action, res: ActionOutcome): void {
  const escrow = state.network?.escrow
  action.transfers.forEach((t, i) => {
    if (escrow === undefined) return
    if (t.to === escrow && t.from !== escrow) {
      state.escrow.unattributedInPlanck += t.amountPlanck
      res.transferLegs[i] = [{ reason: 'unattributed', amountPlanck: t.amountPlanck, memo: 'value sent to escrow without a valid record' }]
    } else if (t.from === escrow && t.to !== escrow) {
      state.escrow.unaccountedOutPlanck += t.amountPlanck
      res.transferLegs[i] = [{ reason: 'unattributed', amountPlanck: t.amountPlanck, memo: 'value left escrow without a valid record' }]
    }
  })
}

// ---------------------------------------------------------------- records

function applyRecord (ctx: Ctx, action: Action, rec: MarketRecord, res: ActionOutcome): string {
  const { state, block } = ctx
  const signer = action.signer
  if (rec.kind === 'network') {
    if (action.transfers.length > 0) reject('bad-value', 'network record moves no value')
    if (state.network !== null) reject('replayed', 'network already configured')
    state.network = { operators: rec.operators, threshold: rec.threshold, escrow: rec.escrow, unitPricePlanck: rec.unitPricePlanck, params: { ...rec.params }, sinceBlock: block.number }
    return 'network'
  }
  const net = state.network
  if (net === null) reject('no-network', 'no network record yet')
  if (rec.kind !== 'publish' && rec.kind !== 'update' && rec.kind !== 'payout' && action.transfers.length > 0) reject('bad-value', `${rec.kind} moves no value`)

  switch (rec.kind) {
    case 'register': {
      if (signer === net.escrow) reject('wrong-signer', 'escrow cannot provide')
      const existing = state.providers[signer]
      if (existing !== undefined) {
        // Re-registering updates the offer; capacity below what is in use is refused.
        if (rec.storageBytes < existing.usedBytes) reject('not-allowed', 'storage below used bytes')
        existing.roles = rec.roles
        existing.storageBytes = rec.storageBytes
        existing.bandwidthBps = rec.bandwidthBps
        existing.region = rec.region
        existing.noiseKeyHex = rec.noiseKeyHex
        return `provider:${signer}`
      }
      const reputation = Math.min(MARKET_PARAMS.reputationStart, state.retired[signer] ?? MARKET_PARAMS.reputationStart)
      delete state.retired[signer]
      ctx.sorted = null
      state.providers[signer] = {
        address: signer,
        roles: rec.roles,
        storageBytes: rec.storageBytes,
        bandwidthBps: rec.bandwidthBps,
        region: rec.region,
        noiseKeyHex: rec.noiseKeyHex,
        registeredAt: block.number,
        reputation,
        usedBytes: 0,
        jobs: 0,
        pausedUntil: 0
      }
      return `provider:${signer}`
    }
    case 'unregister': {
      const p = state.providers[signer]
      if (p === undefined) reject('unknown-ref', 'not a provider')
      dropProvider(ctx, signer)
      delete state.providers[signer]
      ctx.sorted = null
      if (p.reputation < MARKET_PARAMS.reputationStart) {
        delete state.retired[signer]
        state.retired[signer] = p.reputation
        const keys = Object.keys(state.retired)
        if (keys.length > MARKET_PARAMS.retiredMax) delete state.retired[keys[0]]
      }
      return `provider:${signer}`
    }
    case 'pause': {
      const p = state.providers[signer]
      if (p === undefined) reject('unknown-ref', 'not a provider')
      if (p.pausedUntil > block.number) reject('replayed', 'already paused')
      p.pausedUntil = block.number + rec.blocks
      penalise(ctx, signer, 'pause', 'paused while holding assignments')
      return `provider:${signer}`
    }
    case 'unpause': {
      const p = state.providers[signer]
      if (p === undefined) reject('unknown-ref', 'not a provider')
      if (p.pausedUntil <= block.number) reject('out-of-order', 'not paused')
      p.pausedUntil = 0
      return `provider:${signer}`
    }
    case 'publish': return publish(ctx, action, rec, res)
    case 'unpublish': {
      const plan = state.plans[rec.planId]
      if (plan === undefined) reject(rec.planId >= state.next.plan ? 'out-of-order' : 'unknown-ref', `no plan ${rec.planId}`)
      if (plan.sponsor !== signer) reject('wrong-signer', 'only the sponsor unpublishes')
      if (plan.status !== 'active') reject('replayed', `plan ${plan.id} is ${plan.status}`)
      endPlan(ctx, plan, 'unpublished')
      return `plan:${plan.id}`
    }
    case 'update': return update(ctx, action, rec, res)
    case 'setup-report': return setupReport(ctx, signer, rec)
    case 'storage-report': return storageReport(ctx, signer, rec)
    case 'performance-report': return performanceReport(ctx, signer, rec)
    case 'payout': return payout(ctx, action, rec, res)
  }
}

/** Rejects 'bad-proof' unless every drive's signed root verifies against its key. */
function verifyRoots (drives: DriveRanges[]): void {
  for (const d of drives) {
    const bad = verifyRootHex(d.keyHex, d.root)
    if (bad !== null) reject('bad-proof', `root of ${d.keyHex.slice(0, 16)}: ${bad}`)
  }
}

/** Contracts `ranges` cut into with `chunksPerContract` blocks per contract. */
function contractsIn (ranges: Array<[number, number]>, chunksPerContract: number): number {
  let n = 0
  for (const [s, e] of ranges) n += Math.ceil((e - s) / chunksPerContract)
  return n
}

/** Checks the one budget transfer sponsor -> escrow of `amount` (none when amount is 0). */
function checkBudgetTransfer (action: Action, net: NetworkConfig, amount: bigint, what: string): void {
  if (amount === 0n) {
    if (action.transfers.length !== 0) reject('bad-value', `${what} without a budget moves no value`)
    return
  }
  if (action.transfers.length !== 1) reject('bad-value', `${what} needs exactly one transfer to escrow`)
  const t = action.transfers[0]
  if (t.from !== action.signer || t.to !== net.escrow) reject('bad-value', 'the budget must go from the sponsor to escrow')
  if (t.amountPlanck !== amount) reject('bad-value', `transfer ${t.amountPlanck} != budget ${amount}`)
}

/** Cuts `ranges` of a plan's drive into contracts hosted against `root`. */
function cutContracts (ctx: Ctx, plan: Plan, driveIndex: number, keyHex: string, root: SignedRootHex, ranges: Array<[number, number]>): void {
  const { state, block } = ctx
  const { chunksPerContract, challengeIntervalBlocks } = params(ctx)
  for (const [s, e] of ranges) {
    for (let c = s; c < e; c += chunksPerContract) {
      const contract: Contract = {
        id: state.next.contract++,
        planId: plan.id,
        driveIndex,
        keyHex,
        start: c,
        end: Math.min(e, c + chunksPerContract),
        root: { ...root },
        attestor: null,
        setupDeadline: null,
        slots: []
      }
      for (let i = 0; i < plan.replicas; i++) {
        contract.slots.push({
          hoster: null,
          encoder: null,
          state: 'unassigned',
          since: block.number,
          phase: Number(new BlockRng(`${block.hash}:phase:${contract.id}:${i}`).below(BigInt(challengeIntervalBlocks))),
          receiptsRootHex: null,
          strikes: { storage: 0, performance: 0 },
          accusers: { storage: [], performance: [] },
          blamed: []
        })
      }
      state.contracts[contract.id] = contract
      plan.contractIds.push(contract.id)
      state.pending.push(contract.id)
    }
  }
}

function publish (ctx: Ctx, action: Action, rec: Extract<MarketRecord, { kind: 'publish' }>, res: ActionOutcome): string {
  const { state, block } = ctx
  const net = state.network as NetworkConfig
  const signer = action.signer
  if (signer === net.escrow || net.operators.includes(signer)) reject('wrong-signer', 'the network does not sponsor')
  checkBudgetTransfer(action, net, rec.budgetPlanck, 'publish')
  let contracts = 0
  for (const d of rec.drives) contracts += contractsIn(d.ranges, net.params.chunksPerContract)
  if (contracts > MARKET_PARAMS.contractsPerPlan) reject('over-limits', `${contracts} contracts > ${MARKET_PARAMS.contractsPerPlan}`)
  verifyRoots(rec.drives)

  const plan: Plan = {
    id: state.next.plan++,
    sponsor: signer,
    drives: rec.drives.map((d) => ({ keyHex: d.keyHex, ranges: d.ranges.map(([a, b]) => [a, b] as [number, number]), root: { ...d.root } })),
    replicas: rec.replicas,
    startBlock: block.number,
    endBlock: block.number + rec.durationBlocks,
    budgetPlanck: rec.budgetPlanck,
    accruedPlanck: 0n,
    refundPlanck: 0n,
    status: 'active',
    contractIds: []
  }
  state.plans[plan.id] = plan
  state.escrow.budgetsInPlanck += rec.budgetPlanck
  res.transferLegs[0] = [{ reason: 'budget', amountPlanck: rec.budgetPlanck, memo: `plan ${plan.id}` }]
  rec.drives.forEach((d, driveIndex) => cutContracts(ctx, plan, driveIndex, d.keyHex, d.root, d.ranges))
  return `plan:${plan.id}`
}

/** Sorted union of two sets of half-open ranges (adjacent ranges merge). */
function mergeRanges (a: Array<[number, number]>, b: Array<[number, number]>): Array<[number, number]> {
  const all = [...a, ...b].map(([s, e]) => [s, e] as [number, number]).sort((x, y) => x[0] - y[0] || x[1] - y[1])
  const out: Array<[number, number]> = []
  for (const [s, e] of all) {
    const last = out[out.length - 1]
    if (last !== undefined && s <= last[1]) last[1] = Math.max(last[1], e)
    else out.push([s, e])
  }
  return out
}

function overlaps (a: Array<[number, number]>, b: Array<[number, number]>): boolean {
  return a.some(([s1, e1]) => b.some(([s2, e2]) => s1 < e2 && s2 < e1))
}

/**
 * The sponsor extends an active plan to newer signed roots of its cores. Every check comes before
 * any change: a rejected update leaves the plan as it was.
 */
function update (ctx: Ctx, action: Action, rec: Extract<MarketRecord, { kind: 'update' }>, res: ActionOutcome): string {
  const { state } = ctx
  const net = state.network as NetworkConfig
  const plan = state.plans[rec.planId]
  if (plan === undefined) reject(rec.planId >= state.next.plan ? 'out-of-order' : 'unknown-ref', `no plan ${rec.planId}`)
  if (plan.sponsor !== action.signer) reject('wrong-signer', 'only the sponsor updates a plan')
  if (plan.status !== 'active') reject('not-allowed', `plan ${plan.id} is ${plan.status}`)
  checkBudgetTransfer(action, net, rec.budgetPlanck, 'update')
  let contracts = plan.contractIds.length
  const targets: number[] = []
  for (const d of rec.drives) {
    const index = plan.drives.findIndex((pd) => pd.keyHex === d.keyHex)
    if (index === -1) reject('unknown-ref', `core ${d.keyHex.slice(0, 16)} is not in plan ${plan.id}`)
    const old = plan.drives[index]
    if (d.root.fork !== old.root.fork) reject('bad-value', `fork ${d.root.fork} != the plan's ${old.root.fork}`)
    if (d.root.length < old.root.length) reject('bad-value', `root length ${d.root.length} < the plan's ${old.root.length}`)
    if (overlaps(d.ranges, old.ranges)) reject('bad-value', `ranges of ${d.keyHex.slice(0, 16)} overlap what the plan hosts`)
    contracts += contractsIn(d.ranges, net.params.chunksPerContract)
    targets.push(index)
  }
  if (contracts > MARKET_PARAMS.contractsPerPlan) reject('over-limits', `${contracts} contracts > ${MARKET_PARAMS.contractsPerPlan}`)
  verifyRoots(rec.drives)

  if (rec.budgetPlanck > 0n) {
    plan.budgetPlanck += rec.budgetPlanck
    state.escrow.budgetsInPlanck += rec.budgetPlanck
    res.transferLegs[0] = [{ reason: 'budget', amountPlanck: rec.budgetPlanck, memo: `plan ${plan.id} top-up` }]
  }
  rec.drives.forEach((d, i) => {
    const index = targets[i]
    const pd = plan.drives[index]
    pd.root = { ...d.root }
    pd.ranges = mergeRanges(pd.ranges, d.ranges)
    cutContracts(ctx, plan, index, d.keyHex, d.root, d.ranges)
  })
  return `plan:${plan.id}`
}

/** True when `receiptHex` is the hoster's signature of the slot's receipt message. */
function receiptValid (contract: Contract, noiseKeyHex: string, receiptsRootHex: string, receiptHex: string): boolean {
  try {
    const msg = receiptMessage(contract.id, contract.keyHex, contract.root.length, receiptsRootHex)
    return hypercoreCrypto.verify(b4a.from(msg), b4a.from(receiptHex, 'hex'), b4a.from(noiseKeyHex, 'hex'))
  } catch {
    return false
  }
}

function blame (slot: Slot, address: string): void {
  if (slot.blamed.includes(address)) return
  slot.blamed.push(address)
  if (slot.blamed.length > MARKET_PARAMS.blamedPerSlot) slot.blamed.shift()
}

/**
 * The contract attestor's setup report: ok slots carry the hoster's signed receipt (the whole
 * record is rejected 'bad-proof' when one does not verify against the hoster's registered key);
 * failed slots blame the encoder (bad-encoding, encoder-missing: the slot keeps its hoster and
 * gets a new encoder) or the hoster (hoster-refused, hoster-missing: new hoster and encoder).
 */
function setupReport (ctx: Ctx, signer: string, rec: Extract<MarketRecord, { kind: 'setup-report' }>): string {
  const { state, block } = ctx
  const contract = state.contracts[rec.contractId]
  if (contract === undefined) reject(rec.contractId >= state.next.contract ? 'out-of-order' : 'replayed', `no contract ${rec.contractId}`)
  if (contract.attestor !== signer) reject('wrong-signer', 'only the contract attestor reports setup')
  if (rec.slots.length !== contract.slots.length) reject('malformed', 'slot count mismatch')
  const inSetup = contract.slots.map((s) => s.state === 'setup' && s.hoster !== null && s.encoder !== null)
  if (!inSetup.some(Boolean)) reject('replayed', 'no slot is in setup')
  rec.slots.forEach((r, i) => {
    if (!inSetup[i] || !r.ok) return
    const hoster = state.providers[contract.slots[i].hoster as string]
    if (hoster === undefined || !receiptValid(contract, hoster.noiseKeyHex, r.receiptsRootHex, r.receiptHex)) {
      reject('bad-proof', `slot ${i}: the receipt is not the hoster's signature`)
    }
  })

  const plan = state.plans[contract.planId]
  const chunks = BigInt(contract.end - contract.start)
  contract.slots.forEach((slot, i) => {
    if (!inSetup[i]) return
    const r = rec.slots[i]
    const hoster = slot.hoster as string
    const encoder = slot.encoder as string
    if (r.ok) {
      slot.state = 'hosting'
      slot.since = block.number
      slot.receiptsRootHex = r.receiptsRootHex
      accrue(ctx, plan, encoder, MARKET_PARAMS.units.encoding * chunks, 'encoding')
      reward(state, hoster, MARKET_PARAMS.rewardsOnSuccess)
      reward(state, encoder, MARKET_PARAMS.rewardsOnSuccess)
    } else if (r.reason === 'bad-encoding' || r.reason === 'encoder-missing') {
      penalise(ctx, encoder, 'failedSetup', `slot ${i} of contract ${contract.id}: ${r.reason}`)
      blame(slot, encoder)
      release(state, encoder, 0)
      slot.encoder = null
      slot.state = 'unassigned'
      ctx.out.notices.push(`encoder ${encoder} failed slot ${i} of contract ${contract.id} (${r.reason}): replaced`)
    } else {
      penalise(ctx, hoster, 'failedSetup', `slot ${i} of contract ${contract.id}: ${r.reason}`)
      blame(slot, hoster)
      vacateSlot(state, contract, i)
      ctx.out.notices.push(`hoster ${hoster} failed slot ${i} of contract ${contract.id} (${r.reason}): replaced`)
    }
  })
  accrue(ctx, plan, signer, MARKET_PARAMS.units.setupAttest, 'setup')
  contract.setupDeadline = contract.slots.some((s) => s.state === 'setup') ? block.number + MARKET_PARAMS.setupTimeoutBlocks : null
  markPending(state, contract)
  return `contract:${contract.id}`
}

function openChallenge (ctx: Ctx, id: number, kind: Challenge['kind'], signer: string): Challenge {
  const { state } = ctx
  const ch = state.challenges[id]
  if (ch === undefined) reject(id >= state.next.challenge ? 'out-of-order' : 'replayed', `no open challenge ${id}`)
  if (ch.kind !== kind) reject('malformed', `challenge ${ch.id} is a ${ch.kind} challenge`)
  if (!ch.attestors.includes(signer)) reject('wrong-signer', `not an attestor of challenge ${ch.id}`)
  return ch
}

/**
 * A storage report. A failure of a slot not in containment puts it there (no penalty) and
 * re-challenges it at once through a different attestor; a second consecutive failure replaces
 * the hoster; a pass in containment clears it and penalises the contradicted accusers.
 */
function storageReport (ctx: Ctx, signer: string, rec: Extract<MarketRecord, { kind: 'storage-report' }>): string {
  const { state } = ctx
  const ch = openChallenge(ctx, rec.challengeId, 'storage', signer)
  delete state.challenges[ch.id]
  const contract = state.contracts[ch.contractId]
  const plan = state.plans[contract.planId]
  const slot = contract.slots[ch.slot]
  accrue(ctx, plan, signer, MARKET_PARAMS.units.challengeAttest, 'storage-proof')
  const current = slot.hoster === ch.hoster && slot.state === 'hosting'
  if (rec.ok) {
    accrue(ctx, plan, ch.hoster, MARKET_PARAMS.units.storageProof, 'storage-proof')
    reward(state, ch.hoster, MARKET_PARAMS.rewardsOnSuccess)
    if (current) clearContainment(ctx, contract, ch.slot, 'storage')
  } else if (current) {
    strike(ctx, contract, ch.slot, 'storage', [signer], rec.reason)
  }
  return `challenge:${ch.id}`
}

/**
 * A performance report: each of the check's attestors reports once, with a measure key not used
 * by another report of the check. The check settles when all reported (or at its deadline).
 */
function performanceReport (ctx: Ctx, signer: string, rec: Extract<MarketRecord, { kind: 'performance-report' }>): string {
  const { state } = ctx
  const ch = openChallenge(ctx, rec.challengeId, 'performance', signer)
  if (ch.reports.some((r) => r.attestor === signer)) reject('replayed', `already reported challenge ${ch.id}`)
  if (ch.reports.some((r) => r.measureKeyHex === rec.measureKeyHex)) reject('bad-value', 'measure key already used in this check')
  ch.reports.push({ attestor: signer, reachable: rec.reachable, ttfbMs: rec.ttfbMs, throughputBps: rec.throughputBps, measureKeyHex: rec.measureKeyHex })
  const contract = state.contracts[ch.contractId]
  accrue(ctx, state.plans[contract.planId], signer, MARKET_PARAMS.units.challengeAttest, 'performance-proof')
  if (ch.reports.length >= ch.attestors.length) settlePerformance(ctx, ch)
  return `challenge:${ch.id}`
}

/** Lower median of integers (deterministic, no floating point). */
function median (values: number[]): number {
  const v = [...values].sort((a, b) => a - b)
  return v[Math.floor((v.length - 1) / 2)]
}

/**
 * Settles a performance check from its reports; attestors that did not report are penalised.
 * Reachable: a strict majority of the reports say so (graded from the medians, unreachable
 * reports counting as the worst values). Failed: a strict majority of the check's ATTESTORS
 * reported unreachable (so a lone report while the others missed the deadline cannot fail a
 * hoster). Anything else is inconclusive: no reward, no strike.
 */
function settlePerformance (ctx: Ctx, ch: Challenge): void {
  const { state } = ctx
  delete state.challenges[ch.id]
  for (const a of ch.attestors) {
    if (!ch.reports.some((r) => r.attestor === a)) {
      penalise(ctx, a, 'missedReport', `performance check ${ch.id}`)
      ctx.out.notices.push(`attestor ${a} missed performance check ${ch.id}`)
    }
  }
  const contract = state.contracts[ch.contractId]
  if (contract === undefined) return
  if (ch.reports.length === 0) {
    ctx.out.notices.push(`challenge ${ch.id} expired without a report`)
    return
  }
  const slot = contract.slots[ch.slot]
  const current = slot.hoster === ch.hoster && slot.state === 'hosting'
  const reachable = ch.reports.filter((r) => r.reachable)
  const unreachable = ch.reports.length - reachable.length
  if (2 * reachable.length > ch.reports.length) {
    const ttfb = median(ch.reports.map((r) => (r.reachable ? r.ttfbMs : RECORD_LIMITS.latencyMsMax)))
    const throughput = median(ch.reports.map((r) => (r.reachable ? r.throughputBps : 0)))
    accrue(ctx, state.plans[contract.planId], ch.hoster, performanceUnits(ttfb, throughput), 'performance-proof')
    reward(state, ch.hoster, MARKET_PARAMS.rewardsOnSuccess)
    if (current) clearContainment(ctx, contract, ch.slot, 'performance')
  } else if (2 * unreachable <= ch.attestors.length) {
    // Not a majority of the check's attestors: a lone (possibly lying) report decides nothing.
    ctx.out.notices.push(`performance check ${ch.id} of contract ${contract.id} slot ${ch.slot} inconclusive (${unreachable} of ${ch.attestors.length} unreachable)`)
  } else if (current) {
    strike(ctx, contract, ch.slot, 'performance', ch.reports.filter((r) => !r.reachable).map((r) => r.attestor), 'unreachable')
  }
}

/**
 * A pass: ends the slot's containment of `kind`. The accusers are not penalised: a pass now does
 * not prove an earlier failure false (the hoster may have been unreachable or late then, a
 * partial deleter may pass a walk that misses its holes, a cheater may re-fetch what it was caught
 * without), so an honest attestor could be punished for a true report. Each unconfirmed
 * accusation is counted instead; `unconfirmedLimit` in a row (none confirmed between) and the
 * attestor is not chosen to attest for `attestSuspensionBlocks`. It keeps its reputation, its
 * other roles and all it earned (docs/protocol.md, "No honest penalty").
 */
function clearContainment (ctx: Ctx, contract: Contract, i: number, kind: Challenge['kind']): void {
  const slot = contract.slots[i]
  if (slot.strikes[kind] === 0) return
  for (const a of slot.accusers[kind]) {
    ctx.out.notices.push(`attestor ${a} was contradicted on the ${kind} of contract ${contract.id} slot ${i} (not confirmed: no penalty)`)
    const p = ctx.state.providers[a]
    if (p === undefined) continue
    p.unconfirmed = (p.unconfirmed ?? 0) + 1
    if (p.unconfirmed >= MARKET_PARAMS.unconfirmedLimit) {
      p.unconfirmed = 0
      p.attestSuspendedUntil = ctx.block.number + MARKET_PARAMS.attestSuspensionBlocks
      ctx.out.notices.push(`attestor ${a} not chosen to attest until block ${p.attestSuspendedUntil} (${MARKET_PARAMS.unconfirmedLimit} unconfirmed accusations in a row)`)
    }
  }
  slot.strikes[kind] = 0
  slot.accusers[kind] = []
}

/** A confirmed accusation (a second failure by other attestors) ends the accusers' unconfirmed streaks. */
function confirmAccusers (state: MarketState, accusers: string[]): void {
  for (const a of accusers) {
    const p = state.providers[a]
    if (p !== undefined && p.unconfirmed !== undefined) p.unconfirmed = 0
  }
}

/** A failure: the first puts the slot in containment with a re-check at once; the second replaces the hoster. */
function strike (ctx: Ctx, contract: Contract, i: number, kind: Challenge['kind'], accusers: string[], why: string): void {
  const { state } = ctx
  const slot = contract.slots[i]
  const hoster = slot.hoster as string
  if (slot.strikes[kind] === 0) {
    slot.strikes[kind] = 1
    slot.accusers[kind] = [...accusers]
    // A storage claim is re-checked at once by another attestor. Availability is a reading of the
    // moment: a performance failure is re-checked by the slot's next scheduled check (a challenge
    // interval later, other attestors), so a hoster is replaced for it only when it failed twice,
    // an interval apart, never for one busy moment (docs/protocol.md, "No honest penalty").
    if (kind === 'storage') {
      ctx.out.notices.push(`hoster ${hoster} of contract ${contract.id} slot ${i} in ${kind} containment (${why}): re-checking`)
      issueChallenge(ctx, contract, i, kind, true)
    } else {
      ctx.out.notices.push(`hoster ${hoster} of contract ${contract.id} slot ${i} in ${kind} containment (${why}): re-checked by its next check`)
    }
    return
  }
  confirmAccusers(state, [...slot.accusers[kind], ...accusers])
  penalise(ctx, hoster, 'failedProof', `${kind} of contract ${contract.id} slot ${i} (${why})`)
  vacateSlot(state, contract, i)
  // the replacement is someone else: the failed hoster is not assigned to this slot again
  blame(slot, hoster)
  markPending(state, contract)
  ctx.out.notices.push(`hoster ${hoster} of contract ${contract.id} failed a ${kind} challenge: replaced`)
}

/**
 * Reward units for a performance check from the medians of its reports: the lower of the
 * time-to-first-byte score (full at <= 100 ms, zero at >= 1500 ms) and the throughput score (zero
 * at <= 64 KiB/s, full at >= 4 MiB/s), scaled linearly between performanceMin and performanceMax.
 */
export function performanceUnits (ttfbMs: number, throughputBps: number): bigint {
  const { ttfbFullMs, ttfbZeroMs, throughputZeroBps, throughputFullBps } = MARKET_PARAMS.performance
  const { performanceMax: hi, performanceMin: lo } = MARKET_PARAMS.units
  const clamp = (x: number, a: number, b: number): number => Math.min(b, Math.max(a, x))
  // Scores as fractions num / den in [0, 1].
  const tNum = BigInt(ttfbZeroMs - clamp(ttfbMs, ttfbFullMs, ttfbZeroMs))
  const tDen = BigInt(ttfbZeroMs - ttfbFullMs)
  const bNum = BigInt(clamp(throughputBps, throughputZeroBps, throughputFullBps) - throughputZeroBps)
  const bDen = BigInt(throughputFullBps - throughputZeroBps)
  const [num, den] = tNum * bDen <= bNum * tDen ? [tNum, tDen] : [bNum, bDen]
  return lo + ((hi - lo) * num) / den
}

function payout (ctx: Ctx, action: Action, rec: Extract<MarketRecord, { kind: 'payout' }>, res: ActionOutcome): string {
  const { state } = ctx
  const net = state.network as NetworkConfig
  if (action.signer !== net.escrow) reject('wrong-signer', 'payouts come from escrow')
  const items: OwedItem[] = []
  for (const id of rec.items) {
    const item = state.owed[id]
    if (item === undefined) reject(id >= state.next.item ? 'out-of-order' : 'replayed', `item ${id} is not owed`)
    items.push(item)
  }
  // Expected transfers: one per payee, in order of first appearance, each the sum of its items.
  const perPayee = new Map<string, OwedItem[]>()
  for (const item of items) {
    const list = perPayee.get(item.to)
    if (list === undefined) perPayee.set(item.to, [item])
    else list.push(item)
  }
  const expected = [...perPayee.entries()]
  if (expected.length !== action.transfers.length) reject('bad-value', `${action.transfers.length} transfers for ${expected.length} payees`)
  expected.forEach(([to, list], i) => {
    const t = action.transfers[i]
    const sum = list.reduce((a, it) => a + it.amountPlanck, 0n)
    if (t.from !== net.escrow || t.to !== to || t.amountPlanck !== sum) reject('bad-value', `transfer ${i} does not match the items it pays`)
  })
  expected.forEach(([, list], i) => {
    res.transferLegs[i] = list.map((it) => ({ reason: it.reason, amountPlanck: it.amountPlanck, memo: `item ${it.id} plan ${it.planId}` }))
    for (const it of list) {
      delete state.owed[it.id]
      if (it.reason === 'refund') state.escrow.refundsPlanck += it.amountPlanck
      else state.escrow.payoutsPlanck += it.amountPlanck
    }
  })
  return `payout:${rec.items.join(',')}`
}

// ---------------------------------------------------------------- accounting

function remainingPlanck (plan: Plan): bigint {
  return plan.budgetPlanck - plan.accruedPlanck - plan.refundPlanck
}

function addOwed (ctx: Ctx, plan: Plan, to: string, amountPlanck: bigint, reason: Reason): void {
  const { state, block } = ctx
  const id = state.next.item++
  state.owed[id] = { id, to, amountPlanck, reason, planId: plan.id, block: block.number }
}

function accrue (ctx: Ctx, plan: Plan, to: string, units: bigint, reason: Reason): void {
  if (plan.status !== 'active') return
  const net = ctx.state.network as NetworkConfig
  let amount = units * net.unitPricePlanck
  const left = remainingPlanck(plan)
  if (amount > left) amount = left
  if (amount > 0n) {
    plan.accruedPlanck += amount
    addOwed(ctx, plan, to, amount, reason)
  }
  if (remainingPlanck(plan) === 0n) endPlan(ctx, plan, 'exhausted')
}

function endPlan (ctx: Ctx, plan: Plan, status: Plan['status']): void {
  const { state } = ctx
  plan.status = status
  const left = remainingPlanck(plan)
  if (left > 0n) {
    plan.refundPlanck += left
    addOwed(ctx, plan, plan.sponsor, left, 'refund')
  }
  for (const cid of plan.contractIds) {
    const contract = state.contracts[cid]
    if (contract === undefined) continue
    contract.slots.forEach((_, i) => vacateSlot(state, contract, i))
    if (contract.attestor !== null) release(state, contract.attestor, 0)
    delete state.contracts[cid]
  }
  for (const [id, ch] of Object.entries(state.challenges)) {
    if (state.contracts[ch.contractId] === undefined) delete state.challenges[id]
  }
  state.pending = state.pending.filter((id) => state.contracts[id] !== undefined)
  ctx.out.notices.push(`plan ${plan.id} ${status}`)
}

/** Held by escrow on behalf of someone: unspent budgets, owed unpaid items, unattributed value. */
export function heldPlanck (state: MarketState): bigint {
  let held = state.escrow.unattributedInPlanck
  for (const plan of Object.values(state.plans)) held += remainingPlanck(plan)
  for (const item of Object.values(state.owed)) held += item.amountPlanck
  return held
}

export interface Conservation {
  inPlanck: bigint
  payoutsPlanck: bigint
  refundsPlanck: bigint
  heldPlanck: bigint
  unaccountedOutPlanck: bigint
  /** What the escrow account should hold above its baseline. */
  expectedEscrowPlanck: bigint
  ok: boolean
}

/** budget in = payouts + refunds + held (+ leaks, which tests require to be zero). */
export function conservation (state: MarketState): Conservation {
  const e = state.escrow
  const inPlanck = e.budgetsInPlanck + e.unattributedInPlanck
  const held = heldPlanck(state)
  return {
    inPlanck,
    payoutsPlanck: e.payoutsPlanck,
    refundsPlanck: e.refundsPlanck,
    heldPlanck: held,
    unaccountedOutPlanck: e.unaccountedOutPlanck,
    expectedEscrowPlanck: inPlanck - e.payoutsPlanck - e.refundsPlanck - e.unaccountedOutPlanck,
    ok: inPlanck === e.payoutsPlanck + e.refundsPlanck + held
  }
}

function assertConservation (state: MarketState): void {
  const c = conservation(state)
  if (!c.ok) throw DatdotError.internal(`marketplace conservation broken: in ${c.inPlanck} != payouts ${c.payoutsPlanck} + refunds ${c.refundsPlanck} + held ${c.heldPlanck}`)
}

// ---------------------------------------------------------------- providers and selection

function params (ctx: Ctx): NetworkParams { return (ctx.state.network as NetworkConfig).params }

function reward (state: MarketState, address: string, amount: number): void {
  const p = state.providers[address]
  if (p === undefined) return
  p.reputation = Math.min(MARKET_PARAMS.reputationMax, p.reputation + amount)
}

/** Lowers a reputation (listed in the block's outcome); below the floor the provider is dropped after the current record. */
function penalise (ctx: Ctx, address: string, reason: PenaltyReason, detail: string): void {
  const p = ctx.state.providers[address]
  if (p === undefined) return
  const amount = MARKET_PARAMS.penalties[reason]
  p.reputation = Math.max(0, p.reputation - amount)
  ctx.out.penalties.push({ address, reason, amount, detail })
  if (p.reputation < MARKET_PARAMS.reputationFloor && !ctx.floorDrops.includes(address)) ctx.floorDrops.push(address)
}

/** Removes every provider that fell below the reputation floor from all its assignments. */
function applyFloorDrops (ctx: Ctx): void {
  while (ctx.floorDrops.length > 0) {
    const address = ctx.floorDrops.shift() as string
    const p = ctx.state.providers[address]
    if (p === undefined || p.reputation >= MARKET_PARAMS.reputationFloor) continue
    dropProvider(ctx, address)
    ctx.out.notices.push(`provider ${address} fell below the reputation floor (${p.reputation}): dropped from its assignments`)
  }
}

function release (state: MarketState, address: string, bytes: number): void {
  const p = state.providers[address]
  if (p === undefined) return
  p.jobs = Math.max(0, p.jobs - 1)
  p.usedBytes = Math.max(0, p.usedBytes - bytes)
}

function contractBytes (c: Contract): number { return (c.end - c.start) * MARKET_PARAMS.chunkBytes }

function vacateSlot (state: MarketState, contract: Contract, i: number): void {
  const slot = contract.slots[i]
  if (slot.hoster !== null) release(state, slot.hoster, contractBytes(contract))
  if (slot.encoder !== null) release(state, slot.encoder, 0)
  slot.hoster = null
  slot.encoder = null
  slot.state = 'unassigned'
  slot.receiptsRootHex = null
  slot.strikes = { storage: 0, performance: 0 }
  slot.accusers = { storage: [], performance: [] }
  for (const [id, ch] of Object.entries(state.challenges)) {
    if (ch.contractId === contract.id && ch.slot === i) delete state.challenges[id]
  }
}

function markPending (state: MarketState, contract: Contract): void {
  const needs = contract.attestor === null || contract.slots.some((s) => s.state === 'unassigned')
  if (needs && !state.pending.includes(contract.id)) state.pending.push(contract.id)
}

/** Removes a provider from every assignment; its slots get new providers later (replacement). */
function dropProvider (ctx: Ctx, address: string): void {
  const { state } = ctx
  for (const contract of Object.values(state.contracts)) {
    contract.slots.forEach((slot, i) => {
      if (slot.hoster === address || (slot.encoder === address && slot.state !== 'hosting')) vacateSlot(state, contract, i)
      else if (slot.encoder === address) {
        // A hosting slot keeps its replica; the encoder's job is released, its key stays on record.
        release(state, address, 0)
        slot.encoder = null
      }
    })
    if (contract.attestor === address) {
      release(state, address, 0)
      contract.attestor = null
      contract.setupDeadline = null
    }
    markPending(state, contract)
  }
  for (const [id, ch] of Object.entries(state.challenges)) {
    if (ch.hoster === address) { delete state.challenges[id]; continue }
    if (!ch.attestors.includes(address)) continue
    ch.attestors = ch.attestors.filter((a) => a !== address)
    ch.reports = ch.reports.filter((r) => r.attestor !== address)
    if (ch.attestors.length === 0) delete state.challenges[id]
  }
}

function eligible (state: MarketState, p: Provider, role: number, now: number, bytes: number): boolean {
  if ((p.roles & role) === 0) return false
  if (p.pausedUntil > now) return false
  if (role === ROLE.attestor && (p.attestSuspendedUntil ?? 0) > now) return false
  if (p.reputation < MARKET_PARAMS.reputationFloor) return false
  if (p.jobs >= MARKET_PARAMS.jobsPerProvider) return false
  if (bytes > 0 && p.storageBytes - p.usedBytes < bytes) return false
  return true
}

/** Weighted pick: weight = (reputation + 1) * (1 + free MiB, capped at 2^20). */
function pick (ctx: Ctx, role: number, exclude: Set<string>, bytes: number): string | null {
  const { state, block, rng } = ctx
  if (ctx.sorted === null) ctx.sorted = Object.values(state.providers).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
  const candidates = ctx.sorted.filter((p) => !exclude.has(p.address) && eligible(state, p, role, block.number, bytes))
  if (candidates.length === 0) return null
  const weights = candidates.map((p) => {
    const freeMiB = Math.min(2 ** 20, Math.floor((p.storageBytes - p.usedBytes) / (1024 * 1024)))
    return BigInt(p.reputation + 1) * BigInt(1 + freeMiB)
  })
  const total = weights.reduce((a, b) => a + b, 0n)
  let x = rng.below(total)
  for (let i = 0; i < candidates.length; i++) {
    if (x < weights[i]) return candidates[i].address
    x -= weights[i]
  }
  return candidates[candidates.length - 1].address
}

function take (state: MarketState, address: string, bytes: number): void {
  const p = state.providers[address]
  p.jobs++
  p.usedBytes += bytes
}

/**
 * Fills unassigned slots (a slot that kept its hoster after an encoder failure needs an encoder
 * only) and missing attestors; never the sponsor, never one identity twice per contract, never a
 * provider that failed this slot's setup before.
 */
function assignPending (ctx: Ctx): void {
  const { state, block } = ctx
  const still: number[] = []
  let done = 0
  for (const cid of state.pending) {
    const contract = state.contracts[cid]
    if (contract === undefined) continue
    if (done >= MARKET_PARAMS.assignmentsPerBlock) { still.push(cid); continue }
    done++
    const plan = state.plans[contract.planId]
    const used = new Set<string>([plan.sponsor])
    if (contract.attestor !== null) used.add(contract.attestor)
    for (const s of contract.slots) {
      if (s.hoster !== null) used.add(s.hoster)
      if (s.encoder !== null) used.add(s.encoder)
    }
    let changed = false
    contract.slots.forEach((slot) => {
      if (slot.state !== 'unassigned') return
      const exclude = new Set([...used, ...slot.blamed])
      const keptHoster = slot.hoster
      const hoster = keptHoster ?? pick(ctx, ROLE.hoster, exclude, contractBytes(contract))
      if (hoster === null) return
      exclude.add(hoster)
      const encoder = pick(ctx, ROLE.encoder, exclude, 0)
      if (encoder === null) return
      used.add(hoster)
      used.add(encoder)
      if (keptHoster === null) take(state, hoster, contractBytes(contract))
      take(state, encoder, 0)
      slot.hoster = hoster
      slot.encoder = encoder
      slot.state = 'setup'
      slot.since = block.number
      changed = true
    })
    if (contract.attestor === null) {
      const attestor = pick(ctx, ROLE.attestor, used, 0)
      if (attestor !== null) {
        take(state, attestor, 0)
        contract.attestor = attestor
        changed = true
      }
    }
    if (changed) {
      if (contract.slots.some((s) => s.state === 'setup')) contract.setupDeadline = block.number + MARKET_PARAMS.setupTimeoutBlocks
      ctx.out.newAssignments.push(contract.id)
    }
    if (contract.attestor === null || contract.slots.some((s) => s.state === 'unassigned')) still.push(cid)
  }
  state.pending = still
}

/**
 * Plan ends, setup timeouts (new attestor), challenge deadlines: a storage challenge without a
 * report costs its attestor (a slot in containment is re-checked by another one); a performance
 * check settles with the reports it has and penalises the attestors that did not report.
 */
function expireAndEnd (ctx: Ctx): void {
  const { state, block } = ctx
  for (const plan of Object.values(state.plans)) {
    if (plan.status === 'active' && block.number >= plan.endBlock) endPlan(ctx, plan, 'ended')
  }
  for (const contract of Object.values(state.contracts)) {
    if (contract.setupDeadline !== null && block.number >= contract.setupDeadline && contract.attestor !== null) {
      penalise(ctx, contract.attestor, 'missedReport', `setup of contract ${contract.id}`)
      release(state, contract.attestor, 0)
      ctx.out.notices.push(`attestor ${contract.attestor} missed the setup of contract ${contract.id}: replaced`)
      contract.attestor = null
      contract.setupDeadline = null
      markPending(state, contract)
    }
  }
  for (const id of Object.keys(state.challenges)) {
    const ch = state.challenges[id]
    if (ch === undefined) continue
    if (ch.kind === 'performance') {
      if (block.number >= ch.deadline || ch.reports.length >= ch.attestors.length) settlePerformance(ctx, ch)
      continue
    }
    if (block.number < ch.deadline) continue
    delete state.challenges[id]
    for (const a of ch.attestors) penalise(ctx, a, 'missedReport', `storage challenge ${ch.id}`)
    ctx.out.notices.push(`challenge ${ch.id} expired without a report`)
    const contract = state.contracts[ch.contractId]
    const slot = contract?.slots[ch.slot]
    if (slot !== undefined && slot.hoster === ch.hoster && slot.state === 'hosting' && slot.strikes.storage > 0) {
      issueChallenge(ctx, contract, ch.slot, 'storage', true, ch.attestors)
    }
  }
}

/**
 * Issues a challenge of `kind` for a hosting slot now: storage to one attestor, performance to
 * `performanceAttestors` distinct ones (fewer when not enough are eligible). Never the hoster or
 * the sponsor; a re-check never an accuser (nor `alsoExclude`). Returns the id, or null when no
 * attestor is eligible.
 */
function issueChallenge (ctx: Ctx, contract: Contract, i: number, kind: Challenge['kind'], recheck: boolean, alsoExclude: string[] = []): number | null {
  const { state, block, rng } = ctx
  const slot = contract.slots[i]
  if (slot.hoster === null) return null
  const plan = state.plans[contract.planId]
  const exclude = new Set<string>([plan.sponsor, slot.hoster, ...slot.accusers[kind], ...alsoExclude])
  const want = kind === 'storage' ? 1 : params(ctx).performanceAttestors
  const attestors: string[] = []
  while (attestors.length < want) {
    const a = pick(ctx, ROLE.attestor, exclude, 0)
    if (a === null) break
    attestors.push(a)
    exclude.add(a)
  }
  if (attestors.length === 0) return null
  const id = state.next.challenge++
  state.challenges[id] = {
    id,
    kind,
    contractId: contract.id,
    slot: i,
    hoster: slot.hoster,
    attestors,
    reports: [],
    chunk: contract.start + Number(rng.below(BigInt(contract.end - contract.start))),
    issuedAt: block.number,
    deadline: block.number + params(ctx).challengeTimeoutBlocks,
    recheck
  }
  ctx.out.newChallenges.push(id)
  return id
}

/**
 * Every hosting slot gets a storage challenge once per `challengeIntervalBlocks` (at its phase)
 * and a performance check half an interval later, unless one of that kind is still open.
 */
function issueChallenges (ctx: Ctx): void {
  const { state, block } = ctx
  const interval = params(ctx).challengeIntervalBlocks
  const half = Math.floor(interval / 2)
  const open = new Set(Object.values(state.challenges).map((c) => `${c.contractId}:${c.slot}:${c.kind}`))
  let issued = 0
  for (const contract of Object.values(state.contracts)) {
    for (let i = 0; i < contract.slots.length; i++) {
      if (issued >= MARKET_PARAMS.challengesPerBlock) return
      const slot = contract.slots[i]
      if (slot.state !== 'hosting' || slot.hoster === null) continue
      if (block.number <= slot.since) continue
      const hosterP = state.providers[slot.hoster]
      if (hosterP !== undefined && hosterP.pausedUntil > block.number) continue
      let kind: Challenge['kind'] | null = null
      if ((block.number + slot.phase) % interval === 0) kind = 'storage'
      else if ((block.number + slot.phase + half) % interval === 0) kind = 'performance'
      if (kind === null || open.has(`${contract.id}:${i}:${kind}`)) continue
      if (issueChallenge(ctx, contract, i, kind, false) !== null) issued++
    }
  }
}

// ---------------------------------------------------------------- queries, serialisation

/** Items owed and unpaid, oldest first, at most `limit` (what the operator pays next). */
export function owedItems (state: MarketState, limit: number): OwedItem[] {
  return Object.values(state.owed).sort((a, b) => a.id - b.id).slice(0, limit)
}

/** Canonical JSON (bigints as `"<n>n"` strings) of the whole state. */
export function serializeState (state: MarketState): string {
  return JSON.stringify(state, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
}

export function deserializeState (json: string): MarketState {
  return JSON.parse(json, (_k, v: unknown) => (typeof v === 'string' && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as MarketState
}

/** SHA-256 of the canonical serialisation: equal on every daemon that applied the same blocks. */
export function stateDigest (state: MarketState): string {
  return createHash('sha256').update(serializeState(state)).digest('hex')
}

export function cloneState (state: MarketState): MarketState {
  return deserializeState(serializeState(state))
}
