/**
 * Derived indexes of the marketplace state, so that a block's work grows with what happens in it,
 * not with everything that exists (docs/chain.md, "Scale"). Nothing here is state: an index is
 * kept beside a MarketState object (a WeakMap), never serialised, and built again from the state
 * alone whenever a state object has none (a restored snapshot, a clone), so every interpreter
 * holds the same index for the same state.
 *
 * Every index is a superset that the rules check against the live state when they use it (a
 * deleted contract, a closed challenge, a provider that left a slot are skipped and dropped), so
 * a stale entry can never change a result; only a missing entry could, and entries are added
 * where the thing is created (contracts and plans are picked up by id, assignments, challenges
 * and setup deadlines where they are made).
 *
 * `scan: true` (the oracle mode of the equivalence tests) makes the rules take their old full
 * scans instead of the indexes.
 */
import type { Challenge, Contract, MarketState, OwedItem, Provider } from './market-types.js'
import { MinHeap } from './min-heap.js'
import { refreshProvider, type PickTrees, type ProviderOrder } from './pick-tree.js'

/** Slots per contract fit in a key `contractId * SLOT_KEY + slot` (RECORD_LIMITS.replicasMax is 8). */
export const SLOT_KEY = 256

export interface MarketIndex {
  /** Old full scans instead of the indexes (equivalence tests' oracle). */
  scan: boolean
  interval: number
  /** Contracts and plans with a smaller id are indexed. */
  seenContract: number
  seenPlan: number
  /** Slot keys per phase (0 .. interval-1), ascending: the slots due at a block are two buckets. */
  due: Map<number, number[]>
  /** Challenge ids per `${contractId}:${slot}:${kind}` (closed ones are dropped when met). */
  open: Map<string, number[]>
  /**
   * Open challenge ids per party (the hoster and each attestor at issue), ascending; closed ones are
   * dropped when the list is read or has doubled since it was last pruned (`partyPruneAt`).
   */
  byParty: Map<string, number[]>
  partyPruneAt: Map<string, number>
  /** Aggregated networks: how many checks `state.awaiting` holds (so emptiness is known without a scan). */
  awaitingCount: number
  /** Owed item ids in order of creation (ascending) from `owedHead` on; paid ones are skipped and dropped from the front. */
  owedQueue: number[]
  owedHead: number
  /** [endBlock, plan id] and [setupDeadline, contract id]: entries may be stale, checked when due. */
  planEnds: MinHeap
  setupDeadlines: MinHeap
  /** Contract ids each provider was assigned to (hoster, encoder or attestor). */
  byProvider: Map<string, Set<number>>
  /** Contract ids per core key, ascending. */
  byCore: Map<string, number[]>
  /** Providers in address order (built at the first pick, then kept by registrations and departures). */
  order: ProviderOrder | null
  /** The pick trees of the current block (pick-tree.ts), dropped when the provider set changes. */
  picks: PickTrees | null
  /** Escrow value held (unspent budgets, owed items, unattributed), kept by each change of it. */
  heldPlanck: bigint
  /**
   * Aggregated networks: the owed item of each `${to}:${plan}:${reason}` created since the payout
   * point `itemsPoint` (accounting.ts addOwed adds to it instead of making another); built from
   * the owed items when `itemsPoint` changes.
   */
  openItems: Map<string, Map<number, number>>
  itemsPoint: number
}

const INDEXES = new WeakMap<MarketState, MarketIndex>()

/** The index of `state`, built from the state when it has none. */
export function marketIndex (state: MarketState): MarketIndex {
  let ix = INDEXES.get(state)
  const interval = state.network?.params.challengeIntervalBlocks ?? 0
  if (ix === undefined || ix.interval !== interval) {
    ix = buildIndex(state, interval, ix?.scan ?? false)
    INDEXES.set(state, ix)
  }
  return ix
}

/** Oracle mode: the rules use their old full scans on this state (tests). */
export function setScanMode (state: MarketState, scan: boolean): void { marketIndex(state).scan = scan }

