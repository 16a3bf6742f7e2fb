/**
 * One authenticated WebSocket of the loopback API: `{ id, method, args }` in,
 * `{ id, result } | { id, error }` out. Nothing a client sends can crash the daemon or grow
 * its memory without bound:
 * - a message that is not a JSON object with a numeric id (null, a number, an array, a
 *   string, binary, bad JSON, wrong field types) gets a PROTOCOL_ERROR reply (with
 *   `id: null` when no usable id came with it) and the socket stays open;
 * - at most `maxInFlight` calls run at once per socket; calls read beyond that wait in a queue
 *   while the server stops reading the socket (TCP back-pressure), so the queue holds at most
 *   what one read brought in; past `maxQueued` a call answers LIMIT_REACHED at once;
 * - a client that does not read its replies is cut off once more than `maxBufferedBytes`
 *   wait to be sent (counted in counters.wsOverloaded).
 */
import type { RawData, WebSocket } from 'ws'
import { DatdotError, type SerializedError } from '../shared/errors.js'
import type { CallOutcome } from '../api/dispatch.js'

export interface SocketLimits {
  maxInFlight: number
  maxBufferedBytes: number
  /** Calls read while maxInFlight run, waiting their turn (default 1024). */
  maxQueued?: number
}

export interface SocketCounters {
  /** Sockets closed because their client did not read its replies. */
  wsOverloaded: number
  /** Calls refused because the socket already had maxInFlight calls running and maxQueued waiting. */
  wsCallsRefused: number
  /** Most calls ever running at once on one socket. */
  wsInFlightPeak: number
  /** Most calls ever waiting in one socket's queue. */
  wsQueuedPeak: number
  /** Malformed messages answered with PROTOCOL_ERROR. */
  wsProtocolErrors: number
}

export type Call = (method: unknown, args: unknown) => Promise<CallOutcome>

type Parsed = { ok: true, id: number, method: string, args: unknown } | { ok: false, id: number | null, error: DatdotError }

/** Checks the shape of one text message; never throws. */
export function parseMessage (text: string): Parsed {
  let msg: unknown
  try { msg = JSON.parse(text) } catch { return { ok: false, id: null, error: DatdotError.protocolError('the message is not JSON') } }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return { ok: false, id: null, error: DatdotError.protocolError('a message must be a JSON object { id, method, args }') }
  }
  const { id, method, args } = msg as { id?: unknown, method?: unknown, args?: unknown }
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return { ok: false, id: null, error: DatdotError.protocolError('a message needs an integer id') }
  if (typeof method !== 'string') return { ok: false, id, error: DatdotError.protocolError('a message needs a method name (a string)') }
  return { ok: true, id, method, args }
}

function textOf (raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8')
  if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('utf8')
  return raw.toString('utf8')
}

export function serveSocket (ws: WebSocket, call: Call, limits: SocketLimits, counters: SocketCounters): void {
  const maxQueued = limits.maxQueued ?? 1024
  const queue: Array<{ id: number, method: string, args: unknown }> = []
  let inFlight = 0

  const send = (reply: { id: number | null, result?: unknown, error?: SerializedError }): void => {
    if (ws.readyState !== ws.OPEN) return
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      counters.wsOverloaded++
      ws.terminate()
      return
    }
    ws.send(JSON.stringify(reply))
  }

  const start = (msg: { id: number, method: string, args: unknown }): void => {
    inFlight++
    if (inFlight > counters.wsInFlightPeak) counters.wsInFlightPeak = inFlight
    const finish = (reply: { id: number, result?: unknown, error?: SerializedError }): void => { settle(); send(reply) }
    call(msg.method, msg.args).then((outcome) => {
      finish(outcome.ok ? { id: msg.id, result: outcome.result ?? null } : { id: msg.id, error: outcome.error })
    }, (err: unknown) => {
      finish({ id: msg.id, error: DatdotError.from(err).toJSON() })
    }).catch(() => ws.terminate())
  }

  const settle = (): void => {
    inFlight--
    while (inFlight < limits.maxInFlight && queue.length > 0 && ws.readyState === ws.OPEN) start(queue.shift()!)
    if (ws.isPaused && queue.length === 0 && ws.readyState === ws.OPEN) ws.resume()
  }

  ws.on('message', (raw: RawData, isBinary: boolean) => {
    if (isBinary) {
      counters.wsProtocolErrors++
      send({ id: null, error: DatdotError.protocolError('binary messages are not accepted; send JSON text').toJSON() })
      return
    }
    const msg = parseMessage(textOf(raw))
    if (!msg.ok) {
      counters.wsProtocolErrors++
      send({ id: msg.id, error: msg.error.toJSON() })
      return
    }
    if (inFlight < limits.maxInFlight) { start(msg); return }
    // Busy: stop reading until the queue drains; what this read already brought in waits.
    if (!ws.isPaused) ws.pause()
    if (queue.length >= maxQueued) {
      counters.wsCallsRefused++
      send({ id: msg.id, error: DatdotError.limitReached('calls waiting on one connection', maxQueued).toJSON() })
      return
    }
    queue.push(msg)
    if (queue.length > counters.wsQueuedPeak) counters.wsQueuedPeak = queue.length
  })
  ws.on('close', () => { queue.length = 0 })
}
