/**
 * Timers (injectable, so tests can drive time) and the one `withTimeout`: a promise raced
 * against a deadline and, optionally, an AbortSignal. At the deadline it rejects with
 * DatdotError TIMEOUT unless the caller maps it to its own error; when the signal aborts it
 * rejects at once with CLOSED. The timer and the abort listener are removed however it ends.
 */
import { DatdotError } from './errors.js'

export interface Timers {
  setTimeout (fn: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>)
}

export interface TimeoutOptions {
  /** Default: the real setTimeout/clearTimeout. */
  timers?: Timers
  /** Rejects at once with CLOSED when aborted (already aborted: rejects without waiting). */
  signal?: AbortSignal
  /** What is closed when the signal aborts, for the CLOSED message (default 'service'). */
  closed?: string
  /** The error at the deadline; default DatdotError.timeout(what, ms) (code TIMEOUT). */
  onTimeout?: (what: string, ms: number) => Error
}

/** Settles as `p` does, or rejects after `ms` (TIMEOUT, or `onTimeout`), or with CLOSED when `signal` aborts. */
export function withTimeout<T> (p: Promise<T>, ms: number, what: string, opts: TimeoutOptions = {}): Promise<T> {
  const { timers = realTimers, signal } = opts
  const closed = (): DatdotError => DatdotError.closed(opts.closed ?? 'service')
  if (signal?.aborted === true) return Promise.reject(closed())
  return new Promise<T>((resolve, reject) => {
    const done = (): void => { timers.clearTimeout(timer); signal?.removeEventListener('abort', onAbort) }
    const onAbort = (): void => { done(); reject(closed()) }
    const timer = timers.setTimeout(() => { done(); reject(opts.onTimeout !== undefined ? opts.onTimeout(what, ms) : DatdotError.timeout(what, ms)) }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
    p.then((v) => { done(); resolve(v) }, (err: unknown) => { done(); reject(err) })
  })
}
