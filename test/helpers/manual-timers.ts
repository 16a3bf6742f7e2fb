/**
 * Timers driven by hand for unit tests (main/shared/timeout.ts Timers): nothing fires until the
 * test calls advance(), and `now` is the hand-moved clock. A test waits for a timer to be set
 * with untilScheduled() (an event, never a sleep).
 */
import { EventEmitter } from 'node:events'
import type { Timers } from '../../main/shared/timeout.js'

interface Pending { id: number, at: number, ms: number, fn: () => void }

export class ManualTimers extends EventEmitter implements Timers {
  private clock = 0
  private nextId = 1
  private readonly pending = new Map<number, Pending>()

  /** The hand-moved clock, in ms. */
  readonly now = (): number => this.clock

  setTimeout (fn: () => void, ms: number): unknown {
    const t = { id: this.nextId++, at: this.clock + ms, ms, fn }
    this.pending.set(t.id, t)
    this.emit('scheduled', t.ms)
    return t.id
  }

  clearTimeout (handle: unknown): void {
    this.pending.delete(handle as number)
  }

  /** Timers set and not fired or cleared yet. */
  get size (): number { return this.pending.size }

  /** The durations of the pending timers, in the order they were set. */
  durations (): number[] {
    return [...this.pending.values()].map((t) => t.ms)
  }

  /** Fires every pending timer now, in the order they were set (the clock does not move). */
  fireAll (): void {
    const due = [...this.pending.values()]
    this.pending.clear()
    for (const t of due) t.fn()
  }

  /** Moves the clock by `ms`, firing every timer that falls due, earliest first. */
  advance (ms: number): void {
    const until = this.clock + ms
    for (;;) {
      const due = [...this.pending.values()].filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0]
      if (due === undefined) break
      this.pending.delete(due.id)
      this.clock = due.at
      due.fn()
    }
    this.clock = until
  }

  /** Resolves once a timer of `ms` is pending (already or when one is set). */
  untilScheduled (ms: number): Promise<void> {
    if (this.durations().includes(ms)) return Promise.resolve()
    return new Promise((resolve) => {
      const on = (set: number): void => {
        if (set !== ms) return
        this.off('scheduled', on)
        resolve()
      }
      this.on('scheduled', on)
    })
  }
}

/** Lets every callback of promises settled so far run (one macrotask turn; no time passes). */
export function flush (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
