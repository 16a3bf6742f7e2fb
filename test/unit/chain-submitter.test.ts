import { describe, it, expect } from 'vitest'
import { EventEmitter } from 'node:events'
import { Submitter, type EncodedRecord, type Inclusion, type SubmitResult } from '../../main/chain/submitter.js'
import type { BlockOutcome, RecordOutcome } from '../../main/chain/marketplace.js'
import type { Timers } from '../../main/shared/timeout.js'
import { DatdotError } from '../../main/shared/errors.js'
import { waitFor } from '../helpers/wait.js'

interface Signer { address: string }
/** A fake extrinsic: a name, or the records of a batch. */
type FakeTx = string | { records: EncodedRecord[] }
interface Sent { tx: FakeTx, signer: string, resolve: (i: Inclusion) => void, reject: (e: unknown) => void }

const ME: Signer = { address: 'me' }

/** A submitter over fakes: `include` waits until the test includes or fails the extrinsic. */
function harness (opts: { queuedRecords?: number, timers?: Timers } = {}) {
  const events = new EventEmitter()
  const sent: Sent[] = []
  const outcomes = new Map<string, BlockOutcome>()
  const numbers = new Map<string, number>()
  const counters = { batches: 0, batchedRecords: 0 }
  let blocks = 0
  const submitter = new Submitter<FakeTx, Signer>({
    signer: ME,
    recordsTx: (records) => ({ records }),
    include: async (tx, signer) => await new Promise<Inclusion>((resolve, reject) => {
      sent.push({ tx, signer: signer.address, resolve, reject })
      events.emit('sent')
    }),
    blockNumber: async (hash) => numbers.get(hash) as number,
    waitFollowed: async () => {},
    outcome: (hash) => outcomes.get(hash),
    counters,
    timers: opts.timers,
    limits: opts.queuedRecords === undefined ? undefined : { queuedRecords: opts.queuedRecords }
  })
  /** Waits until `n` extrinsics have been handed to the chain. */
  const untilSent = async (n: number): Promise<void> => { await waitFor([events], () => sent.length >= n, `${n} extrinsics sent`, 5000) }
  /** Includes sent extrinsic `i` in a new block; a batch's records get `records` (default: all applied, refs rec-<i>-<k>). */
  const include = (i: number, records?: RecordOutcome[]): void => {
    const hash = `0xb${++blocks}`
    numbers.set(hash, blocks)
    const tx = sent[i].tx
    const outs = records ?? (typeof tx === 'string' ? [] : tx.records.map((_, k): RecordOutcome => ({ ok: true, kind: 'pause', ref: `rec-${i}-${k}` })))
    outcomes.set(hash, { number: blocks, hash, actions: [{ index: 0, signer: ME.address, applied: [], rejected: [], records: outs, transferLegs: [] }], notices: [], newChallenges: [], newAssignments: [], penalties: [] })
    sent[i].resolve({ blockHash: hash, index: 0 })
  }
  return { submitter, sent, counters, untilSent, include }
}

function batchSize (tx: FakeTx): number { return typeof tx === 'string' ? 0 : tx.records.length }

