import { describe, it, expect } from 'vitest'
import { storageReport } from '../../main/chain/report-records.js'
import { assignPending, issueChallenge, pick } from '../../main/chain/selection.js'
import { applyFloorDrops, roleReputation } from '../../main/chain/reputation.js'
import { register, unregister } from '../../main/chain/provider-records.js'
import { ROLE, type StorageFailure } from '../../main/chain/record-types.js'
import { MARKET_PARAMS, type Challenge, type MarketState } from '../../main/chain/market-types.js'
import type { Ctx } from '../../main/chain/market-context.js'
import { acct, ctxAt, marketWith, provider } from '../helpers/market-state.js'
import { cloneState } from '../../main/chain/marketplace.js'

const NAMES = Array.from({ length: 12 }, (_, i) => `p${i + 1}`)

/** A market with one contract of one slot, set up and hosting; block numbers count from 10. */
function hosting (): { state: MarketState, hoster: string, next: () => Ctx } {
  const state = marketWith({ providers: NAMES, replicas: 1, budgetPlanck: 10n ** 15n })
  let n = 1
  const next = (): Ctx => ctxAt(state, n++)
  assignPending(next())
  const slot = state.contracts[1].slots[0]
  slot.state = 'hosting'
  return { state, hoster: slot.hoster as string, next }
}

/** The slot's open storage challenge (a scheduled one is issued when there is none). */
function openStorage (state: MarketState, ctx: Ctx): Challenge {
  const open = Object.values(state.challenges).find((c) => c.kind === 'storage')
  if (open !== undefined) return open
  const id = issueChallenge(ctx, state.contracts[1], 0, 'storage', false) as number
  return state.challenges[id]
}

/** The attestor of the open storage challenge reports `ok` (or fails with `reason`); returns that attestor. */
function verdict (state: MarketState, next: () => Ctx, ok: boolean, reason: StorageFailure = 'WRONG_COMMITMENT'): string {
  const ch = openStorage(state, next())
  const ctx = next()
  storageReport(ctx, ch.attestors[0], { kind: 'storage-report', challengeId: ch.id, ok, reason: ok ? 'NONE' : reason })
  applyFloorDrops(ctx)
  return ch.attestors[0]
}

const attestorRep = (state: MarketState, who: string): number => roleReputation(state.providers[who], 'attestor')

