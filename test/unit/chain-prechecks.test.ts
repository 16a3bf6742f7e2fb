import { describe, it, expect } from 'vitest'
import { precheck, checkFunds, requireNetwork, type FundsView } from '../../main/chain/prechecks.js'
import { initialState, MARKET_PARAMS, type MarketState, type Plan, type Provider } from '../../main/chain/marketplace.js'
import { ROLE, type DriveRanges, type MarketRecord, type NetworkParams, type SignedRootHex } from '../../main/chain/records.js'
import { DatdotError } from '../../main/shared/errors.js'

const ME = '0x' + '11'.repeat(32)
const OTHER = '0x' + '22'.repeat(32)
const OPERATOR = '0x' + '33'.repeat(32)
const ESCROW = '0x' + '44'.repeat(32)
const CORE = 'ab'.repeat(32)
const CHUNKS = 4

/** A root its author never signed: the marketplace rejects it as 'bad-proof'. */
function root (length: number, fork = 0): SignedRootHex {
  return { manifestHex: '00', length, fork, treeHashHex: '00'.repeat(32), signatureHex: '00'.repeat(64) }
}

function provider (address: string, roles: number, over: Partial<Provider> = {}): Provider {
  return { address, roles, storageBytes: 1 << 30, bandwidthBps: 1 << 20, region: 'eu', noiseKeyHex: '55'.repeat(32), registeredAt: 1, reputation: 1000, usedBytes: 0, jobs: 0, pausedUntil: 0, ...over }
}

function plan (id: number, over: Partial<Plan> = {}): Plan {
  return { id, sponsor: ME, drives: [{ keyHex: CORE, ranges: [[0, 8]], root: root(8) }], replicas: 1, startBlock: 1, endBlock: 500, budgetPlanck: 1000n, accruedPlanck: 0n, refundPlanck: 0n, status: 'active', contractIds: [1, 2], ...over }
}

/** An in-memory market: a network, this node a provider with 100 bytes hosted, plans 1 (mine), 2 (another's), 3 (ended). */
function market (): MarketState {
  const state = initialState()
  state.block = { number: 10, hash: '0xhead' }
  state.network = { operators: [OPERATOR], threshold: 1, escrow: ESCROW, unitPricePlanck: 1n, params: { chunksPerContract: CHUNKS } as NetworkParams, sinceBlock: 1 }
  state.providers[ME] = provider(ME, ROLE.hoster, { usedBytes: 100 })
  state.plans[1] = plan(1)
  state.plans[2] = plan(2, { sponsor: OTHER })
  state.plans[3] = plan(3, { status: 'ended' })
  return state
}

/** The refusal of `rec` by `signer` in `state`: its code and details. */
function refusal (rec: MarketRecord, state = market(), signer = ME): DatdotError {
  try {
    precheck(state, signer, rec)
  } catch (err) {
    expect(err).toBeInstanceOf(DatdotError)
    return err as DatdotError
  }
  throw new Error(`${rec.kind} was not refused`)
}

/** Asserts a refusal's code and details, and its message. */
function expectRefusal (err: DatdotError, fields: Record<string, unknown>, message: RegExp): void {
  expect(err).toMatchObject(fields)
  expect(err.message).toMatch(message)
}

/** The DatdotError `p` rejects with. */
async function failure (p: Promise<unknown>): Promise<DatdotError> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(DatdotError)
    return err as DatdotError
  }
  throw new Error('it was not refused')
}

function publish (drives: DriveRanges[], replicas = 1): MarketRecord {
  return { kind: 'publish', drives, replicas, durationBlocks: 100, budgetPlanck: 10n }
}

function update (drives: DriveRanges[], planId = 1): MarketRecord {
  return { kind: 'update', planId, drives, budgetPlanck: 0n }
}

