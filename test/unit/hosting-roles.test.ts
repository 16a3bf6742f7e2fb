/**
 * The hosting roles' rules (main/hosting/roles.ts) without a network: a Hoster's handlers called
 * directly, an Attestor relaying to and challenging a hoster through a channel stand-in (the
 * four request methods of HostingChannel), and the encoder's deliverContract. Each rule runs in
 * milliseconds on an in-memory tree; test/integration/hosting-wire.test.ts runs them over protomux.
 */
import { describe, it, expect, beforeEach } from 'vitest'
import { randomBytes } from 'node:crypto'
import hcrypto from 'hypercore-crypto'
import { MemoryTree } from '../helpers/merkle.js'
import {
  Hoster, Attestor, deliverContract, receiptSignable, verifyReceipt, receiptsRoot, verifySlotReceipt, blameOf,
  type HostedContract, type KeyPair, type RelayTarget
} from '../../main/hosting/roles.js'
import type { HostingChannel, Answer } from '../../main/hosting/wire.js'
import { MemoryChunkStore } from '../../main/hosting/chunk-store.js'
import { encodeBlockForHoster } from '../../main/hosting/encoder.js'
import { encodedChunkHash } from '../../main/hosting/encoding.js'
import { PROOF_FAILURE, type ContractView } from '../../main/hosting/proof.js'
import type { StoredChunk, DeliverMessage } from '../../main/hosting/messages.js'
import { DatdotError } from '../../main/shared/errors.js'

const tree = new MemoryTree(Array.from({ length: 16 }, (_, i) => randomBytes(40 + 50 * i)))
const contract: ContractView = { contractId: 7, root: tree.signedRoot(), start: 4, end: 12 }
const ROUNDS = 1
const hosterKeys: KeyPair = hcrypto.keyPair()
const attestorKeys: KeyPair = hcrypto.keyPair()
const encoderKeys = hcrypto.keyPair()
const hosted: HostedContract = { contract, encoderKey: encoderKeys.publicKey, rounds: ROUNDS }
const core = tree.fakeCore()

const chunks = new Map<number, StoredChunk>()
async function chunk (index: number): Promise<StoredChunk> {
  if (!chunks.has(index)) chunks.set(index, await encodeBlockForHoster(core, contract, index, hosterKeys.publicKey, encoderKeys, { rounds: ROUNDS }))
  return chunks.get(index)!
}
const deliver = async (index: number, over: Partial<DeliverMessage> = {}): Promise<DeliverMessage> =>
  ({ requestId: 1, contractId: 7, coreKey: contract.root.coreKey, chunk: await chunk(index), ...over })

async function rejection (p: Promise<unknown>): Promise<DatdotError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(DatdotError)
  return err as DatdotError
}

/** An Answer as a channel gives it, with the times the stand-in's clock says. */
const clock = { t: 1000, took: 0 }
function answer<T> (value: T): Answer<T> { return { value, sentAtMs: clock.t, receivedAtMs: clock.t + clock.took } }

/** The four request methods of a HostingChannel, served by a Hoster's handlers in-process. */
function channelTo (hoster: Hoster, wrap: Partial<Record<'deliver' | 'challenge' | 'open' | 'settle', (...a: never[]) => unknown>> = {}): HostingChannel {
  const h = hoster.handlers()
  const self = null as unknown as HostingChannel
  const ch = {
    deliver: async (contractId: number, coreKey: Buffer, c: StoredChunk) => answer(await h.ondeliver!({ requestId: 1, contractId, coreKey, chunk: c }, self)),
    challenge: async (contractId: number, coreKey: Buffer, seed: Buffer, steps: number) => answer(await h.onchallenge!({ requestId: 1, contractId, coreKey, seed, steps }, self)),
    open: async (contractId: number, coreKey: Buffer, index: number) => answer(await h.onopen!({ requestId: 1, contractId, coreKey, index }, self)),
    settle: async (contractId: number, coreKey: Buffer, rootLength: number, root: Buffer) => answer(await h.onsettle!({ requestId: 1, contractId, coreKey, rootLength, receiptsRoot: root }, self)),
    ...wrap
  }
  return ch as unknown as HostingChannel
}

function newHoster (store = new MemoryChunkStore()): Hoster {
  return new Hoster({ keyPair: hosterKeys, store, contract: async (id) => id === 7 ? hosted : null })
}

