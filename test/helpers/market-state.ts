/**
 * Marketplace states built directly (no chain, no signed roots) for unit tests of single rules:
 * a configured network, providers offering every role, one plan whose contracts wait for
 * providers, and a block context to run a rule in.
 */
import { createHash } from 'node:crypto'
import { initialState, type Contract, type MarketState, type Plan, type Provider } from '../../main/chain/market-types.js'
import { blockContext, type Ctx } from '../../main/chain/market-context.js'
import type { NetworkParams } from '../../main/chain/record-types.js'
import { applyBlock, type BlockOutcome } from '../../main/chain/marketplace.js'
import { encodeRecord, type MarketRecord } from '../../main/chain/records.js'

export const acct = (name: string): string => '0x' + createHash('sha256').update(name).digest('hex')
export const ESCROW = acct('escrow')
export const SPONSOR = acct('sponsor')
export const PRICE = 1_000n
export const PARAMS: NetworkParams = { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 5, performanceAttestors: 3 }

export function provider (address: string, over: Partial<Provider> = {}): Provider {
  return {
    address, roles: 7, storageBytes: 1 << 30, bandwidthBps: 1e6, region: 'eu', noiseKeyHex: address.slice(2).padStart(64, '0'),
    registeredAt: 0, reputation: 500, usedBytes: 0, jobs: 0, pausedUntil: 0, ...over
  }
}

export interface MarketOptions {
  /** Provider names (addresses are their hashes); the sponsor is a provider too when `sponsorProvides`. */
  providers: string[]
  contracts?: number
  replicas?: number
  budgetPlanck?: bigint
  sponsorProvides?: boolean
}

/** A network, providers and plan 1 (budget paid into escrow) cut into contracts of 10 chunks, all pending. */
export function marketWith (o: MarketOptions): MarketState {
  const state = initialState()
  state.network = { operators: [acct('operator')], threshold: 1, escrow: ESCROW, unitPricePlanck: PRICE, params: { ...PARAMS }, sinceBlock: 0 }
  for (const name of o.providers) state.providers[acct(name)] = provider(acct(name))
  if (o.sponsorProvides === true) state.providers[SPONSOR] = provider(SPONSOR)
  const budget = o.budgetPlanck ?? 1_000_000n
  const plan: Plan = {
    id: state.next.plan++, sponsor: SPONSOR, drives: [], replicas: o.replicas ?? 2, startBlock: 0, endBlock: 1000,
    budgetPlanck: budget, accruedPlanck: 0n, refundPlanck: 0n, status: 'active', contractIds: []
  }
  state.plans[plan.id] = plan
  state.escrow.budgetsInPlanck += budget
  for (let c = 0; c < (o.contracts ?? 1); c++) {
    const contract: Contract = {
      id: state.next.contract++, planId: plan.id, driveIndex: 0, keyHex: 'ab'.repeat(32), start: c * 10, end: c * 10 + 10,
      root: { manifestHex: '00', length: 1000, fork: 0, treeHashHex: '00'.repeat(32), signatureHex: '00' },
      attestor: null, setupDeadline: null, slots: []
    }
    for (let i = 0; i < plan.replicas; i++) {
      contract.slots.push({
        hoster: null, encoder: null, state: 'unassigned', since: 0, phase: 0, receiptsRootHex: null,
        strikes: { storage: 0, performance: 0 }, accusers: { storage: [], performance: [] }, blamed: []
      })
    }
    state.contracts[contract.id] = contract
    plan.contractIds.push(contract.id)
    state.pending.push(contract.id)
  }
  return state
}

/** A context for applying block `number` (hash derived from `seed`) to `state`. */
export function ctxAt (state: MarketState, number: number, seed = 'seed'): Ctx {
  const hash = '0x' + createHash('sha256').update(`${seed}:${number}`).digest('hex')
  return blockContext(state, { number, hash, parentHash: '0x' + '00'.repeat(32), timeMs: 0, actions: [] })
}

const blockHash = (n: number): string => '0x' + createHash('sha256').update(`block:${n}`).digest('hex')

export interface SteppedMarket {
  state: MarketState
  /** Applies the next block (whole, with full conservation checks) carrying `records` as encoded remarks. */
  step: (records?: Array<[string, MarketRecord]>) => BlockOutcome
  /** Steps until the block before `block` (the next step applies `block`). */
  to: (block: number) => void
}

/**
 * `marketWith(o)` on a network with epochs of `epochBlocks` (interval 10, timeout 5), block 1
 * applied and every slot of every contract hosting since then: a market to step block by block.
 */
export function hostingMarket (o: MarketOptions & { epochBlocks: number }): SteppedMarket {
  const state = marketWith(o)
  ;(state.network as NonNullable<MarketState['network']>).params.epochBlocks = o.epochBlocks
  let n = 0
  const step = (records: Array<[string, MarketRecord]> = []): BlockOutcome => {
    n++
    const actions = records.map(([signer, rec], index) => ({ index, signer, remarks: [encodeRecord(rec)], transfers: [] }))
    return applyBlock(state, { number: n, hash: blockHash(n), parentHash: n === 1 ? '0x' + '00'.repeat(32) : blockHash(n - 1), timeMs: 0, actions }, { fullChecks: true })
  }
  step()
  for (const c of Object.values(state.contracts)) {
    for (const slot of c.slots) { slot.state = 'hosting'; slot.since = 1 }
  }
  const to = (block: number): void => { while ((state.block?.number ?? 0) < block - 1) step() }
  return { state, step, to }
}
