/**
 * The hosting protocol on the wire: one protomux channel `datdot/hosting/1` per connection,
 * request/response with request ids, compact-encoded bodies sent raw so their size is checked
 * before decoding. Used for encoder -> attestor -> hoster chunk delivery and for attestor <->
 * hoster storage challenges. See docs/protocol.md, section 3.
 *
 * Network, clock and timers are injected; the channel emits events and keeps counters.
 */
import { EventEmitter } from 'node:events'
import c, { type Encoding } from 'compact-encoding'
import Protomux, { type Channel, type Message } from 'protomux'
import b4a from 'b4a'
import { DatdotError, isErrorCode } from '../shared/errors.js'
import { realTimers, type Timers } from '../shared/timeout.js'
import { sendUrgently } from '../engine/paced-writes.js'
import {
  deliverMessage, receiptMessage, challengeMessage, commitmentMessage, openMessage, proofMessage, errorMessage,
  settleMessage, slotReceiptMessage, leavesMessage, leafProofsMessage, decodeExact, MAX_WALK_STEPS, MAX_AUDIT_POSITIONS,
  type DeliverMessage, type ReceiptMessage, type ChallengeMessage, type CommitmentMessage, type OpenMessage, type ProofMessage,
  type ErrorMessage, type SettleMessage, type SlotReceiptMessage, type StoredChunk, type LeavesMessage, type LeafProofsMessage
} from './messages.js'

export const PROTOCOL = 'datdot/hosting/2'
export const DEFAULT_MAX_MESSAGE_BYTES = 2 * 1024 * 1024
export const DEFAULT_MAX_INFLIGHT = 64
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

export interface WireOptions {
  /** Largest message accepted, checked before decoding. */
  maxMessageBytes?: number
  /** Most requests in flight per direction. */
  maxInflight?: number
  /** Default timeout of a request. */
  requestTimeoutMs?: number
  /** Clock for sentAtMs / receivedAtMs (deadline checks). */
  now?: () => number
  timers?: Timers
  /** Protomux channel id, to run several independent sessions on one connection (both ends must agree). */
  channelId?: Uint8Array | null
  /**
   * Awaited before a `proof` reply (an opened chunk) is sent, with its size in bytes (the service
   * counts the bytes served). The upload limit itself paces every frame the connection sends
   * (main/engine/paced-writes.ts), this channel's replies and commitments included.
   */
  replyLimiter?: (bytes: number) => Promise<void>
}

export interface WireHandlers {
  /** Store or relay a chunk; resolves to the receipt signature. */
  ondeliver?: (msg: DeliverMessage, channel: HostingChannel) => Promise<Buffer>
  /** Run the walk; resolves to one hash per step. */
  onchallenge?: (msg: ChallengeMessage, channel: HostingChannel) => Promise<Buffer[]>
  /** Show one stored chunk. */
  onopen?: (msg: OpenMessage, channel: HostingChannel) => Promise<StoredChunk>
  /** Check a slot's receipts root against the stored chunks; resolves to the slot receipt signature. */
  onsettle?: (msg: SettleMessage, channel: HostingChannel) => Promise<Buffer>
  /** Show leaves of one of this attestor's aggregate parts with their merkle paths (an audit). */
  onleaves?: (msg: LeavesMessage, channel: HostingChannel) => Promise<Omit<LeafProofsMessage, 'requestId'>>
}

export interface Answer<T> { value: T, sentAtMs: number, receivedAtMs: number }

export interface WireCounters {
  requestsSent: number
  requestsReceived: number
  timeouts: number
  protocolErrors: number
  remoteErrors: number
}

const T_DELIVER = 0
const T_RECEIPT = 1
const T_CHALLENGE = 2
const T_COMMITMENT = 3
const T_OPEN = 4
const T_PROOF = 5
const T_ERROR = 6
const T_SETTLE = 7
const T_SLOT_RECEIPT = 8
const T_LEAVES = 9
const T_LEAF_PROOFS = 10
const NAMES = ['deliver', 'receipt', 'challenge', 'commitment', 'open', 'proof', 'error', 'settle', 'slot-receipt', 'leaves', 'leaf-proofs']
/** What every message of the protocol carries first. */
interface WireMessage { requestId: number }
const CODECS: Array<Encoding<WireMessage>> = [deliverMessage, receiptMessage, challengeMessage, commitmentMessage, openMessage, proofMessage, errorMessage, settleMessage, slotReceiptMessage, leavesMessage, leafProofsMessage]
const REPLY_OF: Record<number, number> = { [T_DELIVER]: T_RECEIPT, [T_CHALLENGE]: T_COMMITMENT, [T_OPEN]: T_PROOF, [T_SETTLE]: T_SLOT_RECEIPT, [T_LEAVES]: T_LEAF_PROOFS }
const REQUESTS = new Set([T_DELIVER, T_CHALLENGE, T_OPEN, T_SETTLE, T_LEAVES])
/**
 * Small control messages skip the upload limit (paced-writes.ts sendUrgently): a challenge and
 * its commitment are timed against a deadline of seconds, and must not wait behind the blocks a
 * seeder serves to readers at its limit. Only the two that carry chunks (deliver, proof) wait.
 */
