// The hosting task queue (main/hosting/tasks.ts): an id runs once, at most `concurrency` at a
// time in the order asked, failures are reported and listed, and close lets nothing new start.
import { describe, it, expect } from 'vitest'
import { TaskQueue } from '../../main/hosting/tasks.js'
import type { HostingJob } from '../../main/hosting/config.js'
import { DatdotError } from '../../main/shared/errors.js'
import { flush } from '../helpers/manual-timers.js'

const info = { role: 'encoder' as const, planId: 1, contractId: 2, slot: 0 }

/** A task that runs until `release()` is called; `started` tells whether it began. */
function gate (): { fn: () => Promise<void>, release: (err?: Error) => void, started: () => boolean } {
  let started = false
  let release: (err?: Error) => void = () => {}
  const p = new Promise<void>((resolve, reject) => { release = (err) => { if (err !== undefined) reject(err); else resolve() } })
  return { fn: async () => { started = true; await p }, release: (err) => release(err), started: () => started }
}

function queue (concurrency = 2): { q: TaskQueue, jobs: HostingJob[], errors: Array<[string, unknown]>, clock: { t: number } } {
  const jobs: HostingJob[] = []
  const errors: Array<[string, unknown]> = []
  const clock = { t: 1000 }
  const q = new TaskQueue({ concurrency, now: () => clock.t, onJob: (j) => jobs.push({ ...j }), onError: (id, err) => errors.push([id, err]) })
  return { q, jobs, errors, clock }
}

describe('the hosting task queue', () => {
  it('runs a task once per id, even when asked again while it runs or after it ended', async () => {
    const { q } = queue()
    let runs = 0
    const g = gate()
    q.start('a', info, async () => { runs++; await g.fn() })
    q.start('a', info, async () => { runs++ })
    await flush()
    expect(runs).toBe(1)
    expect(q.has('a')).toBe(true)
    g.release()
    await flush()
    q.start('a', info, async () => { runs++ })
    await flush()
    expect(runs).toBe(1)
    expect(q.pending).toBe(0)
  })

  it('runs at most `concurrency` tasks at once and starts the waiting ones in the order asked', async () => {
    const { q } = queue(2)
    const gates = [gate(), gate(), gate(), gate()]
    const order: number[] = []
    gates.forEach((g, i) => q.start(`t${i}`, info, async () => { order.push(i); await g.fn() }))
    await flush()
    expect(gates.map((g) => g.started())).toEqual([true, true, false, false])
    gates[1].release()
    await flush()
    expect(gates.map((g) => g.started())).toEqual([true, true, true, false])
    gates[0].release(new Error('boom'))
    await flush()
    expect(order).toEqual([0, 1, 2, 3])
    gates[2].release()
    gates[3].release()
    await flush()
    expect(q.pending).toBe(0)
  })

  it('reports a failed task to onError, marks its job failed with the message, and keeps running others', async () => {
    const { q, jobs, errors } = queue(1)
    q.start('bad', info, async () => { throw DatdotError.notFound('contract 9') })
    let ran = false
    q.start('good', info, async () => { ran = true })
    await flush()
    await flush()
    expect(ran).toBe(true)
    expect(errors.map(([id]) => id)).toEqual(['bad'])
    expect((errors[0][1] as DatdotError).code).toBe('NOT_FOUND')
    const bad = jobs.filter((j) => j.id === 'bad')
    expect(bad.map((j) => j.state)).toEqual(['running', 'failed'])
    expect(bad[1].detail).toContain('contract 9')
    expect(jobs.filter((j) => j.id === 'good').map((j) => j.state)).toEqual(['running', 'done'])
  })

  it('turns a thrown non-error into a failed job with a message, not a crash', async () => {
    const { q, jobs } = queue(1)
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    q.start('odd', info, async () => { throw 'a string' })
    await flush()
    const last = jobs.filter((j) => j.id === 'odd').at(-1)
    expect(last?.state).toBe('failed')
    expect(typeof last?.detail).toBe('string')
  })

  it('lists jobs with the most recently changed first, stamped by the injected clock', async () => {
    const { q, clock } = queue(1)
    const g = gate()
    q.start('old', info, async () => { await g.fn() })
    clock.t = 2000
    q.start('new', { ...info, role: 'challenge', slot: null }, async () => {})
    expect(q.list().map((j) => j.id)).toEqual(['new', 'old'])
    clock.t = 3000
    g.release()
    await flush()
    await flush()
    const list = q.list()
    expect(list[0].updatedMs).toBeGreaterThanOrEqual(list[1].updatedMs)
    expect(list.find((j) => j.id === 'new')).toMatchObject({ role: 'challenge', slot: null, planId: 1, contractId: 2, state: 'done' })
  })

  it('keeps only the newest jobs when more are listed than jobsKept', async () => {
    const q = new TaskQueue({ concurrency: 4, now: () => 0, jobsKept: 3 })
    for (let i = 0; i < 5; i++) q.start(`j${i}`, info, async () => {})
    await flush()
    expect(q.list().map((j) => j.id).sort()).toEqual(['j2', 'j3', 'j4'])
  })

  it('forgets the oldest ended ids past endedKept, so memory stays bounded', async () => {
    const q = new TaskQueue({ concurrency: 4, now: () => 0, endedKept: 2 })
    for (let i = 0; i < 3; i++) q.start(`e${i}`, info, async () => {})
    await flush()
    expect(q.has('e0')).toBe(false)
    expect(q.has('e1')).toBe(true)
    expect(q.has('e2')).toBe(true)
  })

  it('on close starts nothing new, never runs the waiting tasks, and waits for the running ones', async () => {
    const { q } = queue(1)
    const running = gate()
    const waiting = gate()
    q.start('r', info, running.fn)
    q.start('w', info, waiting.fn)
    await flush()
    let closed = false
    const closing = q.close().then(() => { closed = true })
    q.start('late', info, async () => { throw new Error('must not run') })
    await flush()
    expect(closed).toBe(false)
    running.release()
    await closing
    expect(waiting.started()).toBe(false)
    expect(q.has('late')).toBe(false)
  })

  it('refuses a concurrency that is not a positive whole number', () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      expect(() => new TaskQueue({ concurrency, now: () => 0 })).toThrow(DatdotError)
    }
  })
})
