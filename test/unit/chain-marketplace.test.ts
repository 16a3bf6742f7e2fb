import { describe, it, expect } from 'vitest'
import { createHash } from 'node:crypto'
import { encodeRecord, decodeRecord, RECORD_PREFIX, type MarketRecord } from '../../main/chain/records.js'
import {
  applyBlock, initialState, conservation, stateDigest, serializeState, deserializeState, owedItems,
  performanceUnits, MARKET_PARAMS, type Action, type BlockInput, type MarketState, type Transfer
} from '../../main/chain/marketplace.js'

const acct = (name: string): string => '0x' + createHash('sha256').update(name).digest('hex')
const OP = acct('operator')
const ESCROW = acct('escrow')
const SPONSOR = acct('sponsor')
const PROVIDERS = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map(acct)
const KEY = 'ab'.repeat(32)
const PRICE = 1_000_000n

/** Builds a chain of blocks and applies them, checking conservation after each. */
class Log {
  state: MarketState = initialState()
  blocks: BlockInput[] = []
  number = 0
  hash = '0x' + '00'.repeat(32)
  block (actions: Array<Omit<Action, 'index'>> = []): ReturnType<typeof applyBlock> {
    const number = ++this.number
    const hash = '0x' + createHash('sha256').update(`block ${number} ${this.hash}`).digest('hex')
    const b: BlockInput = { number, hash, parentHash: this.hash, timeMs: 1_700_000_000_000 + number * 6000, actions: actions.map((a, index) => ({ ...a, index: index + 1 })) }
    this.hash = hash
    this.blocks.push(b)
    const out = applyBlock(this.state, b)
    expect(conservation(this.state).ok).toBe(true)
    return out
  }
}

const rec = (signer: string, r: MarketRecord, transfers: Transfer[] = []): Omit<Action, 'index'> => ({ signer, remarks: [encodeRecord(r)], transfers })
const register = (who: string, storageBytes = 1 << 30): Omit<Action, 'index'> =>
  rec(who, { kind: 'register', roles: 7, storageBytes, bandwidthBps: 1e6, region: 'eu', noiseKeyHex: who.slice(2) })
const network: MarketRecord = { kind: 'network', operators: [OP], threshold: 1, escrow: ESCROW, unitPricePlanck: PRICE }
const publish = (budget: bigint, chunks = 20, replicas = 2): MarketRecord =>
  ({ kind: 'publish', drives: [{ keyHex: KEY, ranges: [[0, chunks]] }], replicas, durationBlocks: 200, budgetPlanck: budget })

function market (): Log {
  const log = new Log()
  log.block([rec(OP, network)])
  log.block(PROVIDERS.map((p) => register(p)))
  return log
}