const URGENT = new Set([T_RECEIPT, T_CHALLENGE, T_COMMITMENT, T_OPEN, T_ERROR, T_SETTLE, T_SLOT_RECEIPT, T_LEAVES, T_LEAF_PROOFS])

interface Pending {
  replyType: number
  sentAtMs: number
  timer: unknown
  resolve: (a: Answer<WireMessage>) => void
  reject: (err: Error) => void
}

/**
 * One end of the hosting channel on a connection (a Hyperswarm connection, or any framed
 * duplex protomux accepts). Both ends may send requests.
 */
export class HostingChannel extends EventEmitter {
  readonly maxMessageBytes: number
  readonly maxInflight: number
  readonly requestTimeoutMs: number
  readonly counters: WireCounters = { requestsSent: 0, requestsReceived: 0, timeouts: 0, protocolErrors: 0, remoteErrors: 0 }
  readonly remotePublicKey: Buffer | null
  private readonly now: () => number
  private readonly timers: Timers
  private readonly handlers: WireHandlers
  private readonly replyLimiter: ((bytes: number) => Promise<void>) | null
  private readonly channel: Channel
  private readonly stream: unknown
  private readonly messages: Array<Message<Buffer>>
  private readonly pending = new Map<number, Pending>()
  private nextRequestId = 1
  private handling = 0
  private opened = false
  private closedFlag = false
  private readonly openWaiters: Array<{ resolve: () => void, reject: (err: Error) => void }> = []

  constructor (stream: unknown, handlers: WireHandlers = {}, opts: WireOptions = {}) {
    super()
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    this.maxInflight = opts.maxInflight ?? DEFAULT_MAX_INFLIGHT
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.now = opts.now ?? Date.now
    this.timers = opts.timers ?? realTimers
    this.handlers = handlers
    this.replyLimiter = opts.replyLimiter ?? null
    this.remotePublicKey = (stream as { remotePublicKey?: Buffer }).remotePublicKey ?? null
    this.stream = stream
    const mux = Protomux.from(stream)
    const channel = mux.createChannel({
      protocol: PROTOCOL,
      id: opts.channelId ?? null,
      onopen: () => this.onopen(),
      onclose: () => this.onclose()
    })
    if (channel === null) throw DatdotError.alreadyExists(`${PROTOCOL} channel on this connection`)
    this.channel = channel
    this.messages = NAMES.map((_, type) => channel.addMessage<Buffer>({
      encoding: c.raw,
      onmessage: (buf) => this.onmessage(type, buf)
    }))
    channel.open()
  }

  get closed (): boolean { return this.closedFlag }

