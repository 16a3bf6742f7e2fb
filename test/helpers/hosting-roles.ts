/**
 * What a hosting role's unit test runs it with: the real HostingContext and TaskQueue over a
 * MemoryMarket (test/helpers/market-fixtures.ts) and hand-driven timers, the failed tasks, a wait
 * for every started task to end, a deferred promise, and a channel that is only a peer's key.
 */
import { EventEmitter } from 'node:events'
import { HostingContext } from '../../main/hosting/context.js'
import { TaskQueue } from '../../main/hosting/tasks.js'
import { DEFAULT_HOSTING_LIMITS, newHostingCounters, type HostingJob, type HostingLimits } from '../../main/hosting/config.js'
import type { HostingChannel } from '../../main/hosting/wire.js'
import { ManualTimers } from './manual-timers.js'
import { waitFor } from './wait.js'
import type { MemoryMarket, Party } from './market-fixtures.js'

export interface RoleHarness {
  ctx: HostingContext
  tasks: TaskQueue
  timers: ManualTimers
  /** Tasks that failed, by id. */
  errors: Map<string, unknown>
  /** Every job report (start and end) in order. */
  jobs: HostingJob[]
  /** Resolves when every task started so far has ended. */
  idle: () => Promise<void>
  /** Ids of the tasks started so far whose id starts with `prefix`. */
  started: (prefix: string) => string[]
}

export function roleHarness (me: Party, market: MemoryMarket, limits: Partial<HostingLimits> = {}): RoleHarness {
  const timers = new ManualTimers()
  const events = new EventEmitter()
  const errors = new Map<string, unknown>()
  const jobs: HostingJob[] = []
  const ctx = new HostingContext({
    chain: market, limits: { ...DEFAULT_HOSTING_LIMITS, ...limits }, counters: newHostingCounters(), keyPair: me.keyPair, timers, now: timers.now
  })
  const tasks = new TaskQueue({
    concurrency: ctx.limits.concurrentTasks,
    now: timers.now,
    onJob: (job) => { jobs.push({ ...job }); events.emit('job') },
    onError: (id, err) => { errors.set(id, err) }
  })
  const idle = (): Promise<void> => waitFor([events], () => tasks.list().every((j) => j.state !== 'running'), 'every task to end', 5000,
    () => tasks.list().filter((j) => j.state === 'running').map((j) => j.id).join(', '))
  const started = (prefix: string): string[] => [...new Set(jobs.filter((j) => j.id.startsWith(prefix)).map((j) => j.id))]
  return { ctx, tasks, timers, errors, jobs, idle, started }
}

/** A hosting channel as the roles read it: only the peer's key (null: an unauthenticated stream). */
export function channelFrom (p: Party | null): HostingChannel {
  return { remotePublicKey: p === null ? null : p.keyPair.publicKey, closed: false } as unknown as HostingChannel
}
