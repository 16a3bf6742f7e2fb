/**
 * Choosing providers: who may take a job (eligible), the weighted deterministic pick from the
 * block's randomness, filling contracts that need encoders, hosters or an attestor
 * (assignPending), and issuing storage challenges and performance checks to attestors.
 * Candidates are always walked in address order, so every node picks the same providers.
 */
import { ROLE } from './record-types.js'
import { MARKET_PARAMS, type Challenge, type Contract, type MarketState, type Provider } from './market-types.js'
import { params, type Ctx } from './market-context.js'
import { contractBytes, take } from './assignments.js'
import { onSchedule } from './schedule.js'
import { roleOf, roleReputation } from './reputation.js'

/** True when `p` may take a job of `role` (and `bytes` of storage) at block `now` (its time `timeMs`: the schedule). */
export function eligible (state: MarketState, p: Provider, role: number, now: number, bytes: number, timeMs?: number): boolean {
  if ((p.roles & role) === 0) return false
  if (p.pausedUntil > now) return false
  if (timeMs !== undefined && !onSchedule(p, now, timeMs)) return false
  if (role === ROLE.attestor && (p.attestSuspendedUntil ?? 0) > now) return false
  if (roleReputation(p, roleOf(role)) < MARKET_PARAMS.reputationFloor) return false
  if (p.jobs >= MARKET_PARAMS.jobsPerProvider) return false
  if (bytes > 0 && p.storageBytes - p.usedBytes < bytes) return false
  return true
}

/**
 * Weighted pick: weight = (reputation in `role` + 1) * (1 + free MiB, capped at 2^20), never an
 * address in `exclude` nor a provider registered with a key in `excludeKeys`.
 */
export function pick (ctx: Ctx, role: number, exclude: Set<string>, bytes: number, excludeKeys?: Set<string>): string | null {
  const { state, block, rng } = ctx
  if (ctx.sorted === null) ctx.sorted = Object.values(state.providers).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
  const candidates = ctx.sorted.filter((p) => !exclude.has(p.address) && excludeKeys?.has(p.noiseKeyHex) !== true && eligible(state, p, role, block.number, bytes, block.timeMs))
  if (candidates.length === 0) return null
  const weights = candidates.map((p) => {
    const freeMiB = Math.min(2 ** 20, Math.floor((p.storageBytes - p.usedBytes) / (1024 * 1024)))
    return BigInt(roleReputation(p, roleOf(role)) + 1) * BigInt(1 + freeMiB)
  })
  const total = weights.reduce((a, b) => a + b, 0n)
  let x = rng.below(total)
  for (let i = 0; i < candidates.length; i++) {
    if (x < weights[i]) return candidates[i].address
    x -= weights[i]
  }
  return candidates[candidates.length - 1].address
}

/**
 * The hosters of other live contracts over the same blocks of the same core (two plans of one
 * drive, or one vault's space index carried by the plans of two of its spaces). A hoster keeps
 * one encoded chunk per core block, so it can never hold two such contracts: the second
 * encoding would overwrite the first, and its checks on the first would fail although honest.
 */
function hostersOfSameBlocks (state: MarketState, contract: Contract): Set<string> {
  const out = new Set<string>()
  for (const other of Object.values(state.contracts)) {
    if (other.id === contract.id || other.keyHex !== contract.keyHex) continue
    if (other.end <= contract.start || contract.end <= other.start) continue
    for (const s of other.slots) if (s.hoster !== null) out.add(s.hoster)
  }
  return out
}

/**
 * Fills unassigned slots (a slot that kept its hoster after an encoder failure needs an encoder
 * only) and missing attestors; never the sponsor, never one identity twice per contract, never a
 * provider that failed this slot's setup before, never a hoster of the same blocks in another contract.
 */
export function assignPending (ctx: Ctx): void {
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
      if (keptHoster === null) for (const h of hostersOfSameBlocks(state, contract)) exclude.add(h)
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
 * Who may not attest a challenge of `kind` for the slot: the hoster, the sponsor, the slot's
 * accusers (and, for storage, the defenders of its open dispute: every verdict of a dispute comes
 * from a new attestor), and any provider registered with the same key as one of those (one
 * operator behind two accounts).
 */
function notIndependent (state: MarketState, contract: Contract, i: number, kind: Challenge['kind'], alsoExclude: string[]): { exclude: Set<string>, keys: Set<string> } {
  const slot = contract.slots[i]
  const parties = [state.plans[contract.planId].sponsor, slot.hoster as string, ...slot.accusers[kind], ...alsoExclude]
  if (kind === 'storage') parties.push(...(slot.defenders ?? []))
  const keys = new Set<string>()
  for (const a of parties) { const k = state.providers[a]?.noiseKeyHex; if (k !== undefined) keys.add(k) }
  return { exclude: new Set(parties), keys }
}

/**
 * Issues a challenge of `kind` for a hosting slot now: storage to one attestor, performance to
 * `performanceAttestors` distinct ones (fewer when not enough are eligible), never one of
 * `notIndependent` (nor `alsoExclude`); drawn from this block's hash, so no earlier reporter
 * chooses who checks after it. Returns the id, or null when no attestor is eligible.
 */
export function issueChallenge (ctx: Ctx, contract: Contract, i: number, kind: Challenge['kind'], recheck: boolean, alsoExclude: string[] = []): number | null {
  const { state, block, rng } = ctx
  const slot = contract.slots[i]
  if (slot.hoster === null) return null
  const { exclude, keys } = notIndependent(state, contract, i, kind, alsoExclude)
  const want = kind === 'storage' ? 1 : params(ctx).performanceAttestors
  const attestors: string[] = []
  while (attestors.length < want) {
    const a = pick(ctx, ROLE.attestor, exclude, 0, keys)
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
export function issueChallenges (ctx: Ctx): void {
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
      // Off its schedule the hoster owes nothing: no challenge, so no failure and no penalty.
      if (hosterP !== undefined && !onSchedule(hosterP, block.number, block.timeMs)) continue
      let kind: Challenge['kind'] | null = null
      if ((block.number + slot.phase) % interval === 0) kind = 'storage'
      else if ((block.number + slot.phase + half) % interval === 0) kind = 'performance'
      if (kind === null || open.has(`${contract.id}:${i}:${kind}`)) continue
      if (issueChallenge(ctx, contract, i, kind, false) !== null) issued++
    }
  }
}
