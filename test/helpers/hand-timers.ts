/**
 * Timers fired by hand (the Timers interface of main/shared/timeout.ts) and a clock moved by
 * hand, for unit tests that drive time without waiting.
 */
import type { Timers } from '../../main/shared/timeout.js'

export class HandTimers implements Timers {
  /** Armed timers: id -> [due time, callback]. */
  readonly pending = new Map<number, { dueMs: number, fn: () => void }>()
  nowMs = 0
  private next = 1

  readonly now = (): number => this.nowMs

  setTimeout (fn: () => void, ms: number): unknown {
    const id = this.next++
    this.pending.set(id, { dueMs: this.nowMs + ms, fn })
    return id
  }

  clearTimeout (h: unknown): void { this.pending.delete(h as number) }

  /** Moves the clock on by `ms`, firing every timer that falls due, in due order. */
  advance (ms: number): void {
    const until = this.nowMs + ms
    for (;;) {
      const due = [...this.pending].filter(([, t]) => t.dueMs <= until).sort((a, b) => a[1].dueMs - b[1].dueMs)[0]
      if (due === undefined) break
      this.pending.delete(due[0])
      this.nowMs = Math.max(this.nowMs, due[1].dueMs)
      due[1].fn()
    }
    this.nowMs = until
  }

  /** Fires every armed timer now. */
  fireAll (): void {
    for (const [id, t] of [...this.pending]) { this.pending.delete(id); t.fn() }
  }
}

/** Lets every already-settled promise callback run (a macrotask boundary). */
export function flush (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