describe('chain prechecks against the followed market state', () => {
  it('refuses any record on a chain without a network record, with CHAIN_ERROR no-network', () => {
    const state = initialState()
    expect(() => requireNetwork(state)).toThrow(/no DatDot network on this chain yet/)
    expect(refusal({ kind: 'unregister' }, state)).toMatchObject({ code: 'CHAIN_ERROR', details: { why: 'no-network' } })
  })

  it('refuses registering the escrow (FORBIDDEN wrong-signer) and less storage than already hosted (INVALID_ARGUMENT not-allowed)', () => {
    const register = (storageBytes: number): MarketRecord => ({ kind: 'register', roles: ROLE.hoster, storageBytes, bandwidthBps: 1, region: 'eu', noiseKeyHex: '55'.repeat(32) })
    expect(refusal(register(1000), market(), ESCROW)).toMatchObject({ code: 'FORBIDDEN', details: { why: 'wrong-signer' }, message: 'the escrow account cannot provide' })
    const below = refusal(register(99))
    expect(below).toMatchObject({ code: 'INVALID_ARGUMENT', details: { why: 'not-allowed' } })
    expect(below.message).toMatch(/is below the .* this node already hosts/)
    expect(() => { precheck(market(), ME, register(100)) }).not.toThrow()
  })

  it('refuses unregistering a node that is not a provider with NOT_FOUND unknown-ref', () => {
    expectRefusal(refusal({ kind: 'unregister' }, market(), OTHER), { code: 'NOT_FOUND', details: { why: 'unknown-ref' } }, /not a registered provider/)
    expect(() => { precheck(market(), ME, { kind: 'unregister' }) }).not.toThrow()
  })

  it("refuses unpublishing a plan that does not exist (NOT_FOUND), is another's (FORBIDDEN) or has ended (INVALID_ARGUMENT)", () => {
    expectRefusal(refusal({ kind: 'unpublish', planId: 9 }), { code: 'NOT_FOUND', details: { why: 'unknown-ref' } }, /^no plan 9 on this chain/)
    expectRefusal(refusal({ kind: 'unpublish', planId: 2 }), { code: 'FORBIDDEN', details: { why: 'wrong-signer' } }, /only its sponsor can unpublish it/)
    expect(refusal({ kind: 'unpublish', planId: 3 })).toMatchObject({ code: 'INVALID_ARGUMENT', details: { why: 'replayed' }, message: 'plan 3 has already ended (ended)' })
    expect(() => { precheck(market(), ME, { kind: 'unpublish', planId: 1 }) }).not.toThrow()
  })

  it('refuses a plan from the operator or escrow (FORBIDDEN wrong-signer) and one over the contract limit (over-limits)', () => {
    expect(refusal(publish([]), market(), OPERATOR)).toMatchObject({ code: 'FORBIDDEN', details: { why: 'wrong-signer' } })
    expect(refusal(publish([]), market(), ESCROW)).toMatchObject({ code: 'FORBIDDEN', details: { why: 'wrong-signer' } })
    const chunks = (MARKET_PARAMS.contractsPerPlan + 1) * CHUNKS
    const over = refusal(publish([{ keyHex: CORE, ranges: [[0, chunks]], root: root(chunks) }]))
    expect(over).toMatchObject({ code: 'INVALID_ARGUMENT', details: { why: 'over-limits' } })
    expect(over.message).toContain(`needs ${MARKET_PARAMS.contractsPerPlan + 1} contracts`)
  })

  it('refuses a plan whose signed root does not verify with INVALID_ARGUMENT bad-proof', () => {
    const bad = refusal(publish([{ keyHex: CORE, ranges: [[0, 4]], root: root(4) }]))
    expect(bad).toMatchObject({ code: 'INVALID_ARGUMENT', details: { why: 'bad-proof' } })
    expect(bad.message).toMatch(/^the signed root of core abababababababab does not verify/)
  })

  it('refuses a plan the network has too few eligible providers for, counting them by role in details', () => {
    const state = market()
    state.providers[OTHER] = provider(OTHER, ROLE.hoster | ROLE.encoder)
    state.providers['0xpaused'] = provider('0xpaused', ROLE.attestor, { pausedUntil: 11 })
    state.providers['0xlow'] = provider('0xlow', ROLE.attestor, { reputation: MARKET_PARAMS.reputationFloor - 1 })
    const few = refusal(publish([]), state)
    expect(few).toMatchObject({ code: 'INVALID_ARGUMENT', details: { why: 'too-few-providers', need: 3, providers: 1, hosters: 1, encoders: 1, attestors: 0 } })
    expect(few.message).toMatch(/^too few providers for 1 replica: it needs 3 other providers/)
    state.providers['0xenc'] = provider('0xenc', ROLE.encoder)
    state.providers['0xatt'] = provider('0xatt', ROLE.attestor)
    expect(() => { precheck(state, ME, publish([])) }).not.toThrow()
  })

  it('refuses a plan update naming a core not in the plan (unknown-ref) or another fork, a shorter root, an overlapping range (bad-value)', () => {
    const cases: Array<[DriveRanges, string, RegExp]> = [
      [{ keyHex: 'cd'.repeat(32), ranges: [[8, 12]], root: root(12) }, 'unknown-ref', /is not in plan 1/],
      [{ keyHex: CORE, ranges: [[8, 12]], root: root(12, 1) }, 'bad-value', /is at fork 1, the plan at 0: publish a new plan/],
      [{ keyHex: CORE, ranges: [[0, 4]], root: root(6) }, 'bad-value', /is shorter \(6\) than the plan's root \(8\)/],
      [{ keyHex: CORE, ranges: [[6, 12]], root: root(12) }, 'bad-value', /overlap what the plan hosts/]
    ]
    for (const [drive, why, message] of cases) {
      const err = refusal(update([drive]))
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { why } })
      expect(err.message).toMatch(message)
    }
  })

  it("refuses updating another's or an ended plan, one over the contract limit, and a new root that does not verify", () => {
    const drive: DriveRanges = { keyHex: CORE, ranges: [[8, 12]], root: root(12) }
    expectRefusal(refusal(update([drive], 2)), { code: 'FORBIDDEN', details: { why: 'wrong-signer' } }, /only its sponsor can update it/)
    expect(refusal(update([drive], 3))).toMatchObject({ code: 'INVALID_ARGUMENT', details: { why: 'replayed' } })
    const state = market()
    state.plans[1].contractIds = Array.from({ length: MARKET_PARAMS.contractsPerPlan }, (_, i) => i)
    expect(refusal(update([drive]), state)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { why: 'over-limits' } })
    expect(refusal(update([drive]))).toMatchObject({ code: 'INVALID_ARGUMENT', details: { why: 'bad-proof' } })
  })

  it('lets records through that it does not check', () => {
    expect(() => { precheck(market(), OTHER, { kind: 'pause', blocks: 5 }) }).not.toThrow()
  })
})

