/**
 * Long-running work (imports, exports, uploads) as jobs with progress. A job emits
 * 'job.progress' at most every `progressIntervalMs` while running and always on a state change.
 * Finished jobs are kept (bounded) so a UI that connects late still sees the outcome.
 */
import { randomBytes } from 'node:crypto'
import type { Job } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'

export interface JobsOptions {
  now?: () => number
  progressIntervalMs?: number
  keepFinished?: number
  emit: (job: Job) => void
}

export class JobHandle {
  readonly controller = new AbortController()
  private lastEmitMs = 0

  constructor (private readonly jobs: Jobs, readonly job: Job) {}

  get signal (): AbortSignal {
    return this.controller.signal
  }

  get running (): boolean {
    return this.job.state === 'running'
  }

  /** Throws CANCELLED if the job was cancelled. Call between steps. */
  check (): void {
    if (this.controller.signal.aborted) throw DatdotError.cancelled(this.job.label)
  }

  setTotals (filesTotal: number, bytesTotal: number): void {
    this.job.filesTotal = filesTotal
    this.job.bytesTotal = bytesTotal
    this.emit(true)
  }

  addBytes (n: number): void {
    this.job.bytesDone += n
    if (this.job.bytesDone > this.job.bytesTotal) this.job.bytesTotal = this.job.bytesDone
    this.emit(false)
  }

  fileDone (): void {
    this.job.filesDone++
    if (this.job.filesDone > this.job.filesTotal) this.job.filesTotal = this.job.filesDone
    this.emit(false)
  }

  succeed (version: number | null = null): Job {
    if (!this.running) return this.job
    this.job.state = 'done'
    this.job.version = version
    this.job.endedMs = this.jobs.now()
    this.jobs.finished(this)
    return this.job
  }

  fail (err: unknown): Job {
    if (!this.running) return this.job
    const e = this.controller.signal.aborted ? DatdotError.cancelled(this.job.label) : DatdotError.from(err)
    this.job.state = e.code === 'CANCELLED' ? 'cancelled' : 'failed'
    this.job.error = e.toJSON()
    this.job.endedMs = this.jobs.now()
    this.jobs.finished(this)
    return this.job
  }

  cancel (): void {
    if (this.running) this.controller.abort(DatdotError.cancelled(this.job.label))
  }

  emit (force: boolean): void {
    const now = this.jobs.now()
    if (!force && now - this.lastEmitMs < this.jobs.progressIntervalMs) return
    this.lastEmitMs = now
    this.jobs.emitJob(this.job)
  }
}

export class Jobs {
  readonly now: () => number
  readonly progressIntervalMs: number
  private readonly keepFinished: number
  private readonly handles = new Map<string, JobHandle>()
  private readonly emitFn: (job: Job) => void

  constructor (opts: JobsOptions) {
    this.now = opts.now ?? Date.now
    this.progressIntervalMs = opts.progressIntervalMs ?? 200
    this.keepFinished = opts.keepFinished ?? 100
    this.emitFn = opts.emit
  }

  /** A running job; `totals` known from the start are in its first event already. */
  create (kind: Job['kind'], label: string, totals: { files?: number, bytes?: number } = {}): JobHandle {
    const job: Job = {
      id: randomBytes(8).toString('hex'),
      kind,
      state: 'running',
      label,
      bytesDone: 0,
      bytesTotal: totals.bytes ?? 0,
      filesDone: 0,
      filesTotal: totals.files ?? 0,
      startedMs: this.now(),
      endedMs: null,
      version: null,
      error: null
    }
    const handle = new JobHandle(this, job)
    this.handles.set(job.id, handle)
    handle.emit(true)
    return handle
  }

  get (id: string): JobHandle {
    const h = this.handles.get(id)
    if (!h) throw DatdotError.notFound(`job ${id}`)
    return h
  }

  list (): Job[] {
    return [...this.handles.values()].map((h) => ({ ...h.job })).reverse()
  }

  get runningCount (): number {
    let n = 0
    for (const h of this.handles.values()) if (h.running) n++
    return n
  }

  cancelAll (): void {
    for (const h of this.handles.values()) h.cancel()
  }

  /** Runs `work` as the job's body: success records the version, any error fails the job. */
  async run (handle: JobHandle, work: (job: JobHandle) => Promise<number | null>): Promise<Job> {
    try {
      const version = await work(handle)
      return handle.succeed(version)
    } catch (err) {
      return handle.fail(err)
    }
  }

  /** @internal */
  finished (handle: JobHandle): void {
    handle.emit(true)
    const done = [...this.handles.values()].filter((h) => !h.running)
    for (const h of done.slice(0, Math.max(0, done.length - this.keepFinished))) this.handles.delete(h.job.id)
  }

  /** @internal */
  emitJob (job: Job): void {
    this.emitFn({ ...job })
  }
}
