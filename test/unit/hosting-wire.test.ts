/**
 * The hosting channel's own rules (main/hosting/wire.ts) over an in-memory framed stream pair,
 * no network: request/response matching, remote errors and their codes, limits on both sides,
 * every kind of bad message from a peer closing the channel with PROTOCOL_ERROR, timeouts on
 * injected timers, close and channel ids. test/integration/hosting-wire.test.ts runs the roles
 * over real Hyperswarm connections.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { EventEmitter, once } from 'node:events'
import { randomBytes } from 'node:crypto'
import type { Duplex } from 'streamx'
import { streamPair } from '../helpers/stream-pair.js'
import Protomux from 'protomux'
import c from 'compact-encoding'
import { HostingChannel, PROTOCOL, type WireHandlers, type WireOptions } from '../../main/hosting/wire.js'
import { receiptMessage, commitmentMessage, errorMessage, openMessage, type StoredChunk } from '../../main/hosting/messages.js'
import { DatdotError } from '../../main/shared/errors.js'
import type { Timers } from '../../main/shared/timeout.js'
import { ManualTimers } from '../helpers/manual-timers.js'
import { deferred } from '../helpers/wait.js'

const streams: Duplex[] = []
afterEach(() => { for (const s of streams.splice(0)) s.destroy() })

async function connected (a: WireHandlers = {}, b: WireHandlers = {}, optsA: WireOptions = {}, optsB: WireOptions = {}): Promise<[HostingChannel, HostingChannel]> {
  const [sa, sb] = streamPair()
  streams.push(sa, sb)
  const ca = new HostingChannel(sa, a, optsA)
  const cb = new HostingChannel(sb, b, optsB)
  await Promise.all([ca.ready(), cb.ready()])
  return [ca, cb]
}

const T = { deliver: 0, receipt: 1, challenge: 2, commitment: 3, open: 4, proof: 5, error: 6, settle: 7, slotReceipt: 8 }

/** A peer that speaks the protocol's framing but sends whatever bytes a test wants. */
async function rawPeer (handlers: WireHandlers = {}, opts: WireOptions = {}): Promise<{ channel: HostingChannel, send: (type: number, bytes: Uint8Array) => void, received: Array<{ type: number, buf: Buffer }>, events: EventEmitter }> {
  const [sa, sb] = streamPair()
  streams.push(sa, sb)
  const channel = new HostingChannel(sa, handlers, opts)
  const mux = Protomux.from(sb)
  const raw = mux.createChannel({ protocol: PROTOCOL })!
  const received: Array<{ type: number, buf: Buffer }> = []
  const events = new EventEmitter()
  const messages = Object.values(T).map((type) => raw.addMessage<Buffer>({
    encoding: c.raw,
    onmessage: (buf) => { received.push({ type, buf }); events.emit('message') }
  }))
  raw.open()
  await channel.ready()
  return { channel, send: (type, bytes) => messages[type].send(Buffer.from(bytes)), received, events }
}

const KEY = Buffer.alloc(32, 1)
const SIG = Buffer.alloc(64, 2)
function chunk (size = 10): StoredChunk {
  return { index: 3, encoded: randomBytes(size), encoderSignature: Buffer.alloc(64, 5), merkle: { index: 3, length: 4, nodes: [], roots: [] } }
}

async function rejection (p: Promise<unknown>): Promise<DatdotError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(DatdotError)
  return err as DatdotError
}

