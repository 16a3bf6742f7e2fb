/**
 * Checks a record a user asked for (seeding, sponsoring, plans) before it is sent: against the
 * marketplace state this node has followed and against this account's balance, so a record the
 * chain would reject, or one this account cannot pay for, fails here with a clear error and costs
 * nothing. Refusals are DatdotErrors NOT_FOUND / FORBIDDEN / INVALID_ARGUMENT with `details.why`
 * the marketplace's own reject reason ('unknown-ref', 'wrong-signer', 'bad-proof', ...).
 *
 * These are the conditions under which the marketplace (marketplace.ts applyRecord) rejects a
 * record of this signer. The chain stays the judge: a record that passes here can still be
 * rejected when the state moved on meanwhile.
 */
import { DatdotError, formatBytes } from '../shared/errors.js'
import { formatTokens } from '../shared/tokens.js'
import { MARKET_PARAMS, roleReputation, type MarketState, type NetworkConfig, type Plan, type Provider } from './marketplace.js'
import { roleOf } from './reputation.js'
import { verifyRootHex } from './roots.js'
import { ROLE, type MarketRecord, type DriveRanges } from './records.js'

type RefusalCode = 'NOT_FOUND' | 'FORBIDDEN' | 'INVALID_ARGUMENT' | 'INSUFFICIENT_FUNDS'

function refuse (code: RefusalCode, why: string, message: string, details: Record<string, unknown> = {}): never {
  throw new DatdotError(code, message, { why, ...details })
}

/** The network record this chain carries; CHAIN_ERROR (why 'no-network') when its operator has not posted one. */
export function requireNetwork (state: MarketState): NetworkConfig {
  const net = state.network
  if (net === null) throw new DatdotError('CHAIN_ERROR', 'no DatDot network on this chain yet (its operator has not posted the network record: is this the chain `datdot chain` runs?)', { why: 'no-network' })
  return net
}

/** Refuses `rec` signed by `me` (0x account id) when the marketplace in `state` would reject it. */
export function precheck (state: MarketState, me: string, rec: MarketRecord): void {
  const net = requireNetwork(state)
  switch (rec.kind) {
    case 'register':
      if (me === net.escrow) refuse('FORBIDDEN', 'wrong-signer', 'the escrow account cannot provide')
      checkStorage(state, me, rec.storageBytes)
      return
    case 'unregister':
    case 'schedule':
      if (state.providers[me] === undefined) refuse('NOT_FOUND', 'unknown-ref', 'this node is not a registered provider (seeding is off)')
      return
    case 'unpublish':
      activePlan(state, me, rec.planId, 'unpublish')
      return
    case 'extend':
      activePlan(state, me, rec.planId, 'top up')
      return
    case 'publish':
      checkPublish(state, net, me, rec.drives, rec.replicas)
      return
    case 'update':
      checkUpdate(net, activePlan(state, me, rec.planId, 'update'), rec.drives)
      return
    default:
  }
}

/** A provider may not offer less storage than it already hosts. */
function checkStorage (state: MarketState, me: string, storageBytes: number): void {
  const p = state.providers[me]
  if (p !== undefined && storageBytes < p.usedBytes) refuse('INVALID_ARGUMENT', 'not-allowed', `storage ${formatBytes(storageBytes)} is below the ${formatBytes(p.usedBytes)} this node already hosts`)
}

/** Plan `planId`, when it exists, is `me`'s and is still active. */
function activePlan (state: MarketState, me: string, planId: number, verb: string): Plan {
  const plan = state.plans[planId]
  if (plan === undefined) refuse('NOT_FOUND', 'unknown-ref', `no plan ${planId} on this chain (\`datdot seed\` lists the plans you sponsor)`)
  if (plan.sponsor !== me) refuse('FORBIDDEN', 'wrong-signer', `plan ${planId} is not yours (wrong-signer): only its sponsor can ${verb} it`)
  if (plan.status !== 'active') refuse('INVALID_ARGUMENT', 'replayed', `plan ${planId} has already ended (${plan.status})`)
  return plan
}

function checkPublish (state: MarketState, net: NetworkConfig, me: string, drives: DriveRanges[], replicas: number): void {
  if (me === net.escrow || net.operators.includes(me)) refuse('FORBIDDEN', 'wrong-signer', 'the network operator and escrow do not sponsor plans: use another account')
  let contracts = 0
  for (const d of drives) contracts += contractsIn(d.ranges, net.params.chunksPerContract)
  if (contracts > MARKET_PARAMS.contractsPerPlan) refuse('INVALID_ARGUMENT', 'over-limits', `the drive needs ${contracts} contracts, more than the ${MARKET_PARAMS.contractsPerPlan} a plan may have`)
  checkRoots(drives)
  checkProviders(state, me, replicas)
}

