/**
 * The DatDot marketplace: a deterministic state machine whose only input is the chain's ordered
 * log. Every daemon that applies the same blocks derives the same state (compare `stateDigest`).
 *
 * Input per block: number, hash, time, and the block's *actions*: one per successful extrinsic
 * that carries DatDot records (`system.remarkWithEvent` with the `datdot/1 ` prefix, see
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
import { decodeRecord, isDatdotRemark, ROLE, type MarketRecord, type DriveRanges } from './records.js'
import { DatdotError } from '../engine/errors.js'

// ---------------------------------------------------------------- parameters

export const MARKET_PARAMS = {
  chunkBytes: 64 * 1024,
  chunksPerContract: 10,
  contractsPerPlan: 1024,
  setupTimeoutBlocks: 20,
  challengeIntervalBlocks: 10,
  challengeTimeoutBlocks: 10,
  challengesPerBlock: 256,
  assignmentsPerBlock: 64,
  jobsPerProvider: 64,
  recordsPerAction: 32,
  transfersPerAction: 64,
  reputationStart: 500,
  reputationMax: 1000,
  /** Reward units (times the network's unit price). Numbers of the original DatDot. */
  units: {
    encoding: 5n,
    setupAttest: 5n,
    storageProof: 50n,
    challengeAttest: 10n,
    performanceMax: 50n,
    performanceMin: 5n
  },
  performance: { fullGradeMs: 100, zeroGradeMs: 1500 },
  penalties: { failedProof: 50, missedReport: 20, pause: 10, failedSetup: 30 },
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
}

export interface Slot {
  hoster: string | null
  encoder: string | null
  state: 'unassigned' | 'setup' | 'hosting'
  since: number
  /** Offset so that challenges of different slots spread over the interval. */
  phase: number
}

export interface Contract {
  id: number
  planId: number
  driveIndex: number
  keyHex: string
  start: number
  end: number
  attestor: string | null
  setupDeadline: number | null
  slots: Slot[]
}

export interface Plan {
  id: number
  sponsor: string
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

export interface Challenge {
  id: number
  kind: 'storage' | 'performance'
  contractId: number
  slot: number
  hoster: string
  attestor: string
  chunk: number
  issuedAt: number
  deadline: number
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
  version: 1
  block: { number: number, hash: string } | null
  network: NetworkConfig | null
  providers: Record<string, Provider>
  plans: Record<string, Plan>
  contracts: Record<string, Contract>
  /** Contracts with an unassigned slot or no attestor, in order of creation. */
  pending: number[]
  challenges: Record<string, Challenge>
  owed: Record<string, OwedItem>
  next: { plan: number, contract: number, challenge: number, item: number }
  escrow: EscrowTotals
  counters: { blocks: number, applied: number, rejected: Record<string, number> }
}

export function initialState (): MarketState {
  return {
    version: 1,
    block: null,
    network: null,
    providers: {},
    plans: {},
    contracts: {},
    pending: [],
    challenges: {},
    owed: {},
    next: { plan: 1, contract: 1, challenge: 1, item: 1 },
    escrow: { budgetsInPlanck: 0n, unattributedInPlanck: 0n, payoutsPlanck: 0n, refundsPlanck: 0n, unaccountedOutPlanck: 0n },
    counters: { blocks: 0, applied: 0, rejected: {} }
  }
}

// ---------------------------------------------------------------- output

/** How one transfer of an action is explained: one or more legs (payouts aggregate items). */
export interface TransferLeg { reason: Reason | 'unattributed', amountPlanck: bigint, memo: string }

export interface ActionOutcome {
  index: number
  signer: string
  applied: Array<{ kind: MarketRecord['kind'], ref: string }>
  rejected: Array<{ why: RejectReason, detail: string }>
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
}

export type RejectReason =
  | 'malformed' | 'unknown-version' | 'no-network' | 'wrong-signer' | 'over-limits'
  | 'out-of-order' | 'replayed' | 'bad-value' | 'unknown-ref' | 'not-allowed'

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
  const out: BlockOutcome = { number: block.number, hash: block.hash, actions: [], notices: [], newChallenges: [], newAssignments: [] }
  const ctx: Ctx = { state, block, out, rng: new BlockRng(block.hash), sorted: null }

  const actions = [...block.actions].sort((a, b) => a.index - b.index)
  for (const action of actions) out.actions.push(applyAction(ctx, action))

