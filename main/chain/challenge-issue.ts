/**
 * The regular checks: every hosting slot gets a storage challenge once per
 * `challengeIntervalBlocks` (at its phase) and a performance check half an interval later, unless
 * one of that kind is still open, its hoster is paused or off its schedule, or the block's cap
 * (MARKET_PARAMS.challengesPerBlock) is reached; slots are taken in (contract id, slot) order.
 *
 * The slots due at a block are read from the phase buckets of market-index.ts (two buckets per
 * block), so the work per block is the slots due, not every slot. `issueChallengesScan` is the
 * old walk over every slot, kept as the oracle of the equivalence test (test/unit/chain-scale.test.ts):
 * both issue the same challenges in the same order.
 */
import { MARKET_PARAMS, type Challenge, type Contract, type MarketState } from './market-types.js'
import { params, type Ctx } from './market-context.js'
import { onSchedule } from './schedule.js'
import { issueChallenge } from './selection.js'
import { SLOT_KEY, ingest, marketIndex, openChallenges, type MarketIndex } from './market-index.js'
import { contractsOf } from './assignments.js'

/** True when the hosting slot owes a check at this block (hosting, past setup, hoster not paused nor off its schedule). */
function owesCheck (ctx: Ctx, contract: Contract, i: number): boolean {
  const { state, block } = ctx
  const slot = contract.slots[i]
  if (slot.state !== 'hosting' || slot.hoster === null) return false
  if (block.number <= slot.since) return false
  const hosterP = state.providers[slot.hoster]
  if (hosterP !== undefined && hosterP.pausedUntil > block.number) return false
  // Off its schedule the hoster owes nothing: no challenge, so no failure and no penalty.
  if (hosterP !== undefined && !onSchedule(hosterP, block.number, block.timeMs)) return false
  return true
}

export function issueChallenges (ctx: Ctx): void {
  const ix = marketIndex(ctx.state)
  if (ix.scan) { issueChallengesScan(ctx); return }
  ingest(ctx.state, ix)
  const interval = params(ctx).challengeIntervalBlocks
  const half = Math.floor(interval / 2)
  const mod = (x: number): number => ((x % interval) + interval) % interval
  const storagePhase = mod(-ctx.block.number)
  const perfPhase = mod(-ctx.block.number - half)
  const storage = liveBucket(ctx.state, ix, storagePhase)
  // interval 1: every slot is due for storage at every block, never for performance
  const perf = perfPhase === storagePhase ? [] : liveBucket(ctx.state, ix, perfPhase)
  let issued = 0
  let s = 0
  let p = 0
  while (s < storage.length || p < perf.length) {
    if (issued >= MARKET_PARAMS.challengesPerBlock) return
    const takeStorage = p >= perf.length || (s < storage.length && storage[s] < perf[p])
    const key = takeStorage ? storage[s++] : perf[p++]
    const kind: Challenge['kind'] = takeStorage ? 'storage' : 'performance'
    const contract = ctx.state.contracts[Math.floor(key / SLOT_KEY)]
    const i = key % SLOT_KEY
    if (!owesCheck(ctx, contract, i)) continue
    if (openChallenges(ctx.state, ix, contract.id, i, kind).length > 0) continue
    if (issueChallenge(ctx, contract, i, kind, false) !== null) issued++
  }
}

/**
 * A hoster was just replaced on independent agreement (a decided storage dispute, or a second
 * failed performance check): each of its other hosting slots gets a storage challenge now
 * instead of at its phase, so a hoster that left the network is found in every slot within a few
 * blocks, not over an interval (docs/chain.md "Scale", repair). A re-check like any other: it
 * replaces nobody on its own (a failure opens a dispute that needs independent confirmations).
 */
export function recheckOtherSlots (ctx: Ctx, hoster: string): void {
  const { state } = ctx
  const ix = marketIndex(state)
  for (const contract of contractsOf(state, hoster)) {
    contract.slots.forEach((slot, i) => {
      if (slot.hoster !== hoster || !owesCheck(ctx, contract, i)) return
      const open = ix.scan
        ? Object.values(state.challenges).some((c) => c.contractId === contract.id && c.slot === i && c.kind === 'storage')
        : openChallenges(state, ix, contract.id, i, 'storage').length > 0
      if (!open) issueChallenge(ctx, contract, i, 'storage', true)
    })
  }
}

/** The slot keys of a phase whose contract still exists (the others are dropped from the bucket). */
function liveBucket (state: MarketState, ix: MarketIndex, phase: number): number[] {
  const bucket = ix.due.get(phase)
  if (bucket === undefined) return []
  const live = bucket.filter((key) => state.contracts[Math.floor(key / SLOT_KEY)] !== undefined)
  if (live.length === 0) ix.due.delete(phase)
  else if (live.length !== bucket.length) ix.due.set(phase, live)
  return live
}

/** The old walk over every slot of every contract (the equivalence test's oracle). */
export function issueChallengesScan (ctx: Ctx): void {
  const { state, block } = ctx
  const interval = params(ctx).challengeIntervalBlocks
  const half = Math.floor(interval / 2)
  const open = new Set(Object.values(state.challenges).map((c) => `${c.contractId}:${c.slot}:${c.kind}`))
  let issued = 0
  for (const contract of Object.values(state.contracts)) {
    for (let i = 0; i < contract.slots.length; i++) {
      if (issued >= MARKET_PARAMS.challengesPerBlock) return
      if (!owesCheck(ctx, contract, i)) continue
      const slot = contract.slots[i]
      let kind: Challenge['kind'] | null = null
      if ((block.number + slot.phase) % interval === 0) kind = 'storage'
      else if ((block.number + slot.phase + half) % interval === 0) kind = 'performance'
      if (kind === null || open.has(`${contract.id}:${i}:${kind}`)) continue
      if (issueChallenge(ctx, contract, i, kind, false) !== null) issued++
    }
  }
}
