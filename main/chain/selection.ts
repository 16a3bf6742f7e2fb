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
import { ingest, marketIndex, noteAssigned, noteChallenge, setSetupDeadline } from './market-index.js'
import { ProviderOrder, flushTouched, newPickTrees, treeFor } from './pick-tree.js'
import { epochBlocks, noteEpochCheck } from './epoch-records.js'
import { epochCommittee } from './committee.js'

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

/** A pick among these providers only (an epoch's committee: committee.ts), `key` naming the set for the block's pick trees. */
export interface Among { key: string, members: Set<string> }

/**
 * Weighted pick (among `among` only, when given): weight = (reputation in `role` + 1) * (1 + free MiB, capped at 2^20), never an
 * address in `exclude` nor a provider registered with a key in `excludeKeys`.
 */
export function pick (ctx: Ctx, role: number, exclude: Set<string>, bytes: number, excludeKeys?: Set<string>, among?: Among): string | null {
  const { state, block, rng } = ctx
  const ix = marketIndex(state)
  if (ix.scan) return pickScan(ctx, role, exclude, bytes, excludeKeys, among)
  if (ix.order === null) ix.order = new ProviderOrder(Object.values(state.providers))
  if (ix.picks === null || ix.picks.number !== block.number || ix.picks.hash !== block.hash) ix.picks = newPickTrees(block.number, block.hash, ix.order)
  const picks = ix.picks
  flushTouched(picks, state)
  const repRole = roleOf(role)
  const tree = treeFor(picks, among === undefined ? `${role}:${bytes}` : `${role}:${bytes}:${among.key}`, (p) => {
    if (among !== undefined && !among.members.has(p.address)) return 0
    if (!eligible(state, p, role, block.number, bytes, block.timeMs)) return 0
    const freeMiB = Math.min(2 ** 20, Math.floor((p.storageBytes - p.usedBytes) / (1024 * 1024)))
    return (roleReputation(p, repRole) + 1) * (1 + freeMiB)
  })
  // the excluded providers weigh nothing for this pick
  const zeroed: number[] = []
  const zero = (i: number): void => { if (tree.vals[i] > 0) { zeroed.push(i, tree.vals[i]); tree.set(i, 0) } }
  const { indexOf, byKey } = picks.order
  for (const a of exclude) { const i = indexOf.get(a); if (i !== undefined) zero(i) }
  if (excludeKeys !== undefined) for (const k of excludeKeys) for (const a of byKey.get(k) ?? []) zero(indexOf.get(a) as number)
  try {
    if (tree.total === 0) return null
    if (!Number.isSafeInteger(tree.total)) return pickScan(ctx, role, exclude, bytes, excludeKeys, among)
    return picks.order.sorted[tree.find(Number(rng.below(BigInt(tree.total))))].address
  } finally {
    for (let k = zeroed.length - 2; k >= 0; k -= 2) tree.set(zeroed[k], zeroed[k + 1])
  }
}

function sortedProviders (state: MarketState): Provider[] {
  return Object.values(state.providers).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
}

/** The old pick (providers sorted once per block, bigint weights): the equivalence test's oracle. */
function pickScan (ctx: Ctx, role: number, exclude: Set<string>, bytes: number, excludeKeys?: Set<string>, among?: Among): string | null {
  const { state, block, rng } = ctx
  if (ctx.sorted === null) ctx.sorted = sortedProviders(state)
  const candidates = ctx.sorted.filter((p) => (among === undefined || among.members.has(p.address)) && !exclude.has(p.address) &&
    excludeKeys?.has(p.noiseKeyHex) !== true && eligible(state, p, role, block.number, bytes, block.timeMs))
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
  const ix = marketIndex(state)
  const others = ix.scan ? Object.values(state.contracts) : (ix.byCore.get(contract.keyHex) ?? []).map((id) => state.contracts[id])
  for (const other of others) {
    if (other === undefined || other.id === contract.id || other.keyHex !== contract.keyHex) continue
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
  const ix = marketIndex(state)
  ingest(state, ix)
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
      noteAssigned(ix, hoster, contract.id)
      noteAssigned(ix, encoder, contract.id)
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
        noteAssigned(ix, attestor, contract.id)
        contract.attestor = attestor
        changed = true
      }
    }
    if (changed) {
      if (contract.slots.some((s) => s.state === 'setup')) setSetupDeadline(state, contract, block.number + MARKET_PARAMS.setupTimeoutBlocks)
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
  // aggregated networks: a regular check's pass goes in its attestors' epoch aggregates, unless the
  // slot is in a dispute or containment of that kind (its verdicts must come at once, as a re-check's)
  const contained = kind === 'storage' ? slot.strikes.storage > 0 : slot.strikes.performance > 0
  const regular = !recheck && !contained && epochBlocks(state) > 0
  // a regular one is attested by the epoch's committee, topped up from everyone when it falls short
  const among = regular ? committeeAmong(ctx) : undefined
  const attestors: string[] = []
  while (attestors.length < want) {
    const a = (among === undefined ? null : pick(ctx, ROLE.attestor, exclude, 0, keys, among)) ?? pick(ctx, ROLE.attestor, exclude, 0, keys)
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
  noteChallenge(state, marketIndex(state), state.challenges[id])
  if (regular) noteEpochCheck(ctx, state.challenges[id], contract.planId)
  ctx.out.newChallenges.push(id)
  return id
}

/** The current epoch's committee as a pick restriction (drawn at the epoch's first regular check), or undefined: everyone. */
function committeeAmong (ctx: Ctx): Among | undefined {
  const { state, block } = ctx
  const c = epochCommittee(ctx, {
    eligibleAttestors: () => Object.values(state.providers).filter((p) => eligible(state, p, ROLE.attestor, block.number, 0, block.timeMs)).length,
    pickOne: (chosen, among) => pick(ctx, ROLE.attestor, chosen, 0, undefined, among)
  })
  return c === null ? undefined : { key: `committee:${c.epoch}`, members: c.members }
}
