import { describe, it, expect, beforeAll } from 'vitest'
import { simulate } from './market-sim.js'
import { createRootFixture, type RootFixture } from './roots-fixture.js'
import { RECORD_LIMITS } from '../../main/chain/records.js'

let root: RootFixture
beforeAll(async () => { root = await createRootFixture([40]) })

describe('the marketplace under churn and attacks (small simulation)', () => {
  it('keeps conservation, detects deleters and sybils, replaces churned hosters, takes the attestor role from a lying attestor and never replaces an honest hoster for its lies', () => {
    const r = simulate({
      providers: 60, sponsors: 4, plansPerSponsor: 2, chunksPerPlan: 40, replicas: 3, blocks: 240,
      churnPerBlock: 0.001, attackers: { deleter: 4, sybil: 3, throttler: 3, liar: 1 }, lossFraction: 0.2, sybilIdentities: 3,
      openings: 8, seed: 'unit', unitPricePlanck: 1000n, root,
      params: { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 5, performanceAttestors: 3 }
    })
    expect(r.conservationOk).toBe(true)
    expect(r.contracts).toBe(8 * 4)
    expect(r.detection.deleter?.challenged ?? 0).toBeGreaterThan(0)
    expect(r.detection.deleter?.failed ?? 0).toBeGreaterThan(0)
    expect(r.detection.sybil?.rate ?? 0).toBeGreaterThan(0.9)
    expect(r.detection.sybil?.dropped ?? 0).toBeGreaterThan(0)
    expect(r.detection.offline?.dropped ?? 0).toBeGreaterThan(0)
    expect(r.detection.honest?.failed ?? 0).toBe(0)
    expect(r.honestReplaced).toBe(0)
    expect(r.liarsContradicted).toBeGreaterThan(0)
    expect(r.liarsLostAttestorRole).toBe(1)
    expect(r.availability).toBeGreaterThan(0.5)
    expect(r.paidPlanck).toBeGreaterThan(0n)
    // 'replayed' and 'wrong-signer' only: a report can race with a replacement earlier in the same
    // block (the slot's other open check is gone by then), or with its attestor losing the attestor
    // role (it is no longer the check's attestor); nothing else may be rejected
    expect(Object.keys(r.rejected).filter((why) => why !== 'replayed' && why !== 'wrong-signer')).toEqual([])
  })

  it('splits an attestor\'s epoch aggregate before a check that would grade more hosters than the record holds, as the attestor\'s builder does', () => {
    // the limit lowered for this test (same code at any value) so that a small market reaches it (4096 at 100 000 plans did)
    const limits = RECORD_LIMITS as { aggregateGradesMax: number }
    const saved = limits.aggregateGradesMax
    limits.aggregateGradesMax = 1
    const parts: string[] = []
    try {
      simulate({
        providers: 30, sponsors: 2, plansPerSponsor: 4, chunksPerPlan: 40, replicas: 3, blocks: 60,
        churnPerBlock: 0, attackers: {}, lossFraction: 0, sybilIdentities: 3, openings: 8, seed: 'grades', unitPricePlanck: 1000n, root,
        params: { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 5, performanceAttestors: 3, epochBlocks: 12 },
        onBlock: (_input, out) => { for (const a of out.actions) for (const rec of a.applied) if (rec.kind === 'epoch-report') parts.push(rec.ref) }
      })
    } finally {
      limits.aggregateGradesMax = saved
    }
    // refs are epoch:N:from: a part that starts after the attestor's first check is a split
    expect(parts.length).toBeGreaterThan(0)
    expect(parts.some((ref) => !ref.endsWith(':0'))).toBe(true)
  })
})
