/**
 * A coalescing runner: `schedule()` runs the task now; asked again while it runs, it runs once
 * more after (however many times it was asked), so every request is served by a run that
 * started after it. Used for work that catches up with "everything new" in one go (following
 * the chain, syncing hosting with the marketplace).
 *
 * A failing run is reported to `onError` and does not stop the loop: a request that came in
 * meanwhile still gets its run. Once `stopped()` is true nothing new starts.
 */
export interface CoalescerOptions {
  /** Called with the error of a failed run. */
  onError: (err: unknown) => void
  /** True once the owner closes: no new run starts (the one in flight finishes). */
  stopped?: () => boolean
}

export class Coalescer {
  private again = false
  private current: Promise<void> = Promise.resolve()
  private _running = false
  private readonly stopped: () => boolean

  constructor (private readonly task: () => Promise<void>, private readonly opts: CoalescerOptions) {
    this.stopped = opts.stopped ?? (() => false)
  }

  /** True while a run is in flight. */
  get running (): boolean { return this._running }

  /** Runs the task now, or once more after the run in flight. */
  schedule (): void {
    if (this.stopped()) return
    if (this._running) { this.again = true; return }
    this._running = true
    this.current = this.loop()
  }

  /** Resolves when the runs in flight (and the ones asked for meanwhile) are done. Never rejects. */
  idle (): Promise<void> {
    return this.current
  }

  private async loop (): Promise<void> {
    do {
      this.again = false
      try {
        await this.task()
      } catch (err) {
        this.opts.onError(err)
      }
    } while (this.again && !this.stopped())
    this._running = false
  }
}
