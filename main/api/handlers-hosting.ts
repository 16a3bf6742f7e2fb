/**
 * The hosting section of the API contract, implemented by the hosting service
 * (main/hosting/service.ts). Merged over the engine's handlers by the daemon when the chain is on.
 */
import type { Handlers, HostingOverview } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import type { HostingService } from '../hosting/service.js'
import { EARNING_REASONS } from '../ledger/ledger.js'
import { createScheduleHandlers, type ScheduleHandlers } from './handlers-schedule.js'
import { earningsSummary, type EarningsSummary } from '../ledger/ledger-views.js'
import { createDashboardHandler } from './handlers-dashboard.js'
import { proofForPeople } from '../hosting/proof-view.js'
import type { ProofRow } from '../hosting/config.js'

export type HostingHandlers = Pick<Handlers, 'getHosting' | 'setSeeding' | 'sponsor' | 'quoteSponsor' | 'listPlans' | 'unpublish' | 'topUpPlan' | 'listHostingJobs' | 'listProofs' | 'getHostingDashboard'> & ScheduleHandlers

const LIST_LIMIT = 1000
const DAY_MS = 86_400_000

function netOf (s: EarningsSummary): HostingOverview['net']['allTime'] {
  return {
    gross: s.grossPlanck.toString(),
    fees: s.feesPlanck.toString(),
    net: s.netPlanck.toString(),
    feeCount: s.feeCount,
    byReason: s.byReason.map((r) => ({ reason: r.reason, amount: r.amountPlanck.toString() }))
  }
}

export function createHostingHandlers (service: HostingService): HostingHandlers {
  return {
    ...createScheduleHandlers(service),
    async getHosting () { return overviewOf(service) },
    async setSeeding (args) { return await service.setSeeding(args) },
    async sponsor (args) { return await service.sponsor({ link: args.link, replicas: args.replicas, days: args.days, pricePlanck: BigInt(args.price) }) },
    async quoteSponsor (args) {
      const q = await service.quoteSponsor({ link: args.link, replicas: args.replicas, days: args.days, pricePlanck: BigInt(args.price) })
      return {
        sizeBytes: q.sizeBytes,
        totalPlanck: q.totalPlanck.toString(),
        perGiBMonthPlanck: q.perGiBMonthPlanck.toString(),
        feePlanck: q.feePlanck.toString(),
        balancePlanck: q.balancePlanck.toString(),
        balanceAfterPlanck: q.balanceAfterPlanck.toString(),
        problem: q.problem
      }
    },
    async listPlans () {
      const ss58 = (hex: string | null): string | null => hex === null ? null : service.chain.formatAddress(hex)
      return service.listPlans().map((p) => {
        const { budget, budgetPlanck, contracts, ...rest } = p
        return {
          ...rest,
          // accounts as people see them (the wallet's ss58 form), not the marketplace's 0x ids
          contracts: contracts.map((c) => ({ ...c, slots: c.slots.map((s) => ({ ...s, hoster: ss58(s.hoster), encoder: ss58(s.encoder) })) })),
          budget: budgetPlanck.toString(),
          spent: budget.spentPlanck.toString(),
          left: budget.leftPlanck.toString(),
          refund: budget.refundPlanck.toString(),
          daysCovered: budget.daysCovered,
          limitedBy: budget.limitedBy
        }
      })
    },
    async unpublish (args) { await service.unpublish(args.planId); return { ok: true as const } },
    async topUpPlan (args) {
      const budgetPlanck = BigInt(args.amount)
      if (budgetPlanck < 0n) throw DatdotError.invalidArgument('A top-up cannot take budget away')
      await service.topUp({ planId: args.planId, days: args.days, budgetPlanck })
      return { ok: true as const }
    },
    async listHostingJobs () { return service.listJobs().slice(0, LIST_LIMIT) },
    async listProofs (args) { return proofsOf(service, args.limit) },
    getHostingDashboard: createDashboardHandler(service)
  }
}

/** The newest proof rows, hosters as the wallet names accounts (ss58) like every account the API gives. */
function proofsOf (service: HostingService, limit: number): ProofRow[] {
  return service.listProofs(limit).map((r) => proofForPeople(r, (hex) => service.chain.formatAddress(hex)))
}

/** The Hosting page's overview: status, plans sponsored, slots hosted, earnings (gross and net), alerts, events. */
function overviewOf (service: HostingService): HostingOverview {
  const market = service.chain.market
  const me = service.chain.addressHex
  const plans: HostingOverview['plans'] = Object.values(market.plans)
    .filter((p) => p.sponsor === me)
    .slice(-LIST_LIMIT)
    .map((p) => ({ planId: p.id, status: p.status, replicas: p.replicas, budget: p.budgetPlanck.toString(), spent: p.accruedPlanck.toString(), endBlock: p.endBlock }))
  const contracts: HostingOverview['contracts'] = []
  for (const c of Object.values(market.contracts)) {
    c.slots.forEach((s, i) => {
      if (s.hoster === me && contracts.length < LIST_LIMIT) contracts.push({ contractId: c.id, planId: c.planId, slot: i, state: s.state, chunks: c.end - c.start })
    })
  }
  const sums = new Map<string, bigint>()
  for (const e of service.chain.ledger.allEntries()) {
    if (e.account !== service.chain.address || !(EARNING_REASONS as readonly string[]).includes(e.reason)) continue
    sums.set(e.reason, (sums.get(e.reason) ?? 0n) + BigInt(e.amount))
  }
  const account = service.chain.address
  const now = service.now()
  return {
    status: service.status(),
    plans,
    contracts,
    lastProofs: proofsOf(service, 20),
    earnings: [...sums].map(([reason, amount]) => ({ reason, amount: amount.toString() })),
    net: {
      allTime: netOf(earningsSummary(service.chain.ledger.db, { account })),
      last30Days: netOf(earningsSummary(service.chain.ledger.db, { account, fromMs: now - 30 * DAY_MS, toMs: now + 1 }))
    },
    alerts: service.alerts(),
    events: service.providerEvents()
  }
}