describe('requests and answers', () => {
  it('carries each of the four requests to its handler and the answer back, with the sender’s clock', async () => {
    let t = 100
    const seen: string[] = []
    const [a] = await connected({}, {
      ondeliver: async (m) => { seen.push(`deliver ${m.contractId} ${m.chunk.index}`); return SIG },
      onchallenge: async (m) => { seen.push(`challenge ${m.steps}`); return Array.from({ length: m.steps }, (_, i) => Buffer.alloc(32, i)) },
      onopen: async (m) => { seen.push(`open ${m.index}`); return chunk() },
      onsettle: async (m) => { seen.push(`settle ${m.rootLength}`); return SIG }
    }, { now: () => (t += 5) })
    const d = await a.deliver(9, KEY, chunk())
    expect(d.value.equals(SIG)).toBe(true)
    expect(d.receivedAtMs - d.sentAtMs).toBe(5)
    expect((await a.challenge(9, KEY, Buffer.alloc(32), 3)).value.map((h) => h[0])).toEqual([0, 1, 2])
    expect((await a.open(9, KEY, 3)).value.index).toBe(3)
    expect((await a.settle(9, KEY, 4, Buffer.alloc(32))).value.equals(SIG)).toBe(true)
    expect(seen).toEqual(['deliver 9 3', 'challenge 3', 'open 3', 'settle 4'])
    expect(a.counters).toMatchObject({ requestsSent: 4, protocolErrors: 0, remoteErrors: 0 })
    expect(a.remotePublicKey).toBeNull()
  })

  it('lets both ends ask at once and matches answers by request id, not by order', async () => {
    const gates = [deferred<Buffer>(), deferred<Buffer>()]
    let n = 0
    const [a, b] = await connected({ onsettle: async () => Buffer.alloc(64, 9) }, { ondeliver: () => gates[n++].promise })
    const first = a.deliver(1, KEY, chunk())
    const second = a.deliver(2, KEY, chunk())
    const fromB = b.settle(1, KEY, 1, Buffer.alloc(32))
    gates[1].resolve(Buffer.alloc(64, 2))
    expect((await second).value[0]).toBe(2)
    gates[0].resolve(Buffer.alloc(64, 1))
    expect((await first).value[0]).toBe(1)
    expect((await fromB).value[0]).toBe(9)
  })
})

describe('errors from the other end', () => {
  it('come back with their code, message and proof-failure reason, marked remote', async () => {
    const [a] = await connected({}, {
      ondeliver: async () => { throw DatdotError.proofFailed('BAD_ENCODING', 'bad header') },
      onopen: async () => { throw DatdotError.notFound('contract 9') }
    })
    const e = await rejection(a.deliver(9, KEY, chunk()))
    expect(e.code).toBe('PROOF_FAILED')
    expect(e.details).toEqual({ remote: true, reason: 'BAD_ENCODING' })
    expect(e.message).toContain('bad header')
    const nf = await rejection(a.open(9, KEY, 1))
    expect(nf.code).toBe('NOT_FOUND')
    expect(nf.details).toEqual({ remote: true })
    expect(a.counters.remoteErrors).toBe(2)
  })

  it('turn a raw error in a handler into INTERNAL for the asker, and keep the channel open', async () => {
    let calls = 0
    const [a] = await connected({}, { ondeliver: async () => { if (calls++ === 0) throw new TypeError('oops'); return SIG } })
    expect((await rejection(a.deliver(1, KEY, chunk()))).code).toBe('INTERNAL')
    expect((await a.deliver(1, KEY, chunk())).value.equals(SIG)).toBe(true)
    expect(a.closed).toBe(false)
  })

  it('refuse each request type a peer does not serve with FORBIDDEN', async () => {
    const [a] = await connected()
    for (const p of [a.deliver(1, KEY, chunk()), a.challenge(1, KEY, KEY, 1), a.open(1, KEY, 0), a.settle(1, KEY, 1, KEY)]) {
      expect((await rejection(p)).code).toBe('FORBIDDEN')
    }
  })

  it('map an error code it does not know to INTERNAL, keeping the message', async () => {
    const peer = await rawPeer()
    const p = peer.channel.deliver(1, KEY, chunk())
    peer.send(T.error, c.encode(errorMessage, { requestId: 1, code: 'NO_SUCH_CODE:WHY', message: 'strange' }))
    const e = await rejection(p)
    expect(e.code).toBe('INTERNAL')
    expect(e.message).toBe('strange')
    expect(e.details).toEqual({ remote: true, reason: 'WHY' })
  })

  it('tell the asker when the answer could not be encoded or is over the size limit, instead of leaving it waiting', async () => {
    const [a] = await connected({}, {
      ondeliver: async () => Buffer.alloc(63), // a signature of the wrong size
      onopen: async () => chunk(5000)
    }, {}, { maxMessageBytes: 1000 })
    const bad = await rejection(a.deliver(1, KEY, chunk()))
    expect(bad.details?.remote).toBe(true)
    const big = await rejection(a.open(1, KEY, 3))
    expect(big.code).toBe('TOO_LARGE')
    expect(big.details?.remote).toBe(true)
  })

  it('refuse a commitment with another number of hashes than steps asked, as PROTOCOL_ERROR', async () => {
    const [a] = await connected({}, { onchallenge: async () => [Buffer.alloc(32), Buffer.alloc(32)] })
    expect((await rejection(a.challenge(1, KEY, KEY, 3))).code).toBe('PROTOCOL_ERROR')
  })
})