describe('chain precheck of the balance', () => {
  const view = (freePlanck: bigint, isLocal = true): FundsView => ({
    estimateFee: async () => 10n,
    freeBalance: async () => freePlanck,
    existentialDeposit: 5n,
    tokenDecimals: 0,
    tokenSymbol: 'ROC',
    isLocal
  })
  const budget = [{ to: ESCROW, amountPlanck: 100n }]

  it('lets a record through when the free balance covers fee, transfers and existential deposit', async () => {
    await expect(checkFunds(view(115n), publish([]), budget)).resolves.toBeUndefined()
  })

  it('refuses a budget above the balance with INSUFFICIENT_FUNDS, naming both', async () => {
    const err = await failure(checkFunds(view(114n), publish([]), budget))
    expect(err).toMatchObject({ code: 'INSUFFICIENT_FUNDS', details: { why: 'insufficient-funds', freePlanck: '114', needPlanck: '115' } })
    expect(err.message).toBe('the budget 100 ROC is more than this account can pay: it has 114 ROC free and needs 115 ROC (budget + fee about 10 ROC + 5 ROC that stays in the account); use the faucet: datdot wallet --faucet 10')
  })

  it('refuses a record whose fee the account cannot pay, pointing to the faucet only on a local chain', async () => {
    const local = await failure(checkFunds(view(14n), { kind: 'unregister' }, []))
    expect(local).toMatchObject({ code: 'INSUFFICIENT_FUNDS', details: { why: 'insufficient-funds' }, message: 'this account needs at least 15 ROC for fees (it has 14 ROC); use the faucet: datdot wallet --faucet 10' })
    const remote = await failure(checkFunds(view(14n, false), { kind: 'unregister' }, []))
    expect(remote.message).toBe('this account needs at least 15 ROC for fees (it has 14 ROC)')
  })
})
