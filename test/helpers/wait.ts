import type { EventEmitter } from 'node:events'

/**
 * Resolves once `check()` holds, re-checking whenever one of the emitters emits anything (no
 * polling, no sleeps). Rejects after `timeoutMs` with `what` and `detail()` in the message, or as
 * soon as `check()` throws.
 */
export function waitFor (emitters: EventEmitter[], check: () => boolean, what: string, timeoutMs = 90_000, detail: () => string = () => ''): Promise<void> {
  if (check()) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const offs: Array<() => void> = []
    const done = (err?: Error): void => { for (const off of offs) off(); clearTimeout(timer); if (err) reject(err); else resolve() }
    const timer = setTimeout(() => {
      const more = detail()
      done(new Error(`timed out waiting for ${what}${more === '' ? '' : `; ${more}`}`))
    }, timeoutMs)
    for (const e of emitters) {
      const orig = e.emit.bind(e)
      const patched = (name: string | symbol, ...args: unknown[]): boolean => {
        const r = orig(name, ...args)
        try { if (check()) done() } catch (err) { done(err as Error) }
        return r
      }
      e.emit = patched as typeof e.emit
      offs.push(() => { if (e.emit === patched) e.emit = orig })
    }
  })
}

export interface Deferred<T> { promise: Promise<T>, resolve: (v: T) => void, reject: (err: unknown) => void }

/** A promise and the functions that settle it, for a test that decides when something ends. */
export function deferred<T = void> (): Deferred<T> {
  let resolve!: (v: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

/** Resolves or rejects as `work` does, or rejects saying "`what` took more than `ms` ms" first. */
export async function within<T> (ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
