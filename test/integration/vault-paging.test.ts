/**
 * Paged folder listings (listFiles with limit and cursor, main/engine/drive-list.ts): pages of a
 * big folder concatenate in stored order with no duplicates or gaps, sub-folders show once,
 * entries added or removed between pages, and every bad limit or cursor refused with a code.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { TempDirs, startEngine } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers, type EngineHandlers } from '../../main/api/handlers.js'
import { dispatch } from '../../main/api/dispatch.js'
import { putMany, fileName } from '../../bench/lib-many-files.js'

const BIG = 2_500

async function codeOf (p: Promise<unknown>): Promise<string | null> {
  try { await p; return null } catch (err) { return (err as { code?: string }).code ?? 'NO_CODE' }
}

describe('paged folder listings', () => {
  const tmp = new TempDirs()
  let engine: Engine
  let api: EngineHandlers

  /** Every page of a listing, following `next`; the pages' entry paths. */
  async function walk (path: string, limit: number, recursive = false, between?: (page: number) => Promise<void>): Promise<string[][]> {
    const pages: string[][] = []
    let cursor: string | undefined
    do {
      const r = await api.listFiles({ path, recursive, limit, ...(cursor === undefined ? {} : { cursor }) })
      pages.push(r.entries.map((e) => e.path))
      expect(r.truncated).toBe(r.next !== null)
      cursor = r.next ?? undefined
      if (between) await between(pages.length)
      // A listing that never ends (a cursor that does not move on) fails here, not by timing out.
      if (pages.length > 1000) throw new Error(`more than 1000 pages of ${path}`)
    } while (cursor !== undefined)
    return pages
  }

  beforeAll(async () => {
    engine = await startEngine(null, await tmp.make())
    api = createHandlers(engine)
    await putMany(engine.vault.drive, '/big', BIG, { batchSize: 1000 })
    const d = engine.vault.drive
    // A folder mixing files and sub-folders, whose contents a shallow page must skip.
    for (const p of ['/mix/a.txt', '/mix/b/1.txt', '/mix/b/2.txt', '/mix/b/c/3.txt', '/mix/c.txt', '/mix/d/4.txt', '/mix/e.txt']) await d.put(p, Buffer.from(p))
  })

  afterAll(async () => {
    await engine.close()
    await tmp.cleanup()
  })

  it('pages through a folder of 2,500 files in stored order with no duplicates or gaps', async () => {
    const pages = await walk('/big', 300)
    expect(pages.length).toBe(Math.ceil(BIG / 300))
    expect(pages.slice(0, -1).every((p) => p.length === 300)).toBe(true)
    const all = pages.flat()
    expect(all).toEqual(Array.from({ length: BIG }, (_, i) => '/big/' + fileName(i)))
  })

  it('gives a total only when the listing is one page', async () => {
    const first = await api.listFiles({ path: '/big', recursive: false, limit: 100 })
    expect(first).toMatchObject({ truncated: true, total: null })
    const whole = await api.listFiles({ path: '/mix', recursive: false, limit: 100 })
    expect(whole).toMatchObject({ truncated: false, next: null, total: 5 })
    // A listing of one page is sorted folders first, as before paging.
    expect(whole.entries.map((e) => e.path)).toEqual(['/mix/b', '/mix/d', '/mix/a.txt', '/mix/c.txt', '/mix/e.txt'])
  })

  it('shows each sub-folder once and skips its contents, one entry per page', async () => {
    const pages = await walk('/mix', 1)
    expect(pages).toEqual([['/mix/a.txt'], ['/mix/b'], ['/mix/c.txt'], ['/mix/d'], ['/mix/e.txt']])
    const kinds = (await api.listFiles({ path: '/mix', recursive: false, limit: 2 })).entries.map((e) => e.kind)
    expect(kinds).toEqual(['file', 'folder'])
  })

  it('pages a recursive listing through every file below the folder', async () => {
    const all = (await walk('/mix', 2, true)).flat()
    expect(all).toEqual(['/mix/a.txt', '/mix/b/1.txt', '/mix/b/2.txt', '/mix/b/c/3.txt', '/mix/c.txt', '/mix/d/4.txt', '/mix/e.txt'])
  })

  it('shows a file added after the cursor on a later page and one added before it on none, without repeating any', async () => {
    const d = engine.vault.drive
    await putMany(d, '/grow', 50, { batchSize: 50 })
    const pages = await walk('/grow', 20, false, async (page) => {
      if (page !== 1) return
      await d.put('/grow/' + fileName(5) + '.late', Buffer.from('before the cursor'))
      await d.put('/grow/' + fileName(45) + '.late', Buffer.from('after the cursor'))
      await d.del('/grow/' + fileName(30))
    })
    const all = pages.flat()
    expect(new Set(all).size).toBe(all.length)
    expect(all).toContain('/grow/' + fileName(45) + '.late')
    expect(all).not.toContain('/grow/' + fileName(5) + '.late')
    expect(all).not.toContain('/grow/' + fileName(30))
    expect(all.filter((p) => !p.endsWith('.late')).length).toBe(49)
  })

  it('resumes after an entry deleted between pages, and answers NOT_FOUND once the whole folder is gone', async () => {
    const d = engine.vault.drive
    await putMany(d, '/gone', 6, { batchSize: 6 })
    const first = await api.listFiles({ path: '/gone', recursive: false, limit: 3 })
    await d.del('/gone/' + fileName(2))
    const second = await api.listFiles({ path: '/gone', recursive: false, limit: 3, cursor: first.next ?? '' })
    expect(second.entries.map((e) => e.name)).toEqual([fileName(3), fileName(4), fileName(5)])
    for (let i = 0; i < 6; i++) await d.del('/gone/' + fileName(i))
    expect(await codeOf(api.listFiles({ path: '/gone', recursive: false, limit: 3, cursor: first.next ?? '' }))).toBe('NOT_FOUND')
  })

  it('refuses a zero, negative, fractional or huge limit with INVALID_ARGUMENT, from a program and over the API', async () => {
    for (const limit of [0, -1, 1.5, 10_001, 1e9, Number.NaN]) {
      expect(await codeOf(api.listFiles({ path: '/big', recursive: false, limit })), `limit ${limit}`).toBe('INVALID_ARGUMENT')
      expect(await codeOf(dispatch(api, 'listFiles', { path: '/big', limit }, 'web')), `limit ${limit} over the API`).toBe('INVALID_ARGUMENT')
    }
  })

  it('refuses forged cursors and cursors of another listing with INVALID_ARGUMENT', async () => {
    const good = (await api.listFiles({ path: '/big', recursive: false, limit: 10 })).next ?? ''
    const recursive = (await api.listFiles({ path: '/mix', recursive: true, limit: 1 })).next ?? ''
    const forged = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
    const bad = [
      'not a cursor!', '%%%', 'x'.repeat(20_000), Buffer.from('plain words').toString('base64url'), forged(null), forged([1]),
      forged({ v: 2, m: 'f', k: 'a', h: 'x' }),
      good.slice(0, -4)
    ]
    for (const cursor of bad) {
      expect(await codeOf(api.listFiles({ path: '/big', recursive: false, limit: 10, cursor })), `cursor ${cursor.slice(0, 40)}`).toBe('INVALID_ARGUMENT')
    }
    // Well-formed, but for another folder, another mode, or naming a path outside the folder.
    expect(await codeOf(api.listFiles({ path: '/mix', recursive: false, limit: 10, cursor: good }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(api.listFiles({ path: '/mix', recursive: false, limit: 10, cursor: recursive }))).toBe('INVALID_ARGUMENT')
    const decoded = JSON.parse(Buffer.from(good, 'base64url').toString()) as Record<string, unknown>
    for (const k of ['../etc', 'a/b', '', 'a\u0000b']) {
      expect(await codeOf(api.listFiles({ path: '/big', recursive: false, limit: 10, cursor: forged({ ...decoded, k }) })), `key ${k}`).toBe('INVALID_ARGUMENT')
    }
    // The listing still works after all of that.
    expect((await api.listFiles({ path: '/big', recursive: false, limit: 10, cursor: good })).entries[0].name).toBe(fileName(10))
  })
})