describe('limits', () => {
  it('refuses to send a request over the size limit, or with steps out of range, and sends nothing', async () => {
    const [a, b] = await connected({}, {}, { maxMessageBytes: 500 })
    expect((await rejection(a.deliver(1, KEY, chunk(600)))).code).toBe('TOO_LARGE')
    for (const steps of [0, 4097, 1.5, NaN]) expect((await rejection(a.challenge(1, KEY, KEY, steps))).code).toBe('INVALID_ARGUMENT')
    expect(a.counters.requestsSent).toBe(0)
    expect(b.counters.requestsReceived).toBe(0)
  })

  it('refuses a request it cannot encode (a 31-byte core key) with a DatdotError and sends nothing', async () => {
    const [a] = await connected()
    await rejection(a.open(1, Buffer.alloc(31), 0))
    expect(a.counters.requestsSent).toBe(0)
  })

  it('keeps at most maxInflight requests of its own in flight', async () => {
    const gate = deferred<Buffer>()
    const [a] = await connected({}, { ondeliver: () => gate.promise }, { maxInflight: 2 })
    const inflight = [a.deliver(1, KEY, chunk()), a.deliver(1, KEY, chunk())]
    expect((await rejection(a.deliver(1, KEY, chunk()))).code).toBe('LIMIT_REACHED')
    gate.resolve(SIG)
    await Promise.all(inflight)
    expect((await a.deliver(1, KEY, chunk())).value.equals(SIG)).toBe(true)
  })

  it('handles at most maxInflight requests from a peer at once and refuses the rest with LIMIT_REACHED', async () => {
    const gate = deferred<Buffer>()
    const [a, b] = await connected({}, { ondeliver: () => gate.promise }, {}, { maxInflight: 2 })
    const held = [a.deliver(1, KEY, chunk()), a.deliver(1, KEY, chunk())]
    const third = await rejection(a.deliver(1, KEY, chunk()))
    expect(third.code).toBe('LIMIT_REACHED')
    expect(third.details?.remote).toBe(true)
    gate.resolve(SIG)
    await Promise.all(held)
    expect(b.counters.requestsReceived).toBe(3)
    expect((await a.deliver(1, KEY, chunk())).value.equals(SIG)).toBe(true)
  })
})

describe('a peer that breaks the protocol', () => {
  async function expectProtocolError (peer: Awaited<ReturnType<typeof rawPeer>>, send: () => void, pending?: Promise<unknown>): Promise<DatdotError> {
    const errors: DatdotError[] = []
    peer.channel.on('protocol-error', (e: DatdotError) => errors.push(e))
    const closed = once(peer.channel, 'close')
    send()
    await closed
    expect(peer.channel.closed).toBe(true)
    expect(peer.channel.counters.protocolErrors).toBe(1)
    expect(errors).toHaveLength(1)
    expect(errors[0].code).toBe('PROTOCOL_ERROR')
    if (pending) expect((await rejection(pending)).code).toBe('CLOSED')
    return errors[0]
  }

  it('is cut off for a request that does not decode, of any type', async () => {
    for (const type of [T.deliver, T.challenge, T.open, T.settle]) {
      const peer = await rawPeer({ ondeliver: async () => SIG })
      const e = await expectProtocolError(peer, () => peer.send(type, Buffer.from([0x01, 0xff])))
      expect(e.message).toContain('malformed')
    }
  })

  it('is cut off for garbage sent as an answer, and the pending request fails with CLOSED', async () => {
    for (const type of [T.receipt, T.commitment, T.proof, T.error, T.slotReceipt]) {
      const peer = await rawPeer()
      const pending = peer.channel.deliver(1, KEY, chunk())
      await expectProtocolError(peer, () => peer.send(type, randomBytes(7)), pending)
    }
  })

  it('is cut off for an answer to a request never made', async () => {
    const peer = await rawPeer()
    const e = await expectProtocolError(peer, () => peer.send(T.receipt, c.encode(receiptMessage, { requestId: 99, signature: SIG })))
    expect(e.message).toContain('unknown request 99')
  })

  it('is cut off for an answer of the wrong type', async () => {
    const peer = await rawPeer()
    const pending = peer.channel.deliver(1, KEY, chunk())
    const e = await expectProtocolError(peer, () => peer.send(T.commitment, c.encode(commitmentMessage, { requestId: 1, hashes: [] })), pending)
    expect(e.message).toContain('commitment is not an answer to a receipt request')
  })

  it('is cut off for a message over the size limit before it is decoded', async () => {
    const peer = await rawPeer({}, { maxMessageBytes: 100 })
    const e = await expectProtocolError(peer, () => peer.send(T.deliver, Buffer.alloc(101)))
    expect(e.message).toContain('101 bytes, limit 100')
  })

  it('is not cut off for a well-formed request it has no handler for: it gets FORBIDDEN and the channel stays open', async () => {
    const peer = await rawPeer()
    const answered = once(peer.events, 'message')
    peer.send(T.open, c.encode(openMessage, { requestId: 5, contractId: 1, coreKey: KEY, index: 0 }))
    await answered
    const [reply] = peer.received
    expect(reply.type).toBe(T.error)
    expect(c.decode(errorMessage, reply.buf)).toMatchObject({ requestId: 5, code: 'FORBIDDEN' })
    expect(peer.channel.closed).toBe(false)
    expect(peer.channel.counters).toMatchObject({ requestsReceived: 1, protocolErrors: 0 })
  })
})