/** An update names the plan's cores with a newer root (same fork, not shorter) and only new ranges. */
function checkUpdate (net: NetworkConfig, plan: Plan, drives: DriveRanges[]): void {
  let contracts = plan.contractIds.length
  for (const d of drives) {
    const core = d.keyHex.slice(0, 16)
    const old = plan.drives.find((pd) => pd.keyHex === d.keyHex)
    if (old === undefined) refuse('INVALID_ARGUMENT', 'unknown-ref', `core ${core} is not in plan ${plan.id}`)
    if (d.root.fork !== old.root.fork) refuse('INVALID_ARGUMENT', 'bad-value', `core ${core} is at fork ${d.root.fork}, the plan at ${old.root.fork}: publish a new plan`)
    if (d.root.length < old.root.length) refuse('INVALID_ARGUMENT', 'bad-value', `core ${core} is shorter (${d.root.length}) than the plan's root (${old.root.length})`)
    if (rangesOverlap(d.ranges, old.ranges)) refuse('INVALID_ARGUMENT', 'bad-value', `ranges of ${core} overlap what the plan hosts`)
    contracts += contractsIn(d.ranges, net.params.chunksPerContract)
  }
  if (contracts > MARKET_PARAMS.contractsPerPlan) refuse('INVALID_ARGUMENT', 'over-limits', `the plan would have ${contracts} contracts, more than ${MARKET_PARAMS.contractsPerPlan}`)
  checkRoots(drives)
}

function checkRoots (drives: DriveRanges[]): void {
  for (const d of drives) {
    const bad = verifyRootHex(d.keyHex, d.root)
    if (bad !== null) refuse('INVALID_ARGUMENT', 'bad-proof', `the signed root of core ${d.keyHex.slice(0, 16)} does not verify: ${bad}`)
  }
}

/**
 * A plan of `replicas` copies needs, per contract, `replicas` hosters and `replicas` encoders and
 * one attestor, all different providers and none of them the sponsor (marketplace.ts
 * assignPending). Fewer eligible providers than that and the plan would pay into escrow and wait.
 */
function checkProviders (state: MarketState, me: string, replicas: number): void {
  const head = state.block?.number ?? 0
  const can = (p: Provider, role: number): boolean => (p.roles & role) !== 0 && roleReputation(p, roleOf(role)) >= MARKET_PARAMS.reputationFloor
  const eligible = Object.values(state.providers).filter((p) => p.address !== me && p.pausedUntil <= head && [ROLE.hoster, ROLE.encoder, ROLE.attestor].some((r) => can(p, r)))
  const withRole = (role: number): number => eligible.filter((p) => can(p, role)).length
  const need = 2 * replicas + 1
  const hosters = withRole(ROLE.hoster)
  const encoders = withRole(ROLE.encoder)
  const attestors = withRole(ROLE.attestor)
  if (eligible.length < need || hosters < replicas || encoders < replicas || attestors < 1) {
    refuse('INVALID_ARGUMENT', 'too-few-providers',
      `too few providers for ${replicas} ${replicas === 1 ? 'replica' : 'replicas'}: it needs ${need} other providers (${replicas} hosting, ${replicas} encoding, 1 attesting); the network has ${eligible.length} (${hosters} hosting, ${encoders} encoding, ${attestors} attesting). Ask for fewer replicas or wait for more seeders`,
      { need, providers: eligible.length, hosters, encoders, attestors })
  }
}

/** What the funds check reads: this account's free balance, the fee, and the chain's token. */
export interface FundsView {
  /** Fee estimate for the record and its transfers, in planck. */
  estimateFee: (rec: MarketRecord, transfers: Array<{ to: string, amountPlanck: bigint }>) => Promise<bigint>
  /** This account's free balance, in planck. */
  freeBalance: () => Promise<bigint>
  existentialDeposit: bigint
  tokenDecimals: number
  tokenSymbol: string
  /** A local chain has a faucet (the refusal says how to use it). */
  isLocal: boolean
}

/**
 * Refuses a record this account cannot pay for (INSUFFICIENT_FUNDS, why 'insufficient-funds'): its free
 * balance must cover the fee, the transfers (a sponsor's budget) and the existential deposit that
 * must stay in the account.
 */
export async function checkFunds (view: FundsView, rec: MarketRecord, transfers: Array<{ to: string, amountPlanck: bigint }>): Promise<void> {
  const moved = transfers.reduce((a, t) => a + t.amountPlanck, 0n)
  const [fee, free] = await Promise.all([view.estimateFee(rec, transfers), view.freeBalance()])
  const ed = view.existentialDeposit
  const need = fee + moved + ed
  if (free >= need) return
  const t = (planck: bigint): string => `${formatTokens(planck, view.tokenDecimals)} ${view.tokenSymbol}`
  const hint = view.isLocal ? '; use the faucet: datdot wallet --faucet 10' : ''
  const message = moved > 0n
    ? `the budget ${t(moved)} is more than this account can pay: it has ${t(free)} free and needs ${t(need)} (budget + fee about ${t(fee)} + ${t(ed)} that stays in the account)${hint}`
    : `this account needs at least ${t(fee + ed)} for fees (it has ${t(free)})${hint}`
  refuse('INSUFFICIENT_FUNDS', 'insufficient-funds', message, { freePlanck: free.toString(), needPlanck: need.toString() })
}

/** Contracts `ranges` cut into at `chunksPerContract` blocks each (as marketplace.ts counts them). */
function contractsIn (ranges: Array<[number, number]>, chunksPerContract: number): number {
  let n = 0
  for (const [s, e] of ranges) n += Math.ceil((e - s) / chunksPerContract)
  return n
}

function rangesOverlap (a: Array<[number, number]>, b: Array<[number, number]>): boolean {
  return a.some(([s1, e1]) => b.some(([s2, e2]) => s1 < e2 && s2 < e1))
}
