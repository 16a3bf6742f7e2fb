import { describe, it, expect } from 'vitest'
import { assignPending, eligible, issueChallenge, pick } from '../../main/chain/selection.js'
import { serializeState, cloneState } from '../../main/chain/marketplace.js'
import { MARKET_PARAMS, type Contract, type MarketState } from '../../main/chain/market-types.js'
import { ROLE } from '../../main/chain/record-types.js'
import { acct, ctxAt, marketWith, PARAMS, SPONSOR } from '../helpers/market-state.js'

const NAMES = Array.from({ length: 12 }, (_, i) => `p${i + 1}`)

/** Every identity a contract uses: its attestor, each slot's hoster and encoder (nulls left out). */
function parties (c: Contract): string[] {
  const all = [c.attestor, ...c.slots.flatMap((s) => [s.hoster, s.encoder])]
  return all.filter((a): a is string => a !== null)
}

describe('selection of encoders, hosters and attestors', () => {
  it('fills every slot and the attestor with distinct providers, never the sponsor, in every block tried', () => {
    for (let block = 1; block <= 30; block++) {
      const state = marketWith({ providers: NAMES, contracts: 4, replicas: 3, sponsorProvides: true })
      assignPending(ctxAt(state, block))
      for (const c of Object.values(state.contracts)) {
        const used = parties(c)
        expect(used).toHaveLength(2 * 3 + 1)
        expect(new Set(used).size).toBe(used.length)
        expect(used).not.toContain(SPONSOR)
        expect(c.slots.every((s) => s.state === 'setup')).toBe(true)
      }
      expect(state.pending).toEqual([])
    }
  })

  it('leaves slots unassigned rather than use a provider twice in one contract when too few are eligible', () => {
    const state = marketWith({ providers: NAMES.slice(0, 4), replicas: 3 })
    assignPending(ctxAt(state, 1))
    const c = state.contracts[1]
    const used = parties(c)
    expect(new Set(used).size).toBe(used.length)
    expect(used.length).toBeLessThanOrEqual(4)
    expect(c.slots.some((s) => s.state === 'unassigned')).toBe(true)
    expect(state.pending).toEqual([1])
  })

  it('never gives one hoster two contracts over the same blocks of a core (its second encoding would overwrite the first)', () => {
    for (let block = 1; block <= 20; block++) {
      // Two plans' contracts over the same core: blocks [0, 10) twice, and [5, 15) overlapping both.
      const state = marketWith({ providers: NAMES, contracts: 3, replicas: 2 })
      const [a, b, c] = Object.values(state.contracts)
      b.start = 0; b.end = 10
      c.start = 5; c.end = 15
      assignPending(ctxAt(state, block))
      const hostersOf = (x: Contract): string[] => x.slots.map((s) => s.hoster).filter((h): h is string => h !== null)
      expect(hostersOf(a)).toHaveLength(2)
      for (const [x, y] of [[a, b], [a, c], [b, c]]) {
        for (const h of hostersOf(x)) expect(hostersOf(y), `block ${block}`).not.toContain(h)
      }
    }
    // With too few providers the later contract waits rather than double up a hoster.
    const few = marketWith({ providers: NAMES.slice(0, 3), contracts: 2, replicas: 1 })
    const [first, second] = Object.values(few.contracts)
    second.start = first.start; second.end = first.end
    assignPending(ctxAt(few, 1))
    expect(first.slots[0].state).toBe('setup')
    expect(second.slots[0].hoster === null || second.slots[0].hoster !== first.slots[0].hoster).toBe(true)
  })

  it('picks the same providers from the same state and block hash, and other ones from other hashes', () => {
    const base = marketWith({ providers: NAMES, contracts: 3, replicas: 2 })
    const a = cloneState(base)
    const b = cloneState(base)
    assignPending(ctxAt(a, 7, 'same'))
    assignPending(ctxAt(b, 7, 'same'))
    expect(serializeState(b)).toBe(serializeState(a))
    const others = new Set<string>()
    for (let i = 0; i < 10; i++) {
      const c = cloneState(base)
      assignPending(ctxAt(c, 7, `other ${i}`))
      others.add(serializeState(c))
    }
    expect(others.size).toBeGreaterThan(1)
  })

  it('never assigns a slot to a provider that failed its setup before', () => {
    for (let block = 1; block <= 20; block++) {
      const state = marketWith({ providers: NAMES.slice(0, 6), replicas: 1 })
      const blamed = NAMES.slice(0, 3).map(acct)
      state.contracts[1].slots[0].blamed = [...blamed]
      assignPending(ctxAt(state, block))
      const slot = state.contracts[1].slots[0]
      expect(slot.state).toBe('setup')
      expect(blamed).not.toContain(slot.hoster)
      expect(blamed).not.toContain(slot.encoder)
    }
  })

  it('never picks a provider that is paused, below the reputation floor, at its job limit, out of room or (to attest) suspended', () => {
    const state: MarketState = marketWith({ providers: ['ok', 'paused', 'low', 'busy', 'full', 'suspended'] })
    const p = (name: string): MarketState['providers'][string] => state.providers[acct(name)]
    p('paused').pausedUntil = 100
    p('low').reputation = MARKET_PARAMS.reputationFloor - 1
    p('busy').jobs = MARKET_PARAMS.jobsPerProvider
    p('full').usedBytes = p('full').storageBytes
    p('suspended').attestSuspendedUntil = 100
    const bytes = 10 * MARKET_PARAMS.chunkBytes
    for (let block = 1; block <= 40; block++) {
      expect(pick(ctxAt(state, block), ROLE.hoster, new Set(), bytes)).toBeOneOf([acct('ok'), acct('suspended')])
      expect(pick(ctxAt(state, block), ROLE.attestor, new Set(), 0)).toBeOneOf([acct('ok'), acct('full')])
    }
    expect(eligible(state, p('suspended'), ROLE.attestor, 100, 0)).toBe(true)
    expect(pick(ctxAt(state, 1), ROLE.hoster, new Set([acct('ok'), acct('suspended')]), bytes)).toBeNull()
  })

  it('gives a performance re-check distinct attestors that are neither the hoster, the sponsor nor the slot\'s accusers', () => {
    for (let block = 1; block <= 20; block++) {
      const state = marketWith({ providers: NAMES, replicas: 1, sponsorProvides: true })
      const contract = state.contracts[1]
      const slot = contract.slots[0]
      Object.assign(slot, { hoster: acct('p1'), encoder: acct('p2'), state: 'hosting' })
      slot.accusers.performance = [acct('p3'), acct('p4')]
      const ctx = ctxAt(state, block)
      const id = issueChallenge(ctx, contract, 0, 'performance', true) as number
      const ch = state.challenges[id]
      expect(ch.attestors).toHaveLength(PARAMS.performanceAttestors)
      expect(new Set(ch.attestors).size).toBe(ch.attestors.length)
      for (const banned of [acct('p1'), SPONSOR, acct('p3'), acct('p4')]) expect(ch.attestors).not.toContain(banned)
      expect(ch.chunk).toBeGreaterThanOrEqual(contract.start)
      expect(ch.chunk).toBeLessThan(contract.end)
      expect(ctx.out.newChallenges).toEqual([id])
    }
  })
})
