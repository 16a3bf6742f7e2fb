import { describe, it, expect, beforeAll } from 'vitest'
import { createHash } from 'node:crypto'
import { encodeRecord, decodeRecord, validateRecord, RECORD_PREFIX, type MarketRecord, type NetworkParams, type SetupSlot, type SignedRootHex } from '../../main/chain/records.js'
import {
  applyBlock, initialState, conservation, stateDigest, serializeState, deserializeState, owedItems,
  performanceUnits, roleReputation, MARKET_PARAMS, type RepRole, type Action, type BlockInput, type MarketState, type Transfer, type Challenge, type BlockOutcome
} from '../../main/chain/marketplace.js'
import { createRootFixture, providerKeys, signReceipt, type RootFixture } from '../sim/roots-fixture.js'

const acct = (name: string): string => '0x' + createHash('sha256').update(name).digest('hex')
const OP = acct('operator')
const ESCROW = acct('escrow')
const SPONSOR = acct('sponsor')
const NAMES = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8']
const PROVIDERS = NAMES.map(acct)
const KEYS = new Map(NAMES.map((n) => [acct(n), providerKeys(n)]))
const PRICE = 1_000_000n
const PARAMS: NetworkParams = { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 5, performanceAttestors: 3 }
const RECEIPTS_ROOT = '5a'.repeat(32)
const MEASURE = (n: number): string => createHash('sha256').update(`measure ${n}`).digest('hex')

/** A core with signed roots at 20, 40 and 2000 blocks, and a second core at 30. */
let fx: RootFixture
let other: RootFixture
beforeAll(async () => {
  fx = await createRootFixture([20, 40, 2000])
  other = await createRootFixture([30])
})

/** Builds a chain of blocks and applies them, checking conservation after each. */
class Log {
  state: MarketState = initialState()
  blocks: BlockInput[] = []
  number = 0
  hash = '0x' + '00'.repeat(32)
  block (actions: Array<Omit<Action, 'index'>> = []): BlockOutcome {
    const number = ++this.number
    const hash = '0x' + createHash('sha256').update(`block ${number} ${this.hash}`).digest('hex')
    const b: BlockInput = { number, hash, parentHash: this.hash, timeMs: 1_700_000_000_000 + number * 6000, actions: actions.map((a, index) => ({ ...a, index: index + 1 })) }
    this.hash = hash
    this.blocks.push(b)
    const out = applyBlock(this.state, b)
    expect(conservation(this.state).ok).toBe(true)
    return out
  }

  /** Blocks until `pred` holds (at most `max`), each with the actions `each` returns. */
  until (pred: () => boolean, max = 100, each: () => Array<Omit<Action, 'index'>> = () => []): void {
    for (let i = 0; i < max && !pred(); i++) this.block(each())
    expect(pred()).toBe(true)
  }
}

const rec = (signer: string, r: MarketRecord, transfers: Transfer[] = []): Omit<Action, 'index'> => ({ signer, remarks: [encodeRecord(r)], transfers })
const register = (who: string, storageBytes = 1 << 30): Omit<Action, 'index'> =>
  rec(who, { kind: 'register', roles: 7, storageBytes, bandwidthBps: 1e6, region: 'eu', noiseKeyHex: KEYS.get(who)?.publicKeyHex ?? who.slice(2) })
const network = (params: NetworkParams = PARAMS): MarketRecord => ({ kind: 'network', operators: [OP], threshold: 1, escrow: ESCROW, unitPricePlanck: PRICE, params })
const drive = (root: SignedRootHex = fx.roots[0], ranges: Array<[number, number]> = [[0, root.length]], keyHex = fx.keyHex): { keyHex: string, ranges: Array<[number, number]>, root: SignedRootHex } => ({ keyHex, ranges, root })
const publish = (budget: bigint, chunks = 20, replicas = 2): MarketRecord =>
  ({ kind: 'publish', drives: [drive(fx.roots[chunks <= 20 ? 0 : chunks <= 40 ? 1 : 2], [[0, chunks]])], replicas, durationBlocks: 500, budgetPlanck: budget })
const pay = (budget: bigint, from = SPONSOR): Transfer[] => [{ from, to: ESCROW, amountPlanck: budget }]

function market (params: NetworkParams = PARAMS, providers = PROVIDERS): Log {
  const log = new Log()
  log.block([rec(OP, network(params))])
  log.block(providers.map((p) => register(p)))
  return log
}

/** A market with one published plan (plan 1). */
function withPlan (chunks = 10, replicas = 1, budget = 1_000_000n * PRICE): Log {
  const log = market()
  log.block([rec(SPONSOR, publish(budget, chunks, replicas), pay(budget))])
  return log
}

/** The setup report the attestor of `cid` sends: every slot in setup ok with the hoster's genuine receipt, unless overridden. */
function setupSlots (state: MarketState, cid: number, override: Record<number, SetupSlot> = {}): SetupSlot[] {
  const c = state.contracts[cid]
  return c.slots.map((s, i) => {
    if (override[i] !== undefined) return override[i]
    const key = s.hoster === null ? undefined : KEYS.get(s.hoster)
    if (key === undefined) return { ok: false, reason: 'hoster-missing' }
    return { ok: true, receiptsRootHex: RECEIPTS_ROOT, receiptHex: signReceipt(key.secretKey, cid, c.keyHex, c.root.length, RECEIPTS_ROOT) }
  })
}
const setupReport = (state: MarketState, cid: number, override: Record<number, SetupSlot> = {}): Omit<Action, 'index'> =>
  rec(state.contracts[cid].attestor as string, { kind: 'setup-report', contractId: cid, slots: setupSlots(state, cid, override) })

/** Sets every slot of every contract up (repeating until all host). */
function setupAll (log: Log): void {
  log.until(() => Object.values(log.state.contracts).every((c) => c.slots.every((s) => s.state === 'hosting')), 20, () =>
    Object.values(log.state.contracts).filter((c) => c.attestor !== null && c.slots.some((s) => s.state === 'setup')).map((c) => setupReport(log.state, c.id)))
}

const openOf = (state: MarketState, kind: Challenge['kind']): Challenge[] => Object.values(state.challenges).filter((c) => c.kind === kind)
const storageOk = (ch: Challenge): Omit<Action, 'index'> => rec(ch.attestors[0], { kind: 'storage-report', challengeId: ch.id, ok: true, reason: 'NONE' })
const storageFail = (ch: Challenge): Omit<Action, 'index'> => rec(ch.attestors[0], { kind: 'storage-report', challengeId: ch.id, ok: false, reason: 'MISSING_CHUNK' })
const perf = (ch: Challenge, attestor: string, reachable: boolean, ttfbMs = 50, throughputBps = 8 << 20, key = MEASURE(ch.id * 10 + ch.attestors.indexOf(attestor))): Omit<Action, 'index'> =>
  rec(attestor, { kind: 'performance-report', challengeId: ch.id, reachable, ttfbMs, throughputBps, measureKeyHex: key })