describe('timeouts and closing', () => {
  it('times a request out on the injected timers and ignores the late answer, staying open', async () => {
    const timers = new ManualTimers()
    const gate = deferred<Buffer>()
    let calls = 0
    const [a] = await connected({}, { ondeliver: () => calls++ === 0 ? gate.promise : Promise.resolve(SIG) }, { timers, requestTimeoutMs: 50 })
    const p = a.deliver(1, KEY, chunk())
    timers.fireAll()
    const e = await rejection(p)
    expect(e.code).toBe('TIMEOUT')
    expect(e.details).toMatchObject({ timeoutMs: 50 })
    gate.resolve(SIG)
    // answers arrive in order: once the next one is back, the late one has been seen and ignored
    expect((await a.deliver(1, KEY, chunk())).value.equals(SIG)).toBe(true)
    expect(a.counters).toMatchObject({ timeouts: 1, protocolErrors: 0 })
    expect(a.closed).toBe(false)
  })

  it('uses a request’s own timeout over the default, and clears the timer when the answer comes', async () => {
    const timers = new ManualTimers()
    const seen: number[] = []
    const spy: Timers = { setTimeout: (fn, ms) => { seen.push(ms); return timers.setTimeout(fn, ms) }, clearTimeout: (h) => timers.clearTimeout(h) }
    const [a] = await connected({}, { ondeliver: async () => SIG }, { timers: spy, requestTimeoutMs: 50 })
    await a.deliver(1, KEY, chunk(), { timeoutMs: 7 })
    await a.deliver(1, KEY, chunk())
    expect(seen).toEqual([7, 50])
    expect(timers.size).toBe(0)
  })

  it('fails pending requests with CLOSED on close, is idempotent, and refuses new requests after', async () => {
    const [a, b] = await connected({}, { ondeliver: () => new Promise<Buffer>(() => {}) })
    const pending = a.deliver(1, KEY, chunk())
    const remoteClosed = once(b, 'close')
    await a.close()
    await a.close()
    expect((await rejection(pending)).code).toBe('CLOSED')
    expect((await rejection(a.open(1, KEY, 0))).code).toBe('CLOSED')
    await remoteClosed
    expect(b.closed).toBe(true)
  })

  it('rejects ready() when the connection closes before the other end opens', async () => {
    const [sa, sb] = streamPair()
    streams.push(sa, sb)
    const lonely = new HostingChannel(sa)
    const waiting = lonely.ready()
    await lonely.close()
    expect((await rejection(waiting)).code).toBe('CLOSED')
  })
})

describe('channel ids', () => {
  it('refuses a second channel with the same id on one connection, and runs channels with different ids apart', async () => {
    const [sa, sb] = streamPair()
    streams.push(sa, sb)
    const one = Buffer.alloc(32, 1)
    const two = Buffer.alloc(32, 2)
    const a1 = new HostingChannel(sa, {}, { channelId: one })
    expect(() => new HostingChannel(sa, {}, { channelId: one })).toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }) as Error)
    const a2 = new HostingChannel(sa, {}, { channelId: two })
    new HostingChannel(sb, { ondeliver: async () => Buffer.alloc(64, 1) }, { channelId: one })
    new HostingChannel(sb, { ondeliver: async () => Buffer.alloc(64, 2) }, { channelId: two })
    await Promise.all([a1.ready(), a2.ready()])
    expect((await a1.deliver(1, KEY, chunk())).value[0]).toBe(1)
    expect((await a2.deliver(1, KEY, chunk())).value[0]).toBe(2)
  })
})
