// The seeder dashboard's handler (main/api/handlers-dashboard.ts) over a real Ledger and a real
// MetricsStore in SQLite, with the followed marketplace state given by hand: the per-plan table
// and the chart's buckets add up to the ledger's totals, "all" starts at the first data, hosted
// slots carry their state and last proof, and a bad range is refused with INVALID_ARGUMENT.
import { describe, it, expect, afterEach } from 'vitest'
import { Ledger } from '../../main/ledger/ledger.js'
import { MetricsStore } from '../../main/shared/metrics-store.js'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { createDashboardHandler } from '../../main/api/handlers-dashboard.js'
import { METRIC_SERIES } from '../../main/hosting/metrics.js'
import type { HostingService } from '../../main/hosting/service.js'
import type { ProofRow } from '../../main/hosting/config.js'

const HOUR = 3_600_000
const DAY = 86_400_000
const NOW = Date.UTC(2026, 11, 15, 12)
const ME = '5Me'
const ME_HEX = '0xme'
const dbs: Db[] = []
afterEach(() => { for (const db of dbs.splice(0)) db.close() })

function setup (): { handler: ReturnType<typeof createDashboardHandler>, ledger: Ledger, metrics: MetricsStore } {
  const db = openDatabase(':memory:')
  dbs.push(db)
  const ledger = new Ledger(db)
  const metrics = new MetricsStore(db)
  const slot = (hoster: string, state: string, strikes = 0): unknown => ({ hoster, state, strikes: { storage: strikes, performance: 0 } })
  const market = {
    providers: { [ME_HEX]: { reputation: 640 } },
    contracts: {
      1: { id: 1, planId: 3, start: 0, end: 64, slots: [slot(ME_HEX, 'hosting'), slot('0xother', 'hosting')] },
      2: { id: 2, planId: 4, start: 64, end: 96, slots: [slot('0xother', 'setup'), slot(ME_HEX, 'hosting', 1)] }
    }
  }
  const proofs: ProofRow[] = [{ id: 9, challengeId: 4, kind: 'storage', role: 'hoster', contractId: 1, hoster: ME_HEX, ok: true, reason: null, latencyMs: 3, throughputBps: null, timeMs: NOW - HOUR }]
  const uploadStats = (): unknown => ({ limitBps: 2 * 1024 * 1024, rateBps: 1234567.8, sentBytes: 5e9, throttledMs: 42_000, waits: 7 })
  const service = { now: () => NOW, blockMs: () => 6000, metrics, listProofs: () => proofs, uploadStats, chain: { address: ME, addressHex: ME_HEX, ledger, market } }
  return { handler: createDashboardHandler(service as unknown as HostingService), ledger, metrics }
}

function pay (ledger: Ledger, n: number, timeMs: number, reason: 'storage-proof' | 'encoding' | 'setup' | 'performance-proof', amount: bigint, plan: number): void {
  const memo = `item ${n} plan ${plan}`
  ledger.applyBlock({ number: n, hash: `h${n}`, parentHash: `h${n - 1}`, genesisHash: 'g', timeMs }, [{ key: `h${n}:0`, reason, memo, legs: [{ account: '@escrow', amountPlanck: -amount }, { account: ME, amountPlanck: amount }] }])
}

describe('the seeder dashboard handler', () => {
  it('gives per-plan rows and chart buckets that add up to the ledger\'s earnings for the range', async () => {
    const { handler, ledger } = setup()
    pay(ledger, 1, NOW - 40 * DAY, 'storage-proof', 5000n, 3)
    pay(ledger, 2, NOW - 20 * DAY, 'encoding', 640n, 4)
    pay(ledger, 3, NOW - 10 * DAY, 'storage-proof', 240n, 3)
    pay(ledger, 4, NOW - 2 * HOUR, 'performance-proof', 120n, 4)
    const fromMs = NOW - 30 * DAY
    const r = await handler({ fromMs, toMs: NOW })
    const ledgerSum = ledger.earnings({ account: ME, fromMs, toMs: NOW }).reduce((a, e) => a + BigInt(e.amount), 0n)
    expect(ledgerSum).toBe(1000n)
    expect(BigInt(r.total)).toBe(ledgerSum)
    expect(r.byPlan.map((p) => [p.planId, p.total])).toEqual([[4, '760'], [3, '240']])
    expect(r.byPlan.reduce((a, p) => a + BigInt(p.total), 0n)).toBe(ledgerSum)
    expect(r.earnings.reduce((a, e) => a + BigInt(e.amount), 0n)).toBe(ledgerSum)
    expect(r.bucketMs).toBe(DAY)
    expect(r.estimate?.earned).toBe('360')
  })

  it('starts an "all" range at the day of the first earning or metric point', async () => {
    const { handler, ledger, metrics } = setup()
    metrics.record(METRIC_SERIES.used, 'gauge', 1024, NOW - 50 * DAY + 5 * HOUR)
    pay(ledger, 1, NOW - 40 * DAY, 'setup', 80n, 3)
    const r = await handler({ fromMs: 0, toMs: NOW })
    expect(r.fromMs).toBe(Date.UTC(2026, 11, 15) - 50 * DAY)
    expect(r.metrics.stepMs).toBe(DAY)
    expect(r.metrics.usedBytes[0]).toBe(1024)
    expect(r.total).toBe('80')
  })

  it('lists every slot this node hosts with its state, containment and last proof, the reputation on chain and the upload against its limit', async () => {
    const { handler } = setup()
    const r = await handler({ fromMs: NOW - DAY, toMs: NOW })
    expect(r.slots).toEqual([
      { contractId: 1, planId: 3, slot: 0, state: 'hosting', containment: false, chunks: 64, lastProof: { kind: 'storage', ok: true, timeMs: NOW - HOUR } },
      { contractId: 2, planId: 4, slot: 1, state: 'hosting', containment: true, chunks: 32, lastProof: null }
    ])
    expect(r.reputation).toEqual({ current: 640, start: 500, floor: 250, max: 1000 })
    expect(r.upload).toEqual({ limitBps: 2 * 1024 * 1024, rateBps: 1234568, sentBytes: 5e9, throttledMs: 42_000 })
    expect(r.estimate).toBeNull()
  })

  it('refuses a range that ends before it starts, or longer than 20 years, with INVALID_ARGUMENT', async () => {
    const { handler } = setup()
    await expect(handler({ fromMs: NOW, toMs: NOW - DAY })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(handler({ fromMs: 1, toMs: NOW })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })
})