async function filledHoster (): Promise<Hoster> {
  const hoster = newHoster()
  for (let i = contract.start; i < contract.end; i++) await hoster.store.putChunk(contract.root.coreKey, await chunk(i))
  return hoster
}

describe('receipts', () => {
  it('sign (contract, core, index, encoded hash) under their own domain: any other value does not verify', async () => {
    const c = await chunk(5)
    const sig = hcrypto.sign(receiptSignable(7, contract.root.coreKey, 5, encodedChunkHash(c.encoded)), hosterKeys.secretKey)
    expect(verifyReceipt(7, contract.root.coreKey, c, sig, hosterKeys.publicKey)).toBe(true)
    expect(verifyReceipt(8, contract.root.coreKey, c, sig, hosterKeys.publicKey)).toBe(false)
    expect(verifyReceipt(7, randomBytes(32), c, sig, hosterKeys.publicKey)).toBe(false)
    expect(verifyReceipt(7, contract.root.coreKey, await chunk(6), sig, hosterKeys.publicKey)).toBe(false)
    expect(verifyReceipt(7, contract.root.coreKey, c, sig, attestorKeys.publicKey)).toBe(false)
    expect(receiptSignable(7, contract.root.coreKey, 5, encodedChunkHash(c.encoded)).subarray(0, 25).toString()).toBe('datdot/hosting/v1/receipt')
  })

  it('write contract id and index as 64-bit numbers, so large ids do not collide', () => {
    const h = Buffer.alloc(32)
    const a = receiptSignable(2 ** 40, contract.root.coreKey, 1, h)
    const b = receiptSignable(0, contract.root.coreKey, 1, h)
    expect(a.equals(b)).toBe(false)
    expect(a.byteLength).toBe(25 + 32 + 16 + 32)
  })

  it('root a slot in the order of its blocks: another order, a hash more or less is another root', () => {
    const hs = [randomBytes(32), randomBytes(32), randomBytes(32)]
    const root = receiptsRoot(hs)
    expect(receiptsRoot([hs[1], hs[0], hs[2]]).equals(root)).toBe(false)
    expect(receiptsRoot(hs.slice(0, 2)).equals(root)).toBe(false)
    expect(receiptsRoot([...hs]).equals(root)).toBe(true)
  })
})

