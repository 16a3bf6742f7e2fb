/**
 * The sponsor's view of its plans (the Plans page): for every plan this account sponsors, its
 * phase (published -> selecting -> encoding -> hosted, or ended), budget spent and left, the days
 * it still covers and the refund an unpublish would bring now (planBudget: exact, bigint), and per
 * contract and slot the hoster, its state, its last storage proof and performance reading and the
 * plan's events (hoster replaced, encoder blamed). Proofs and events come from the followed blocks
 * (PlanWatch, fed by the hosting service): kept in memory since this node started, bounded.
 */
import type { BlockOutcome, Challenge, MarketState, Plan } from '../chain/marketplace.js'
import { keyId } from '../engine/paths.js'
import { BLOCKS_PER_DAY } from './config.js'
import { shortAddressesIn } from '../shared/address.js'

const EVENTS_PER_PLAN = 50
const PLANS_MAX = 1000

export interface PlanBudget {
  spentPlanck: bigint
  leftPlanck: bigint
  /** What unpublishing now refunds: the budget not yet allocated (0 once the plan ended). */
  refundPlanck: bigint
  /** Days the plan still runs: to its end block, or fewer when its budget at the rate so far runs out first. */
  daysCovered: number
  limitedBy: 'end' | 'budget' | 'ended'
}

/** Budget figures of a plan at block `head` (exact; days from blocks at BLOCKS_PER_DAY). */
export function planBudget (plan: Plan, head: number): PlanBudget {
  const spentPlanck = plan.accruedPlanck
  const leftPlanck = plan.budgetPlanck - plan.accruedPlanck - plan.refundPlanck
  if (plan.status !== 'active') return { spentPlanck, leftPlanck, refundPlanck: 0n, daysCovered: 0, limitedBy: 'ended' }
  const toEnd = BigInt(Math.max(0, plan.endBlock - head))
  const elapsed = BigInt(Math.max(0, head - plan.startBlock))
  let covered = toEnd
  let limitedBy: PlanBudget['limitedBy'] = 'end'
  if (spentPlanck > 0n && elapsed > 0n) {
    const affordable = (leftPlanck * elapsed) / spentPlanck
    if (affordable < toEnd) { covered = affordable; limitedBy = 'budget' }
  }
  return { spentPlanck, leftPlanck, refundPlanck: leftPlanck, daysCovered: Number(covered) / BLOCKS_PER_DAY, limitedBy }
}

export type PlanPhase = 'published' | 'selecting' | 'encoding' | 'hosted' | 'ended'

/** Where a plan is: hosted when every slot hosts, encoding while one is in setup, selecting once one has providers. */
export function planPhase (plan: Plan, market: MarketState): PlanPhase {
  if (plan.status !== 'active') return 'ended'
  const slots = plan.contractIds.flatMap((id) => market.contracts[id]?.slots ?? [])
  if (slots.length > 0 && slots.every((s) => s.state === 'hosting')) return 'hosted'
  if (slots.some((s) => s.state === 'setup' || s.state === 'hosting')) return 'encoding'
  if (slots.some((s) => s.hoster !== null) || plan.contractIds.some((id) => market.contracts[id]?.attestor != null)) return 'selecting'
  return 'published'
}

export interface StorageReading { timeMs: number, ok: boolean }
export interface PerformanceReading { timeMs: number, ttfbMs: number, throughputBps: number, reachable: boolean }
export interface PlanEvent { timeMs: number, block: number, text: string }

type Tracked = Pick<Challenge, 'kind' | 'contractId' | 'slot' | 'hoster'> & { reports: Challenge['reports'] }

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

/**
 * Follows the blocks for the plans of one sponsor: the challenges of their slots as they are
 * issued, their outcome when reported (a storage report fails when its slot went into containment
 * or lost its hoster in the same block), and the notices about their contracts.
 */
export class PlanWatch {
  private readonly challenges = new Map<number, Tracked>()
  readonly storage = new Map<string, StorageReading>()
  readonly performance = new Map<string, PerformanceReading>()
  private readonly events = new Map<number, PlanEvent[]>()

  /** `chain.formatAddress`: an account's ss58 address; the events name accounts by its short form (shared/address.ts), like the UI. */
  constructor (private readonly chain: { readonly market: MarketState, readonly addressHex: string, formatAddress: (hex: string) => string }, private readonly now: () => number) {}

