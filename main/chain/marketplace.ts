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
 *
 * This file is the public face: applyBlock (the order of a block's steps), queries and
 * serialisation; the types and the rules it re-exports live in
 *   market-types.ts     parameters, input, state and outcome types
 *   market-context.ts   per-block context, BlockRng, Reject
 *   apply-action.ts     one action: limits, decoding, the record dispatch table
 *   provider-records.ts network, register, unregister, pause, unpause
 *   plan-records.ts     publish, update, unpublish
 *   report-records.ts   setup, storage and performance reports
 *   payout-record.ts    payouts from escrow
 *   challenges.ts       settling performance checks, their containment, deadlines
 *   selection.ts        choosing encoders, hosters, attestors; issuing challenges
 *   assignments.ts      taking and releasing jobs, vacating slots, pending contracts
 *   disputes.ts         storage disputes: replacing a hoster only on independent agreement
 *   accounting.ts       owed items, refunds, conservation
 *   reputation.ts       reputation per role: rewards, penalties, the floor, retired providers
 *   challenge-issue.ts  the regular checks due at a block (from the phase buckets)
 *   market-index.ts     derived indexes (never serialised, rebuilt from a restored state) so a
 *                       block's work follows what happens in it (docs/chain.md "Scale")
 *   pick-tree.ts        weighted picks in O(log providers) (Fenwick trees); min-heap.ts deadline queues
 */
import { createHash } from 'node:crypto'
import { DatdotError } from '../shared/errors.js'
import type { BlockInput, BlockOutcome, MarketState, OwedItem } from './market-types.js'
import { blockContext } from './market-context.js'
import { applyAction } from './apply-action.js'
import { reviveBigints } from './state-json.js'
import { assertConservation } from './accounting.js'
import { applyFloorDrops } from './reputation.js'
import { expireAndEnd } from './challenges.js'
import { assignPending } from './selection.js'
import { issueChallenges } from './challenge-issue.js'
import { marketIndex, oldestOwed } from './market-index.js'
import { reviveEpochs } from './epoch-records.js'

export {
  MARKET_PARAMS, initialState,
  type Reason, type Transfer, type Action, type BlockInput, type Provider, type Slot, type Contract, type Plan,
  type RoleReputations, type PerformanceReport, type Challenge, type EpochCheck, type EpochChecks, type OwedItem, type NetworkConfig, type EscrowTotals, type MarketState,
  type RecordOutcome, type TransferLeg, type ActionOutcome, type BlockOutcome, type PenaltyReason, type Penalty, type RejectReason
} from './market-types.js'
export { BlockRng } from './market-context.js'
export { setScanMode } from './market-index.js'
export { conservation, heldPlanck, performanceUnits, type Conservation } from './accounting.js'
export { roleReputation, type RepRole } from './reputation.js'

// ---------------------------------------------------------------- apply

/**
 * Applies one block to `state` (mutates it) and returns what happened. Blocks must come in chain
 * order; a block that does not follow `state.block` is an internal error of the caller.
 */
/** Blocks between full conservation checks in the interpreters (every block with `fullChecks`). */
export const FULL_CHECK_EVERY = 1000

export interface ApplyOptions {
  /** Check conservation over every plan and owed item at every block (tests, the simulation). */
  fullChecks?: boolean
}

export function applyBlock (state: MarketState, block: BlockInput, opts: ApplyOptions = {}): BlockOutcome {
  if (state.block !== null && block.number !== state.block.number + 1) {
    throw DatdotError.internal(`marketplace: block ${block.number} does not follow ${state.block.number}`)
  }
  if (state.block !== null && block.parentHash !== state.block.hash) {
    throw DatdotError.internal(`marketplace: block ${block.number} has parent ${block.parentHash}, expected ${state.block.hash}`)
  }
  // the derived indexes (built from the state if this state object has none, e.g. a restored snapshot)
  // the pick trees of an earlier block are never used again (pick builds this block's at its first
  // pick): dropped now, so the records' reputation and job changes do not keep them up to date
  marketIndex(state).picks = null
  const ctx = blockContext(state, block)
  const out = ctx.out

  const actions = [...block.actions].sort((a, b) => a.index - b.index)
  for (const action of actions) out.actions.push(applyAction(ctx, action))

  if (state.network !== null) {
    expireAndEnd(ctx)
    applyFloorDrops(ctx)
    assignPending(ctx)
    issueChallenges(ctx)
  }
  state.block = { number: block.number, hash: block.hash }
  // Blocks of the network, from its record's block: a follower that starts there counts as one that scanned from #1.
  if (state.network !== null) state.counters.blocks++
  assertConservation(state, opts.fullChecks === true || block.number % FULL_CHECK_EVERY === 0)
  return out
}

// ---------------------------------------------------------------- queries, serialisation

/** Items owed and unpaid, oldest first, at most `limit` (what the operator pays next). */
export function owedItems (state: MarketState, limit: number): OwedItem[] {
  // from the index's queue of item ids: a for-in over every item collected all their keys at each call
  return oldestOwed(state, limit)
}

/** Canonical JSON (bigints as `"<n>n"` strings) of the whole state. */
export function serializeState (state: MarketState): string {
  return JSON.stringify(state, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
}

export function deserializeState (json: string): MarketState {
  const state = reviveBigints(JSON.parse(json)) as MarketState
  // the epoch lists' class (their `checks` view), and the columns for lists of older snapshots
  reviveEpochs(state)
  return state
}

/** SHA-256 of the canonical serialisation: equal on every daemon that applied the same blocks. */
export function stateDigest (state: MarketState): string {
  return createHash('sha256').update(serializeState(state)).digest('hex')
}

export function cloneState (state: MarketState): MarketState {
  return deserializeState(serializeState(state))
}
