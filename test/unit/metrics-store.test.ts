// The dashboard's downsampled metrics (main/shared/metrics-store.ts) and its sampler
// (main/hosting/metrics.ts) on a real SQLite database, with the clock given by hand: buckets per
// tier, the row limit, a gap read as nulls, a clock that goes back, bad input refused.
import { describe, it, expect, afterEach } from 'vitest'
import { MetricsStore, METRIC_TIERS, type MetricsTier } from '../../main/shared/metrics-store.js'
import { MetricsSampler, METRIC_SERIES } from '../../main/hosting/metrics.js'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { ManualTimers } from '../helpers/manual-timers.js'

const MIN = 60_000
const HOUR = 3_600_000
const DAY = 86_400_000
const T0 = Date.UTC(2026, 10, 20) // midnight UTC

const dbs: Db[] = []
afterEach(() => { for (const db of dbs.splice(0)) db.close() })

function open (tiers?: readonly MetricsTier[]): { store: MetricsStore, db: Db } {
  const db = openDatabase(':memory:')
  dbs.push(db)
  return { store: new MetricsStore(db, { tiers }), db }
}

describe('the metrics store', () => {
  it('writes every sample into minute, hour and day buckets: a gauge keeps the last value, a sum adds', () => {
    const { store } = open()
    store.record('used', 'gauge', 100, T0 + 10_000)
    store.record('used', 'gauge', 300, T0 + 50_000)
    store.record('used', 'gauge', 200, T0 + 2 * MIN)
    store.record('served', 'sum', 10, T0 + 10_000)
    store.record('served', 'sum', 5, T0 + 50_000)
    store.record('served', 'sum', 7, T0 + HOUR + 1)
    const minutes = store.read(['used', 'served'], T0, T0 + 3 * MIN, T0 + 3 * MIN)
    expect(minutes.stepMs).toBe(MIN)
    expect(minutes.t).toEqual([T0, T0 + MIN, T0 + 2 * MIN])
    expect(minutes.values.used).toEqual([300, null, 200])
    expect(minutes.values.served).toEqual([15, null, null])
    const hours = store.read(['served'], T0, T0 + 2 * DAY, T0 + 2 * HOUR)
    expect(hours.stepMs).toBe(HOUR)
    expect(hours.values.served.slice(0, 2)).toEqual([15, 7])
    const days = store.read(['served', 'used'], T0, T0 + 60 * DAY, T0 + 2 * HOUR)
    expect(days.stepMs).toBe(DAY)
    expect(days.values.served[0]).toBe(22)
    expect(days.values.used[0]).toBe(200)
  })

  it('reads a gap as nulls, not as a line drawn across it', () => {
    const { store } = open()
    store.record('used', 'gauge', 1, T0)
    store.record('used', 'gauge', 2, T0 + MIN)
    // the node was off for three hours
    store.record('used', 'gauge', 9, T0 + 3 * HOUR)
    const r = store.read(['used'], T0, T0 + 3 * HOUR + MIN, T0 + 3 * HOUR + MIN)
    expect(r.stepMs).toBe(MIN)
    expect(r.values.used[0]).toBe(1)
    expect(r.values.used[1]).toBe(2)
    expect(r.values.used.slice(2, -1).every((v) => v === null)).toBe(true)
    expect(r.values.used[r.values.used.length - 1]).toBe(9)
  })

  it('keeps at most the row limit of each tier and drops points past their age', () => {
    const tiers: MetricsTier[] = [{ stepMs: MIN, keepMs: 10 * MIN, maxRows: 5 }, { stepMs: HOUR, keepMs: Infinity, maxRows: 3 }]
    const { store } = open(tiers)
    for (let i = 0; i < 8 * 60; i += 1) store.record('used', 'gauge', i, T0 + i * MIN)
    expect(store.rows('used', 0)).toBe(5)
    expect(store.rows('used', 1)).toBe(3)
    const r = store.read(['used'], T0 + 5 * HOUR, T0 + 8 * HOUR, T0 + 8 * HOUR)
    expect(r.stepMs).toBe(HOUR)
    expect(r.values.used).toEqual([359, 419, 479])
    // the default tiers: a day of minutes, a month of hours
    expect(METRIC_TIERS.map((t) => t.maxRows)).toEqual([1440, 744, 3660])
  })

  it('counts a sample whose clock went back in the newest bucket and rewrites no older one', () => {
    const { store } = open()
    store.record('served', 'sum', 10, T0 + 5 * MIN)
    store.record('served', 'sum', 4, T0 + MIN) // the clock went back four minutes
    store.record('used', 'gauge', 50, T0 + 5 * MIN)
    store.record('used', 'gauge', 40, T0) // back again
    const r = store.read(['served', 'used'], T0, T0 + 6 * MIN, T0 + 6 * MIN)
    expect(r.values.served).toEqual([null, null, null, null, null, 14])
    expect(r.values.used).toEqual([null, null, null, null, null, 40])
  })

  it('keeps the newest time across a reopen, so a clock that went back meanwhile is clamped too', () => {
    const db = openDatabase(':memory:')
    dbs.push(db)
    new MetricsStore(db).record('served', 'sum', 3, T0 + 5 * MIN)
    const again = new MetricsStore(db)
    again.record('served', 'sum', 2, T0)
    expect(again.read(['served'], T0, T0 + 6 * MIN, T0 + 6 * MIN).values.served).toEqual([null, null, null, null, null, 5])
  })

  it('refuses a bad series name, value or range with INVALID_ARGUMENT and keeps what it had', () => {
    const { store } = open()
    store.record('used', 'gauge', 1, T0)
    expect(() => store.record('Bad Name', 'gauge', 1, T0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => store.record('used', 'gauge', Number.NaN, T0 + MIN)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => store.record('used', 'gauge', 1, Number.POSITIVE_INFINITY)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => store.read(['used'], T0, T0, T0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(store.read(['used'], T0, T0 + 2 * MIN, T0 + 2 * MIN).values.used).toEqual([1, null])
  })
})

describe('the metrics sampler', () => {
  it('samples at start and every minute: disk used, bytes served since the last sample, reputation', () => {
    const { store } = open()
    const timers = new ManualTimers()
    timers.advance(T0)
    const reading = { usedBytes: 1000, servedBytesTotal: 500, reputation: 500 as number | null }
    const sampler = new MetricsSampler({ store, read: () => ({ ...reading }), now: timers.now, timers })
    sampler.start()
    reading.servedBytesTotal = 800
    reading.usedBytes = 2000
    timers.advance(MIN)
    reading.servedBytesTotal = 900
    reading.reputation = 505
    timers.advance(MIN)
    sampler.stop()
    expect(timers.size).toBe(0)
    expect(sampler.counters.samples).toBe(3)
    const r = store.read(Object.values(METRIC_SERIES), T0, T0 + 3 * MIN, T0 + 3 * MIN)
    expect(r.values[METRIC_SERIES.used]).toEqual([1000, 2000, 2000])
    expect(r.values[METRIC_SERIES.served]).toEqual([0, 300, 100])
    expect(r.values[METRIC_SERIES.reputation]).toEqual([500, 500, 505])
  })

  it('counts and reports a failed sample and keeps sampling', () => {
    const { store } = open()
    const timers = new ManualTimers()
    timers.advance(T0)
    const errors: unknown[] = []
    let fail = true
    const sampler = new MetricsSampler({ store, read: () => { if (fail) throw new Error('no chain'); return { usedBytes: 1, servedBytesTotal: 0, reputation: null } }, now: timers.now, timers, onError: (e) => errors.push(e) })
    sampler.start()
    fail = false
    timers.advance(MIN)
    sampler.stop()
    expect(sampler.counters).toEqual({ samples: 1, errors: 1 })
    expect(errors).toHaveLength(1)
    expect(store.read([METRIC_SERIES.used], T0, T0 + 2 * MIN, T0 + 2 * MIN).values[METRIC_SERIES.used]).toEqual([null, 1])
  })
})