  onBlock (out: BlockOutcome): void {
    const market = this.chain.market
    const mine = (contractId: number): number | null => {
      const c = market.contracts[contractId]
      const p = c === undefined ? undefined : market.plans[c.planId]
      return p !== undefined && p.sponsor === this.chain.addressHex ? p.id : null
    }
    const timeMs = this.now()
    for (const id of out.newChallenges) {
      const ch = market.challenges[id]
      if (ch !== undefined && mine(ch.contractId) !== null) this.challenges.set(id, { kind: ch.kind, contractId: ch.contractId, slot: ch.slot, hoster: ch.hoster, reports: [] })
    }
    const failed = (t: Tracked): boolean => out.notices.some((n) => n.includes(`of contract ${t.contractId} slot ${t.slot} in ${t.kind} containment`) || n.includes(`${t.hoster} of contract ${t.contractId} failed a ${t.kind} challenge`))
    for (const [id, t] of this.challenges) {
      const open = market.challenges[id]
      if (open !== undefined) { t.reports = [...open.reports]; continue }
      this.challenges.delete(id)
      const key = `${t.contractId}:${t.slot}`
      const reported = out.actions.some((a) => a.applied.some((r) => r.ref === `challenge:${id}`))
      if (t.kind === 'storage' && reported) this.storage.set(key, { timeMs, ok: !failed(t) })
      if (t.kind === 'performance' && t.reports.length > 0) {
        const ok = t.reports.filter((r) => r.reachable)
        this.performance.set(key, { timeMs, reachable: ok.length > 0, ttfbMs: ok.length > 0 ? median(ok.map((r) => r.ttfbMs)) : 0, throughputBps: ok.length > 0 ? median(ok.map((r) => r.throughputBps)) : 0 })
      }
    }
    for (const n of out.notices) this.notice(n, out.number, timeMs, mine)
  }

  /** Keeps a notice about a contract or a plan of this sponsor as an event of its plan. */
  private notice (n: string, block: number, timeMs: number, mine: (contractId: number) => number | null): void {
    const c = /contract (\d+)/.exec(n)
    const p = /^plan (\d+) /.exec(n)
    const planId = c !== null ? mine(Number(c[1])) : p !== null && this.chain.market.plans[p[1]]?.sponsor === this.chain.addressHex ? Number(p[1]) : null
    if (planId === null) return
    const list = this.events.get(planId) ?? []
    list.push({ timeMs, block, text: shortAddressesIn(n, (hex) => this.chain.formatAddress(hex)) })
    if (list.length > EVENTS_PER_PLAN) list.shift()
    this.events.set(planId, list)
    if (this.events.size > PLANS_MAX) this.events.delete(this.events.keys().next().value as number)
  }

  eventsOf (planId: number): PlanEvent[] { return [...(this.events.get(planId) ?? [])] }
}

export interface SlotView {
  slot: number
  hoster: string | null
  encoder: string | null
  state: 'unassigned' | 'setup' | 'hosting'
  containment: boolean
  storage: StorageReading | null
  performance: PerformanceReading | null
}

export interface PlanView {
  planId: number
  status: Plan['status']
  phase: PlanPhase
  /** The first core of the plan (the drive's metadata core): the UI names the space or follow from it. */
  keyHex: string
  /** The same key as spaces and follows show it (z-base-32). */
  driveKey: string
  sizeBytes: number | null
  replicas: number
  /** Replicas hosting: the fewest hosting slots of any of its contracts. */
  hosting: number
  startBlock: number
  endBlock: number
  budgetPlanck: bigint
  budget: PlanBudget
  contracts: Array<{ contractId: number, driveIndex: number, start: number, end: number, slots: SlotView[] }>
  events: PlanEvent[]
}

/** Every plan `me` sponsors (newest first, at most PLANS_MAX) as the Plans page shows it. */
export function plansView (market: MarketState, me: string, watch: PlanWatch, sizeOf: (plan: Plan) => number | null): PlanView[] {
  const head = market.block?.number ?? 0
  const plans = Object.values(market.plans).filter((p) => p.sponsor === me).sort((a, b) => b.id - a.id).slice(0, PLANS_MAX)
  return plans.map((plan) => {
    const contracts = plan.contractIds.flatMap((id) => {
      const c = market.contracts[id]
      if (c === undefined) return []
      const slots = c.slots.map((s, i): SlotView => ({
        slot: i,
        hoster: s.hoster,
        encoder: s.encoder,
        state: s.state,
        containment: s.strikes.storage > 0 || s.strikes.performance > 0,
        storage: watch.storage.get(`${c.id}:${i}`) ?? null,
        performance: watch.performance.get(`${c.id}:${i}`) ?? null
      }))
      return [{ contractId: c.id, driveIndex: c.driveIndex, start: c.start, end: c.end, slots }]
    })
    const hosting = contracts.length === 0 ? 0 : Math.min(...contracts.map((c) => c.slots.filter((s) => s.state === 'hosting').length))
    return {
      planId: plan.id,
      status: plan.status,
      phase: planPhase(plan, market),
      keyHex: plan.drives[0]?.keyHex ?? '',
      driveKey: plan.drives[0] === undefined ? '' : keyId(plan.drives[0].keyHex),
      sizeBytes: sizeOf(plan),
      replicas: plan.replicas,
      hosting,
      startBlock: plan.startBlock,
      endBlock: plan.endBlock,
      budgetPlanck: plan.budgetPlanck,
      budget: planBudget(plan, head),
      contracts,
      events: watch.eventsOf(plan.id)
    }
  })
}
