/**
 * The download-ticket pool's fairness rule: one owner flooding it only evicts its own oldest
 * unused tickets, so another owner always gets a ticket and keeps the ones it holds.
 */
import { describe, it, expect } from 'vitest'
import { DownloadTickets } from '../../main/engine/tickets.js'

const file = (path: string): { drive: undefined, path: string, version: undefined } => ({ drive: undefined, path, version: undefined })

describe('download tickets shared by several callers', () => {
  it('never refuse a ticket: an owner over its share loses its own oldest one', () => {
    const t = new DownloadTickets(() => 0, 1000, 8, 3)
    const mine = t.create(file('/mine'), 'cli')
    const flood = Array.from({ length: 50 }, (_, i) => t.create(file(`/f${i}`), 'ws:1'))
    expect(t.size).toBe(4)
    expect(t.evicted).toBe(47)
    expect(t.take(flood[0])).toBeNull()
    expect(t.take(flood[49])?.path).toBe('/f49')
    expect(t.take(mine)?.path).toBe('/mine')
  })

  it('when the whole pool is full, take room from the owner holding the most', () => {
    const t = new DownloadTickets(() => 0, 1000, 6, 4)
    const a = Array.from({ length: 4 }, (_, i) => t.create(file(`/a${i}`), 'a'))
    const b = t.create(file('/b'), 'b')
    const c = t.create(file('/c'), 'c')
    const d = t.create(file('/d'), 'd') // pool full: 'a' holds the most and loses its oldest
    expect(t.size).toBe(6)
    expect(t.take(a[0])).toBeNull()
    for (const id of [a[1], b, c, d]) expect(t.take(id)).not.toBeNull()
  })

  it('frees an owner\'s share as its tickets are used or expire', () => {
    let now = 0
    const t = new DownloadTickets(() => now, 1000, 8, 2)
    const x = t.create(file('/x'), 'o')
    t.take(x)
    const y = t.create(file('/y'), 'o')
    now = 2000
    const z = t.create(file('/z'), 'o') // y expired and was pruned: nothing evicted
    expect(t.evicted).toBe(0)
    expect(t.take(y)).toBeNull()
    expect(t.take(z)?.path).toBe('/z')
  })

  it('serves a ranged ticket until it is left idle or reaches its longest life, each range renewing it', () => {
    let now = 0
    const t = new DownloadTickets(() => now, 1000, 8, 4, 5000, 2000)
    const id = t.create({ drive: undefined, path: '/a', version: 1 })
    for (now = 900; now <= 4900; now += 1900) expect(t.use(id, true)?.path).toBe('/a')
    now = 5600 // past its longest life, however often it was used
    expect(t.use(id, true)).toBeNull()
    const idle = t.create({ drive: undefined, path: '/b', version: 1 })
    expect(t.use(idle, true)?.path).toBe('/b')
    now += 2001 // idle longer than a paused player may be
    expect(t.use(idle, true)).toBeNull()
  })
})
