/**
 * Paces what a swarm connection sends through the node's upload limiter
 * (main/shared/upload-limiter.ts). The hook is the connection's streamx `_write`: every protomux
 * frame (hypercore replication of every core, the hosting channel) reaches it in order, one at a
 * time, before encryption. Delaying its callback fills the stream's write buffer, so `write()`
 * returns false and protomux reports `drained = false`; hypercore then queues the requests it
 * answers until the stream drains (Replicator `onrequest` / `ondrain`) instead of reading more
 * blocks, so a throttled connection holds at most the write buffer (16 KiB) and one frame.
 */
import type { UploadLimiter } from '../shared/upload-limiter.js'

type WriteCallback = (err?: Error | null) => void
interface WritableStream { _write: (data: Uint8Array, cb: WriteCallback) => void, destroying?: boolean }

/** Makes every write of `stream` (a streamx Writable: a swarm connection) wait in `limiter`. */
export function paceWrites (stream: unknown, limiter: UploadLimiter): void {
  const s = stream as WritableStream
  if (typeof s._write !== 'function') return
  const original = s._write
  s._write = function (data: Uint8Array, cb: WriteCallback): void {
    limiter.pace(data.byteLength, () => {
      // Destroyed while it waited: nothing to send any more.
      if (s.destroying === true) cb(null)
      else original.call(this, data, cb)
    })
  }
}
