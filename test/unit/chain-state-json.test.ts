/**
 * The snapshot's JSON written in slices (main/chain/state-json.ts): the same text as
 * `serializeState`, byte for byte, for a simulated marketplace and for random values of every
 * shape the state can hold, and the event loop gets turns while a large state is written.
 */
import { describe, it, expect, beforeAll } from 'vitest'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { serializeState, deserializeState, type MarketState } from '../../main/chain/marketplace.js'
import { streamStateSliced, BIG_ENTRIES, type SliceOptions } from '../../main/chain/state-json.js'
import { simulate } from '../sim/market-sim.js'
import { createRootFixture } from '../sim/roots-fixture.js'

let market: MarketState

/** The whole text as the follower writes it (in slices), joined from one part. */
async function serializeStateSliced (state: unknown, opts: SliceOptions = {}): Promise<{ json: string, pauses: number }> {
  const parts: string[] = []
  const { pauses } = await streamStateSliced(state, (t) => { parts.push(t) }, { ...opts, partChars: Infinity })
  return { json: parts.join(''), pauses }
}

beforeAll(async () => {
  const root = await createRootFixture([40])
  simulate({
    providers: 400, sponsors: 4, plansPerSponsor: 80, chunksPerPlan: 40, replicas: 3, blocks: 40, warmupBlocks: 0,
    churnPerBlock: 0.002, attackers: { deleter: 4, liar: 2 }, lossFraction: 0.3, sybilIdentities: 3,
    openings: 8, seed: 'state-json', unitPricePlanck: 1000n, root, cores: [], blockMs: 6000,
    params: { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 5, performanceAttestors: 3 },
    onBlock: (_input, _out, state) => { market = state }
  })
}, 120_000)

/** A seeded generator (xorshift) so a failure can be replayed. */
function rng (seed: number): () => number {
  let x = seed
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32 }
}

/** A random value of the shapes the state holds, with containers above and below BIG_ENTRIES. */
function randomValue (r: () => number, depth: number): unknown {
  const k = Math.floor(r() * 9)
  if (depth <= 0 || k < 5) {
    switch (k % 5) {
      case 0: return r() < 0.5 ? BigInt(Math.floor(r() * 1e9)) * 10n ** 12n : -BigInt(Math.floor(r() * 1e6))
      case 1: return r() < 0.3 ? undefined : null
      case 2: return ['"quoted"', 'back\\slash', 'line\nbreak', 'ünïcödé ✓', '\u2028', '123n', ''][Math.floor(r() * 7)]
      case 3: return r() < 0.5 ? Math.floor(r() * 1e6) : -r()
      default: return r() < 0.5
    }
  }
  // large containers near the top only (a large one in a large one in a large one is slow to compare)
  const n = depth >= 2 && r() < 0.4 ? BIG_ENTRIES + 1 + Math.floor(r() * 200) : Math.floor(r() * 6)
  if (k < 7) return Array.from({ length: n }, () => randomValue(r, depth - 1))
  const o: Record<string, unknown> = r() < 0.2 ? Object.create(null) as Record<string, unknown> : {}
  for (let i = 0; i < n; i++) o[r() < 0.5 ? `k${i}` : String(i)] = randomValue(r, depth - 1)
  return o
}

describe('the snapshot written in slices', () => {
  it('is the same text as serializeState for a simulated marketplace, and reads back to an equal state', async () => {
    expect(Object.keys(market.contracts).length).toBeGreaterThan(BIG_ENTRIES)
    const whole = serializeState(market)
    const { json } = await serializeStateSliced(market)
    expect(json).toBe(whole)
    expect(serializeState(deserializeState(json))).toBe(whole)
  })

  it('is the same text as JSON with the bigint replacer for random values of every shape, large and small', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const v = { root: randomValue(rng(seed * 7919), 3), big: Array.from({ length: BIG_ENTRIES + 3 }, (_, i) => (i % 3 === 0 ? undefined : i)) }
      const { json } = await serializeStateSliced(v, { sliceMs: 0 })
      expect(json, `seed ${seed}`).toBe(serializeState(v as unknown as MarketState))
    }
  })

  it('reads back bigints exactly where a reviver of the JSON would, and leaves strings that only look alike', async () => {
    const reviver = (_k: string, v: unknown): unknown => (typeof v === 'string' && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)
    for (let seed = 1; seed <= 30; seed++) {
      const text = serializeState({ v: randomValue(rng(seed * 104729), 3), odd: ['n', '12', '1n2n', '-n', 'abcn', '-42n', ' 7n'] } as unknown as MarketState)
      expect(deserializeState(text), `seed ${seed}`).toEqual(JSON.parse(text, reviver))
    }
    const back = deserializeState(serializeState(market))
    expect(back).toEqual(JSON.parse(serializeState(market), reviver))
    expect(typeof Object.values(market.plans)[0].budgetPlanck).toBe('bigint')
    expect(Object.values(back.plans)[0].budgetPlanck).toBe(Object.values(market.plans)[0].budgetPlanck)
  })

  it('keeps an own "__proto__" key of parsed JSON and leaves out undefined members of a large object', async () => {
    const parsed = JSON.parse(`{${Array.from({ length: BIG_ENTRIES + 1 }, (_, i) => `"k${i}":${i}`).join(',')},"__proto__":{"x":1}}`) as Record<string, unknown>
    parsed.k3 = undefined
    parsed.k4 = () => 1
    const { json } = await serializeStateSliced(parsed)
    expect(json).toBe(JSON.stringify(parsed))
    expect(json).toContain('"__proto__":{"x":1}')
    expect(json).not.toContain('"k3"')
  })

  it('hands the text to a sink in parts of at least the part size (the last one shorter) that join to the whole', async () => {
    const parts: string[] = []
    const r = await streamStateSliced(market, (t) => { parts.push(t) }, { partChars: 64 * 1024 })
    const whole = serializeState(market)
    expect(parts.join('')).toBe(whole)
    expect(r.parts).toBe(parts.length)
    expect(r.chars).toBe(whole.length)
    expect(parts.length).toBeGreaterThan(whole.length / (128 * 1024))
    for (const p of parts.slice(0, -1)) expect(p.length).toBeGreaterThanOrEqual(64 * 1024)
    // a sink that fails stops the writing with its error
    let calls = 0
    await expect(streamStateSliced(market, () => { if (++calls === 3) throw new Error('disk full') }, { partChars: 64 * 1024 })).rejects.toThrow('disk full')
    expect(calls).toBe(3)
  })

  it('gives the event loop a turn whenever a slice has run its time, and none when it has not', async () => {
    let t = 0
    let turns = 0
    const busy = async (): Promise<void> => { while (!done) { turns++; await nextTurn() } }
    let done = false
    const other = busy()
    // a clock that advances a millisecond each time it is read: a slice of 5 ms is a few entries
    const sliced = await serializeStateSliced(market, { sliceMs: 5, now: () => t++ })
    done = true
    await other
    expect(sliced.pauses).toBeGreaterThan(100)
    expect(turns).toBeGreaterThan(100)
    const frozen = await serializeStateSliced(market, { sliceMs: 5, now: () => 0 })
    expect(frozen.pauses).toBe(0)
    expect(frozen.json).toBe(sliced.json)
  })
})