/** A provider's reputation in a role (the hoster's unless said). */
const rep = (state: MarketState, who: string, role: RepRole = 'hoster'): number => roleReputation(state.providers[who], role)

describe('record codec (datdot/2)', () => {
  it('round-trips every record kind and starts with the versioned prefix', () => {
    const all: MarketRecord[] = [
      network(),
      { kind: 'register', roles: 3, storageBytes: 2 ** 40, bandwidthBps: 123, region: 'ärea', noiseKeyHex: 'cd'.repeat(32) },
      { kind: 'unregister' },
      publish(10n ** 30n),
      { kind: 'update', planId: 4, drives: [drive(fx.roots[1], [[20, 40]])], budgetPlanck: 0n },
      { kind: 'update', planId: 4, drives: [drive(fx.roots[2], [[40, 100], [200, 300]])], budgetPlanck: 5n },
      { kind: 'unpublish', planId: 7 },
      { kind: 'pause', blocks: 60 },
      { kind: 'unpause' },
      { kind: 'setup-report', contractId: 3, slots: [{ ok: true, receiptsRootHex: 'ab'.repeat(32), receiptHex: 'cd'.repeat(64) }, { ok: false, reason: 'bad-encoding' }, { ok: false, reason: 'hoster-missing' }] },
      { kind: 'storage-report', challengeId: 99, ok: true, reason: 'NONE' },
      { kind: 'storage-report', challengeId: 99, ok: false, reason: 'WRONG_COMMITMENT' },
      { kind: 'performance-report', challengeId: 100, reachable: false, ttfbMs: 600_000, throughputBps: 0, measureKeyHex: MEASURE(1) },
      { kind: 'payout', items: [1, 2, 300000] }
    ]
    for (const r of all) {
      const bytes = encodeRecord(r)
      expect(new TextDecoder().decode(bytes.subarray(0, RECORD_PREFIX.length))).toBe(RECORD_PREFIX)
      expect(decodeRecord(bytes)).toEqual({ ok: true, record: r })
    }
  })

  it('refuses malformed, truncated, trailing, non-canonical, old-version and over-limit bytes without throwing', () => {
    const good = encodeRecord({ kind: 'storage-report', challengeId: 5, ok: true, reason: 'NONE' })
    expect(decodeRecord(good.subarray(0, good.length - 1)).ok).toBe(false)
    expect(decodeRecord(new Uint8Array([...good, 0])).ok).toBe(false)
    expect(decodeRecord(new TextEncoder().encode('datdot/1 x'))).toEqual({ ok: false, why: 'unknown-version' })
    expect(decodeRecord(new TextEncoder().encode('hello'))).toEqual({ ok: false, why: 'not-datdot' })
    const prefix = new TextEncoder().encode(RECORD_PREFIX)
    expect(decodeRecord(new Uint8Array([...prefix, 99])).ok).toBe(false)
    // challenge id 5 encoded non-canonically as 0x85 0x00
    expect(decodeRecord(new Uint8Array([...prefix, 9, 0x85, 0x00, 1, 0])).ok).toBe(false)
    // an unknown storage failure reason (index 15)
    expect(decodeRecord(new Uint8Array([...prefix, 9, 5, 0, 15])).ok).toBe(false)
    // a payout with 257 items is over the limit
    const w = [...prefix, 11, 0x81, 0x02]
    for (let i = 0; i < 257; i++) w.push(1)
    expect(decodeRecord(new Uint8Array(w)).ok).toBe(false)
    let seed = 1
    for (let i = 0; i < 10_000; i++) {
      const len = (seed = (seed * 48271) % 2147483647) % 64
      const body = Array.from({ length: len }, () => (seed = (seed * 48271) % 2147483647) & 0xff)
      expect(() => decodeRecord(new Uint8Array([...prefix, ...body]))).not.toThrow()
    }
    expect(() => encodeRecord({ kind: 'publish', drives: [], replicas: 1, durationBlocks: 1, budgetPlanck: 1n })).toThrow(RangeError)
  })

  it('refuses a storage reason that disagrees with ok, ranges beyond the signed root and network params over their limits', () => {
    expect(validateRecord({ kind: 'storage-report', challengeId: 1, ok: true, reason: 'MISSING_CHUNK' })).not.toBeNull()
    expect(validateRecord({ kind: 'storage-report', challengeId: 1, ok: false, reason: 'NONE' })).not.toBeNull()
    expect(validateRecord(publish(1n, 20))).toBeNull()
    expect(validateRecord({ kind: 'publish', drives: [drive(fx.roots[0], [[0, 21]])], replicas: 1, durationBlocks: 1, budgetPlanck: 1n })).toBe('range beyond the signed root')
    expect(validateRecord(network({ ...PARAMS, performanceAttestors: 6 }))).not.toBeNull()
    expect(validateRecord(network({ ...PARAMS, challengeIntervalBlocks: 1 }))).not.toBeNull()
    expect(validateRecord(network({ ...PARAMS, chunksPerContract: 0 }))).not.toBeNull()
  })
})