describe('record codec', () => {
  it('round-trips every record kind and starts with the versioned prefix', () => {
    const all: MarketRecord[] = [
      network,
      { kind: 'register', roles: 3, storageBytes: 2 ** 40, bandwidthBps: 123, region: 'ärea', noiseKeyHex: 'cd'.repeat(32) },
      { kind: 'unregister' },
      publish(10n ** 30n),
      { kind: 'unpublish', planId: 7 },
      { kind: 'pause', blocks: 60 },
      { kind: 'unpause' },
      { kind: 'setup-report', contractId: 3, slotsOk: [true, false, true] },
      { kind: 'storage-report', challengeId: 99, ok: true },
      { kind: 'performance-report', challengeId: 100, ok: false, latencyMs: 1234 },
      { kind: 'payout', items: [1, 2, 300000] }
    ]
    for (const r of all) {
      const bytes = encodeRecord(r)
      expect(new TextDecoder().decode(bytes.subarray(0, RECORD_PREFIX.length))).toBe(RECORD_PREFIX)
      const back = decodeRecord(bytes)
      expect(back).toEqual({ ok: true, record: r })
    }
  })

  it('refuses malformed, truncated, trailing, non-canonical and over-limit bytes without throwing', () => {
    const good = encodeRecord({ kind: 'storage-report', challengeId: 5, ok: true })
    expect(decodeRecord(good.subarray(0, good.length - 1)).ok).toBe(false)
    expect(decodeRecord(new Uint8Array([...good, 0])).ok).toBe(false)
    expect(decodeRecord(new TextEncoder().encode('datdot/2 x'))).toEqual({ ok: false, why: 'unknown-version' })
    expect(decodeRecord(new TextEncoder().encode('hello'))).toEqual({ ok: false, why: 'not-datdot' })
    const prefix = new TextEncoder().encode(RECORD_PREFIX)
    expect(decodeRecord(new Uint8Array([...prefix, 99])).ok).toBe(false)
    // challenge id 5 encoded non-canonically as 0x85 0x00
    expect(decodeRecord(new Uint8Array([...prefix, 9, 0x85, 0x00, 1])).ok).toBe(false)
    // a payout with 257 items is over the limit
    const w = [...prefix, 11, 0x81, 0x02]
    for (let i = 0; i < 257; i++) w.push(1)
    expect(decodeRecord(new Uint8Array(w)).ok).toBe(false)
    // 10,000 random byte strings after the prefix never throw
    let seed = 1
    for (let i = 0; i < 10_000; i++) {
      const len = (seed = (seed * 48271) % 2147483647) % 64
      const body = Array.from({ length: len }, () => (seed = (seed * 48271) % 2147483647) & 0xff)
      expect(() => decodeRecord(new Uint8Array([...prefix, ...body]))).not.toThrow()
    }
    expect(() => encodeRecord({ kind: 'publish', drives: [], replicas: 1, durationBlocks: 1, budgetPlanck: 1n })).toThrow(RangeError)
  })
})

