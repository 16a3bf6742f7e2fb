/**
 * The seeder dashboard's handler (getHostingDashboard): earnings from the ledger (read-only
 * queries, main/ledger/earnings-series.ts), metrics from the hosting service's downsampled store
 * (main/shared/metrics-store.ts), reputation and hosted slots from the followed marketplace state,
 * and the upload now (limit, achieved rate, time throttled) from the node's upload limiter.
 * An "all" range (fromMs 0) starts at the first earning or metric point.
 */
import type { HostingDashboard } from '../shared/contract.js'
import type { HostingService } from '../hosting/service.js'
import { DatdotError } from '../shared/errors.js'
import { MARKET_PARAMS } from '../chain/marketplace.js'
import { METRIC_SERIES } from '../hosting/metrics.js'
import { payoutPoint } from '../chain/epoch-records.js'
import type { MarketState } from '../chain/marketplace.js'
import { bucketFor, earningsByPlan, earningsSeries, earningsTotals, estimateMonth, firstEarning } from '../ledger/earnings-series.js'

const DAY = 86_400_000
/** The longest range one call covers (20 years). */
const MAX_SPAN_MS = 20 * 366 * DAY
const SLOTS_MAX = 1000

type Range = { fromMs: number, toMs: number, seeder?: string }

/** The range to show: as asked, an open start moved up to the first data (a month back when there is none). */
function effectiveRange (service: HostingService, account: string, q: Range): Range {
  if (!(q.toMs > q.fromMs)) throw DatdotError.invalidArgument('the range must end after it starts', { fromMs: q.fromMs, toMs: q.toMs })
  let fromMs = q.fromMs
  if (fromMs === 0) {
    const firsts = [firstEarning(service.chain.ledger.db, account), service.metrics.firstTime(Object.values(METRIC_SERIES))].filter((t): t is number => t !== null)
    fromMs = firsts.length === 0 ? q.toMs - 30 * DAY : Math.floor(Math.min(...firsts) / DAY) * DAY
    if (fromMs >= q.toMs) fromMs = q.toMs - DAY
  }
  if (q.toMs - fromMs > MAX_SPAN_MS) throw DatdotError.invalidArgument('the range is longer than 20 years', { fromMs, toMs: q.toMs })
  return { fromMs, toMs: q.toMs }
}

function slotsOf (service: HostingService): HostingDashboard['slots'] {
  const me = service.chain.addressHex
  const proofs = service.listProofs(500)
  const out: HostingDashboard['slots'] = []
  for (const c of Object.values(service.chain.market.contracts)) {
    c.slots.forEach((s, slot) => {
      if (s.hoster !== me || out.length >= SLOTS_MAX) return
      const p = proofs.find((x) => x.contractId === c.id && x.hoster === me)
      out.push({
        contractId: c.id,
        planId: c.planId,
        slot,
        state: s.state,
        containment: s.strikes.storage > 0 || s.strikes.performance > 0,
        chunks: c.end - c.start,
        lastProof: p === undefined ? null : { kind: p.kind, ok: p.ok, timeMs: p.timeMs }
      })
    })
  }
  return out
}

/** The upload limit and the rate achieved under it (every connection's writes, main/shared/upload-limiter.ts). */
/** When the next payout of an aggregated network comes (epoch-records.ts payoutPoint), or null. */
export function payoutsOf (market: MarketState, blockMs: number): HostingDashboard['payouts'] {
  const epochBlocks = market.network?.params.epochBlocks ?? 0
  if (epochBlocks <= 0 || market.block === null) return null
  const now = market.block.number
  const latest = payoutPoint(market, now) as number
  return { epochBlocks, nextBlock: latest >= now ? latest : latest + epochBlocks, blockNumber: now, blockMs }
}

function uploadOf (service: HostingService): HostingDashboard['upload'] {
  const u = service.uploadStats()
  return { limitBps: u.limitBps, rateBps: Math.round(u.rateBps), sentBytes: u.sentBytes, throttledMs: u.throttledMs }
}

export function createDashboardHandler (service: HostingService): (args: Range) => Promise<HostingDashboard> {
  return async (args) => {
    if (args.seeder !== undefined) throw DatdotError.notFound(`a local seeder named ${args.seeder} on this node`)
    const account = service.chain.address
    const db = service.chain.ledger.db
    const now = service.now()
    const { fromMs, toMs } = effectiveRange(service, account, args)
    const bucketMs = bucketFor(fromMs, toMs)
    const totals = earningsTotals(db, { account, fromMs, toMs })
    const estimate = estimateMonth(db, { account, now })
    const m = service.metrics.read(Object.values(METRIC_SERIES), fromMs, toMs, now)
    const provider = service.chain.market.providers[service.chain.addressHex]
    return {
      fromMs,
      toMs,
      bucketMs,
      earnings: earningsSeries(db, { account, fromMs, toMs, bucketMs }).map((b) => ({ t: b.t, reason: b.reason, amount: b.amountPlanck.toString() })),
      totals: [...totals].map(([reason, a]) => ({ reason, amount: a.toString() })),
      total: [...totals.values()].reduce((a, b) => a + b, 0n).toString(),
      byPlan: earningsByPlan(db, { account, fromMs, toMs }).map((p) => ({
        planId: p.planId,
        total: p.totalPlanck.toString(),
        byReason: [...p.byReason].map(([reason, a]) => ({ reason, amount: a.toString() }))
      })),
      estimate: estimate === null
        ? null
        : { monthStartMs: estimate.monthStartMs, monthEndMs: estimate.monthEndMs, earned: estimate.earnedPlanck.toString(), perDay: estimate.perDayPlanck.toString(), projected: estimate.projectedPlanck.toString(), windowMs: estimate.windowMs },
      metrics: {
        stepMs: m.stepMs,
        t: m.t,
        usedBytes: m.values[METRIC_SERIES.used],
        servedBytes: m.values[METRIC_SERIES.served],
        reputation: m.values[METRIC_SERIES.reputation]
      },
      reputation: { current: provider?.reputation ?? null, start: MARKET_PARAMS.reputationStart, floor: MARKET_PARAMS.reputationFloor, max: MARKET_PARAMS.reputationMax },
      upload: uploadOf(service),
      payouts: payoutsOf(service.chain.market, service.blockMs()),
      slots: slotsOf(service)
    }
  }
}
