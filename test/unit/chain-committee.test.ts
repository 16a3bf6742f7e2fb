/**
 * Epoch committees (main/chain/committee.ts): on an aggregated network an epoch's regular checks
 * go to K attestors drawn at the epoch's first regular check, so fewer attestors each send one
 * aggregate; re-checks and disputes still draw from every eligible attestor; a member that cannot
 * attest is replaced by the ordinary pick; with no more attestors than K nothing changes. Blocks
 * are applied whole (applyBlock with full conservation checks) with encoded records.
 */
import { describe, it, expect } from 'vitest'
import { conservation, type BlockOutcome, type MarketState } from '../../main/chain/marketplace.js'
import type { MarketRecord } from '../../main/chain/records.js'
import { epochClose, epochDeadline, gradedHosters } from '../../main/chain/epoch-records.js'
import { committeeSize } from '../../main/chain/committee.js'
import { MARKET_PARAMS } from '../../main/chain/market-types.js'
import { DEFAULT_NETWORK_PARAMS } from '../../main/chain/local-chain.js'
import { hostingMarket, type SteppedMarket } from '../helpers/market-state.js'

type EpochReport = Extract<MarketRecord, { kind: 'epoch-report' }>
const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `p${i + 1}`)

type Market = SteppedMarket

/** `providers` attestors (every one offers every role), `contracts` x `replicas` hosting slots, epochs of `epochBlocks` (interval 10, timeout 5). */
function market (providers: number, contracts: number, replicas = 2, epochBlocks = 10): Market {
  return hostingMarket({ providers: names(providers), contracts, replicas, budgetPlanck: 10n ** 12n, epochBlocks })
}

function aggregate (state: MarketState, epoch: number, attestor: string): EpochReport {
  const entry = state.epochs?.[epoch]?.[attestor]
  if (entry === undefined) throw new Error(`no checks of ${attestor} in epoch ${epoch}`)
  const checks = entry.checks.slice(entry.covered)
  const grades = gradedHosters(checks, new Set()).map(() => 30)
  return { kind: 'epoch-report', epoch, from: entry.covered, count: checks.length, failed: [], grades, rootHex: 'ee'.repeat(32) }
}

const attestorsOf = (state: MarketState, epoch: number): string[] => Object.keys(state.epochs?.[epoch] ?? {})
const regularOf = (state: MarketState, out: BlockOutcome): Array<MarketState['challenges'][string]> =>
  out.newChallenges.map((id) => state.challenges[id]).filter((c) => c !== undefined && c.epoch !== undefined)

/** Changes MARKET_PARAMS.committee for the length of `fn` (the same code at any value). */
function withCommittee<T> (over: Partial<{ checksPerMember: number, minMembers: number }>, fn: () => T): T {
  const c = MARKET_PARAMS.committee as { checksPerMember: number, minMembers: number }
  const saved = { ...c }
  Object.assign(c, over)
  try { return fn() } finally { Object.assign(c, saved) }
}

