/**
 * Who holds which job: taking and releasing a provider's job and capacity, vacating a slot,
 * queueing a contract that needs providers (pending), dropping a provider from every assignment,
 * and remembering who failed a slot's setup (blame). No randomness, no value.
 */
import { MARKET_PARAMS, type Contract, type MarketState, type Slot } from './market-types.js'
import type { Ctx } from './market-context.js'
import { deleteSlotChallenges, marketIndex, partyChallenges, providerTouched } from './market-index.js'

/** A provider takes one more job (and `bytes` of its storage). */
export function take (state: MarketState, address: string, bytes: number): void {
  const p = state.providers[address]
  p.jobs++
  p.usedBytes += bytes
  providerTouched(state, address)
}

export function release (state: MarketState, address: string, bytes: number): void {
  const p = state.providers[address]
  if (p === undefined) return
  p.jobs = Math.max(0, p.jobs - 1)
  p.usedBytes = Math.max(0, p.usedBytes - bytes)
  providerTouched(state, address)
}

export function contractBytes (c: Contract): number { return (c.end - c.start) * MARKET_PARAMS.chunkBytes }

export function vacateSlot (state: MarketState, contract: Contract, i: number): void {
  const slot = contract.slots[i]
  if (slot.hoster !== null) release(state, slot.hoster, contractBytes(contract))
  if (slot.encoder !== null) release(state, slot.encoder, 0)
  slot.hoster = null
  slot.encoder = null
  slot.state = 'unassigned'
  slot.receiptsRootHex = null
  slot.strikes = { storage: 0, performance: 0 }
  slot.accusers = { storage: [], performance: [] }
  slot.defenders = []
  slot.momentAccusers = []
  delete slot.performanceContainedAt
  deleteSlotChallenges(state, contract, i)
}

export function markPending (state: MarketState, contract: Contract): void {
  const needs = contract.attestor === null || contract.slots.some((s) => s.state === 'unassigned')
  if (needs && !state.pending.includes(contract.id)) state.pending.push(contract.id)
}

/** Removes a provider from every assignment; its slots get new providers later (replacement). */
export function dropProvider (ctx: Ctx, address: string): void {
  for (const role of ['hoster', 'encoder', 'attestor'] as const) dropRole(ctx, address, role)
}

/**
 * Removes a provider from the assignments of one role: its hosting slots (and their checks), its
 * encoding jobs (a hosting slot keeps its replica and the encoder's key), or its attestations
 * (setups and checks). Its other roles keep theirs.
 */
export function dropRole (ctx: Ctx, address: string, role: 'hoster' | 'encoder' | 'attestor'): void {
  const { state } = ctx
  for (const contract of contractsOf(state, address)) {
    contract.slots.forEach((slot, i) => {
      if (role === 'hoster' && slot.hoster === address) vacateSlot(state, contract, i)
      else if (role === 'encoder' && slot.encoder === address && slot.state !== 'hosting') vacateSlot(state, contract, i)
      else if (role === 'encoder' && slot.encoder === address) {
        // A hosting slot keeps its replica; the encoder's job is released, its key stays on record.
        release(state, address, 0)
        slot.encoder = null
      }
    })
    if (role === 'attestor' && contract.attestor === address) {
      release(state, address, 0)
      contract.attestor = null
      contract.setupDeadline = null
    }
    markPending(state, contract)
  }
  // its open challenges: from the index (ascending ids), or every open challenge in the oracle mode
  const ix = marketIndex(state)
  const ids = ix.scan ? Object.keys(state.challenges) : partyChallenges(state, ix, address)
  for (const id of ids) {
    const ch = state.challenges[id]
    if (role === 'hoster' && ch.hoster === address) { delete state.challenges[id]; continue }
    if (role !== 'attestor' || !ch.attestors.includes(address)) continue
    ch.attestors = ch.attestors.filter((a) => a !== address)
    ch.reports = ch.reports.filter((r) => r.attestor !== address)
    if (ch.attestors.length === 0) delete state.challenges[id]
  }
}

/**
 * The contracts `address` is assigned to, in id order: from the index (ids it was ever assigned
 * to; those it left are dropped from it here), or every contract in the oracle mode. Every other
 * contract already is in `pending` if it needs providers (markPending wherever a need arises).
 */
export function contractsOf (state: MarketState, address: string): Contract[] {
  const ix = marketIndex(state)
  if (ix.scan) return Object.values(state.contracts)
  const ids = ix.byProvider.get(address)
  if (ids === undefined) return []
  const out: Contract[] = []
  for (const id of [...ids].sort((a, b) => a - b)) {
    const c = state.contracts[id]
    if (c !== undefined && (c.attestor === address || c.slots.some((s) => s.hoster === address || s.encoder === address))) out.push(c)
    else ids.delete(id)
  }
  return out
}

/** Remembers that `address` failed this slot (it is not assigned to it again), at most MARKET_PARAMS.blamedPerSlot. */
export function blame (slot: Slot, address: string): void {
  if (slot.blamed.includes(address)) return
  slot.blamed.push(address)
  if (slot.blamed.length > MARKET_PARAMS.blamedPerSlot) slot.blamed.shift()
}