describe('a Hoster', () => {
  let hoster: Hoster
  const events: string[] = []
  beforeEach(() => {
    hoster = newHoster()
    events.length = 0
    for (const e of ['stored', 'rejected', 'challenged', 'settled']) hoster.on(e, () => events.push(e))
  })

  it('stores a chunk it has verified and signs a receipt the attestor can check', async () => {
    const msg = await deliver(5)
    const sig = await hoster.handlers().ondeliver!(msg, null as never)
    expect(verifyReceipt(7, contract.root.coreKey, msg.chunk, sig, hosterKeys.publicKey)).toBe(true)
    expect(await hoster.store.getChunk(contract.root.coreKey, 5)).toEqual(msg.chunk)
    expect(hoster.counters).toMatchObject({ stored: 1, rejected: 0 })
    expect(events).toEqual(['stored'])
  })

  it('refuses a chunk it would later fail a challenge on, stores nothing and says so', async () => {
    const good = await chunk(5)
    const flipped = { ...good, encoded: Buffer.from(good.encoded) }
    flipped.encoded[10] ^= 1
    const e = await rejection(hoster.handlers().ondeliver!(await deliver(5, { chunk: flipped }), null as never))
    expect(e.details?.reason).toBe(PROOF_FAILURE.BAD_ENCODER_SIGNATURE)
    expect(await hoster.store.getChunk(contract.root.coreKey, 5)).toBeNull()
    expect(hoster.counters).toMatchObject({ stored: 0, rejected: 1 })
    expect(events).toEqual(['rejected'])
  })

  it('refuses a chunk made for another hoster, even honestly signed by the encoder', async () => {
    const forOther = await encodeBlockForHoster(core, contract, 5, hcrypto.keyPair().publicKey, encoderKeys, { rounds: ROUNDS })
    const e = await rejection(hoster.handlers().ondeliver!(await deliver(5, { chunk: forOther }), null as never))
    expect(e.details?.reason).toBe(PROOF_FAILURE.BAD_ENCODER_SIGNATURE)
  })

  it('refuses blocks outside the contract, unknown contracts and another core, before any check or write', async () => {
    const outside = await encodeBlockForHoster(core, { ...contract, start: 0, end: 16 }, 13, hosterKeys.publicKey, encoderKeys, { rounds: ROUNDS })
    expect((await rejection(hoster.handlers().ondeliver!(await deliver(5, { chunk: outside }), null as never))).code).toBe('INVALID_ARGUMENT')
    expect((await rejection(hoster.handlers().ondeliver!(await deliver(5, { contractId: 8 }), null as never))).code).toBe('NOT_FOUND')
    expect((await rejection(hoster.handlers().ondeliver!(await deliver(5, { coreKey: randomBytes(32) }), null as never))).code).toBe('NOT_FOUND')
    expect(hoster.counters).toMatchObject({ stored: 0, rejected: 0 })
    expect((hoster.store as MemoryChunkStore).size).toBe(0)
  })

  it('answers a challenge with the walk over its chunks, and counts it', async () => {
    const full = await filledHoster()
    const seed = randomBytes(32)
    const hashes = await full.handlers().onchallenge!({ requestId: 1, contractId: 7, coreKey: contract.root.coreKey, seed, steps: 16 }, null as never)
    expect(hashes).toHaveLength(16)
    expect(full.counters.challenges).toBe(1)
    await expect(full.handlers().onchallenge!({ requestId: 1, contractId: 9, coreKey: contract.root.coreKey, seed, steps: 16 }, null as never))
      .rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('opens a block of the contract and refuses one outside it, or one it lacks as MISSING_CHUNK', async () => {
    const full = await filledHoster()
    const open = (index: number): Promise<StoredChunk> => full.handlers().onopen!({ requestId: 1, contractId: 7, coreKey: contract.root.coreKey, index }, null as never)
    expect(await open(6)).toEqual(await chunk(6))
    expect(full.counters.openings).toBe(1)
    for (const index of [3, 12, 15]) expect((await rejection(open(index))).code).toBe('INVALID_ARGUMENT')
    await full.store.deleteChunk(contract.root.coreKey, 6)
    expect((await rejection(open(6))).details).toMatchObject({ reason: PROOF_FAILURE.MISSING_CHUNK, index: 6 })
  })

  describe('settling a slot', () => {
    let full: Hoster
    let hashes: Buffer[]
    beforeEach(async () => {
      full = await filledHoster()
      hashes = []
      for (let i = contract.start; i < contract.end; i++) hashes.push(encodedChunkHash((await chunk(i)).encoded))
    })
    const settle = (h: Hoster, over: { rootLength?: number, receiptsRoot?: Buffer } = {}): Promise<Buffer> => h.handlers().onsettle!({
      requestId: 1, contractId: 7, coreKey: contract.root.coreKey, rootLength: over.rootLength ?? 16, receiptsRoot: over.receiptsRoot ?? receiptsRoot(hashes)
    }, null as never)

    it('signs the receipts root of exactly the chunks it stored', async () => {
      const sig = await settle(full)
      expect(verifySlotReceipt(7, contract.root.coreKey, 16, receiptsRoot(hashes), sig, hosterKeys.publicKey)).toBe(true)
      expect(verifySlotReceipt(7, contract.root.coreKey, 15, receiptsRoot(hashes), sig, hosterKeys.publicKey)).toBe(false)
      expect(full.counters.settled).toBe(1)
    })

    it('refuses another root length, another root and a slot with a chunk missing, each with its reason', async () => {
      expect((await rejection(settle(full, { rootLength: 15 }))).details?.reason).toBe(PROOF_FAILURE.WRONG_LENGTH)
      expect((await rejection(settle(full, { receiptsRoot: receiptsRoot(hashes.slice(1)) }))).details?.reason).toBe(PROOF_FAILURE.ROOT_MISMATCH)
      await full.store.deleteChunk(contract.root.coreKey, 11)
      expect((await rejection(settle(full))).details).toMatchObject({ reason: PROOF_FAILURE.MISSING_CHUNK, index: 11 })
      expect(full.counters.settled).toBe(0)
    })
  })
})

describe('an Attestor relaying deliveries', () => {
  let hoster: Hoster
  let attestor: Attestor
  let target: RelayTarget | null
  const badEncodings: unknown[] = []
  beforeEach(() => {
    hoster = newHoster()
    target = { hosted, hosterKey: hosterKeys.publicKey, hoster: channelTo(hoster) }
    attestor = new Attestor({ keyPair: attestorKeys, route: () => target })
    badEncodings.length = 0
    attestor.on('bad-encoding', (e) => badEncodings.push(e))
  })
  const relay = async (msg: DeliverMessage): Promise<Buffer> => attestor.handlers().ondeliver!(msg, null as never)

  it('checks the chunk, forwards it, checks the hoster’s receipt and signs its own', async () => {
    const relayed: unknown[] = []
    attestor.on('relayed', (e) => relayed.push(e))
    const msg = await deliver(8)
    const sig = await relay(msg)
    expect(verifyReceipt(7, contract.root.coreKey, msg.chunk, sig, attestorKeys.publicKey)).toBe(true)
    expect(await hoster.store.getChunk(contract.root.coreKey, 8)).not.toBeNull()
    expect(attestor.counters.relayed).toBe(1)
    expect(relayed).toHaveLength(1)
  })

  it('stops a bad encoding itself, blames the encoder, and the hoster never sees it', async () => {
    const msg = await deliver(8)
    const bad = { ...msg, chunk: { ...msg.chunk, encoded: Buffer.from(msg.chunk.encoded) } }
    bad.chunk.encoded[7] ^= 1
    const e = await rejection(relay(bad))
    expect(blameOf(e)).toBe('bad-encoding')
    expect(e.code).toBe('PROOF_FAILED')
    expect(hoster.counters.stored + hoster.counters.rejected).toBe(0)
    expect(attestor.counters.badEncodings).toBe(1)
    expect(badEncodings).toHaveLength(1)
  })

  it('refuses what it has no route for, another core and a block outside the contract, with no blame', async () => {
    target = null
    expect((await rejection(relay(await deliver(8)))).code).toBe('NOT_FOUND')
    target = { hosted, hosterKey: hosterKeys.publicKey, hoster: channelTo(hoster) }
    const other = await rejection(relay(await deliver(8, { coreKey: randomBytes(32) })))
    expect(other.code).toBe('NOT_FOUND')
    expect(blameOf(other)).toBeNull()
    const outside = await encodeBlockForHoster(core, { ...contract, start: 0, end: 16 }, 2, hosterKeys.publicKey, encoderKeys, { rounds: ROUNDS })
    expect((await rejection(relay(await deliver(8, { chunk: outside })))).code).toBe('INVALID_ARGUMENT')
  })

  it('blames a hoster that refuses, one that does not answer, and one whose receipt does not verify', async () => {
    const remote = new DatdotError('FORBIDDEN', 'full', { remote: true })
    target!.hoster = channelTo(hoster, { deliver: () => Promise.reject(remote) })
    expect(blameOf(await rejection(relay(await deliver(8))))).toBe('hoster-refused')
    target!.hoster = channelTo(hoster, { deliver: () => Promise.reject(DatdotError.timeout('deliver request', 10)) })
    const missing = await rejection(relay(await deliver(8)))
    expect(blameOf(missing)).toBe('hoster-missing')
    expect(missing.code).toBe('TIMEOUT')
    target!.hoster = channelTo(hoster, { deliver: async () => answer(randomBytes(64)) })
    const forged = await rejection(relay(await deliver(8)))
    expect(blameOf(forged)).toBe('hoster-refused')
    expect(forged.details?.reason).toBe('BAD_RECEIPT')
    expect(attestor.counters.relayed).toBe(0)
  })
})

describe('an Attestor settling a slot', () => {
  const attestor = new Attestor({ keyPair: attestorKeys })
  const hashesOf = async (): Promise<Buffer[]> => {
    const out: Buffer[] = []
    for (let i = contract.start; i < contract.end; i++) out.push(encodedChunkHash((await chunk(i)).encoded))
    return out
  }

  it('returns the hoster’s verified slot receipt', async () => {
    const hoster = await filledHoster()
    const res = await attestor.settle(channelTo(hoster), { contract, hosterKey: hosterKeys.publicKey, encodedHashes: await hashesOf() })
    expect(res.receiptsRoot.equals(receiptsRoot(await hashesOf()))).toBe(true)
    expect(verifySlotReceipt(7, contract.root.coreKey, 16, res.receiptsRoot, res.signature, hosterKeys.publicKey)).toBe(true)
  })

  it('refuses a hash count that is not the contract’s block count, without asking the hoster', async () => {
    const hoster = await filledHoster()
    const e = await rejection(attestor.settle(channelTo(hoster, { settle: () => { throw new Error('asked') } }), { contract, hosterKey: hosterKeys.publicKey, encodedHashes: (await hashesOf()).slice(1) }))
    expect(e.code).toBe('INVALID_ARGUMENT')
  })

  it('blames the hoster for a refusal, a silence or a slot receipt signed by someone else', async () => {
    const hoster = await filledHoster()
    const hashes = await hashesOf()
    // an empty hoster's MISSING_CHUNK, as the wire hands it back (remote: true)
    const empty = newHoster().handlers()
    const refusing = channelTo(hoster, {
      settle: (...a: never[]) => empty.onsettle!({ requestId: 1, contractId: a[0], coreKey: a[1], rootLength: a[2], receiptsRoot: a[3] }, null as never)
        .catch((err: DatdotError) => { throw new DatdotError(err.code, err.message, { ...err.details, remote: true }) })
    })
    const refused = await rejection(attestor.settle(refusing, { contract, hosterKey: hosterKeys.publicKey, encodedHashes: hashes }))
    expect(refused.details?.reason).toBe(PROOF_FAILURE.MISSING_CHUNK)
    expect(blameOf(refused)).toBe('hoster-refused')
    const silent = channelTo(hoster, { settle: () => Promise.reject(DatdotError.closed('hosting channel')) })
    expect(blameOf(await rejection(attestor.settle(silent, { contract, hosterKey: hosterKeys.publicKey, encodedHashes: hashes })))).toBe('hoster-missing')
    const stranger = channelTo(hoster, { settle: async () => answer(hcrypto.sign(Buffer.from('x'), hcrypto.keyPair().secretKey)) })
    const e = await rejection(attestor.settle(stranger, { contract, hosterKey: hosterKeys.publicKey, encodedHashes: hashes }))
    expect(blameOf(e)).toBe('hoster-refused')
    expect(e.details?.reason).toBe('BAD_RECEIPT')
  })
})

describe('an Attestor challenging a hoster', () => {
  const attestor = new Attestor({ keyPair: attestorKeys })
  const base = { contract, hosterKey: hosterKeys.publicKey, encoderKey: encoderKeys.publicKey, rounds: ROUNDS, steps: 32, openings: 4, deadlineMs: 500 }
  beforeEach(() => { clock.took = 0 })

  it('passes an honest hoster and reports the opened steps, commitment and nonce', async () => {
    const hoster = await filledHoster()
    const nonce = randomBytes(32)
    const reports: unknown[] = []
    attestor.once('report', (r) => reports.push(r))
    const report = await attestor.challenge(channelTo(hoster), { ...base, seed: randomBytes(32), nonce })
    expect(report).toMatchObject({ ok: true, reason: null, contractId: 7, steps: 32, commitElapsedMs: 0 })
    expect(report.nonce.equals(nonce)).toBe(true)
    expect(report.commitmentHash).toHaveLength(32)
    expect(report.opened).toHaveLength(4)
    for (const o of report.opened) expect(o.encodedHash.equals(encodedChunkHash((await chunk(o.index)).encoded))).toBe(true)
    expect(reports).toEqual([report])
  })

  it('reports a commitment later than the deadline as DEADLINE_MISSED and opens nothing', async () => {
    const hoster = await filledHoster()
    clock.took = 501
    const report = await attestor.challenge(channelTo(hoster), { ...base, seed: randomBytes(32) })
    expect(report).toMatchObject({ ok: false, reason: PROOF_FAILURE.DEADLINE_MISSED, commitElapsedMs: 501, opened: [] })
    expect(hoster.counters.openings).toBe(0)
  })

  it('reports a timed-out commitment as DEADLINE_MISSED, and a closed channel by its code', async () => {
    const hoster = await filledHoster()
    const timedOut = channelTo(hoster, { challenge: () => Promise.reject(DatdotError.timeout('challenge request', 2000)) })
    expect(await attestor.challenge(timedOut, { ...base, seed: randomBytes(32) })).toMatchObject({ ok: false, reason: PROOF_FAILURE.DEADLINE_MISSED })
    const closed = channelTo(hoster, { challenge: () => Promise.reject(DatdotError.closed('hosting channel')) })
    expect(await attestor.challenge(closed, { ...base, seed: randomBytes(32) })).toMatchObject({ ok: false, reason: 'CLOSED' })
  })

  it('fails a hoster whose walk hits a missing chunk, with the hoster’s reason', async () => {
    const hoster = newHoster()
    const report = await attestor.challenge(channelTo(hoster), { ...base, seed: randomBytes(32) })
    expect(report).toMatchObject({ ok: false, reason: PROOF_FAILURE.MISSING_CHUNK })
    expect(attestor.counters.failed).toBeGreaterThan(0)
  })

  it('fails a hoster that opens a different chunk than the one it committed to', async () => {
    const hoster = await filledHoster()
    const swap = channelTo(hoster, { open: async () => answer(await chunk(contract.start)) })
    // with 32 steps over 8 blocks, some opened step visits another block than the first
    const report = await attestor.challenge(swap, { ...base, openings: 32, seed: randomBytes(32) })
    expect(report.ok).toBe(false)
    expect([PROOF_FAILURE.WRONG_INDEX, PROOF_FAILURE.WRONG_COMMITMENT]).toContain(report.reason)
  })

  it('throws for its own bad arguments instead of blaming the hoster, but reports the hoster’s INVALID_ARGUMENT', async () => {
    const hoster = await filledHoster()
    const ch = channelTo(hoster)
    for (const bad of [{ steps: 0 }, { steps: 4097 }, { openings: 0 }, { openings: 33 }, { steps: 1.5 }]) {
      expect((await rejection(attestor.challenge(ch, { ...base, ...bad, seed: randomBytes(32) }))).code).toBe('INVALID_ARGUMENT')
    }
    expect((await rejection(attestor.challenge(ch, { ...base, contract: { ...contract, end: 17 }, seed: randomBytes(32) }))).code).toBe('INVALID_ARGUMENT')
    const remote = channelTo(hoster, { challenge: () => Promise.reject(new DatdotError('INVALID_ARGUMENT', 'no', { remote: true })) })
    expect(await attestor.challenge(remote, { ...base, seed: randomBytes(32) })).toMatchObject({ ok: false, reason: 'INVALID_ARGUMENT' })
  })
})

describe('deliverContract', () => {
  it('encodes and delivers every block of the contract in order, checking the attestor’s receipts', async () => {
    const seen: number[] = []
    const attestor = {
      deliver: async (contractId: number, coreKey: Buffer, c: StoredChunk) => {
        seen.push(c.index)
        return answer(hcrypto.sign(receiptSignable(contractId, coreKey, c.index, encodedChunkHash(c.encoded)), attestorKeys.secretKey))
      }
    } as unknown as HostingChannel
    const res = await deliverContract(core, contract, hosterKeys.publicKey, encoderKeys, attestor, { rounds: ROUNDS, attestorKey: attestorKeys.publicKey })
    expect(res.delivered).toBe(8)
    expect(seen).toEqual([4, 5, 6, 7, 8, 9, 10, 11])
  })

  it('stops at a receipt that does not verify, and at the attestor’s refusal', async () => {
    let sent = 0
    const forger = { deliver: async () => { sent++; return answer(randomBytes(64)) } } as unknown as HostingChannel
    await expect(deliverContract(core, contract, hosterKeys.publicKey, encoderKeys, forger, { rounds: ROUNDS, attestorKey: attestorKeys.publicKey }))
      .rejects.toMatchObject({ code: 'PROOF_FAILED', details: { reason: 'BAD_RECEIPT' } })
    expect(sent).toBe(1)
    const refuser = { deliver: () => Promise.reject(DatdotError.forbidden('no')) } as unknown as HostingChannel
    await expect(deliverContract(core, contract, hosterKeys.publicKey, encoderKeys, refuser, { rounds: ROUNDS })).rejects.toMatchObject({ code: 'FORBIDDEN' })
  })

  it('sends what the test-only tamper hook makes of each chunk', async () => {
    const sent: StoredChunk[] = []
    const attestor = { deliver: async (_id: number, _k: Buffer, c: StoredChunk) => { sent.push(c); return answer(Buffer.alloc(64)) } } as unknown as HostingChannel
    const tamper = (c: StoredChunk): StoredChunk => ({ ...c, encoded: Buffer.alloc(c.encoded.byteLength) })
    await deliverContract(core, { ...contract, end: 6 }, hosterKeys.publicKey, encoderKeys, attestor, { rounds: ROUNDS, tamper })
    expect(sent.map((c) => c.encoded.every((b) => b === 0))).toEqual([true, true])
  })
})
