/**
 * Epoch committees (issue 12 item 3; docs/chain.md "Committees"). On an aggregated network
 * (`epochBlocks` > 0) every attestor given a regular check in an epoch sends one `epoch-report`
 * for it, so the fee of the epoch is one extrinsic per attestor: at a small volume spread over
 * many attestors that fee outweighs the rewards of the few checks each covers. So an epoch's
 * regular checks go to a committee of K attestors only, drawn at the epoch's first regular check
 * by the ordinary weighted pick (reputation and free space, the block's randomness), with K from
 * the expected regular attestations of the epoch (`committeeSize`). Re-checks, disputes and the
 * checks of a contained slot keep drawing from every eligible attestor (selection.ts issueChallenge).
 *
 * Liveness: most seats (all but `freshShare`) go to attestors that sent an aggregate of one of
 * the last `liveEpochs` epochs or registered in them; the rest, and whatever they cannot fill,
 * to every eligible attestor, so newcomers and attestors outside past committees get in too. A
 * provider that left without unregistering is never penalised while it is not drawn; drawn
 * from everyone, such dead attestors made a growing share of the seats (docs/chain.md).
 *
 * The hosting slots and eligible attestors are counted once an epoch, at the draw (a scan of the
 * contracts and providers), not kept per block. When K covers every eligible attestor no
 * committee is drawn (nothing of the block's randomness is used) and an empty list is stored, so
 * a restored state decides the same for the rest of the epoch.
 */
import { MARKET_PARAMS, type MarketState } from './market-types.js'
import type { NetworkParams } from './record-types.js'
import { epochOf, params, type Ctx } from './market-context.js'

/**
 * K for an epoch: the expected regular attestations (hosting slots x checks a slot an epoch x
 * (1 storage + performanceAttestors)) / checksPerMember, rounded up, at least minMembers (and
 * 2 x performanceAttestors + 1), at most `eligibleAttestors`. Also the economics bench's senders.
 */
export function committeeSize (hostingSlots: number, p: NetworkParams, eligibleAttestors: number): number {
  const perEpoch = (p.epochBlocks ?? 0) / p.challengeIntervalBlocks
  const expected = hostingSlots * perEpoch * (1 + p.performanceAttestors)
  const min = Math.max(MARKET_PARAMS.committee.minMembers, 2 * p.performanceAttestors + 1)
  return Math.min(eligibleAttestors, Math.max(min, Math.ceil(expected / MARKET_PARAMS.committee.checksPerMember)))
}

/** The hosting slots of the market (a scan: once an epoch). */
export function hostingSlots (state: MarketState): number {
  let n = 0
  for (const c of Object.values(state.contracts)) for (const s of c.slots) if (s.state === 'hosting') n++
  return n
}

/** Set form of a stored committee, kept per list (the list never changes once drawn). */
const MEMBERS = new WeakMap<string[], Set<string>>()

export interface CommitteeDraw {
  /** Attestors eligible at this block (a scan of the providers: once an epoch). */
  eligibleAttestors: () => number
  /** One weighted pick of an eligible attestor not in `exclude` (among `among` only, when given), or null. */
  pickOne: (exclude: Set<string>, among?: { key: string, members: Set<string> }) => string | null
}

/** Providers that sent an aggregate of one of the last `liveEpochs` epochs before `epoch`, or registered in them. */
export function liveAttestors (state: MarketState, p: NetworkParams, epoch: number): Set<string> {
  const since = epoch - MARKET_PARAMS.committee.liveEpochs
  const live = new Set<string>()
  for (const prov of Object.values(state.providers)) {
    if ((prov.lastAggregateEpoch ?? -1) >= since || epochOf(p, prov.registeredAt) >= since) live.add(prov.address)
  }
  return live
}

/**
 * The committee of the current block's epoch, drawn at its first call in the epoch; null when
 * every eligible attestor is in (K >= eligible attestors).
 */
export function epochCommittee (ctx: Ctx, draw: CommitteeDraw): { epoch: number, members: Set<string> } | null {
  const { state } = ctx
  const p = params(ctx)
  const epoch = epochOf(p, ctx.block.number)
  const committees = (state.committees ??= {})
  let list = committees[epoch]
  if (list === undefined) {
    list = drawCommittee(ctx, p, draw)
    committees[epoch] = list
  }
  if (list.length === 0) return null
  let members = MEMBERS.get(list)
  if (members === undefined) { members = new Set(list); MEMBERS.set(list, members) }
  return { epoch, members }
}

function drawCommittee (ctx: Ctx, p: NetworkParams, draw: CommitteeDraw): string[] {
  const eligible = draw.eligibleAttestors()
  const k = committeeSize(hostingSlots(ctx.state), p, eligible)
  if (k >= eligible) return []
  const epoch = epochOf(p, ctx.block.number)
  const chosen = new Set<string>()
  const live = { key: `live:${epoch}`, members: liveAttestors(ctx.state, p, epoch) }
  const liveSeats = k - Math.floor(k * MARKET_PARAMS.committee.freshShare)
  while (chosen.size < liveSeats) {
    const a = draw.pickOne(chosen, live)
    if (a === null) break
    chosen.add(a)
  }
  const fromLive = chosen.size
  while (chosen.size < k) {
    const a = draw.pickOne(chosen)
    if (a === null) break
    chosen.add(a)
  }
  ctx.out.notices.push(`epoch ${epoch}: a committee of ${chosen.size} of ${eligible} eligible attestors attests its regular checks (${fromLive} of them recent senders)`)
  return [...chosen].sort()
}

/** Committees of epochs whose aggregate deadline (`due`) came are forgotten with the epoch. */
export function forgetCommittees (state: MarketState, due: (epoch: number) => number, block: number): void {
  if (state.committees === undefined) return
  for (const key of Object.keys(state.committees)) if (block >= due(Number(key))) delete state.committees[key]
  if (Object.keys(state.committees).length === 0) delete state.committees
}
