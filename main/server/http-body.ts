/**
 * Request plumbing of the loopback API server: decoding the URL without throwing anything but
 * a DatdotError, reading small JSON bodies, and metering upload bodies (a byte budget checked
 * as bytes arrive, and an idle timeout, so a stalled or oversized body is cut off cleanly).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Transform } from 'node:stream'
import { DatdotError } from '../shared/errors.js'

/** The request target as a URL; a target that is not a URL is a 400, not a 500. */
export function requestUrl (raw: string | undefined, origin: string): URL {
  try {
    return new URL(raw ?? '/', origin)
  } catch {
    throw DatdotError.invalidArgument('the request URL is malformed')
  }
}

/** decodeURIComponent that answers malformed percent-encoding (e.g. `%E0%A4%A`) with a 400. */
export function decodeUrlPart (s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    throw DatdotError.invalidArgument('the request URL has malformed percent-encoding', { reason: 'bad-percent-encoding' })
  }
}

export function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' })
  res.end(text)
}

/** Reads a whole (small) body; fails past `maxBytes` or when no byte arrives for `idleMs`. */
export async function readBody (req: IncomingMessage, maxBytes: number, idleMs: number): Promise<Buffer> {
  const metered = meterBody(req, { maxBytes, idleMs, overBudget: () => DatdotError.tooLarge('request body', maxBytes) })
  const chunks: Buffer[] = []
  for await (const chunk of metered) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

export interface MeterOptions {
  /** Most bytes the body may have; Infinity for no budget. */
  maxBytes: number
  /** Longest wait for the next byte; 0 disables it. */
  idleMs: number
  /** The error once the body goes over `maxBytes`; `bytes` counts what arrived so far. */
  overBudget: (bytes: number) => DatdotError
}

/**
 * The request body through a counting stream. On going over budget or stalling, the counting
 * stream fails (so whatever consumes it rolls back) but the request itself is only unpiped,
 * not destroyed: the server can still answer on the same socket (with Connection: close).
 */
export function meterBody (req: IncomingMessage, opts: MeterOptions): Transform {
  let bytes = 0
  let timer: NodeJS.Timeout | null = null
  const arm = (): void => {
    if (opts.idleMs <= 0) return
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      meter.destroy(DatdotError.timeout('the request body (no data arrived)', opts.idleMs))
    }, opts.idleMs)
  }
  const disarm = (): void => { if (timer) { clearTimeout(timer); timer = null } }
  const meter = new Transform({
    transform (chunk: Buffer, _enc, cb) {
      bytes += chunk.length
      if (bytes > opts.maxBytes) { disarm(); cb(opts.overBudget(bytes)); return }
      arm()
      cb(null, chunk)
    },
    flush (cb) { disarm(); cb() }
  })
  // Consumers (a pipeline, an async iterator) see the error through the stream's state, even
  // when they attach after it failed; without a consumer nobody must crash on it.
  meter.on('error', () => {})
  // The client went away mid-body: fail the consumer (nothing arrives any more).
  const onClose = (): void => { if (!req.complete) meter.destroy(DatdotError.cancelled('request (the client disconnected)')) }
  req.once('close', onClose)
  meter.on('close', () => { disarm(); req.off('close', onClose); req.unpipe(meter) })
  arm()
  req.pipe(meter)
  return meter
}
