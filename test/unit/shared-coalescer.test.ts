// The coalescing runner (main/shared/coalescer.ts): one run at a time, requests made during a
// run folded into one more run after it, errors reported without stopping the loop.
import { describe, it, expect } from 'vitest'
import { Coalescer } from '../../main/shared/coalescer.js'

/** A task whose runs the test finishes by hand. */
function gatedTask (): { task: () => Promise<void>, runs: number, finish: (err?: Error) => void } {
  const gates: Array<(err?: Error) => void> = []
  const t = {
    runs: 0,
    task: (): Promise<void> => {
      t.runs++
      return new Promise<void>((resolve, reject) => { gates.push((err) => { if (err) reject(err); else resolve() }) })
    },
    finish: (err?: Error): void => { const g = gates.shift(); if (g === undefined) throw new Error('no run in flight'); g(err) }
  }
  return t
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('Coalescer', () => {
  it('runs at once, and once more after for any number of requests made meanwhile', async () => {
    const t = gatedTask()
    const c = new Coalescer(t.task, { onError: (err) => { throw err } })
    c.schedule()
    expect(t.runs).toBe(1)
    expect(c.running).toBe(true)
    c.schedule(); c.schedule(); c.schedule()
    expect(t.runs).toBe(1)
    t.finish()
    await tick()
    expect(t.runs).toBe(2)
    t.finish()
    await c.idle()
    expect(t.runs).toBe(2)
    expect(c.running).toBe(false)
  })

  it('idle() resolves at once when nothing runs, and after the reruns when something does', async () => {
    const t = gatedTask()
    const c = new Coalescer(t.task, { onError: () => {} })
    await c.idle()
    c.schedule(); c.schedule()
    let idle = false
    const waiting = c.idle().then(() => { idle = true })
    t.finish(); await tick()
    expect(idle).toBe(false)
    t.finish(); await waiting
    expect(idle).toBe(true)
  })

  it('reports a failed run and still serves the request made during it', async () => {
    const t = gatedTask()
    const errors: unknown[] = []
    const c = new Coalescer(t.task, { onError: (err) => errors.push(err) })
    c.schedule(); c.schedule()
    t.finish(new Error('boom'))
    await tick()
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom'])
    expect(t.runs).toBe(2)
    t.finish()
    await expect(c.idle()).resolves.toBeUndefined()
    c.schedule()
    expect(t.runs).toBe(3)
    t.finish()
    await c.idle()
  })

  it('starts nothing new once stopped; the run in flight finishes', async () => {
    const t = gatedTask()
    let stopped = false
    const c = new Coalescer(t.task, { onError: () => {}, stopped: () => stopped })
    c.schedule(); c.schedule()
    stopped = true
    t.finish()
    await c.idle()
    expect(t.runs).toBe(1)
    c.schedule()
    expect(t.runs).toBe(1)
    expect(c.running).toBe(false)
  })
})