function buildIndex (state: MarketState, interval: number, scan: boolean): MarketIndex {
  const ix: MarketIndex = {
    scan,
    interval,
    seenContract: 1,
    seenPlan: 1,
    due: new Map(),
    open: new Map(),
    byParty: new Map(),
    partyPruneAt: new Map(),
    awaitingCount: Object.keys(state.awaiting ?? {}).length,
    owedQueue: Object.keys(state.owed).map(Number),
    owedHead: 0,
    planEnds: new MinHeap(),
    setupDeadlines: new MinHeap(),
    byProvider: new Map(),
    byCore: new Map(),
    order: null,
    picks: null,
    heldPlanck: state.escrow.unattributedInPlanck,
    openItems: new Map(),
    itemsPoint: Number.NaN
  }
  for (const plan of Object.values(state.plans)) ix.heldPlanck += plan.budgetPlanck - plan.accruedPlanck - plan.refundPlanck
  for (const item of Object.values(state.owed)) ix.heldPlanck += item.amountPlanck
  ingest(state, ix)
  for (const contract of Object.values(state.contracts)) {
    if (contract.setupDeadline !== null) ix.setupDeadlines.push(contract.setupDeadline, contract.id)
    if (contract.attestor !== null) noteAssigned(ix, contract.attestor, contract.id)
    for (const s of contract.slots) {
      if (s.hoster !== null) noteAssigned(ix, s.hoster, contract.id)
      if (s.encoder !== null) noteAssigned(ix, s.encoder, contract.id)
    }
  }
  for (const ch of Object.values(state.challenges)) noteChallenge(state, ix, ch)
  return ix
}

/** Indexes the contracts and plans created since the last call (by id: ids only grow). */
export function ingest (state: MarketState, ix: MarketIndex = marketIndex(state)): void {
  for (; ix.seenPlan < state.next.plan; ix.seenPlan++) {
    const plan = state.plans[ix.seenPlan]
    if (plan !== undefined) ix.planEnds.push(plan.endBlock, plan.id)
  }
  for (; ix.seenContract < state.next.contract; ix.seenContract++) {
    const contract = state.contracts[ix.seenContract]
    if (contract === undefined) continue
    const core = ix.byCore.get(contract.keyHex)
    if (core === undefined) ix.byCore.set(contract.keyHex, [contract.id])
    else core.push(contract.id)
    if (ix.interval === 0) continue
    contract.slots.forEach((slot, i) => {
      const phase = slot.phase % ix.interval
      const bucket = ix.due.get(phase)
      if (bucket === undefined) ix.due.set(phase, [contract.id * SLOT_KEY + i])
      else bucket.push(contract.id * SLOT_KEY + i)
    })
  }
}

export function noteAssigned (ix: MarketIndex, address: string, contractId: number): void {
  const set = ix.byProvider.get(address)
  if (set === undefined) ix.byProvider.set(address, new Set([contractId]))
  else set.add(contractId)
}

function openKey (contractId: number, slot: number, kind: Challenge['kind']): string { return `${contractId}:${slot}:${kind}` }

export function noteChallenge (state: MarketState, ix: MarketIndex, ch: Challenge): void {
  const key = openKey(ch.contractId, ch.slot, ch.kind)
  const list = ix.open.get(key)
  if (list === undefined) ix.open.set(key, [ch.id])
  else list.push(ch.id)
  noteParty(state, ix, ch.hoster, ch.id)
  for (const a of ch.attestors) if (a !== ch.hoster) noteParty(state, ix, a, ch.id)
}

function noteParty (state: MarketState, ix: MarketIndex, address: string, id: number): void {
  const list = ix.byParty.get(address)
  if (list === undefined) { ix.byParty.set(address, [id]); return }
  list.push(id)
  if (list.length >= (ix.partyPruneAt.get(address) ?? 64)) partyChallenges(state, ix, address)
}

/**
 * The open challenges (in `state.challenges`) `address` was a party of at issue (hoster or
 * attestor), ascending; closed ids are dropped from the index. A superset of those it is a party
 * of now (an attestor dropped from a check stays listed): callers check each one.
 */
export function partyChallenges (state: MarketState, ix: MarketIndex, address: string): number[] {
  const list = ix.byParty.get(address)
  if (list === undefined) return []
  const live = list.filter((id) => state.challenges[id] !== undefined)
  if (live.length === 0) { ix.byParty.delete(address); ix.partyPruneAt.delete(address); return [] }
  if (live.length !== list.length) ix.byParty.set(address, live)
  ix.partyPruneAt.set(address, Math.max(64, 2 * live.length))
  return live
}

/** The open challenges of one kind for a slot (closed ids are dropped from the index). */
export function openChallenges (state: MarketState, ix: MarketIndex, contractId: number, slot: number, kind: Challenge['kind']): number[] {
  const key = openKey(contractId, slot, kind)
  const list = ix.open.get(key)
  if (list === undefined) return []
  const live = list.filter((id) => state.challenges[id] !== undefined)
  if (live.length === 0) ix.open.delete(key)
  else if (live.length !== list.length) ix.open.set(key, live)
  return live
}

/** Deletes every open challenge of a slot (both kinds). */
export function deleteSlotChallenges (state: MarketState, contract: Contract, slot: number): void {
  const ix = marketIndex(state)
  if (ix.scan) {
    for (const [id, ch] of Object.entries(state.challenges)) {
      if (ch.contractId === contract.id && ch.slot === slot) delete state.challenges[id]
    }
    return
  }
  for (const kind of ['storage', 'performance'] as const) {
    for (const id of openChallenges(state, ix, contract.id, slot, kind)) delete state.challenges[id]
    ix.open.delete(openKey(contract.id, slot, kind))
  }
}

