/**
 * Reputation, one per role: the hoster's (`Provider.reputation`), the encoder's and the
 * attestor's (`Provider.roleReputation`). Rewards and penalties go to one role; selection for a
 * role weighs that role's reputation; below the floor a provider loses that role's assignments and
 * gets no new ones in it, whatever its other roles earn (a liar loses its attestor role while it
 * hosts well). Providers that leave below the start are remembered per role (`state.retired`).
 */
import { ROLE } from './record-types.js'
import { MARKET_PARAMS, type MarketState, type PenaltyReason, type Provider, type RoleReputations } from './market-types.js'
import type { Ctx } from './market-context.js'
import { dropRole } from './assignments.js'
import { providerTouched } from './market-index.js'

export type RepRole = keyof RoleReputations

export const REP_ROLES: RepRole[] = ['hoster', 'encoder', 'attestor']

/** The role name of a ROLE bit (selection passes bits). */
export function roleOf (role: number): RepRole {
  if (role === ROLE.hoster) return 'hoster'
  return role === ROLE.encoder ? 'encoder' : 'attestor'
}

/** A provider's reputation in `role` (snapshots before per-role reputation: the single number). */
export function roleReputation (p: Provider, role: RepRole): number {
  if (role === 'hoster') return p.reputation
  return p.roleReputation?.[role] ?? p.reputation
}

/** Sets one role's reputation (a provider from a snapshot before per-role reputation gets its roles split first). */
function setRoleReputation (state: MarketState, p: Provider, role: RepRole, value: number): void {
  p.roleReputation ??= { encoder: p.reputation, attestor: p.reputation }
  if (role === 'hoster') p.reputation = value
  else p.roleReputation[role] = value
  providerTouched(state, p.address)
}

/** Raises a reputation of one role (capped at MARKET_PARAMS.reputationMax). */
export function reward (state: MarketState, address: string, role: RepRole, amount: number): void {
  const p = state.providers[address]
  if (p === undefined) return
  setRoleReputation(state, p, role, Math.min(MARKET_PARAMS.reputationMax, roleReputation(p, role) + amount))
}

/**
 * Lowers a reputation of one role (listed in the block's outcome with the role); below the floor
 * the provider loses that role's assignments after the current record (applyFloorDrops).
 */
export function penalise (ctx: Ctx, address: string, role: RepRole, reason: PenaltyReason, detail: string): void {
  const p = ctx.state.providers[address]
  if (p === undefined) return
  const amount = MARKET_PARAMS.penalties[reason]
  const now = Math.max(0, roleReputation(p, role) - amount)
  setRoleReputation(ctx.state, p, role, now)
  ctx.out.penalties.push({ address, role, reason, amount, detail })
  if (now < MARKET_PARAMS.reputationFloor && !ctx.floorDrops.some((d) => d.address === address && d.role === role)) ctx.floorDrops.push({ address, role })
}

/** Takes every assignment of its role from each provider that fell below that role's floor. */
export function applyFloorDrops (ctx: Ctx): void {
  while (ctx.floorDrops.length > 0) {
    const { address, role } = ctx.floorDrops.shift() as { address: string, role: RepRole }
    const p = ctx.state.providers[address]
    if (p === undefined || roleReputation(p, role) >= MARKET_PARAMS.reputationFloor) continue
    dropRole(ctx, address, role)
    // the hoster's notice keeps its wording (provider-watch.ts and the simulation read it)
    if (role === 'hoster') ctx.out.notices.push(`provider ${address} fell below the reputation floor (${p.reputation}): dropped from its assignments`)
    else ctx.out.notices.push(`provider ${address} fell below the ${role} reputation floor (${roleReputation(p, role)}): no longer chosen as ${role}`)
  }
}

/** The reputations a provider registers with: the start, or what it left with in each role. */
export function startingReputations (state: MarketState, address: string): RoleReputations {
  const left = state.retired[address]
  const start = MARKET_PARAMS.reputationStart
  if (left === undefined) return { hoster: start, encoder: start, attestor: start }
  if (typeof left === 'number') return { hoster: Math.min(start, left), encoder: Math.min(start, left), attestor: Math.min(start, left) }
  return { hoster: Math.min(start, left.hoster), encoder: Math.min(start, left.encoder), attestor: Math.min(start, left.attestor) }
}

/** Remembers a leaving provider's reputations when one is below the start (oldest dropped beyond retiredMax). */
export function retire (state: MarketState, p: Provider): void {
  const reps = { hoster: p.reputation, encoder: roleReputation(p, 'encoder'), attestor: roleReputation(p, 'attestor') }
  if (REP_ROLES.every((r) => reps[r] >= MARKET_PARAMS.reputationStart)) return
  delete state.retired[p.address]
  state.retired[p.address] = reps
  const keys = Object.keys(state.retired)
  if (keys.length > MARKET_PARAMS.retiredMax) delete state.retired[keys[0]]
}