  if (state.network !== null) {
    expireAndEnd(ctx)
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
  const res: ActionOutcome = { index: action.index, signer: action.signer, applied: [], rejected: [], transferLegs: action.transfers.map(() => []) }
  const fail = (why: RejectReason, detail: string): void => { res.rejected.push({ why, detail }); count(state, why) }
  const remarks = action.remarks.filter(isDatdotRemark)

  // Decide what the value of this action is for; anything not claimed by a valid record is
  // accounted as unattributed (in) or unaccounted (out) so escrow conservation stays exact.
  let valueClaimed = false
  if (remarks.length > MARKET_PARAMS.recordsPerAction || action.transfers.length > MARKET_PARAMS.transfersPerAction) {
    fail('over-limits', `${remarks.length} records, ${action.transfers.length} transfers`)
  } else if (action.transfers.length > 0 && remarks.length !== 1) {
    if (remarks.length > 1) fail('bad-value', 'value moved with more than one record')
  } else {
    for (const bytes of remarks) {
      const dec = decodeRecord(bytes)
      if (!dec.ok) {
        fail(dec.why === 'unknown-version' ? 'unknown-version' : 'malformed', dec.why)
        continue
      }
      try {
        const ref = applyRecord(ctx, action, dec.record, res)
        res.applied.push({ kind: dec.record.kind, ref })
        state.counters.applied++
        if (action.transfers.length > 0) valueClaimed = true
      } catch (err) {
        if (err instanceof Reject) fail(err.why, err.detail)
        else throw err
      }
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
    state.network = { operators: rec.operators, threshold: rec.threshold, escrow: rec.escrow, unitPricePlanck: rec.unitPricePlanck, sinceBlock: block.number }
    return 'network'
  }
  const net = state.network
  if (net === null) reject('no-network', 'no network record yet')
  if (rec.kind !== 'publish' && rec.kind !== 'payout' && action.transfers.length > 0) reject('bad-value', `${rec.kind} moves no value`)

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
      ctx.sorted = null
      state.providers[signer] = {
        address: signer,
        roles: rec.roles,
        storageBytes: rec.storageBytes,
        bandwidthBps: rec.bandwidthBps,
        region: rec.region,
        noiseKeyHex: rec.noiseKeyHex,
        registeredAt: block.number,
        reputation: MARKET_PARAMS.reputationStart,
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
      return `provider:${signer}`
    }
    case 'pause': {
      const p = state.providers[signer]
      if (p === undefined) reject('unknown-ref', 'not a provider')
      if (p.pausedUntil > block.number) reject('replayed', 'already paused')
      p.pausedUntil = block.number + rec.blocks
      p.reputation = Math.max(0, p.reputation - MARKET_PARAMS.penalties.pause)
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
    case 'setup-report': return setupReport(ctx, signer, rec)
    case 'storage-report':
    case 'performance-report': return challengeReport(ctx, signer, rec)
    case 'payout': return payout(ctx, action, rec, res)
  }
}

function publish (ctx: Ctx, action: Action, rec: Extract<MarketRecord, { kind: 'publish' }>, res: ActionOutcome): string {
  const { state, block } = ctx
  const net = state.network as NetworkConfig
  const signer = action.signer
  if (signer === net.escrow || net.operators.includes(signer)) reject('wrong-signer', 'the network does not sponsor')
  if (action.transfers.length !== 1) reject('bad-value', 'publish needs exactly one transfer to escrow')
  const t = action.transfers[0]
  if (t.from !== signer || t.to !== net.escrow) reject('bad-value', 'the budget must go from the sponsor to escrow')
  if (t.amountPlanck !== rec.budgetPlanck) reject('bad-value', `transfer ${t.amountPlanck} != budget ${rec.budgetPlanck}`)
  let contracts = 0
  for (const d of rec.drives) {
    for (const [s, e] of d.ranges) contracts += Math.ceil((e - s) / MARKET_PARAMS.chunksPerContract)
  }
  if (contracts > MARKET_PARAMS.contractsPerPlan) reject('over-limits', `${contracts} contracts > ${MARKET_PARAMS.contractsPerPlan}`)

  const plan: Plan = {
    id: state.next.plan++,
    sponsor: signer,
    drives: rec.drives,
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
  rec.drives.forEach((d, driveIndex) => {
    for (const [s, e] of d.ranges) {
      for (let c = s; c < e; c += MARKET_PARAMS.chunksPerContract) {
        const contract: Contract = {
          id: state.next.contract++,
          planId: plan.id,
          driveIndex,
          keyHex: d.keyHex,
          start: c,
          end: Math.min(e, c + MARKET_PARAMS.chunksPerContract),
          attestor: null,
          setupDeadline: null,
          slots: Array.from({ length: rec.replicas }, (_, i) => ({
            hoster: null, encoder: null, state: 'unassigned' as const, since: block.number, phase: 0 + i
          }))
        }
        contract.slots.forEach((slot, i) => { slot.phase = Number(new BlockRng(`${block.hash}:phase:${contract.id}:${i}`).below(BigInt(MARKET_PARAMS.challengeIntervalBlocks))) })
        state.contracts[contract.id] = contract
        plan.contractIds.push(contract.id)
        state.pending.push(contract.id)
      }
    }
  })
  return `plan:${plan.id}`
}

function setupReport (ctx: Ctx, signer: string, rec: Extract<MarketRecord, { kind: 'setup-report' }>): string {
  const { state, block } = ctx
  const contract = state.contracts[rec.contractId]
  if (contract === undefined) reject(rec.contractId >= state.next.contract ? 'out-of-order' : 'replayed', `no contract ${rec.contractId}`)
  if (contract.attestor !== signer) reject('wrong-signer', 'only the contract attestor reports setup')
  if (rec.slotsOk.length !== contract.slots.length) reject('malformed', 'slot count mismatch')
  const inSetup = contract.slots.map((s) => s.state === 'setup')
  if (!inSetup.some(Boolean)) reject('replayed', 'no slot is in setup')
  const plan = state.plans[contract.planId]
  const chunks = BigInt(contract.end - contract.start)
  contract.slots.forEach((slot, i) => {
    if (!inSetup[i]) return
    const hoster = slot.hoster as string
    if (rec.slotsOk[i]) {
      slot.state = 'hosting'
      slot.since = block.number
      accrue(ctx, plan, slot.encoder as string, MARKET_PARAMS.units.encoding * chunks, 'encoding')
      adjustReputation(state, hoster, MARKET_PARAMS.rewardsOnSuccess)
    } else {
      adjustReputation(state, hoster, -MARKET_PARAMS.penalties.failedSetup)
      vacateSlot(state, contract, i)
    }
  })
  accrue(ctx, plan, signer, MARKET_PARAMS.units.setupAttest, 'setup')
  contract.setupDeadline = contract.slots.some((s) => s.state === 'setup') ? block.number + MARKET_PARAMS.setupTimeoutBlocks : null
  markPending(state, contract)
  return `contract:${contract.id}`
}

function challengeReport (ctx: Ctx, signer: string, rec: Extract<MarketRecord, { kind: 'storage-report' | 'performance-report' }>): string {
  const { state } = ctx
  const ch = state.challenges[rec.challengeId]
  if (ch === undefined) reject(rec.challengeId >= state.next.challenge ? 'out-of-order' : 'replayed', `no open challenge ${rec.challengeId}`)
  if (ch.attestor !== signer) reject('wrong-signer', 'only the challenge attestor reports')
  const wantKind = rec.kind === 'storage-report' ? 'storage' : 'performance'
  if (ch.kind !== wantKind) reject('malformed', `challenge ${ch.id} is a ${ch.kind} challenge`)
  delete state.challenges[ch.id]
  const contract = state.contracts[ch.contractId]
  const plan = state.plans[contract.planId]
  const reason: Reason = ch.kind === 'storage' ? 'storage-proof' : 'performance-proof'
  accrue(ctx, plan, signer, MARKET_PARAMS.units.challengeAttest, reason)
  if (rec.ok) {
    let units: bigint = MARKET_PARAMS.units.storageProof
    if (rec.kind === 'performance-report') units = performanceUnits(rec.latencyMs)
    accrue(ctx, plan, ch.hoster, units, reason)
    adjustReputation(state, ch.hoster, MARKET_PARAMS.rewardsOnSuccess)
  } else {
    adjustReputation(state, ch.hoster, -MARKET_PARAMS.penalties.failedProof)
    if (contract.slots[ch.slot].hoster === ch.hoster && plan.status === 'active') {
      vacateSlot(state, contract, ch.slot)
      markPending(state, contract)
      ctx.out.notices.push(`hoster ${ch.hoster} of contract ${contract.id} failed a ${ch.kind} challenge: replaced`)
    }
  }
  return `challenge:${ch.id}`
}

/** Reward units for a performance proof: full at <= 100 ms, minimum at >= 1500 ms, linear between. */
export function performanceUnits (latencyMs: number): bigint {
  const { fullGradeMs, zeroGradeMs } = MARKET_PARAMS.performance
  const { performanceMax: hi, performanceMin: lo } = MARKET_PARAMS.units
  if (latencyMs <= fullGradeMs) return hi
  if (latencyMs >= zeroGradeMs) return lo
  const span = BigInt(zeroGradeMs - fullGradeMs)
  return lo + ((hi - lo) * (BigInt(zeroGradeMs) - BigInt(latencyMs))) / span
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

function adjustReputation (state: MarketState, address: string, delta: number): void {
  const p = state.providers[address]
  if (p === undefined) return
  p.reputation = Math.min(MARKET_PARAMS.reputationMax, Math.max(0, p.reputation + delta))
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
      if (slot.hoster === address || slot.encoder === address) vacateSlot(state, contract, i)
    })
    if (contract.attestor === address) {
      release(state, address, 0)
      contract.attestor = null
    }
    markPending(state, contract)
  }
  for (const [id, ch] of Object.entries(state.challenges)) {
    if (ch.attestor === address || ch.hoster === address) delete state.challenges[id]
  }
}

function eligible (state: MarketState, p: Provider, role: number, now: number, bytes: number): boolean {
  if ((p.roles & role) === 0) return false
  if (p.pausedUntil > now) return false
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

/** Fills unassigned slots and missing attestors; never the sponsor, never one identity twice per contract. */
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
      const hoster = pick(ctx, ROLE.hoster, used, contractBytes(contract))
      if (hoster === null) return
      used.add(hoster)
      const encoder = pick(ctx, ROLE.encoder, used, 0)
      if (encoder === null) { used.delete(hoster); return }
      used.add(encoder)
      take(state, hoster, contractBytes(contract))
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

/** Plan ends, setup timeouts (new attestor), challenge timeouts (attestor penalised). */
function expireAndEnd (ctx: Ctx): void {
  const { state, block } = ctx
  for (const plan of Object.values(state.plans)) {
    if (plan.status === 'active' && block.number >= plan.endBlock) endPlan(ctx, plan, 'ended')
  }
  for (const contract of Object.values(state.contracts)) {
    if (contract.setupDeadline !== null && block.number >= contract.setupDeadline && contract.attestor !== null) {
      adjustReputation(state, contract.attestor, -MARKET_PARAMS.penalties.missedReport)
      release(state, contract.attestor, 0)
      ctx.out.notices.push(`attestor ${contract.attestor} missed the setup of contract ${contract.id}: replaced`)
      contract.attestor = null
      contract.setupDeadline = null
      markPending(state, contract)
    }
  }
  for (const [id, ch] of Object.entries(state.challenges)) {
    if (block.number >= ch.deadline) {
      adjustReputation(state, ch.attestor, -MARKET_PARAMS.penalties.missedReport)
      delete state.challenges[id]
      ctx.out.notices.push(`challenge ${ch.id} expired without a report`)
    }
  }
}

function issueChallenges (ctx: Ctx): void {
  const { state, block, rng } = ctx
  const open = new Set(Object.values(state.challenges).map((c) => `${c.contractId}:${c.slot}`))
  let issued = 0
  for (const contract of Object.values(state.contracts)) {
    const plan = state.plans[contract.planId]
    for (let i = 0; i < contract.slots.length; i++) {
      if (issued >= MARKET_PARAMS.challengesPerBlock) return
      const slot = contract.slots[i]
      if (slot.state !== 'hosting' || slot.hoster === null) continue
      if ((block.number + slot.phase) % MARKET_PARAMS.challengeIntervalBlocks !== 0) continue
      if (block.number <= slot.since) continue
      if (open.has(`${contract.id}:${i}`)) continue
      const hosterP = state.providers[slot.hoster]
      if (hosterP !== undefined && hosterP.pausedUntil > block.number) continue
      const exclude = new Set<string>([plan.sponsor, slot.hoster])
      const attestor = pick(ctx, ROLE.attestor, exclude, 0)
      if (attestor === null) continue
      const id = state.next.challenge++
      state.challenges[id] = {
        id,
        kind: rng.below(2n) === 0n ? 'storage' : 'performance',
        contractId: contract.id,
        slot: i,
        hoster: slot.hoster,
        attestor,
        chunk: contract.start + Number(rng.below(BigInt(contract.end - contract.start))),
        issuedAt: block.number,
        deadline: block.number + MARKET_PARAMS.challengeTimeoutBlocks
      }
      ctx.out.newChallenges.push(id)
      issued++
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
