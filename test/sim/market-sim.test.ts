import { describe, it, expect } from 'vitest'
import { simulate } from './market-sim.js'

describe('the marketplace under churn and attacks (small simulation)', () => {
  it('keeps conservation, detects deleters and sybils, replaces churned hosters and never penalises an honest online provider', () => {
    const r = simulate({
      providers: 60, sponsors: 4, plansPerSponsor: 2, chunksPerPlan: 40, replicas: 3, blocks: 120,
      churnPerBlock: 0.001, attackers: { deleter: 4, sybil: 3, throttler: 3 }, lossFraction: 0.2, sybilIdentities: 3,
      openings: 8, seed: 'unit'
    })
    expect(r.conservationOk).toBe(true)
    expect(r.contracts).toBe(8 * 4)
    expect(r.detection.deleter?.challenged ?? 0).toBeGreaterThan(0)
    expect(r.detection.deleter?.failed ?? 0).toBeGreaterThan(0)
    expect(r.detection.sybil?.rate ?? 0).toBeGreaterThan(0.9)
    expect(r.detection.honest?.failed ?? 0).toBe(0)
    expect(r.honestPenalised).toBe(0)
    expect(r.availability).toBeGreaterThan(0.5)
    expect(r.paidPlanck).toBeGreaterThan(0n)
    expect(r.rejected).toEqual({})
  })
})
