/**
 * The sponsor's records: publish (a plan with its budget paid into escrow, cut into contracts),
 * update (newer signed roots and more ranges, optionally more budget) and unpublish (the plan ends,
 * the rest of its budget is refunded). Every check comes before any change.
 */
import { MARKET_PARAMS, type Action, type ActionOutcome, type Contract, type NetworkConfig, type Plan } from './market-types.js'
import { RECORD_LIMITS, type DriveRanges, type MarketRecord, type SignedRootHex } from './record-types.js'
import { BlockRng, params, reject, type Ctx } from './market-context.js'
import { endPlan } from './accounting.js'
import { verifyRootHex } from './roots.js'
import { moveHeld } from './market-index.js'

/** Rejects 'bad-proof' unless every drive's signed root verifies against its key. */
function verifyRoots (drives: DriveRanges[]): void {
  for (const d of drives) {
    const bad = verifyRootHex(d.keyHex, d.root)
    if (bad !== null) reject('bad-proof', `root of ${d.keyHex.slice(0, 16)}: ${bad}`)
  }
}

/** Contracts `ranges` cut into with `chunksPerContract` blocks per contract. */
function contractsIn (ranges: Array<[number, number]>, chunksPerContract: number): number {
  let n = 0
  for (const [s, e] of ranges) n += Math.ceil((e - s) / chunksPerContract)
  return n
}

/** Checks the one budget transfer sponsor -> escrow of `amount` (none when amount is 0). */
function checkBudgetTransfer (action: Action, net: NetworkConfig, amount: bigint, what: string): void {
  if (amount === 0n) {
    if (action.transfers.length !== 0) reject('bad-value', `${what} without a budget moves no value`)
    return
  }
  if (action.transfers.length !== 1) reject('bad-value', `${what} needs exactly one transfer to escrow`)
  const t = action.transfers[0]
  if (t.from !== action.signer || t.to !== net.escrow) reject('bad-value', 'the budget must go from the sponsor to escrow')
  if (t.amountPlanck !== amount) reject('bad-value', `transfer ${t.amountPlanck} != budget ${amount}`)
}

/** Cuts `ranges` of a plan's drive into contracts hosted against `root`. */
function cutContracts (ctx: Ctx, plan: Plan, driveIndex: number, keyHex: string, root: SignedRootHex, ranges: Array<[number, number]>): void {
  const { state, block } = ctx
  const { chunksPerContract, challengeIntervalBlocks } = params(ctx)
  for (const [s, e] of ranges) {
    for (let c = s; c < e; c += chunksPerContract) {
      const contract: Contract = {
        id: state.next.contract++,
        planId: plan.id,
        driveIndex,
        keyHex,
        start: c,
        end: Math.min(e, c + chunksPerContract),
        root: { ...root },
        attestor: null,
        setupDeadline: null,
        slots: []
      }
      for (let i = 0; i < plan.replicas; i++) {
        contract.slots.push({
          hoster: null,
          encoder: null,
          state: 'unassigned',
          since: block.number,
          phase: Number(new BlockRng(`${block.hash}:phase:${contract.id}:${i}`).below(BigInt(challengeIntervalBlocks))),
          receiptsRootHex: null,
          strikes: { storage: 0, performance: 0 },
          accusers: { storage: [], performance: [] },
          blamed: []
        })
      }
      state.contracts[contract.id] = contract
      plan.contractIds.push(contract.id)
      state.pending.push(contract.id)
    }
  }
}

export function publish (ctx: Ctx, action: Action, rec: Extract<MarketRecord, { kind: 'publish' }>, res: ActionOutcome): string {
  const { state, block } = ctx
  const net = state.network as NetworkConfig
  const signer = action.signer
  if (signer === net.escrow || net.operators.includes(signer)) reject('wrong-signer', 'the network does not sponsor')
  checkBudgetTransfer(action, net, rec.budgetPlanck, 'publish')
  let contracts = 0
  for (const d of rec.drives) contracts += contractsIn(d.ranges, net.params.chunksPerContract)
  if (contracts > MARKET_PARAMS.contractsPerPlan) reject('over-limits', `${contracts} contracts > ${MARKET_PARAMS.contractsPerPlan}`)
  verifyRoots(rec.drives)

  const plan: Plan = {
    id: state.next.plan++,
    sponsor: signer,
    drives: rec.drives.map((d) => ({ keyHex: d.keyHex, ranges: d.ranges.map(([a, b]) => [a, b] as [number, number]), root: { ...d.root } })),
    replicas: rec.replicas,
    startBlock: block.number,
    endBlock: block.number + rec.durationBlocks,
    budgetPlanck: rec.budgetPlanck,
    accruedPlanck: 0n,
    refundPlanck: 0n,
    status: 'active',
    contractIds: []
  }
  moveHeld(state, rec.budgetPlanck)
  state.plans[plan.id] = plan
  state.escrow.budgetsInPlanck += rec.budgetPlanck
  res.transferLegs[0] = [{ reason: 'budget', amountPlanck: rec.budgetPlanck, memo: `plan ${plan.id}` }]
  rec.drives.forEach((d, driveIndex) => cutContracts(ctx, plan, driveIndex, d.keyHex, d.root, d.ranges))
  return `plan:${plan.id}`
}

