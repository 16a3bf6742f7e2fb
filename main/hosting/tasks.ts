/**
 * The hosting node's task queue: every piece of work a role starts (encode a slot, settle it,
 * report a setup, run a challenge, download a plain replica) is a task with an id. A task id
 * runs once (a task that ended is not started again under the same id), at most
 * `concurrency` run at a time, the rest wait in order. Each task is listed as a HostingJob
 * (the newest `jobsKept`) and reported through `onJob` when it starts and ends; a failed task
 * goes to `onError` and never rejects into its caller.
 */
import { DatdotError } from '../shared/errors.js'
import type { HostingJob } from './config.js'

export type JobInfo = Omit<HostingJob, 'id' | 'state' | 'detail' | 'updatedMs'>

export interface TaskQueueOptions {
  concurrency: number
  now: () => number
  /** Called with a job when its task starts and when it ends. */
  onJob?: (job: HostingJob) => void
  /** Called with the id and the error of a task that failed. */
  onError?: (id: string, err: unknown) => void
  /** Jobs kept for listing (oldest dropped first). Default 1000. */
  jobsKept?: number
  /** Task ids remembered as ended, so they are not run again (oldest forgotten first). Default 100 000. */
  endedKept?: number
}

export class TaskQueue {
  private readonly tasks = new Map<string, Promise<void>>()
  private readonly ended = new Set<string>()
  private readonly jobs = new Map<string, HostingJob>()
  private readonly waiting: Array<() => void> = []
  private running = 0
  private closed = false

  constructor (private readonly opts: TaskQueueOptions) {
    if (!Number.isSafeInteger(opts.concurrency) || opts.concurrency < 1) throw DatdotError.invalidArgument('concurrency must be a positive whole number')
  }

  /** Tasks started and not ended yet (running or waiting for a turn). */
  get pending (): number { return this.tasks.size }

  /** True when a task with this id is pending or has ended. */
  has (id: string): boolean {
    return this.tasks.has(id) || this.ended.has(id)
  }

  /** Starts `fn` as task `id` unless that id is pending or ended, or the queue is closed. */
  start (id: string, info: JobInfo, fn: () => Promise<void>): void {
    if (this.has(id) || this.closed) return
    const job: HostingJob = { id, ...info, state: 'running', detail: null, updatedMs: this.opts.now() }
    this.jobs.set(id, job)
    if (this.jobs.size > (this.opts.jobsKept ?? 1000)) this.jobs.delete(this.jobs.keys().next().value as string)
    this.opts.onJob?.(job)
    const p = this.run(job, fn)
    this.tasks.set(id, p)
    p.finally(() => { this.tasks.delete(id) }).catch(() => {})
  }

  /** The listed jobs, the most recently changed first. */
  list (): HostingJob[] {
    return [...this.jobs.values()].sort((a, b) => b.updatedMs - a.updatedMs)
  }

  /** Starts nothing more, lets the waiting tasks see the close, and waits for every task to end. */
  async close (): Promise<void> {
    this.closed = true
    for (const f of this.waiting.splice(0)) f()
    await Promise.allSettled([...this.tasks.values()])
  }

  private async run (job: HostingJob, fn: () => Promise<void>): Promise<void> {
    await this.turn()
    try {
      if (this.closed) return
      await fn()
      job.state = 'done'
    } catch (err) {
      job.state = 'failed'
      job.detail = DatdotError.from(err).message
      this.opts.onError?.(job.id, err)
    } finally {
      this.remember(job.id)
      this.running--
      this.waiting.shift()?.()
      job.updatedMs = this.opts.now()
      this.opts.onJob?.(job)
    }
  }

  private remember (id: string): void {
    this.ended.add(id)
    if (this.ended.size > (this.opts.endedKept ?? 100_000)) this.ended.delete(this.ended.values().next().value as string)
  }

  private async turn (): Promise<void> {
    if (this.running < this.opts.concurrency) { this.running++; return }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.running++
  }
}