describe('storage disputes: a hoster is replaced only on the agreement of independent attestors', () => {
  it('never replaces an honest hoster on one lying attestor\'s failure: two independent passes clear it and the liar loses attestor reputation only', () => {
    const { state, hoster, next } = hosting()
    const liar = verdict(state, next, false)
    const liarHosting = state.providers[liar].reputation
    const liarAttesting = attestorRep(state, liar)
    expect(state.contracts[1].slots[0].strikes.storage).toBe(1)
    const a = verdict(state, next, true)
    const b = verdict(state, next, true)
    const slot = state.contracts[1].slots[0]
    expect(slot.hoster).toBe(hoster)
    expect(slot.strikes.storage).toBe(0)
    expect([liar, a, b].length).toBe(new Set([liar, a, b, hoster]).size - 1)
    expect(state.providers[hoster].reputation).toBeGreaterThanOrEqual(MARKET_PARAMS.reputationStart)
    expect(attestorRep(state, liar)).toBe(liarAttesting - MARKET_PARAMS.penalties.lostDispute)
    expect(state.providers[liar].reputation).toBe(liarHosting)
    expect(attestorRep(state, a)).toBeGreaterThan(MARKET_PARAMS.reputationStart)
  })

  it('never replaces an honest hoster on two lying attestors chosen one after the other: a third failure is needed and two passes win', () => {
    const { state, hoster, next } = hosting()
    const liars = [verdict(state, next, false), verdict(state, next, false)]
    expect(state.contracts[1].slots[0].hoster).toBe(hoster)
    expect(state.contracts[1].slots[0].strikes.storage).toBe(2)
    // the third attestor is independent of both liars, and so is the fourth
    const third = openStorage(state, next())
    expect(liars).not.toContain(third.attestors[0])
    verdict(state, next, true)
    expect(state.contracts[1].slots[0].hoster).toBe(hoster)
    const fourth = openStorage(state, next())
    expect(liars).not.toContain(fourth.attestors[0])
    expect(fourth.attestors[0]).not.toBe(third.attestors[0])
    verdict(state, next, true)
    expect(state.contracts[1].slots[0].hoster).toBe(hoster)
    expect(state.contracts[1].slots[0].strikes.storage).toBe(0)
    expect(state.providers[hoster].reputation).toBeGreaterThanOrEqual(MARKET_PARAMS.reputationStart)
    for (const l of liars) expect(attestorRep(state, l)).toBeLessThan(MARKET_PARAMS.reputationStart)
  })

  it('replaces the hoster on a confirmed failure (three independent failures), costing the passer that disagreed attestor reputation', () => {
    const { state, hoster, next } = hosting()
    const accuser = verdict(state, next, false)
    const passer = verdict(state, next, true)
    const passerRep = attestorRep(state, passer)
    verdict(state, next, false)
    expect(state.contracts[1].slots[0].hoster).toBe(hoster)
    const hosterRep = state.providers[hoster].reputation
    verdict(state, next, false)
    const slot = state.contracts[1].slots[0]
    expect(slot.hoster).not.toBe(hoster)
    expect(slot.blamed).toContain(hoster)
    expect(state.providers[hoster].reputation).toBe(hosterRep - MARKET_PARAMS.penalties.failedProof)
    expect(attestorRep(state, passer)).toBe(passerRep - MARKET_PARAMS.penalties.lostDispute)
    expect(attestorRep(state, accuser)).toBeGreaterThan(MARKET_PARAMS.reputationStart)
  })

  it('takes the attestor role from a liar whatever it earns as a hoster: below the attestor floor it is never picked to attest, and still hosts', () => {
    const state = marketWith({ providers: NAMES, replicas: 1, budgetPlanck: 10n ** 15n })
    const liar = acct('p1')
    state.providers[liar].reputation = MARKET_PARAMS.reputationMax
    let n = 1
    const next = (): Ctx => ctxAt(state, n++)
    // the liar loses disputes until its attestor reputation is below the floor
    for (let lies = 0; attestorRep(state, liar) >= MARKET_PARAMS.reputationFloor; lies++) {
      expect(lies).toBeLessThan(10)
      const h = Object.values(state.contracts)[0]
      if (h.slots[0].state !== 'hosting') { assignPending(next()); h.slots[0].state = 'hosting' }
      if (h.slots[0].hoster === liar) { state.providers[liar].roles = ROLE.attestor; continue }
      const ch = state.challenges[issueChallenge(next(), h, 0, 'storage', false, NAMES.map(acct).filter((a) => a !== liar)) as number]
      expect(ch.attestors).toEqual([liar])
      storageReport(next(), liar, { kind: 'storage-report', challengeId: ch.id, ok: false, reason: 'MISSING_CHUNK' })
      for (let k = 0; k < MARKET_PARAMS.disputePasses; k++) verdict(state, next, true)
    }
    state.providers[liar].roles = 7
    expect(state.providers[liar].reputation).toBe(MARKET_PARAMS.reputationMax)
    // never picked to attest any more, still picked to host
    const asAttestor = new Set<string | null>()
    const asHoster = new Set<string | null>()
    for (let i = 0; i < 200; i++) {
      const ctx = next()
      asAttestor.add(pick(ctx, ROLE.attestor, new Set(), 0))
      asHoster.add(pick(ctx, ROLE.hoster, new Set(), 0))
    }
    expect(asAttestor.has(liar)).toBe(false)
    expect(asHoster.has(liar)).toBe(true)
    // leaving and registering again does not give the role back
    const lost = attestorRep(state, liar)
    const action = { index: 0, signer: liar, remarks: [], transfers: [] }
    unregister(next(), action)
    register(next(), action, { kind: 'register', roles: 7, storageBytes: 1 << 30, bandwidthBps: 1e6, region: 'eu', noiseKeyHex: 'cd'.repeat(32) })
    expect(attestorRep(state, liar)).toBe(lost)
    expect(state.providers[liar].reputation).toBe(MARKET_PARAMS.reputationStart)
  })

  it('does not fine an accuser that loses a dispute over a reading of the moment (unreachable): it is counted towards a rest instead', () => {
    const { state, hoster, next } = hosting()
    const accuser = verdict(state, next, false, 'UNREACHABLE')
    const before = attestorRep(state, accuser)
    verdict(state, next, true)
    verdict(state, next, true)
    expect(state.contracts[1].slots[0].hoster).toBe(hoster)
    expect(attestorRep(state, accuser)).toBeGreaterThanOrEqual(before)
    expect(state.providers[accuser].unconfirmed).toBe(1)
  })

  it('never lets one operator confirm its own accusation through a second account registered with the same key', () => {
    const { state, next } = hosting()
    const accuser = verdict(state, next, false)
    const twin = acct('twin')
    state.providers[twin] = provider(twin, { noiseKeyHex: state.providers[accuser].noiseKeyHex })
    for (let i = 0; i < 50; i++) {
      const id = issueChallenge(next(), state.contracts[1], 0, 'storage', true) as number
      expect(state.challenges[id].attestors).not.toContain(twin)
      delete state.challenges[id]
    }
  })
})

describe('repair: a hoster replaced on independent agreement is re-checked in its other slots at once', () => {
  it('issues a storage re-check of the hoster\'s other hosting slot in the block its dispute is decided, not at that slot\'s phase', () => {
    const made = marketWith({ providers: NAMES, replicas: 1, budgetPlanck: 10n ** 15n, contracts: 2 })
    const [hoster, encoder] = [acct('p1'), acct('p2')]
    for (const c of Object.values(made.contracts)) {
      c.attestor = acct('p3')
      c.slots[0] = { ...c.slots[0], hoster, encoder, state: 'hosting', since: 0, phase: 5 }
    }
    made.pending = []
    // edited by hand: a copy has its indexes built from the edited state (market-index.ts)
    const state = cloneState(made)
    let n = 1
    let decided: Ctx | null = null
    for (let i = 0; i < MARKET_PARAMS.disputeFails && decided === null; i++) {
      const open = Object.values(state.challenges).find((c) => c.kind === 'storage' && c.contractId === 1)
      const ch = open ?? state.challenges[issueChallenge(ctxAt(state, n++), state.contracts[1], 0, 'storage', false) as number]
      const ctx = ctxAt(state, n++)
      storageReport(ctx, ch.attestors[0], { kind: 'storage-report', challengeId: ch.id, ok: false, reason: 'WRONG_COMMITMENT' })
      if (state.contracts[1].slots[0].hoster !== hoster) decided = ctx
    }
    expect(decided).not.toBeNull()
    const recheck = Object.values(state.challenges).find((c) => c.contractId === 2)
    expect(recheck?.kind).toBe('storage')
    expect(recheck?.hoster).toBe(hoster)
    expect(recheck?.recheck).toBe(true)
    expect(decided?.out.newChallenges).toContain(recheck?.id)
  })
})
