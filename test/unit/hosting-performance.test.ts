import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import {
  median, scoreLowerBetter, scoreHigherBetterLog, gradeFromScore, gradePerformance, performanceRange,
  DEFAULT_THRESHOLDS, type PerformanceSample
} from '../../main/hosting/performance.js'

const MiB = 1024 * 1024

function sample (ttfbMs: number, throughputBytesPerSec: number): PerformanceSample {
  return { reachable: true, connectMs: 50, ttfbMs, throughputBytesPerSec, bytes: 4 * MiB }
}
const unreachable: PerformanceSample = { reachable: false, connectMs: null, ttfbMs: null, throughputBytesPerSec: null, bytes: 0 }

describe('median', () => {
  it('takes the middle of an odd count and the mean of the middle two of an even count', () => {
    expect(median([5, 1, 3])).toBe(3)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([7])).toBe(7)
  })

  it('handles infinities without producing NaN', () => {
    expect(median([Infinity, Infinity, 1, 2])).toBe(Infinity)
    expect(median([Infinity, 1, 2])).toBe(2)
  })

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(/median of nothing/)
  })
})

describe('scores', () => {
  it('score time to first byte 1 at or under the good bound, 0 at or over the bad bound, linear between', () => {
    expect(scoreLowerBetter(0, 100, 1500)).toBe(1)
    expect(scoreLowerBetter(100, 100, 1500)).toBe(1)
    expect(scoreLowerBetter(800, 100, 1500)).toBeCloseTo(0.5, 10)
    expect(scoreLowerBetter(1500, 100, 1500)).toBe(0)
    expect(scoreLowerBetter(Infinity, 100, 1500)).toBe(0)
    expect(scoreLowerBetter(NaN, 100, 1500)).toBe(0)
    expect(() => scoreLowerBetter(1, 100, 100)).toThrow()
  })

  it('score throughput on a log scale between the bad and the good bound', () => {
    expect(scoreHigherBetterLog(4 * MiB, 4 * MiB, 128 * 1024)).toBe(1)
    expect(scoreHigherBetterLog(128 * 1024, 4 * MiB, 128 * 1024)).toBe(0)
    expect(scoreHigherBetterLog(0, 4 * MiB, 128 * 1024)).toBe(0)
    // the geometric middle scores one half
    expect(scoreHigherBetterLog(Math.sqrt(4 * MiB * 128 * 1024), 4 * MiB, 128 * 1024)).toBeCloseTo(0.5, 10)
  })

  it('map scores to grades at the bucket edges, never by chained comparisons', () => {
    expect([0, 0.19999, 0.2, 0.39999, 0.4, 0.6, 0.79999, 0.8, 1].map(gradeFromScore)).toEqual([0, 0, 1, 1, 2, 3, 3, 4, 4])
  })
})

describe('gradePerformance', () => {
  it('gives the best grade to a fast, well-connected hoster', () => {
    const g = gradePerformance([sample(40, 20 * MiB), sample(60, 12 * MiB), sample(80, 8 * MiB)])
    expect(g.status).toBe('graded')
    expect(g.grade).toBe(4)
    expect(g.rewardFactor).toBe(1)
    expect(g.medianTtfbMs).toBe(60)
  })

  it('gives grade 0 to a hoster most attestors cannot reach', () => {
    const g = gradePerformance([sample(40, 20 * MiB), unreachable, unreachable])
    expect(g.grade).toBe(0)
    expect(g.reachableFraction).toBeCloseTo(1 / 3, 10)
  })

  it('does not let one lying attestor move the grade, in either direction', () => {
    const honest = [sample(50, 10 * MiB), sample(70, 9 * MiB)]
    const slander = gradePerformance([...honest, unreachable])
    const flattery = gradePerformance([sample(900, 200 * 1024), sample(1000, 150 * 1024), sample(1, 1000 * MiB)])
    expect(slander.grade).toBe(4)
    expect(flattery.grade).toBeLessThanOrEqual(1)
  })

  it('grades a slow but reachable hoster in the middle', () => {
    const g = gradePerformance([sample(700, 700 * 1024), sample(800, 800 * 1024), sample(900, 600 * 1024)])
    expect(g.grade).toBeGreaterThan(0)
    expect(g.grade).toBeLessThan(4)
  })

  it('refuses to grade from fewer reports than the minimum', () => {
    const g = gradePerformance([sample(40, 20 * MiB), sample(40, 20 * MiB)])
    expect(g.status).toBe('insufficient')
    expect(g.rewardFactor).toBe(0)
    expect(gradePerformance([sample(40, 20 * MiB), sample(40, 20 * MiB)], { ...DEFAULT_THRESHOLDS, minReports: 2 }).status).toBe('graded')
  })

  it('refuses more reports than its limit', () => {
    expect(() => gradePerformance(Array.from({ length: 65 }, () => sample(1, 1)))).toThrow(/over the limit/)
  })
})

describe('performanceRange', () => {
  it('is recomputable from the seed, stays inside the core and differs per attestor', () => {
    const seed = randomBytes(32)
    const a = performanceRange(seed, 0, 1000, 64)
    expect(performanceRange(seed, 0, 1000, 64)).toEqual(a)
    expect(a.end - a.start).toBe(64)
    expect(a.start).toBeGreaterThanOrEqual(0)
    expect(a.end).toBeLessThanOrEqual(1000)
    const others = [1, 2, 3, 4].map((i) => performanceRange(seed, i, 1000, 64).start)
    expect(others.some((s) => s !== a.start)).toBe(true)
    expect(performanceRange(seed, 0, 10, 64)).toEqual({ start: 0, end: 10 })
  })
})