describe('marketplace state machine', () => {
  it('takes the first network record with its parameters and rejects everything before it and any later one', () => {
    const log = new Log()
    log.block([register(PROVIDERS[0])])
    expect(log.state.counters.rejected['no-network']).toBe(1)
    log.block([rec(OP, network()), rec(SPONSOR, { ...network(), escrow: SPONSOR } as MarketRecord)])
    expect(log.state.network?.escrow).toBe(ESCROW)
    expect(log.state.network?.params).toEqual(PARAMS)
    expect(log.state.counters.rejected.replayed).toBe(1)
  })

  it('cuts plans into contracts of the network record\'s chunksPerContract, each holding the root it was cut against', () => {
    const log = market({ ...PARAMS, chunksPerContract: 7 })
    const budget = 10_000n * PRICE
    log.block([rec(SPONSOR, publish(budget, 40, 1), pay(budget))])
    const contracts = Object.values(log.state.contracts)
    expect(contracts.map((c) => [c.start, c.end])).toEqual([[0, 7], [7, 14], [14, 21], [21, 28], [28, 35], [35, 40]])
    for (const c of contracts) expect(c.root).toEqual(fx.roots[1])
    expect(log.state.plans[1].drives[0].root).toEqual(fx.roots[1])
  })

  it('publishes a plan with its budget in escrow and selects distinct providers, never the sponsor', () => {
    const log = market()
    log.block([register(SPONSOR)])
    const budget = 10_000n * PRICE
    log.block([rec(SPONSOR, publish(budget), pay(budget))])
    const plan = log.state.plans[1]
    expect(plan.status).toBe('active')
    expect(plan.contractIds).toHaveLength(2)
    expect(conservation(log.state).inPlanck).toBe(budget)
    for (const cid of plan.contractIds) {
      const c = log.state.contracts[cid]
      const ids = [c.attestor, ...c.slots.flatMap((s) => [s.hoster, s.encoder])]
      expect(ids.every((x) => x !== null)).toBe(true)
      expect(new Set(ids).size).toBe(ids.length)
      expect(ids).not.toContain(SPONSOR)
      expect(c.slots.every((s) => s.state === 'setup')).toBe(true)
    }
  })

  it('rejects a publish whose signed root does not verify as bad-proof and keeps its value as unattributed', () => {
    const log = market()
    const budget = 1_000n * PRICE
    const forged = { ...fx.roots[0], treeHashHex: 'ee'.repeat(32) }
    const wrongKey = drive(other.roots[0], [[0, 20]], fx.keyHex)
    const out = log.block([
      rec(SPONSOR, { kind: 'publish', drives: [drive(forged, [[0, 20]])], replicas: 1, durationBlocks: 100, budgetPlanck: budget }, pay(budget)),
      rec(SPONSOR, { kind: 'publish', drives: [wrongKey], replicas: 1, durationBlocks: 100, budgetPlanck: budget }, pay(budget))
    ])
    expect(out.actions.map((a) => a.rejected[0]?.why)).toEqual(['bad-proof', 'bad-proof'])
    expect(Object.keys(log.state.plans)).toHaveLength(0)
    expect(log.state.escrow.unattributedInPlanck).toBe(2n * budget)
  })

  it('runs setup, challenges, reports, payouts and unpublish with a refund, conserving value on every block', () => {
    const log = market()
    const budget = 50_000n * PRICE
    log.block([rec(SPONSOR, publish(budget, 10, 2), pay(budget))])
    setupAll(log)
    expect(log.state.contracts[1].slots.every((s) => s.receiptsRootHex === RECEIPTS_ROOT)).toBe(true)
    let answered = 0
    for (let i = 0; i < 40; i++) {
      const actions: Array<Omit<Action, 'index'>> = []
      for (const ch of Object.values(log.state.challenges)) {
        if (ch.kind === 'storage') actions.push(storageOk(ch))
        else for (const a of ch.attestors) actions.push(perf(ch, a, true, 300, 1 << 20))
      }
      answered += actions.length
      log.block(actions)
    }
    expect(answered).toBeGreaterThanOrEqual(8)
    expect(log.state.counters.rejected).toEqual({})
    const items = owedItems(log.state, 256)
    const owedBefore = items.reduce((a, b) => a + b.amountPlanck, 0n)
    expect(new Set(items.map((i) => i.reason))).toEqual(new Set(['encoding', 'setup', 'storage-proof', 'performance-proof']))
    const per = new Map<string, bigint>()
    for (const it of items) per.set(it.to, (per.get(it.to) ?? 0n) + it.amountPlanck)
    const out = log.block([rec(ESCROW, { kind: 'payout', items: items.map((i) => i.id) }, [...per].map(([to, amountPlanck]) => ({ from: ESCROW, to, amountPlanck })))])
    expect(out.actions[0].applied).toHaveLength(1)
    expect(out.actions[0].transferLegs.flat().reduce((a, l) => a + l.amountPlanck, 0n)).toBe(owedBefore)
    log.block([rec(SPONSOR, { kind: 'unpublish', planId: 1 })])
    expect(log.state.plans[1].status).toBe('unpublished')
    const rest = owedItems(log.state, 256)
    expect(rest.filter((i) => i.reason === 'refund')).toHaveLength(1)
    const per2 = new Map<string, bigint>()
    for (const it of rest) per2.set(it.to, (per2.get(it.to) ?? 0n) + it.amountPlanck)
    log.block([rec(ESCROW, { kind: 'payout', items: rest.map((i) => i.id) }, [...per2].map(([to, amountPlanck]) => ({ from: ESCROW, to, amountPlanck })))])
    const k = conservation(log.state)
    expect(k.heldPlanck).toBe(0n)
    expect(k.payoutsPlanck + k.refundsPlanck).toBe(budget)
    expect(Object.values(log.state.providers).every((p) => p.jobs === 0 && p.usedBytes === 0)).toBe(true)
    expect(Object.keys(log.state.challenges)).toHaveLength(0)
  })

  it('rejects a whole setup report as bad-proof when one receipt is not the hoster\'s signature, changing nothing', () => {
    const log = withPlan(10, 2)
    const c = log.state.contracts[1]
    const before = serializeState(log.state)
    const stranger = providerKeys('stranger')
    const forged: SetupSlot = { ok: true, receiptsRootHex: RECEIPTS_ROOT, receiptHex: signReceipt(stranger.secretKey, 1, c.keyHex, c.root.length, RECEIPTS_ROOT) }
    const wrongRoot = setupSlots(log.state, 1)[1]
    const out = log.block([
      setupReport(log.state, 1, { 1: forged }),
      // a genuine receipt over another receipts root than the one reported
      rec(c.attestor as string, { kind: 'setup-report', contractId: 1, slots: [setupSlots(log.state, 1)[0], { ...wrongRoot, receiptsRootHex: '77'.repeat(32) } as SetupSlot] })
    ])
    expect(out.actions.map((a) => a.rejected[0]?.why)).toEqual(['bad-proof', 'bad-proof'])
    const after = deserializeState(before)
    expect(log.state.contracts[1]).toEqual(after.contracts[1])
    expect(Object.keys(log.state.owed)).toHaveLength(0)
  })

  it('blames the encoder for a bad encoding: the encoder is penalised and replaced, the hoster keeps its slot unpenalised', () => {
    const log = withPlan(10, 1)
    const slot = log.state.contracts[1].slots[0]
    const hoster = slot.hoster as string
    const encoder = slot.encoder as string
    const [hRep, eRep] = [rep(log.state, hoster), rep(log.state, encoder, 'encoder')]
    log.block([setupReport(log.state, 1, { 0: { ok: false, reason: 'bad-encoding' } })])
    const after = log.state.contracts[1].slots[0]
    expect(after.hoster).toBe(hoster)
    expect(after.state).toBe('setup')
    expect(after.encoder).not.toBeNull()
    expect(after.encoder).not.toBe(encoder)
    expect(after.blamed).toEqual([encoder])
    expect(rep(log.state, hoster)).toBe(hRep)
    expect(rep(log.state, encoder, 'encoder')).toBe(eRep - MARKET_PARAMS.penalties.failedSetup)
    expect(rep(log.state, encoder)).toBe(hRep)
    // the hoster's storage stays taken once, the old encoder's job is released
    expect(log.state.providers[hoster].usedBytes).toBe(10 * MARKET_PARAMS.chunkBytes)
    expect(log.state.providers[encoder].jobs).toBe(0)
  })

  it('blames the hoster for a refusal: the hoster is penalised and the slot gets a new hoster and encoder, the encoder unpenalised', () => {
    const log = withPlan(10, 1)
    const slot = log.state.contracts[1].slots[0]
    const hoster = slot.hoster as string
    const encoder = slot.encoder as string
    const [hRep, eRep] = [rep(log.state, hoster), rep(log.state, encoder)]
    log.block([setupReport(log.state, 1, { 0: { ok: false, reason: 'hoster-refused' } })])
    const after = log.state.contracts[1].slots[0]
    expect(after.hoster).not.toBeNull()
    expect(after.hoster).not.toBe(hoster)
    expect(after.state).toBe('setup')
    expect(rep(log.state, hoster)).toBe(hRep - MARKET_PARAMS.penalties.failedSetup)
    expect(rep(log.state, encoder)).toBe(eRep)
    expect(log.state.providers[hoster].usedBytes).toBe(0)
  })

  it('issues one storage challenge and one performance check per slot per interval, half an interval apart', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    const issued: Array<{ kind: string, block: number }> = []
    for (let i = 0; i < 4 * PARAMS.challengeIntervalBlocks; i++) {
      const actions: Array<Omit<Action, 'index'>> = []
      for (const ch of Object.values(log.state.challenges)) {
        if (ch.kind === 'storage') actions.push(storageOk(ch))
        else for (const a of ch.attestors) actions.push(perf(ch, a, true))
      }
      const out = log.block(actions)
      for (const id of out.newChallenges) issued.push({ kind: log.state.challenges[id].kind, block: out.number })
    }
    const storage = issued.filter((x) => x.kind === 'storage').map((x) => x.block)
    const perfs = issued.filter((x) => x.kind === 'performance').map((x) => x.block)
    expect(storage.length).toBe(4)
    expect(perfs.length).toBe(4)
    for (let i = 1; i < 4; i++) expect(storage[i] - storage[i - 1]).toBe(PARAMS.challengeIntervalBlocks)
    const gap = ((perfs[0] - storage[0]) % PARAMS.challengeIntervalBlocks + PARAMS.challengeIntervalBlocks) % PARAMS.challengeIntervalBlocks
    expect(gap).toBe(PARAMS.challengeIntervalBlocks / 2)
    expect(log.state.counters.rejected).toEqual({})
  })

  it('puts a slot in containment after one failed storage report and re-challenges it at once through a different attestor, without penalty', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'storage').length > 0)
    const ch = openOf(log.state, 'storage')[0]
    const hRep = rep(log.state, ch.hoster)
    const out = log.block([storageFail(ch)])
    const slot = log.state.contracts[1].slots[0]
    expect(slot.hoster).toBe(ch.hoster)
    expect(slot.strikes.storage).toBe(1)
    expect(slot.accusers.storage).toEqual(ch.attestors)
    expect(rep(log.state, ch.hoster)).toBe(hRep)
    const recheck = openOf(log.state, 'storage')[0]
    expect(out.newChallenges).toContain(recheck.id)
    expect(recheck.recheck).toBe(true)
    expect(recheck.issuedAt).toBe(out.number)
    expect(recheck.attestors[0]).not.toBe(ch.attestors[0])
    expect([ch.hoster, SPONSOR]).not.toContain(recheck.attestors[0])
  })

  it('replaces a hoster once three independent attestors in a row report its storage failed (a confirmed failure)', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'storage').length > 0)
    const first = openOf(log.state, 'storage')[0]
    const hoster = first.hoster
    const hRep = rep(log.state, hoster)
    log.block([storageFail(first)])
    const second = openOf(log.state, 'storage')[0]
    log.block([storageFail(second)])
    expect(log.state.contracts[1].slots[0].hoster).toBe(hoster)
    const third = openOf(log.state, 'storage')[0]
    expect(new Set([first, second, third].map((c) => c.attestors[0])).size).toBe(3)
    const out = log.block([storageFail(third)])
    expect(rep(log.state, hoster)).toBe(hRep - MARKET_PARAMS.penalties.failedProof)
    expect(log.state.contracts[1].slots[0].hoster).not.toBe(hoster)
    expect(log.state.contracts[1].slots[0].strikes.storage).toBe(0)
    expect(out.notices.some((n) => n.includes(`hoster ${hoster}`) && n.includes('replaced'))).toBe(true)
    expect(log.state.providers[hoster].usedBytes).toBe(0)
  })

  it('never gives a replaced hoster the same slot again, even when no other hoster has room', () => {
    // only p1 has room for a contract: it gets the slot, and after its replacement the slot waits
    const log = new Log()
    log.block([rec(OP, network())])
    log.block(PROVIDERS.map((p, i) => register(p, i === 0 ? 1 << 30 : 1024)))
    const budget = 1_000_000n * PRICE
    log.block([rec(SPONSOR, publish(budget, 10, 1), pay(budget))])
    setupAll(log)
    const hoster = log.state.contracts[1].slots[0].hoster
    expect(hoster).toBe(PROVIDERS[0])
    log.until(() => openOf(log.state, 'storage').length > 0)
    for (let n = 0; n < MARKET_PARAMS.disputeFails; n++) log.block([storageFail(openOf(log.state, 'storage')[0])])
    for (let i = 0; i < 5; i++) log.block()
    const slot = log.state.contracts[1].slots[0]
    expect(slot.blamed).toContain(PROVIDERS[0])
    expect(slot.hoster).toBeNull()
    expect(slot.state).toBe('unassigned')
  })

  it('remembers a penalised provider\'s reputation when it unregisters and registers again', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'storage').length > 0)
    const hoster = openOf(log.state, 'storage')[0].hoster
    for (let n = 0; n < MARKET_PARAMS.disputeFails; n++) log.block([storageFail(openOf(log.state, 'storage')[0])])
    const penalised = rep(log.state, hoster)
    expect(penalised).toBeLessThan(MARKET_PARAMS.reputationStart)
    log.block([rec(hoster, { kind: 'unregister' })])
    expect(log.state.providers[hoster]).toBeUndefined()
    log.block([register(hoster)])
    expect(rep(log.state, hoster)).toBe(penalised)
    // a provider that leaves in good standing comes back at the start value
    const good = PROVIDERS.find((p) => p !== hoster && rep(log.state, p) >= MARKET_PARAMS.reputationStart) as string
    log.block([rec(good, { kind: 'unregister' })])
    log.block([register(good)])
    expect(rep(log.state, good)).toBe(MARKET_PARAMS.reputationStart)
  })

  it('costs a lying accuser attestor reputation, never hoster reputation, when two independent re-checks pass the hoster it failed', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'storage').length > 0)
    const lie = openOf(log.state, 'storage')[0]
    const liar = lie.attestors[0]
    const [hRep, lRep, lAtt] = [rep(log.state, lie.hoster), rep(log.state, liar), rep(log.state, liar, 'attestor')]
    const outs = [log.block([storageFail(lie)])]
    for (let n = 0; n < MARKET_PARAMS.disputePasses; n++) outs.push(log.block([storageOk(openOf(log.state, 'storage')[0])]))
    const slot = log.state.contracts[1].slots[0]
    expect(slot.hoster).toBe(lie.hoster)
    expect(slot.strikes.storage).toBe(0)
    expect(slot.accusers.storage).toEqual([])
    expect(outs.flatMap((o) => o.penalties).map((p) => [p.address, p.role, p.reason])).toEqual([[liar, 'attestor', 'lostDispute']])
    expect(rep(log.state, liar)).toBe(lRep)
    expect(rep(log.state, liar, 'attestor')).toBe(lAtt + MARKET_PARAMS.rewardsOnReport - MARKET_PARAMS.penalties.lostDispute)
    expect(rep(log.state, lie.hoster)).toBe(hRep + MARKET_PARAMS.disputePasses * MARKET_PARAMS.rewardsOnSuccess)
  })

  it('rests an attestor from attesting after three unconfirmed accusations of unreachability in a row, keeping its reputations and its other roles', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    const accuser = openOf(log.state, 'performance').length > 0 ? openOf(log.state, 'performance')[0].attestors[0] : PROVIDERS.find((p) => p !== log.state.contracts[1].slots[0].hoster) as string
    // everyone else answers every challenge honestly, in time; the accuser answers its performance checks honestly too
    const honest = (): Array<Omit<Action, 'index'>> => Object.values(log.state.challenges).flatMap((c) => c.kind === 'storage'
      ? (c.attestors.includes(accuser) ? [] : [storageOk(c)])
      : c.attestors.filter((a) => !c.reports.some((r) => r.attestor === a)).map((a) => perf(c, a, true)))
    const repBefore = [rep(log.state, accuser), rep(log.state, accuser, 'attestor')]
    for (let n = 0; n < MARKET_PARAMS.unconfirmedLimit; n++) {
      log.until(() => openOf(log.state, 'storage').some((c) => c.attestors.includes(accuser)), 400, honest)
      const ch = openOf(log.state, 'storage').find((c) => c.attestors.includes(accuser)) as Challenge
      log.block([rec(accuser, { kind: 'storage-report', challengeId: ch.id, ok: false, reason: 'UNREACHABLE' })])
      for (let k = 0; k < MARKET_PARAMS.disputePasses; k++) {
        const recheck = openOf(log.state, 'storage').find((c) => c.recheck) as Challenge
        expect(recheck.attestors).not.toContain(accuser)
        log.block([storageOk(recheck)])
      }
    }
    const p = log.state.providers[accuser]
    expect(p.attestSuspendedUntil).toBe(log.number + MARKET_PARAMS.attestSuspensionBlocks)
    expect(p.unconfirmed).toBe(0)
    expect(p.reputation).toBeGreaterThanOrEqual(repBefore[0])
    expect(rep(log.state, accuser, 'attestor')).toBeGreaterThanOrEqual(repBefore[1])
    expect(p.roles).toBe(7)
    // it is not chosen for any challenge while rested
    const chosen: string[] = []
    for (let i = 0; i < 100; i++) {
      const out = log.block(honest())
      for (const id of out.newChallenges) chosen.push(...(log.state.challenges[id]?.attestors ?? []))
    }
    expect(chosen.length).toBeGreaterThan(0)
    expect(chosen).not.toContain(accuser)
  })

  it('costs nobody anything when a storage failure about timing is not confirmed by the re-checks (unreachable or late now, answering later: both can be true)', () => {
    for (const reason of ['UNREACHABLE', 'DEADLINE_MISSED'] as const) {
      const log = withPlan(10, 1)
      setupAll(log)
      log.until(() => openOf(log.state, 'storage').length > 0)
      const ch = openOf(log.state, 'storage')[0]
      const accuser = ch.attestors[0]
      const [hRep, aRep] = [rep(log.state, ch.hoster), rep(log.state, accuser, 'attestor')]
      const outs = [log.block([rec(accuser, { kind: 'storage-report', challengeId: ch.id, ok: false, reason })])]
      expect(log.state.contracts[1].slots[0].strikes.storage).toBe(1)
      for (let n = 0; n < MARKET_PARAMS.disputePasses; n++) outs.push(log.block([storageOk(openOf(log.state, 'storage')[0])]))
      expect(log.state.contracts[1].slots[0].strikes.storage).toBe(0)
      expect(outs.flatMap((o) => o.penalties)).toEqual([])
      expect(rep(log.state, accuser, 'attestor')).toBe(aRep + MARKET_PARAMS.rewardsOnReport)
      expect(log.state.providers[accuser].unconfirmed).toBe(1)
      expect(rep(log.state, ch.hoster)).toBe(hRep + MARKET_PARAMS.disputePasses * MARKET_PARAMS.rewardsOnSuccess)
    }
  })

  it('lists every penalty in the block outcome with its role and reason, so a provider can be told why', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'storage').length > 0)
    const lie = openOf(log.state, 'storage')[0]
    log.block([storageFail(lie)])
    log.block([storageFail(openOf(log.state, 'storage')[0])])
    const last = openOf(log.state, 'storage')[0]
    const out = log.block([rec(last.attestors[0], { kind: 'storage-report', challengeId: last.id, ok: false, reason: 'MISSING_CHUNK' })])
    expect(out.penalties).toEqual([{ address: lie.hoster, role: 'hoster', reason: 'failedProof', amount: MARKET_PARAMS.penalties.failedProof, detail: 'storage of contract 1 slot 0 (MISSING_CHUNK)' }])
    // a confirmed accusation ends the accuser's unconfirmed streak
    expect(log.state.providers[lie.attestors[0]].unconfirmed ?? 0).toBe(0)
  })

  it('costs the accusers nothing when a failed performance check is followed by a passing re-check (a reading of the moment, not a lie)', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'performance').length > 0)
    const ch = openOf(log.state, 'performance')[0]
    const accusers = ch.attestors.slice(1)
    const before = accusers.map((a) => rep(log.state, a))
    log.block(ch.attestors.map((a, i) => perf(ch, a, i === 0)))
    expect(log.state.contracts[1].slots[0].strikes.performance).toBe(1)
    log.until(() => openOf(log.state, 'performance').length > 0, 30, () => openOf(log.state, 'storage').map(storageOk))
    const recheck = openOf(log.state, 'performance')[0]
    const out = log.block(recheck.attestors.map((a) => perf(recheck, a, true)))
    expect(log.state.contracts[1].slots[0].strikes.performance).toBe(0)
    expect(log.state.contracts[1].slots[0].hoster).toBe(ch.hoster)
    expect(out.penalties).toEqual([])
    expect(accusers.map((a) => rep(log.state, a))).toEqual(before)
  })

  it('re-checks through yet another attestor when a containment re-check expires without a report', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'storage').length > 0)
    const first = openOf(log.state, 'storage')[0]
    log.block([storageFail(first)])
    const recheck = openOf(log.state, 'storage')[0]
    const aRep = rep(log.state, recheck.attestors[0], 'attestor')
    log.until(() => log.state.challenges[recheck.id] === undefined, PARAMS.challengeTimeoutBlocks + 1)
    expect(rep(log.state, recheck.attestors[0], 'attestor')).toBe(aRep - MARKET_PARAMS.penalties.missedReport)
    const again = openOf(log.state, 'storage')[0]
    expect(again.recheck).toBe(true)
    expect([first.attestors[0], recheck.attestors[0]]).not.toContain(again.attestors[0])
    expect(log.state.contracts[1].slots[0].strikes.storage).toBe(1)
  })

  it('gives a performance check several distinct attestors, never the hoster or sponsor, and grades it from the medians', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'performance').length > 0)
    const ch = openOf(log.state, 'performance')[0]
    expect(ch.attestors).toHaveLength(PARAMS.performanceAttestors)
    expect(new Set(ch.attestors).size).toBe(ch.attestors.length)
    expect(ch.attestors).not.toContain(ch.hoster)
    expect(ch.attestors).not.toContain(SPONSOR)
    const owedBefore = Object.keys(log.state.owed).length
    // medians: ttfb 400 ms (of 100, 400, 1200), throughput 2 MiB/s (of 8 MiB/s, 2 MiB/s, 100 KiB/s)
    log.block([perf(ch, ch.attestors[0], true, 100, 8 << 20), perf(ch, ch.attestors[1], true, 400, 2 << 20)])
    expect(log.state.challenges[ch.id].reports).toHaveLength(2)
    log.block([perf(ch, ch.attestors[2], true, 1200, 100 << 10)])
    expect(log.state.challenges[ch.id]).toBeUndefined()
    const paid = Object.values(log.state.owed).slice(owedBefore)
    const hosterItem = paid.find((i) => i.to === ch.hoster)
    expect(hosterItem?.amountPlanck).toBe(performanceUnits(400, 2 << 20) * PRICE)
    expect(paid.filter((i) => ch.attestors.includes(i.to)).map((i) => i.amountPlanck)).toEqual(ch.attestors.map(() => MARKET_PARAMS.units.challengeAttest * PRICE))
  })

  it('rejects a second report of the same attestor as replayed and a reused measure key as bad-value', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'performance').length > 0)
    const ch = openOf(log.state, 'performance')[0]
    const out = log.block([
      perf(ch, ch.attestors[0], true, 50, 8 << 20, MEASURE(1)),
      perf(ch, ch.attestors[0], true, 50, 8 << 20, MEASURE(2)),
      perf(ch, ch.attestors[1], true, 50, 8 << 20, MEASURE(1)),
      perf(ch, ch.hoster, true, 50, 8 << 20, MEASURE(3))
    ])
    expect(out.actions.map((a) => a.rejected[0]?.why)).toEqual([undefined, 'replayed', 'bad-value', 'wrong-signer'])
    expect(log.state.challenges[ch.id].reports.map((r) => r.attestor)).toEqual([ch.attestors[0]])
  })

  it('settles a performance check at its deadline from the reports it has and penalises the attestors that did not report', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'performance').length > 0)
    const ch = openOf(log.state, 'performance')[0]
    const silent = ch.attestors[2]
    const sRep = rep(log.state, silent, 'attestor')
    log.block([perf(ch, ch.attestors[0], true), perf(ch, ch.attestors[1], true)])
    expect(log.state.challenges[ch.id]).toBeDefined()
    const owedBefore = Object.keys(log.state.owed).length
    log.until(() => log.state.challenges[ch.id] === undefined, PARAMS.challengeTimeoutBlocks + 1)
    expect(rep(log.state, silent, 'attestor')).toBe(sRep - MARKET_PARAMS.penalties.missedReport)
    expect(Object.values(log.state.owed).slice(owedBefore).some((i) => i.to === ch.hoster && i.reason === 'performance-proof')).toBe(true)
  })

  it('fails a performance check only on a strict majority of unreachable reports, then contains and on a second failure replaces the hoster', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'performance').length > 0)
    const ch = openOf(log.state, 'performance')[0]
    const hoster = ch.hoster
    // one of three unreachable: a pass
    log.block(ch.attestors.map((a, i) => perf(ch, a, i !== 0)))
    expect(log.state.contracts[1].slots[0].strikes.performance).toBe(0)
    log.until(() => openOf(log.state, 'performance').length > 0, 30, () => openOf(log.state, 'storage').map(storageOk))
    const ch2 = openOf(log.state, 'performance')[0]
    log.block(ch2.attestors.map((a, i) => perf(ch2, a, i === 0)))
    const slot = log.state.contracts[1].slots[0]
    expect(slot.strikes.performance).toBe(1)
    expect(slot.accusers.performance).toEqual(ch2.attestors.slice(1))
    // no re-check at once: the slot's next scheduled check, an interval later, is the re-check
    const failedAt = log.number
    expect(openOf(log.state, 'performance')).toEqual([])
    log.until(() => openOf(log.state, 'performance').length > 0, 30, () => openOf(log.state, 'storage').map(storageOk))
    const recheck = openOf(log.state, 'performance')[0]
    expect(recheck.issuedAt - failedAt).toBeGreaterThanOrEqual(PARAMS.challengeIntervalBlocks - PARAMS.challengeTimeoutBlocks)
    for (const a of ch2.attestors.slice(1)) expect(recheck.attestors).not.toContain(a)
    const hRep = rep(log.state, hoster)
    log.block(recheck.attestors.map((a) => perf(recheck, a, false, 600_000, 0)))
    expect(log.state.contracts[1].slots[0].hoster).not.toBe(hoster)
    expect(rep(log.state, hoster)).toBe(hRep - MARKET_PARAMS.penalties.failedProof)
  })

  it('decides nothing on a lone unreachable report when the other attestors of the check missed the deadline', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'performance').length > 0)
    const ch = openOf(log.state, 'performance')[0]
    const hRep = rep(log.state, ch.hoster)
    const silent = ch.attestors.slice(1).map((a) => [a, rep(log.state, a, 'attestor')] as const)
    log.block([perf(ch, ch.attestors[0], false, 600_000, 0)])
    const owedBefore = Object.keys(log.state.owed).length
    log.until(() => log.state.challenges[ch.id] === undefined, PARAMS.challengeTimeoutBlocks + 1)
    const slot = log.state.contracts[1].slots[0]
    expect(slot.hoster).toBe(ch.hoster)
    expect(slot.strikes.performance).toBe(0)
    expect(rep(log.state, ch.hoster)).toBe(hRep)
    expect(Object.values(log.state.owed).slice(owedBefore).some((i) => i.to === ch.hoster && i.reason === 'performance-proof')).toBe(false)
    for (const [a, r] of silent) expect(rep(log.state, a, 'attestor')).toBe(r - MARKET_PARAMS.penalties.missedReport)
  })

  it('grades performance by the lower of the time-to-first-byte and throughput scores', () => {
    const { performanceMax: hi, performanceMin: lo } = MARKET_PARAMS.units
    expect(performanceUnits(50, 8 << 20)).toBe(hi)
    expect(performanceUnits(1500, 8 << 20)).toBe(lo)
    expect(performanceUnits(50, 64 << 10)).toBe(lo)
    expect(performanceUnits(800, 8 << 20)).toBe(lo + (hi - lo) / 2n)
    const halfBps = (64 << 10) + ((4 << 20) - (64 << 10)) / 2
    expect(performanceUnits(50, halfBps)).toBe(lo + (hi - lo) / 2n)
    // both half: the lower wins (equal here); a slow first byte caps a fast transfer
    expect(performanceUnits(1000, 8 << 20)).toBeLessThan(performanceUnits(500, 8 << 20))
  })

  it('drops a provider that falls below the hoster reputation floor from every hosting slot and never gives it one again, keeping its other roles', () => {
    const log = withPlan(20, 2)
    setupAll(log)
    const victim = log.state.contracts[1].slots[0].hoster as string
    log.state.providers[victim].reputation = MARKET_PARAMS.reputationFloor + 5
    // a pause costs 10 reputation: below the floor
    const out = log.block([rec(victim, { kind: 'pause', blocks: 1 })])
    expect(out.notices.some((n) => n.includes(victim) && n.includes('reputation floor'))).toBe(true)
    for (let i = 0; i < 5; i++) log.block()
    for (const c of Object.values(log.state.contracts)) expect(c.slots.map((s) => s.hoster)).not.toContain(victim)
    expect(Object.values(log.state.challenges).every((ch) => ch.hoster !== victim)).toBe(true)
    expect(log.state.providers[victim].usedBytes).toBe(0)
    expect(rep(log.state, victim, 'attestor')).toBeGreaterThanOrEqual(MARKET_PARAMS.reputationFloor)
  })

  it('extends an active plan with an update: newer root, merged ranges, new contracts against the new root and a budget top-up', () => {
    const budget = 10_000n * PRICE
    const log = withPlan(20, 1, budget)
    setupAll(log)
    const topUp = 5_000n * PRICE
    const out = log.block([rec(SPONSOR, { kind: 'update', planId: 1, drives: [drive(fx.roots[1], [[20, 40]])], budgetPlanck: topUp }, pay(topUp))])
    expect(out.actions[0].applied).toEqual([{ kind: 'update', ref: 'plan:1' }])
    expect(out.actions[0].transferLegs[0][0].reason).toBe('budget')
    const plan = log.state.plans[1]
    expect(plan.drives[0].root).toEqual(fx.roots[1])
    expect(plan.drives[0].ranges).toEqual([[0, 40]])
    expect(plan.budgetPlanck).toBe(budget + topUp)
    expect(plan.contractIds).toHaveLength(4)
    const added = plan.contractIds.slice(2).map((id) => log.state.contracts[id])
    expect(added.map((c) => [c.start, c.end])).toEqual([[20, 30], [30, 40]])
    for (const c of added) expect(c.root).toEqual(fx.roots[1])
    // the old contracts keep the root they were cut against
    expect(log.state.contracts[plan.contractIds[0]].root).toEqual(fx.roots[0])
    // an update without a budget moves no value
    const out2 = log.block([rec(SPONSOR, { kind: 'update', planId: 1, drives: [drive(fx.roots[2], [[40, 50]])], budgetPlanck: 0n })])
    expect(out2.actions[0].rejected).toEqual([])
    expect(log.state.plans[1].drives[0].ranges).toEqual([[0, 50]])
  })

  it('rejects updates from others, to inactive plans, of other cores, forks, shorter roots, overlapping ranges, forged roots, wrong value and over the contract limit', () => {
    const budget = 10_000n * PRICE
    const log = withPlan(20, 1, budget)
    log.block([rec(SPONSOR, { kind: 'update', planId: 1, drives: [drive(fx.roots[1], [[20, 40]])], budgetPlanck: 0n })])
    const u = (drives: ReturnType<typeof drive>[], budgetPlanck = 0n, planId = 1): MarketRecord => ({ kind: 'update', planId, drives, budgetPlanck })
    const before = serializeState(log.state)
    const cases: Array<[Omit<Action, 'index'>, string]> = [
      [rec(PROVIDERS[0], u([drive(fx.roots[2], [[40, 50]])])), 'wrong-signer'],
      [rec(SPONSOR, u([drive(fx.roots[2], [[40, 50]])], 0n, 9)), 'out-of-order'],
      [rec(SPONSOR, u([drive(other.roots[0], [[0, 10]], other.keyHex)])), 'unknown-ref'],
      [rec(SPONSOR, u([drive({ ...fx.roots[2], fork: 1 }, [[40, 50]])])), 'bad-value'],
      [rec(SPONSOR, u([drive(fx.roots[0], [[0, 5]])])), 'bad-value'],
      [rec(SPONSOR, u([drive(fx.roots[2], [[35, 45]])])), 'bad-value'],
      [rec(SPONSOR, u([drive({ ...fx.roots[2], signatureHex: '00'.repeat(64) }, [[40, 50]])])), 'bad-proof'],
      [rec(SPONSOR, u([drive(fx.roots[2], [[40, 50]])], 5n), pay(4n)), 'bad-value'],
      [rec(SPONSOR, u([drive(fx.roots[2], [[40, 50]])], 0n), pay(5n)), 'bad-value']
    ]
    const out = log.block(cases.map(([a]) => a))
    expect(out.actions.map((a) => a.rejected[0]?.why)).toEqual(cases.map(([, why]) => why))
    const now = deserializeState(serializeState(log.state))
    const was = deserializeState(before)
    expect(now.plans).toEqual(was.plans)
    expect(Object.keys(now.contracts)).toEqual(Object.keys(was.contracts))
    log.block([rec(SPONSOR, { kind: 'unpublish', planId: 1 })])
    const late = log.block([rec(SPONSOR, u([drive(fx.roots[2], [[40, 50]])]))])
    expect(late.actions[0].rejected[0]?.why).toBe('not-allowed')
    // the contract limit counts the plan's existing contracts too: 20 + 1005 > 1024 at one block per contract
    const small = market({ ...PARAMS, chunksPerContract: 1 })
    small.block([rec(SPONSOR, publish(budget, 20, 1), pay(budget))])
    const over = small.block([rec(SPONSOR, u([drive(fx.roots[2], [[995, 2000]])]))])
    expect(over.actions[0].rejected[0]?.why).toBe('over-limits')
    const fits = small.block([rec(SPONSOR, u([drive(fx.roots[2], [[996, 2000]])]))])
    expect(fits.actions[0].rejected).toEqual([])
    expect(small.state.plans[1].contractIds).toHaveLength(MARKET_PARAMS.contractsPerPlan)
  })

  it('reports each record\'s own outcome in batch order, and the same reason for all when the action is refused', () => {
    const log = withPlan(10, 1)
    const c = log.state.contracts[1]
    const attestor = c.attestor as string
    const batch: Omit<Action, 'index'> = {
      signer: attestor,
      remarks: [
        encodeRecord({ kind: 'storage-report', challengeId: 999, ok: true, reason: 'NONE' }),
        encodeRecord({ kind: 'setup-report', contractId: 1, slots: setupSlots(log.state, 1) }),
        new TextEncoder().encode('datdot/2 \u00ff')
      ],
      transfers: []
    }
    const out = log.block([batch, { signer: attestor, remarks: Array.from({ length: 33 }, () => encodeRecord({ kind: 'unpause' })), transfers: [] }])
    expect(out.actions[0].records.map((r) => (r.ok ? `ok ${r.ref}` : r.why))).toEqual(['out-of-order', 'ok contract:1', 'malformed'])
    expect(out.actions[1].records).toHaveLength(33)
    expect(out.actions[1].records.every((r) => !r.ok && r.why === 'over-limits')).toBe(true)
  })

  it('rejects and counts hostile records without crashing', () => {
    const log = market()
    const budget = 1_000n * PRICE
    log.block([rec(SPONSOR, publish(budget, 10, 1), pay(budget))])
    const attestor = log.state.contracts[1].attestor as string
    const outsider = PROVIDERS.find((p) => p !== attestor) as string
    const prefix = new TextEncoder().encode(RECORD_PREFIX)
    log.block([
      { signer: outsider, remarks: [new Uint8Array([...prefix, 0xff, 0xff])], transfers: [] }, // malformed
      { signer: outsider, remarks: [new TextEncoder().encode('datdot/9 future')], transfers: [] }, // unknown version
      rec(outsider, { kind: 'setup-report', contractId: 1, slots: setupSlots(log.state, 1) }), // wrong signer
      rec(attestor, { kind: 'storage-report', challengeId: 999, ok: true, reason: 'NONE' }), // out of order (future)
      { signer: outsider, remarks: Array.from({ length: 33 }, () => encodeRecord({ kind: 'unpause' })), transfers: [] }, // over limits
      rec(SPONSOR, publish(budget), pay(budget - 1n)), // bad value
      rec(outsider, { kind: 'payout', items: [1] }), // wrong signer
      rec(outsider, { kind: 'unpublish', planId: 1 }) // wrong signer
    ])
    log.block([setupReport(log.state, 1)])
    log.block([rec(attestor, { kind: 'setup-report', contractId: 1, slots: setupSlots(log.state, 1) })]) // replayed
    expect(log.state.counters.rejected).toEqual({ malformed: 1, 'unknown-version': 1, 'wrong-signer': 3, 'out-of-order': 1, 'over-limits': 1, 'bad-value': 1, replayed: 1 })
    expect(Object.keys(log.state.plans)).toHaveLength(1)
    expect(log.state.escrow.unattributedInPlanck).toBe(budget - 1n)
    const items = owedItems(log.state, 10)
    log.block([rec(ESCROW, { kind: 'payout', items: items.map((i) => i.id) }, [{ from: ESCROW, to: SPONSOR, amountPlanck: 1n }])])
    expect(log.state.counters.rejected['bad-value']).toBe(2)
    expect(log.state.escrow.unaccountedOutPlanck).toBe(1n)
  })

  it('penalises the attestor of a storage challenge that expires without a report and leaves the hoster alone', () => {
    const log = withPlan(10, 1)
    setupAll(log)
    log.until(() => openOf(log.state, 'storage').length > 0)
    const ch = openOf(log.state, 'storage')[0]
    const [aRep, hRep] = [rep(log.state, ch.attestors[0], 'attestor'), rep(log.state, ch.hoster)]
    log.until(() => log.state.challenges[ch.id] === undefined, PARAMS.challengeTimeoutBlocks + 1)
    expect(rep(log.state, ch.attestors[0], 'attestor')).toBe(aRep - MARKET_PARAMS.penalties.missedReport)
    expect(rep(log.state, ch.hoster)).toBe(hRep)
    expect(log.state.contracts[1].slots[0].strikes.storage).toBe(0)
  })

  it('derives the identical state from the same log, and from a snapshot plus the rest of the log', () => {
    const log = market()
    const budget = 50_000n * PRICE
    log.block([rec(SPONSOR, publish(budget, 40, 3), pay(budget))])
    setupAll(log)
    for (let i = 0; i < 30; i++) {
      log.block(Object.values(log.state.challenges).flatMap((ch) => ch.kind === 'storage' ? [ch.id % 3 === 0 ? storageFail(ch) : storageOk(ch)] : ch.attestors.map((a) => perf(ch, a, true, 200, 1 << 20))))
    }
    const replay = initialState()
    let snapshot = ''
    log.blocks.forEach((b, i) => { applyBlock(replay, b); if (i === 10) snapshot = serializeState(replay) })
    expect(stateDigest(replay)).toBe(stateDigest(log.state))
    const resumed = deserializeState(snapshot)
    for (const b of log.blocks.slice(11)) applyBlock(resumed, b)
    expect(stateDigest(resumed)).toBe(stateDigest(log.state))
    const other = initialState()
    for (const b of log.blocks) applyBlock(other, { ...b, hash: b.hash.replace(/.$/, 'f'), parentHash: other.block?.hash ?? b.parentHash })
    expect(stateDigest(other)).not.toBe(stateDigest(log.state))
  })

  it('refuses blocks out of order as a caller error', () => {
    const log = market()
    const b = { number: log.number + 2, hash: '0x01', parentHash: log.hash, timeMs: 0, actions: [] }
    expect(() => applyBlock(log.state, b)).toThrow(/does not follow/)
  })
})
