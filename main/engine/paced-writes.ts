/**
 * Paces what a swarm connection sends through the node's upload limiter
 * (main/shared/upload-limiter.ts). The hook is the connection's streamx `_write`: every protomux
 * frame (hypercore replication of every core, the hosting channel) reaches it in order, one at a
 * time, before encryption. Delaying its callback fills the stream's write buffer, so `write()`
 * returns false and protomux reports `drained = false`; hypercore then queues the requests it
 * answers until the stream drains (Replicator `onrequest` / `ondrain`) instead of reading more
 * blocks, so a throttled connection holds at most the write buffer (16 KiB) and one frame.
 *
 * Urgent frames (sendUrgently: a hosting commitment an attestor times against a deadline) do not
 * wait for the limit: they, and the few frames written before them on the same connection (the
 * stream keeps its order), go at once and leave the bucket in debt, which later writes pay back.
 * Without this a seeder serving readers at its limit answered challenges late and was penalised.
 */
import type { UploadLimiter, Waiter } from '../shared/upload-limiter.js'

type WriteCallback = (err?: Error | null) => void
interface WritableStream {
  _write: (data: Uint8Array, cb: WriteCallback) => void
  write: (data: Uint8Array) => boolean
  destroying?: boolean
}

/** Where one paced connection stands: frames written and passed to `_write`, and the one waiting. */
interface Paced {
  limiter: UploadLimiter
  /** Frames handed to `write()`. */
  written: number
  /** Frames that reached `_write` (in the same order). */
  passed: number
  /** Frames up to this count go without waiting. */
  urgentUpTo: number
  /** The frame waiting in the limiter, if any (at most one: streamx writes one at a time). */
  waiting: Waiter | null
}

const pacedStreams = new WeakMap<object, Paced>()

/** Makes every write of `stream` (a streamx Writable: a swarm connection) wait in `limiter`. */
export function paceWrites (stream: unknown, limiter: UploadLimiter): void {
  const s = stream as WritableStream
  if (typeof s._write !== 'function' || typeof s.write !== 'function') return
  const p: Paced = { limiter, written: 0, passed: 0, urgentUpTo: 0, waiting: null }
  pacedStreams.set(s, p)
  const originalWrite = s.write
  s.write = function (data: Uint8Array): boolean {
    p.written++
    return originalWrite.call(this, data)
  }
  const original = s._write
  s._write = function (data: Uint8Array, cb: WriteCallback): void {
    const urgent = ++p.passed <= p.urgentUpTo
    const waiting = limiter.pace(data.byteLength, () => {
      p.waiting = null
      // Destroyed while it waited: nothing to send any more.
      if (s.destroying === true) cb(null)
      else original.call(this, data, cb)
    }, urgent)
    if (waiting !== null) p.waiting = waiting
  }
}

/**
 * Runs `send` (which writes frames to `stream` synchronously, e.g. a protomux message) and lets
 * what it wrote skip the upload limit, together with the frames queued before it on the same
 * connection. On a stream that is not paced it only runs `send`.
 */
export function sendUrgently (stream: unknown, send: () => void): void {
  send()
  const p = typeof stream === 'object' && stream !== null ? pacedStreams.get(stream) : undefined
  if (p === undefined) return
  p.urgentUpTo = p.written
  if (p.waiting !== null) p.limiter.hurry(p.waiting)
}