describe('marketplace state machine', () => {
  it('takes the first network record and rejects everything before it and any later one', () => {
    const log = new Log()
    log.block([register(PROVIDERS[0])])
    expect(log.state.counters.rejected['no-network']).toBe(1)
    log.block([rec(OP, network), rec(SPONSOR, { ...network, escrow: SPONSOR } as MarketRecord)])
    expect(log.state.network?.escrow).toBe(ESCROW)
    expect(log.state.counters.rejected.replayed).toBe(1)
  })

  it('publishes a plan with its budget in escrow and selects distinct providers, never the sponsor', () => {
    const log = market()
    log.block([register(SPONSOR)])
    const budget = 10_000n * PRICE
    log.block([rec(SPONSOR, publish(budget), [{ from: SPONSOR, to: ESCROW, amountPlanck: budget }])])
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

  it('runs setup, challenges, reports, payouts and unpublish with a refund, conserving value on every block', () => {
    const log = market()
    const budget = 5_000n * PRICE
    log.block([rec(SPONSOR, publish(budget, 10, 2), [{ from: SPONSOR, to: ESCROW, amountPlanck: budget }])])
    const c = log.state.contracts[1]
    // setup: slot 0 ok, slot 1 fails -> slot 1 gets a new hoster
    const failedHoster = c.slots[1].hoster
    log.block([rec(c.attestor as string, { kind: 'setup-report', contractId: 1, slotsOk: [true, false] })])
    expect(c.slots[0].state).toBe('hosting')
    expect(log.state.contracts[1].slots[1].hoster).not.toBe(failedHoster)
    log.block([rec(c.attestor as string, { kind: 'setup-report', contractId: 1, slotsOk: [true, true] })])
    expect(log.state.contracts[1].slots.every((s) => s.state === 'hosting')).toBe(true)

    // run blocks until challenges appear, answer each one
    let answered = 0
    for (let i = 0; i < 40; i++) {
      const open = Object.values(log.state.challenges)
      const actions = open.map((ch) => rec(ch.attestor, ch.kind === 'storage'
        ? { kind: 'storage-report', challengeId: ch.id, ok: true }
        : { kind: 'performance-report', challengeId: ch.id, ok: true, latencyMs: 300 }))
      answered += actions.length
      log.block(actions)
    }
    expect(answered).toBeGreaterThanOrEqual(4)
    expect(log.state.counters.rejected).toEqual({})

    // operator pays everything owed
    const items = owedItems(log.state, 256)
    const owedBefore = items.reduce((a, b) => a + b.amountPlanck, 0n)
    expect(owedBefore).toBeGreaterThan(0n)
    const per = new Map<string, bigint>()
    for (const it of items) per.set(it.to, (per.get(it.to) ?? 0n) + it.amountPlanck)
    const transfers = [...per].map(([to, amountPlanck]) => ({ from: ESCROW, to, amountPlanck }))
    const out = log.block([rec(ESCROW, { kind: 'payout', items: items.map((i) => i.id) }, transfers)])
    expect(out.actions[0].applied).toHaveLength(1)
    expect(out.actions[0].transferLegs.flat().reduce((a, l) => a + l.amountPlanck, 0n)).toBe(owedBefore)
    expect(conservation(log.state).payoutsPlanck).toBe(owedBefore)

    // unpublish: the unspent budget becomes a refund item for the sponsor, then is paid
    log.block([rec(SPONSOR, { kind: 'unpublish', planId: 1 })])
    expect(log.state.plans[1].status).toBe('unpublished')
    const refund = owedItems(log.state, 256).filter((i) => i.reason === 'refund')
    expect(refund).toHaveLength(1)
    const rest = owedItems(log.state, 256)
    const per2 = new Map<string, bigint>()
    for (const it of rest) per2.set(it.to, (per2.get(it.to) ?? 0n) + it.amountPlanck)
    log.block([rec(ESCROW, { kind: 'payout', items: rest.map((i) => i.id) }, [...per2].map(([to, amountPlanck]) => ({ from: ESCROW, to, amountPlanck })))])
    const k = conservation(log.state)
    expect(k.heldPlanck).toBe(0n)
    expect(k.payoutsPlanck + k.refundsPlanck).toBe(budget)
    expect(k.expectedEscrowPlanck).toBe(0n)
    // providers hold no jobs after the plan is gone
    expect(Object.values(log.state.providers).every((p) => p.jobs === 0 && p.usedBytes === 0)).toBe(true)
  })

  it('rejects and counts hostile records without crashing', () => {
    const log = market()
    const budget = 1_000n * PRICE
    log.block([rec(SPONSOR, publish(budget, 10, 1), [{ from: SPONSOR, to: ESCROW, amountPlanck: budget }])])
    const c = log.state.contracts[1]
    const attestor = c.attestor as string
    const outsider = PROVIDERS.find((p) => p !== attestor) as string
    const prefix = new TextEncoder().encode(RECORD_PREFIX)
    log.block([
      { signer: outsider, remarks: [new Uint8Array([...prefix, 0xff, 0xff])], transfers: [] }, // malformed
      { signer: outsider, remarks: [new TextEncoder().encode('datdot/9 future')], transfers: [] }, // unknown version
      rec(outsider, { kind: 'setup-report', contractId: 1, slotsOk: [true] }), // wrong signer
      rec(attestor, { kind: 'storage-report', challengeId: 999, ok: true }), // out of order (future)
      { signer: outsider, remarks: Array.from({ length: 33 }, () => encodeRecord({ kind: 'unpause' })), transfers: [] }, // over limits
      rec(SPONSOR, publish(budget), [{ from: SPONSOR, to: ESCROW, amountPlanck: budget - 1n }]), // bad value
      rec(outsider, { kind: 'payout', items: [1] }), // wrong signer
      rec(outsider, { kind: 'unpublish', planId: 1 }) // wrong signer
    ])
    log.block([rec(attestor, { kind: 'setup-report', contractId: 1, slotsOk: [true] })])
    log.block([rec(attestor, { kind: 'setup-report', contractId: 1, slotsOk: [true] })]) // replayed
    const r = log.state.counters.rejected
    expect(r).toEqual({ malformed: 1, 'unknown-version': 1, 'wrong-signer': 3, 'out-of-order': 1, 'over-limits': 1, 'bad-value': 1, replayed: 1 })
    // the wrong-value publish kept its money in escrow as unattributed value, not as a plan
    expect(Object.keys(log.state.plans)).toHaveLength(1)
    expect(log.state.escrow.unattributedInPlanck).toBe(budget - 1n)
    // a payout whose transfers do not match is rejected and the leak is visible
    const items = owedItems(log.state, 10)
    log.block([rec(ESCROW, { kind: 'payout', items: items.map((i) => i.id) }, [{ from: ESCROW, to: SPONSOR, amountPlanck: 1n }])])
    expect(log.state.counters.rejected['bad-value']).toBe(2)
    expect(log.state.escrow.unaccountedOutPlanck).toBe(1n)
  })

  it('replaces a hoster that fails a challenge and penalises an attestor that misses one', () => {
    const log = market()
    const budget = 100_000n * PRICE
    log.block([rec(SPONSOR, publish(budget, 10, 1), [{ from: SPONSOR, to: ESCROW, amountPlanck: budget }])])
    const c = log.state.contracts[1]
    log.block([rec(c.attestor as string, { kind: 'setup-report', contractId: 1, slotsOk: [true] })])
    let failed = false
    let missed = false
    for (let i = 0; i < 60 && !(failed && missed); i++) {
      const open = Object.values(log.state.challenges)
      const actions: Array<Omit<Action, 'index'>> = []
      for (const ch of open) {
        if (!failed) {
          const hoster = ch.hoster
          const rep = log.state.providers[hoster].reputation
          actions.push(rec(ch.attestor, ch.kind === 'storage' ? { kind: 'storage-report', challengeId: ch.id, ok: false } : { kind: 'performance-report', challengeId: ch.id, ok: false, latencyMs: 0 }))
          log.block(actions)
          expect(log.state.providers[hoster].reputation).toBe(rep - MARKET_PARAMS.penalties.failedProof)
          expect(log.state.contracts[1].slots[0].hoster).not.toBe(hoster)
          failed = true
          break
        } else if (log.state.contracts[1].slots[0].state === 'hosting') {
          const rep = log.state.providers[ch.attestor].reputation
          for (let k = 0; k < MARKET_PARAMS.challengeTimeoutBlocks; k++) log.block()
          expect(log.state.challenges[ch.id]).toBeUndefined()
          expect(log.state.providers[ch.attestor].reputation).toBeLessThan(rep)
          missed = true
          break
        }
      }
      if (open.length === 0) {
        const slot = log.state.contracts[1].slots[0]
        const attestor = log.state.contracts[1].attestor as string
        if (slot.state === 'setup') log.block([rec(attestor, { kind: 'setup-report', contractId: 1, slotsOk: [true] })])
        else log.block()
      }
    }
    expect(failed && missed).toBe(true)
  })

  it('derives the identical state from the same log, and from a snapshot plus the rest of the log', () => {
    const log = market()
    const budget = 50_000n * PRICE
    log.block([rec(SPONSOR, publish(budget, 40, 3), [{ from: SPONSOR, to: ESCROW, amountPlanck: budget }])])
    for (let i = 0; i < 30; i++) log.block()
    const replay = initialState()
    let snapshot = ''
    log.blocks.forEach((b, i) => { applyBlock(replay, b); if (i === 10) snapshot = serializeState(replay) })
    expect(stateDigest(replay)).toBe(stateDigest(log.state))
    const resumed = deserializeState(snapshot)
    for (const b of log.blocks.slice(11)) applyBlock(resumed, b)
    expect(stateDigest(resumed)).toBe(stateDigest(log.state))
    // a different block hash gives a different selection
    const other = initialState()
    for (const b of log.blocks) applyBlock(other, { ...b, hash: b.hash.replace(/.$/, 'f'), parentHash: other.block?.hash ?? b.parentHash })
    expect(stateDigest(other)).not.toBe(stateDigest(log.state))
  })

  it('grades performance from 50 units at 100 ms down to 5 units at 1500 ms', () => {
    expect(performanceUnits(50)).toBe(50n)
    expect(performanceUnits(800)).toBe(27n)
    expect(performanceUnits(5000)).toBe(5n)
  })

  it('refuses blocks out of order as a caller error', () => {
    const log = market()
    const b = { number: log.number + 2, hash: '0x01', parentHash: log.hash, timeMs: 0, actions: [] }
    expect(() => applyBlock(log.state, b)).toThrow(/does not follow/)
  })
})
