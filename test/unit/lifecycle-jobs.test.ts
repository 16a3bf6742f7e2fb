import { describe, it, expect } from 'vitest'
import { Resource } from '../../main/shared/resource.js'
import { Jobs } from '../../main/engine/jobs.js'
import type { Job } from '../../main/shared/contract.js'

class Probe extends Resource {
  opens = 0
  closes = 0
  constructor (private readonly failOpen = false) { super() }
  protected async _open (): Promise<void> {
    this.opens++
    if (this.failOpen) throw new Error('boom')
  }

  protected async _close (): Promise<void> { this.closes++ }
}

describe('the service lifecycle', () => {
  it('opens once however often ready() is called, and closes once', async () => {
    const p = new Probe()
    await Promise.all([p.ready(), p.ready(), p.ready()])
    expect(p.opens).toBe(1)
    expect(p.opened).toBe(true)
    await Promise.all([p.close(), p.close()])
    expect(p.closes).toBe(1)
    expect(p.closed).toBe(true)
  })

  it('closes itself when opening fails, and rethrows the error', async () => {
    const p = new Probe(true)
    await expect(p.ready()).rejects.toThrow('boom')
    expect(p.closes).toBe(1)
    expect(p.closed).toBe(true)
    expect(p.opened).toBe(false)
  })

  it('refuses to open after it was closed', async () => {
    const p = new Probe()
    await p.close()
    await expect(p.ready()).rejects.toThrow()
    expect(p.opens).toBe(0)
  })
})

describe('jobs', () => {
  it('throttle progress events by the injected clock but always report state changes', async () => {
    let now = 0
    const seen: Job[] = []
    const jobs = new Jobs({ now: () => now, progressIntervalMs: 100, emit: (j) => seen.push(j) })
    const h = jobs.create('import', 'test')
    h.setTotals(2, 1000)
    h.addBytes(10)
    h.addBytes(10)
    now = 150
    h.addBytes(10)
    const done = await jobs.run(h, async () => 7)
    expect(seen.map((j) => [j.state, j.bytesDone])).toEqual([['running', 0], ['running', 0], ['running', 30], ['done', 30]])
    expect(done).toMatchObject({ state: 'done', version: 7, endedMs: 150 })
  })

  it('turns a failure into a coded error and a cancel into CANCELLED', async () => {
    const jobs = new Jobs({ emit: () => {} })
    const failed = await jobs.run(jobs.create('export', 'x'), async () => { throw Object.assign(new Error('full'), { code: 'ENOSPC' }) })
    expect(failed.state).toBe('failed')
    expect(failed.error?.code).toBe('DISK_FULL')
    const h = jobs.create('import', 'y')
    const cancelled = jobs.run(h, async (job) => {
      job.cancel()
      job.check()
      return 1
    })
    expect((await cancelled).state).toBe('cancelled')
    expect(jobs.runningCount).toBe(0)
  })

  it('keeps a bounded number of finished jobs', async () => {
    const jobs = new Jobs({ emit: () => {}, keepFinished: 3 })
    for (let i = 0; i < 10; i++) await jobs.run(jobs.create('import', String(i)), async () => null)
    expect(jobs.list().map((j) => j.label)).toEqual(['9', '8', '7'])
  })
})