/** Sets a contract's setup deadline (queued for expireAndEnd). */
export function setSetupDeadline (state: MarketState, contract: Contract, deadline: number | null): void {
  if (deadline !== null) marketIndex(state).setupDeadlines.push(deadline, contract.id)
  contract.setupDeadline = deadline
}

/** A provider registered (`added`) or left: it takes or leaves its place in the order; the block's pick trees are built again. */
export function providerSetChanged (state: MarketState, p: Provider, added: boolean): void {
  const ix = marketIndex(state)
  if (added) ix.order?.add(p)
  else ix.order?.remove(p)
  ix.picks = null
}

/** A provider registered again with another noise key. */
export function providerRekeyed (state: MarketState, address: string, from: string, to: string): void {
  marketIndex(state).order?.rekey(address, from, to)
}

/**
 * A provider's jobs, storage, reputation, pause, schedule, rest or offer changed: its pick weight
 * in the block's pick trees is computed again (called wherever one of those changes).
 */
export function providerTouched (state: MarketState, address: string): void {
  const picks = INDEXES.get(state)?.picks
  if (picks !== null && picks !== undefined) refreshProvider(picks, state, address)
}

/** A change of the value escrow holds (budgets in, owed items added or paid, allocations out of budgets). */
export function moveHeld (state: MarketState, deltaPlanck: bigint): void {
  marketIndex(state).heldPlanck += deltaPlanck
}

/** The key owed items of one payee, plan and reason are merged under between two payout points. */
export function itemKey (to: string, planId: number, reason: string): string { return `${to}:${planId}:${reason}` }

const REASON_CODE: Record<string, number> = { encoding: 0, setup: 1, 'storage-proof': 2, 'performance-proof': 3, refund: 4, budget: 5 }
/** The payee's key of an open item (plan and reason in one number: no string built a reward). */
function payeeKey (planId: number, reason: string): number { return planId * 8 + (REASON_CODE[reason] ?? 7) }

function setOpenItem (ix: MarketIndex, item: OwedItem): void {
  let byPayee = ix.openItems.get(item.to)
  if (byPayee === undefined) ix.openItems.set(item.to, (byPayee = new Map<number, number>()))
  byPayee.set(payeeKey(item.planId, item.reason), item.id)
}

/**
 * The owed item of (`to`, `planId`, `reason`) created at or after the payout point `point`, to add
 * to (null: make one). From the index (per payee, then plan and reason), rebuilt from the owed
 * items when the point moved; every owed item in the oracle mode.
 */
export function openItem (state: MarketState, to: string, planId: number, reason: string, point: number): OwedItem | null {
  const ix = marketIndex(state)
  if (ix.scan) {
    const key = itemKey(to, planId, reason)
    for (const item of Object.values(state.owed)) if (item.block >= point && itemKey(item.to, item.planId, item.reason) === key) return item
    return null
  }
  if (ix.itemsPoint !== point) {
    ix.openItems = new Map()
    ix.itemsPoint = point
    for (const item of Object.values(state.owed)) if (item.block >= point) setOpenItem(ix, item)
  }
  const id = ix.openItems.get(to)?.get(payeeKey(planId, reason))
  const item = id === undefined ? undefined : state.owed[id]
  return item !== undefined && item.block >= point ? item : null
}

/** A new owed item that later rewards of its key may be added to (until the next payout point). */
export function noteOpenItem (state: MarketState, item: OwedItem): void {
  const ix = marketIndex(state)
  if (!ix.scan) setOpenItem(ix, item)
}

/** A new owed item (ids only grow, so the queue stays in order). */
export function noteOwed (state: MarketState, id: number): void { marketIndex(state).owedQueue.push(id) }

/** The oldest unpaid owed items, at most `limit`: from the queue, past the paid ones at its front (every item in the oracle mode). */
export function oldestOwed (state: MarketState, limit: number): OwedItem[] {
  const out: OwedItem[] = []
  const ix = marketIndex(state)
  if (ix.scan) {
    // integer keys enumerate in ascending order: the first `limit` are the oldest
    for (const id in state.owed) {
      if (out.length >= limit) break
      out.push(state.owed[id])
    }
    return out
  }
  const q = ix.owedQueue
  let i = ix.owedHead
  while (i < q.length && state.owed[q[i]] === undefined) i++
  if (i > 1024 && i > q.length / 2) { q.splice(0, i); i = 0 }
  ix.owedHead = i
  for (; i < q.length && out.length < limit; i++) {
    const item = state.owed[q[i]]
    if (item !== undefined) out.push(item)
  }
  return out
}