describe('epoch committees: an epoch\'s regular checks go to a few attestors, each sending one aggregate', () => {
  it('gives the regular checks of an epoch of 30 attestors and few slots to at most minMembers of them, each of whose aggregate the chain accepts', () => {
    const { state, step, to } = market(30, 2, 2, 20)
    const p = state.network?.params as NonNullable<MarketState['network']>['params']
    to(epochClose(p, 1))
    const committee = state.committees?.[1] ?? []
    expect(committee.length).toBe(MARKET_PARAMS.committee.minMembers)
    const attestors = attestorsOf(state, 1)
    // 4 slots x 2 checks x (1 + 3) attestations = 32 among 7 members: none outside the committee
    expect(attestors.length).toBeGreaterThan(3)
    expect(attestors.length).toBeLessThanOrEqual(committee.length)
    for (const a of attestors) expect(committee).toContain(a)
    const out = step(attestors.map((a) => [a, aggregate(state, 1, a)]))
    for (let i = 0; i < attestors.length; i++) expect(out.actions[i].records[0]).toMatchObject({ ok: true, kind: 'epoch-report' })
    expect(out.penalties).toEqual([])
    expect(Object.values(state.awaiting ?? {}).filter((c) => c.epoch === 1)).toEqual([])
    expect(conservation(state).ok).toBe(true)
    // the epoch's committee is forgotten with it, and the next epoch drew its own
    to(epochDeadline(p, 1) + 1)
    expect(state.committees?.[1]).toBeUndefined()
    expect(state.committees?.[2]?.length).toBe(MARKET_PARAMS.committee.minMembers)
  })

  it('grows the committee with the expected attestations of the epoch, up to every eligible attestor', () => {
    const p = { ...DEFAULT_NETWORK_PARAMS, epochBlocks: 14_400 }
    // 1 GiB at the defaults: 768 slots, 24 checks a slot a day, 4 attestations each = 73 728 an epoch of 24 h
    expect(committeeSize(768, p, 100)).toBe(Math.ceil(768 * 24 * 4 / MARKET_PARAMS.committee.checksPerMember))
    expect(committeeSize(1, p, 100)).toBe(MARKET_PARAMS.committee.minMembers)
    expect(committeeSize(76_800, p, 100)).toBe(100)
    expect(committeeSize(1, { ...p, performanceAttestors: 5 }, 100)).toBe(11)
    // in a market: checksPerMember 2, so 1 slot (4 attestations an epoch) keeps the minimum, 10 slots need 20 members
    const sizes = withCommittee({ checksPerMember: 2 }, () => [1, 5].map((contracts) => {
      const { state, to } = market(30, contracts)
      to(12)
      return state.committees?.[1]?.length
    }))
    expect(sizes).toEqual([7, 20])
  })

  it('draws the re-checks of a failed storage challenge from every eligible attestor, not only the committee', () => {
    // four slots, each storage challenge of block 10 failed, and every re-check of the disputes that opens
    const { state, step, to } = market(30, 2)
    to(10)
    const first = regularOf(state, step()).filter((c) => c.kind === 'storage')
    expect(first.length).toBe(4)
    const committee = state.committees?.[1] ?? []
    expect(committee.length).toBe(7)
    const fail = (ch: { id: number, attestors: string[] }): [string, MarketRecord] => [ch.attestors[0], { kind: 'storage-report', challengeId: ch.id, ok: false, reason: 'MISSING_CHUNK' }]
    let next: Array<[string, MarketRecord]> = first.map(fail)
    const rechecks: string[] = []
    for (let i = 0; i < 8; i++) {
      const out = step(next)
      next = []
      for (const id of out.newChallenges) {
        const ch = state.challenges[id]
        if (ch?.recheck !== true) continue
        expect(ch.epoch).toBeUndefined()
        rechecks.push(...ch.attestors)
        // the dispute needs independent verdicts: each re-check fails too
        next.push(fail(ch))
      }
    }
    expect(rechecks.length).toBeGreaterThanOrEqual(8)
    expect(rechecks.some((a) => !committee.includes(a))).toBe(true)
    expect(conservation(state).ok).toBe(true)
  })

  it('skips a member that is paused, resting or below the floor and fills the check from everyone', () => {
    const { state, step, to } = market(30, 1, 1)
    to(10)
    step()
    const committee = state.committees?.[1] ?? []
    expect(committee.length).toBe(7)
    const hoster = state.contracts[1].slots[0].hoster as string
    const members = committee.filter((a) => a !== hoster)
    // all members but one cannot attest any more: paused, resting (unconfirmed accusations), below the attestor floor
    const [keep, paused, rested, low, ...more] = members
    state.providers[paused].pausedUntil = 10_000
    state.providers[rested].attestSuspendedUntil = 10_000
    const lowP = state.providers[low]
    lowP.roleReputation = { encoder: lowP.reputation, attestor: MARKET_PARAMS.reputationFloor - 1 }
    for (const a of more) state.providers[a].pausedUntil = 10_000
    to(15)
    const perf = regularOf(state, step()).find((c) => c.kind === 'performance')
    if (perf === undefined) throw new Error('no performance check at block 15')
    expect(perf.attestors.length).toBe(state.network?.params.performanceAttestors)
    expect(perf.attestors).toContain(keep)
    for (const a of [paused, rested, low, ...more]) expect(perf.attestors).not.toContain(a)
    expect(perf.attestors.filter((a) => !committee.includes(a)).length).toBe(perf.attestors.length - 1)
    expect(perf.epoch).toBe(1)
    expect(conservation(state).ok).toBe(true)
  })

  it('gives all but a fresh share of the seats to attestors that sent a recent aggregate, so providers gone silent are rarely drawn', () => {
    const { state, step, to } = market(30, 2, 2, 20)
    const p = state.network?.params as NonNullable<MarketState['network']>['params']
    // epoch 1's members send their aggregates: the chain notes the epoch of each sender's latest
    to(epochClose(p, 1))
    const senders = attestorsOf(state, 1)
    expect(senders.length).toBeGreaterThan(3)
    step(senders.map((a) => [a, aggregate(state, 1, a)]))
    for (const a of senders) expect(state.providers[a].lastAggregateEpoch).toBe(1)
    // by epoch 5 every provider registered long ago (block 1): only six sent an aggregate of epoch 3 or 4
    to(5 * 20 - 5)
    const all = Object.keys(state.providers).sort()
    const live = all.slice(10, 16)
    for (const a of all) state.providers[a].lastAggregateEpoch = live.includes(a) ? 4 : undefined
    state.providers[live[0]].lastAggregateEpoch = 3
    to(epochClose(p, 5))
    const committee = state.committees?.[5] ?? []
    // K = 7: 7 - floor(7 x 0.25) = 6 seats for recent senders (all six), one drawn from everyone
    expect(committee.length).toBe(MARKET_PARAMS.committee.minMembers)
    for (const a of live) expect(committee).toContain(a)
    expect(committee.filter((a) => !live.includes(a)).length).toBe(1)
    expect(conservation(state).ok).toBe(true)
  })

  it('draws no committee when there are no more eligible attestors than K, and picks exactly as without committees', () => {
    // the twin has every epoch's committee set to "everyone" beforehand: the committee code is never entered
    const a = market(7, 3)
    const b = market(7, 3)
    b.state.committees = Object.fromEntries(Array.from({ length: 12 }, (_, e) => [String(e), []]))
    const picks = (m: Market, out: BlockOutcome): string[] => out.newChallenges.map((id) => `${id}:${m.state.challenges[id]?.attestors.join(',')}`)
    let regular = 0
    for (let n = 2; n <= 100; n++) {
      const [oa, ob] = [a.step(), b.step()]
      expect(picks(a, oa), `block ${n}`).toEqual(picks(b, ob))
      regular += regularOf(a.state, oa).length
      for (const [key, list] of Object.entries(a.state.committees ?? {})) expect(list, `epoch ${key}`).toEqual([])
      if (n === 12) expect(a.state.committees?.[1]).toEqual([])
    }
    expect(regular).toBeGreaterThan(50)
    expect(conservation(a.state).ok).toBe(true)
  })
})