/** Sorted union of two sets of half-open ranges (adjacent ranges merge). */
function mergeRanges (a: Array<[number, number]>, b: Array<[number, number]>): Array<[number, number]> {
  const all = [...a, ...b].map(([s, e]) => [s, e] as [number, number]).sort((x, y) => x[0] - y[0] || x[1] - y[1])
  const out: Array<[number, number]> = []
  for (const [s, e] of all) {
    const last = out[out.length - 1]
    if (last !== undefined && s <= last[1]) last[1] = Math.max(last[1], e)
    else out.push([s, e])
  }
  return out
}

function overlaps (a: Array<[number, number]>, b: Array<[number, number]>): boolean {
  return a.some(([s1, e1]) => b.some(([s2, e2]) => s1 < e2 && s2 < e1))
}

/**
 * The sponsor extends an active plan to newer signed roots of its cores. Every check comes before
 * any change: a rejected update leaves the plan as it was.
 */
export function update (ctx: Ctx, action: Action, rec: Extract<MarketRecord, { kind: 'update' }>, res: ActionOutcome): string {
  const { state } = ctx
  const net = state.network as NetworkConfig
  const plan = sponsorsActivePlan(ctx, action, rec.planId, 'updates')
  checkBudgetTransfer(action, net, rec.budgetPlanck, 'update')
  let contracts = plan.contractIds.length
  const targets: number[] = []
  for (const d of rec.drives) {
    const index = plan.drives.findIndex((pd) => pd.keyHex === d.keyHex)
    if (index === -1) reject('unknown-ref', `core ${d.keyHex.slice(0, 16)} is not in plan ${plan.id}`)
    const old = plan.drives[index]
    if (d.root.fork !== old.root.fork) reject('bad-value', `fork ${d.root.fork} != the plan's ${old.root.fork}`)
    if (d.root.length < old.root.length) reject('bad-value', `root length ${d.root.length} < the plan's ${old.root.length}`)
    if (overlaps(d.ranges, old.ranges)) reject('bad-value', `ranges of ${d.keyHex.slice(0, 16)} overlap what the plan hosts`)
    contracts += contractsIn(d.ranges, net.params.chunksPerContract)
    targets.push(index)
  }
  if (contracts > MARKET_PARAMS.contractsPerPlan) reject('over-limits', `${contracts} contracts > ${MARKET_PARAMS.contractsPerPlan}`)
  verifyRoots(rec.drives)

  addBudget(ctx, plan, rec.budgetPlanck, res)
  rec.drives.forEach((d, i) => {
    const index = targets[i]
    const pd = plan.drives[index]
    pd.root = { ...d.root }
    pd.ranges = mergeRanges(pd.ranges, d.ranges)
    cutContracts(ctx, plan, index, d.keyHex, d.root, d.ranges)
  })
  return `plan:${plan.id}`
}

/** The plan `planId` if `action`'s signer sponsors it and it is active; else the record is rejected. */
function sponsorsActivePlan (ctx: Ctx, action: Action, planId: number, verb: string): Plan {
  const { state } = ctx
  const plan = state.plans[planId]
  if (plan === undefined) reject(planId >= state.next.plan ? 'out-of-order' : 'unknown-ref', `no plan ${planId}`)
  if (plan.sponsor !== action.signer) reject('wrong-signer', `only the sponsor ${verb} a plan`)
  if (plan.status !== 'active') reject('not-allowed', `plan ${plan.id} is ${plan.status}`)
  return plan
}

/** Budget paid into escrow for a plan (update or extend): booked as the action's one transfer leg. */
function addBudget (ctx: Ctx, plan: Plan, amountPlanck: bigint, res: ActionOutcome): void {
  if (amountPlanck === 0n) return
  moveHeld(ctx.state, amountPlanck)
  plan.budgetPlanck += amountPlanck
  ctx.state.escrow.budgetsInPlanck += amountPlanck
  res.transferLegs[0] = [{ reason: 'budget', amountPlanck, memo: `plan ${plan.id} top-up` }]
}

/**
 * Top up (`extend`): the sponsor of an active plan adds budget (one transfer to escrow, like
 * publish) and/or blocks before it ends, up to the longest duration a plan may have from now.
 */
export function extend (ctx: Ctx, action: Action, rec: Extract<MarketRecord, { kind: 'extend' }>, res: ActionOutcome): string {
  const { state, block } = ctx
  const net = state.network as NetworkConfig
  const plan = sponsorsActivePlan(ctx, action, rec.planId, 'tops up')
  checkBudgetTransfer(action, net, rec.budgetPlanck, 'extend')
  if (plan.endBlock + rec.blocks - block.number > RECORD_LIMITS.durationBlocksMax) reject('over-limits', `plan ${plan.id} would run more than ${RECORD_LIMITS.durationBlocksMax} blocks from now`)
  plan.endBlock += rec.blocks
  addBudget(ctx, plan, rec.budgetPlanck, res)
  return `plan:${plan.id}`
}

export function unpublish (ctx: Ctx, action: Action, rec: Extract<MarketRecord, { kind: 'unpublish' }>): string {
  const { state } = ctx
  const signer = action.signer
  const plan = state.plans[rec.planId]
  if (plan === undefined) reject(rec.planId >= state.next.plan ? 'out-of-order' : 'unknown-ref', `no plan ${rec.planId}`)
  if (plan.sponsor !== signer) reject('wrong-signer', 'only the sponsor unpublishes')
  if (plan.status !== 'active') reject('replayed', `plan ${plan.id} is ${plan.status}`)
  endPlan(ctx, plan, 'unpublished')
  return `plan:${plan.id}`
}