describe('chain submitter', () => {
  it("sends a signer's extrinsics one at a time in the order they were made, other signers meanwhile", async () => {
    const h = harness()
    const a = h.submitter.send('a', ME)
    const b = h.submitter.send('b', ME)
    const c = h.submitter.send('c', { address: 'other' })
    await h.untilSent(2)
    expect(h.sent.map((s) => s.tx)).toEqual(['a', 'c'])
    h.include(0)
    await h.untilSent(3)
    expect(h.sent.map((s) => s.tx)).toEqual(['a', 'c', 'b'])
    h.include(2)
    h.include(1)
    const results = await Promise.all([a, b, c])
    expect(results.map((r) => r.blockNumber)).toEqual([1, 2, 3])
  })

  it('coalesces records queued while one is in flight into one batch, in order, each with its own outcome', async () => {
    const h = harness()
    const first = h.submitter.submitRecord({ kind: 'pause', blocks: 1 })
    const second = h.submitter.submitRecord({ kind: 'pause', blocks: 2 })
    const third = h.submitter.submitRecord({ kind: 'unpause' })
    expect(h.submitter.queued).toBe(2)
    await h.untilSent(1)
    h.include(0)
    expect((await first).applied).toEqual(['rec-0-0'])
    await h.untilSent(2)
    expect(batchSize(h.sent[1].tx)).toBe(2)
    h.include(1)
    expect((await second).applied).toEqual(['rec-1-0'])
    expect((await third).applied).toEqual(['rec-1-1'])
    expect(h.counters).toEqual({ batches: 2, batchedRecords: 3 })
  })

  it('sends a record that moves value alone', async () => {
    const h = harness()
    const first = h.submitter.submitRecord({ kind: 'pause', blocks: 1 })
    const paying = h.submitter.submitRecord({ kind: 'unpublish', planId: 1 }, [{ to: '0xescrow', amountPlanck: 5n }])
    const after = h.submitter.submitRecord({ kind: 'unpause' })
    await h.untilSent(1)
    h.include(0)
    await h.untilSent(2)
    expect(batchSize(h.sent[1].tx)).toBe(1)
    h.include(1)
    await h.untilSent(3)
    h.include(2)
    await Promise.all([first, paying, after])
    expect(h.counters.batches).toBe(3)
  })

  it('rejects a record the marketplace refused with CHAIN_ERROR and its reason in details.why', async () => {
    const h = harness()
    const rec = h.submitter.submitRecord({ kind: 'pause', blocks: 1 })
    await h.untilSent(1)
    h.include(0, [{ ok: false, why: 'wrong-signer', detail: 'not yours' }])
    await expect(rec).rejects.toMatchObject({ code: 'CHAIN_ERROR', details: { why: 'wrong-signer', detail: 'not yours' } })
  })

  it('does not let a failed submission block the next one of the same signer', async () => {
    const h = harness()
    const failing = h.submitter.submitRecord({ kind: 'pause', blocks: 1 })
    const next = h.submitter.submitRecord({ kind: 'unpause' })
    const direct = h.submitter.send('direct', ME)
    await h.untilSent(1)
    h.sent[0].reject(DatdotError.chain('transaction refused: nonce out of date, try again'))
    await expect(failing).rejects.toThrow(/nonce out of date/)
    await h.untilSent(2)
    expect(h.sent[1].tx).toBe('direct')
    h.include(1)
    await direct
    await h.untilSent(3)
    h.include(2)
    expect((await next).applied).toEqual(['rec-2-0'])
  })

  it('fails a submission not included in time with CHAIN_ERROR and frees the turn for the next', async () => {
    const pending: Array<() => void> = []
    const timers: Timers = { setTimeout: (fn) => { pending.push(fn); return pending.length }, clearTimeout: () => {} }
    const h = harness({ timers })
    const stuck = h.submitter.send('stuck', ME)
    const next = h.submitter.send('next', ME)
    await h.untilSent(1)
    pending[0]()
    await expect(stuck).rejects.toMatchObject({ code: 'CHAIN_ERROR', message: 'timed out waiting for the transaction to be included' })
    await h.untilSent(2)
    h.include(1)
    expect((await next).blockNumber).toBe(1)
  })

  it('refuses a record over the queue limit with LIMIT_REACHED saying why', async () => {
    const h = harness({ queuedRecords: 2 })
    const inFlight = h.submitter.submitRecord({ kind: 'pause', blocks: 1 })
    const queued = [h.submitter.submitRecord({ kind: 'pause', blocks: 2 }), h.submitter.submitRecord({ kind: 'pause', blocks: 3 })]
    expect(h.submitter.queued).toBe(2)
    const err = await h.submitter.submitRecord({ kind: 'unpause' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatdotError)
    expect(err).toMatchObject({ code: 'LIMIT_REACHED', details: { limit: 2 } })
    expect((err as Error).message).toMatch(/too many records waiting for the chain: at most 2/)
    expect(h.submitter.queued).toBe(2)
    await h.untilSent(1)
    h.include(0)
    await inFlight
    await h.untilSent(2)
    h.include(1)
    await Promise.all(queued)
  })

  it('refuses a record that does not encode with INVALID_ARGUMENT', async () => {
    const h = harness()
    await expect(h.submitter.submitRecord({ kind: 'pause', blocks: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(h.submitter.queued).toBe(0)
  })

  it('on close rejects the queued records with CLOSED, refuses new ones, and waits for the batch in flight', async () => {
    const h = harness()
    const inFlight = h.submitter.submitRecord({ kind: 'pause', blocks: 1 })
    const queued = h.submitter.submitRecord({ kind: 'unpause' })
    await h.untilSent(1)
    let closed = false
    const closing = h.submitter.close().then(() => { closed = true })
    await expect(queued).rejects.toMatchObject({ code: 'CLOSED', message: 'The chain service is closed' })
    await expect(h.submitter.submitRecord({ kind: 'unpause' })).rejects.toMatchObject({ code: 'CLOSED' })
    expect(closed).toBe(false)
    h.include(0)
    const res: SubmitResult = await inFlight
    expect(res.applied).toEqual(['rec-0-0'])
    await closing
    expect(closed).toBe(true)
    expect(h.sent).toHaveLength(1)
  })
})
