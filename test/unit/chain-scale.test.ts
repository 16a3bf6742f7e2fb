/**
 * The marketplace's indexes (market-index.ts: due checks from phase buckets, deadline queues,
 * per-provider and per-core contract lists, the running total of held value) against the old full
 * scans (the oracle mode, setScanMode): the simulation drives a market under churn, attacks,
 * pauses, schedules, departures, new, extended and withdrawn plans; every block is applied to an
 * oracle state too, and to a copy restored from a snapshot part-way, and outcomes (challenges
 * issued, in order), whole states and the oldest owed items (the operator's query) must be equal
 * at every block.
 */
import { describe, it, expect, beforeAll } from 'vitest'
import { simulate } from '../sim/market-sim.js'
import { createRootFixture, type RootFixture } from '../sim/roots-fixture.js'
import {
  applyBlock, deserializeState, initialState, owedItems, serializeState, setScanMode, MARKET_PARAMS,
  type BlockOutcome, type MarketState
} from '../../main/chain/marketplace.js'

let root: RootFixture
let other: RootFixture
beforeAll(async () => {
  root = await createRootFixture([40])
  other = await createRootFixture([40])
})

const json = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))

interface Compared { blocks: number, challenges: number, busiest: number, restoredAt: number, planEnds: number, setupTimeouts: number, aggregated: number, committees: number }

function runSideBySide (interval: number, seed: string, blocks: number, epochBlocks?: number): Compared {
  const oracle: MarketState = initialState()
  setScanMode(oracle, true)
  let restored: MarketState | null = null
  const restoreAt = Math.floor(blocks / 2)
  const seen: Compared = { blocks: 0, challenges: 0, busiest: 0, restoredAt: 0, planEnds: 0, setupTimeouts: 0, aggregated: 0, committees: 0 }
  const check = (what: string, n: number, a: BlockOutcome, b: BlockOutcome, sa: MarketState, sb: MarketState): void => {
    if (json(a) !== json(b)) {
      // the challenges first (the short story), then the first differing character of the whole outcome
      expect(a.newChallenges, `${what}: block ${n} challenges`).toEqual(b.newChallenges)
      const [x, y] = [json(a), json(b)]
      let i = 0
      while (x[i] === y[i]) i++
      expect.fail(`${what}: block ${n} outcome differs at ${i}: ${x.slice(i - 80, i + 120)} / ${y.slice(i - 80, i + 120)}`)
    }
    if (serializeState(sa) !== serializeState(sb)) expect.fail(`${what}: block ${n} state differs`)
    // the operator's query: the oldest owed items (the index's queue against a walk over every item)
    const oldest = (s: MarketState): number[] => owedItems(s, 40).map((i) => i.id)
    expect(oldest(sa), `${what}: block ${n} oldest owed items`).toEqual(oldest(sb))
  }
  simulate({
    providers: 50, sponsors: 6, plansPerSponsor: 4, chunksPerPlan: 40, replicas: 3, blocks, warmupBlocks: 0,
    churnPerBlock: 0.01, attackers: { deleter: 3, sybil: 2, throttler: 2, liar: 2 }, lossFraction: 0.3, sybilIdentities: 3,
    openings: 8, seed, unitPricePlanck: 1000n, root, cores: [other], blockMs: 20 * 60_000,
    params: { chunksPerContract: 10, challengeIntervalBlocks: interval, challengeTimeoutBlocks: 5, performanceAttestors: 3, ...(epochBlocks === undefined ? {} : { epochBlocks }) },
    noise: { pause: 0.05, unpause: 0.03, schedule: 0.03, unregister: 0.02, publish: 0.1, extend: 0.05, unpublish: 0.03, planBlocks: 60 },
    onBlock: (input, out, state) => {
      const fromOracle = applyBlock(oracle, input, { fullChecks: true })
      check('oracle', input.number, out, fromOracle, state, oracle)
      if (input.number === restoreAt) { restored = deserializeState(serializeState(state)); seen.restoredAt = input.number }
      else if (restored !== null) check('restored', input.number, out, applyBlock(restored, input), state, restored)
      seen.blocks++
      seen.challenges += out.newChallenges.length
      seen.busiest = Math.max(seen.busiest, out.newChallenges.length)
      seen.planEnds += out.notices.filter((n) => / ended$/.test(n)).length
      seen.setupTimeouts += out.notices.filter((n) => /missed the setup/.test(n)).length
      seen.aggregated += out.actions.flatMap((a) => a.applied).filter((r) => r.kind === 'epoch-report').length
      seen.committees += out.notices.filter((n) => /a committee of \d+ of \d+ eligible attestors/.test(n)).length
    }
  })
  return seen
}

describe('the marketplace indexes give what the full scans gave', () => {
  it('issues the same challenges in the same order and reaches the same state at every block, also after a restore (interval 10)', () => {
    const seen = runSideBySide(10, 'scale-10', 240)
    expect(seen.blocks).toBeGreaterThan(240)
    expect(seen.restoredAt).toBeGreaterThan(0)
    expect(seen.challenges).toBeGreaterThan(500)
    expect(seen.planEnds).toBeGreaterThan(0)
    expect(seen.setupTimeouts).toBeGreaterThan(0)
  })

  it('takes the slots due in the same order when the per-block caps cut them off (interval 2: every slot due at every block)', () => {
    // the caps lowered for this test (same code at any value) so that a small market reaches them
    const caps = MARKET_PARAMS as { challengesPerBlock: number, assignmentsPerBlock: number }
    const saved = { ...caps }
    caps.challengesPerBlock = 200
    caps.assignmentsPerBlock = 8
    try {
      const seen = runSideBySide(2, 'scale-2', 50)
      expect(seen.busiest).toBeGreaterThanOrEqual(200)
    } finally {
      caps.challengesPerBlock = saved.challengesPerBlock
      caps.assignmentsPerBlock = saved.assignmentsPerBlock
    }
  })

  it('agrees at an odd interval (3: the performance check one block after the storage challenge)', () => {
    const seen = runSideBySide(3, 'scale-3', 60)
    expect(seen.challenges).toBeGreaterThan(0)
  })

  it('agrees with aggregated attestations (epochs of 12 blocks: passes in epoch reports, checks awaiting them, missed ones at the deadline, each epoch\'s committee)', () => {
    const seen = runSideBySide(10, 'scale-epoch', 160, 12)
    expect(seen.challenges).toBeGreaterThan(300)
    expect(seen.aggregated).toBeGreaterThan(50)
    expect(seen.committees).toBeGreaterThan(5)
    expect(seen.restoredAt).toBeGreaterThan(0)
  })
})