  /** Resolves once the remote end opened the channel; rejects if it closes first. */
  ready (): Promise<void> {
    if (this.opened) return Promise.resolve()
    if (this.closedFlag) return Promise.reject(DatdotError.closed('hosting channel'))
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }))
  }

  /** Idempotent. Pending requests reject with CLOSED. */
  async close (): Promise<void> {
    if (this.closedFlag) return
    this.channel.close()
    this.onclose()
  }

  deliver (contractId: number, coreKey: Buffer, chunk: StoredChunk, opts: { timeoutMs?: number } = {}): Promise<Answer<Buffer>> {
    return this.request(T_DELIVER, (requestId) => ({ requestId, contractId, coreKey, chunk }), opts.timeoutMs, (m: ReceiptMessage) => m.signature)
  }

  challenge (contractId: number, coreKey: Buffer, seed: Buffer, steps: number, opts: { timeoutMs?: number } = {}): Promise<Answer<Buffer[]>> {
    if (!Number.isSafeInteger(steps) || steps < 1 || steps > MAX_WALK_STEPS) return Promise.reject(DatdotError.invalidArgument(`steps must be 1 to ${MAX_WALK_STEPS}`))
    return this.request(T_CHALLENGE, (requestId) => ({ requestId, contractId, coreKey, seed, steps }), opts.timeoutMs, (m: CommitmentMessage) => {
      if (m.hashes.length !== steps) throw DatdotError.protocolError(`commitment has ${m.hashes.length} hashes for ${steps} steps`)
      return m.hashes.map((h) => b4a.from(h))
    })
  }

  open (contractId: number, coreKey: Buffer, index: number, opts: { timeoutMs?: number } = {}): Promise<Answer<StoredChunk>> {
    return this.request(T_OPEN, (requestId) => ({ requestId, contractId, coreKey, index }), opts.timeoutMs, (m: ProofMessage) => m.chunk)
  }

  /** Asks the hoster to sign the slot's receipts root (after the last chunk of a slot). */
  settle (contractId: number, coreKey: Buffer, rootLength: number, receiptsRoot: Buffer, opts: { timeoutMs?: number } = {}): Promise<Answer<Buffer>> {
    return this.request(T_SETTLE, (requestId) => ({ requestId, contractId, coreKey, rootLength, receiptsRoot }), opts.timeoutMs, (m: SlotReceiptMessage) => m.signature)
  }

  /** Asks an attestor for leaves of its aggregate part of `epoch` from check `from`, with their merkle paths (an audit). */
  leaves (epoch: number, from: number, positions: number[], opts: { timeoutMs?: number } = {}): Promise<Answer<LeafProofsMessage>> {
    if (positions.length < 1 || positions.length > MAX_AUDIT_POSITIONS) return Promise.reject(DatdotError.invalidArgument(`positions must be 1 to ${MAX_AUDIT_POSITIONS}`))
    return this.request(T_LEAVES, (requestId) => ({ requestId, epoch, from, positions }), opts.timeoutMs, (m: LeafProofsMessage) => m)
  }

  private request<R extends WireMessage, T> (type: number, build: (requestId: number) => WireMessage, timeoutMs: number | undefined, pick: (m: R) => T): Promise<Answer<T>> {
    if (this.closedFlag) return Promise.reject(DatdotError.closed('hosting channel'))
    if (this.pending.size >= this.maxInflight) return Promise.reject(DatdotError.limitReached('requests in flight', this.maxInflight))
    const requestId = this.nextRequestId++
    let buf: Buffer
    try {
      buf = c.encode(CODECS[type], build(requestId))
    } catch (err) {
      return Promise.reject(DatdotError.from(err))
    }
    if (buf.byteLength > this.maxMessageBytes) return Promise.reject(DatdotError.tooLarge(`${NAMES[type]} message`, this.maxMessageBytes))
    const ms = timeoutMs ?? this.requestTimeoutMs
    return new Promise<Answer<T>>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        if (!this.pending.delete(requestId)) return
        this.counters.timeouts++
        reject(DatdotError.timeout(`${NAMES[type]} request`, ms))
      }, ms)
      this.pending.set(requestId, {
        replyType: REPLY_OF[type],
        sentAtMs: this.now(),
        timer,
        resolve: (a) => {
          // onmessage decoded the answer with the codec of REPLY_OF[type], the message R names
          try { resolve({ ...a, value: pick(a.value as R) }) } catch (err) { reject(DatdotError.from(err)) }
        },
        reject
      })
      this.counters.requestsSent++
      this.post(type, buf)
    })
  }

  private onopen (): void {
    this.opened = true
    for (const w of this.openWaiters.splice(0)) w.resolve()
    this.emit('open')
  }

  private onclose (): void {
    if (this.closedFlag) return
    this.closedFlag = true
    const err = DatdotError.closed('hosting channel')
    for (const w of this.openWaiters.splice(0)) w.reject(err)
    for (const [id, p] of this.pending) {
      this.timers.clearTimeout(p.timer)
      this.pending.delete(id)
      p.reject(err)
    }
    this.emit('close')
  }

  private protocolError (message: string): void {
    this.counters.protocolErrors++
    this.emit('protocol-error', DatdotError.protocolError(message))
    this.channel.close()
    this.onclose()
  }

  private onmessage (type: number, buf: Buffer): void {
    if (this.closedFlag) return
    if (buf.byteLength > this.maxMessageBytes) {
      this.protocolError(`${NAMES[type]} message of ${buf.byteLength} bytes, limit ${this.maxMessageBytes}`)
      return
    }
    let msg: WireMessage
    try {
      msg = decodeExact(CODECS[type], buf, NAMES[type])
    } catch (err) {
      this.protocolError((err as Error).message)
      return
    }
    if (REQUESTS.has(type)) {
      this.onrequest(type, msg)
      return
    }
    const p = this.pending.get(msg.requestId)
    if (p === undefined) {
      // a late answer to a request that timed out is not an error; an id we never used is
      if (msg.requestId >= this.nextRequestId) this.protocolError(`${NAMES[type]} for unknown request ${msg.requestId}`)
      return
    }
    if (type !== T_ERROR && type !== p.replyType) {
      this.protocolError(`${NAMES[type]} is not an answer to a ${NAMES[p.replyType]} request`)
      return
    }
    this.pending.delete(msg.requestId)
    this.timers.clearTimeout(p.timer)
    if (type === T_ERROR) {
      this.counters.remoteErrors++
      const e = msg as ErrorMessage
      p.reject(remoteError(e.code, e.message))
      return
    }
    p.resolve({ value: msg, sentAtMs: p.sentAtMs, receivedAtMs: this.now() })
  }

  private onrequest (type: number, msg: { requestId: number }): void {
    this.counters.requestsReceived++
    if (this.handling >= this.maxInflight) {
      this.sendError(msg.requestId, DatdotError.limitReached('requests in flight', this.maxInflight))
      return
    }
    this.handling++
    this.handle(type, msg).then(async (reply) => {
      if (type === T_OPEN && this.replyLimiter !== null) await this.replyLimiter(encodedSize(CODECS[T_PROOF], reply))
      return reply
    }).then((reply) => {
      this.handling--
      this.send(REPLY_OF[type], reply)
    }, (err: unknown) => {
      this.handling--
      this.sendError(msg.requestId, DatdotError.from(err))
    })
  }

  private async handle (type: number, msg: WireMessage): Promise<ReceiptMessage | CommitmentMessage | SlotReceiptMessage | ProofMessage | LeafProofsMessage> {
    const h = this.handlers
    if (type === T_LEAVES) {
      if (!h.onleaves) throw DatdotError.forbidden('this peer keeps no aggregates')
      return { requestId: msg.requestId, ...await h.onleaves(msg as LeavesMessage, this) }
    }
    if (type === T_DELIVER) {
      if (!h.ondeliver) throw DatdotError.forbidden('this peer does not take deliveries')
      return { requestId: msg.requestId, signature: await h.ondeliver(msg as DeliverMessage, this) }
    }
    if (type === T_CHALLENGE) {
      if (!h.onchallenge) throw DatdotError.forbidden('this peer does not answer challenges')
      return { requestId: msg.requestId, hashes: await h.onchallenge(msg as ChallengeMessage, this) }
    }
    if (type === T_SETTLE) {
      if (!h.onsettle) throw DatdotError.forbidden('this peer does not host')
      return { requestId: msg.requestId, signature: await h.onsettle(msg as SettleMessage, this) }
    }
    if (!h.onopen) throw DatdotError.forbidden('this peer does not answer challenges')
    return { requestId: msg.requestId, chunk: await h.onopen(msg as OpenMessage, this) }
  }

  private send (type: number, value: WireMessage): void {
    if (this.closedFlag) return
    let buf: Buffer
    try {
      buf = c.encode(CODECS[type], value)
    } catch (err) {
      this.sendError(value.requestId, DatdotError.from(err))
      return
    }
    if (buf.byteLength > this.maxMessageBytes) {
      this.sendError(value.requestId, DatdotError.tooLarge(`${NAMES[type]} message`, this.maxMessageBytes))
      return
    }
    this.post(type, buf)
  }

  /** Sends an encoded message; control messages go ahead of the upload limit (URGENT). */
  private post (type: number, buf: Buffer): void {
    if (URGENT.has(type)) sendUrgently(this.stream, () => this.messages[type].send(buf))
    else this.messages[type].send(buf)
  }

  private sendError (requestId: number, err: DatdotError): void {
    if (this.closedFlag) return
    const reason = err.details?.reason
    const code = typeof reason === 'string' ? `${err.code}:${reason}` : err.code
    this.post(T_ERROR, c.encode(errorMessage, { requestId, code, message: err.message }))
  }
}

function encodedSize (enc: Encoding<WireMessage>, value: WireMessage): number {
  try { return c.encode(enc, value).byteLength } catch { return 0 }
}

/** Rebuilds a remote error: `CODE` or `CODE:REASON` (PROOF_FAILED carries its reason). */
function remoteError (code: string, message: string): DatdotError {
  const [base, reason] = code.split(':', 2)
  const details: Record<string, unknown> = { remote: true }
  if (reason !== undefined) details.reason = reason
  return new DatdotError(isErrorCode(base) ? base : 'INTERNAL', message, details)
}
