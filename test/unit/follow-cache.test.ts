/** The cache of a sparse follow: which files to clear to get under its limit (least recently read first, kept and the file being read never). */
import { describe, it, expect } from 'vitest'
import { chooseClears, lastRead, usageOf, type CachedFile } from '../../main/engine/follow-cache.js'
import { checkSettings, ON_DEMAND_LIMIT_BYTES } from '../../main/engine/follow-sync.js'

function file (path: string, bytesHeld: number, lastReadMs: number, kept = false): CachedFile {
  return { path, bytesHeld, lastReadMs, kept, blockOffset: 0, blockLength: 1 }
}

describe('chooseClears', () => {
  const files = [file('/old', 100, 1), file('/mid', 100, 2), file('/new', 100, 3), file('/pinned', 500, 0, true), file('/gone', 0, 0)]

  it('clears nothing while the cached bytes are within the limit, or without a limit', () => {
    expect(chooseClears(files, 300)).toEqual([])
    expect(chooseClears(files, null)).toEqual([])
  })

  it('clears the least recently read files first until the cache is under the limit', () => {
    expect(chooseClears(files, 150).map((f) => f.path)).toEqual(['/old', '/mid'])
    expect(chooseClears(files, 250).map((f) => f.path)).toEqual(['/old'])
  })

  it('never clears a kept file or the file being read, even at a limit of 0', () => {
    expect(chooseClears(files, 0, '/new').map((f) => f.path)).toEqual(['/old', '/mid'])
  })

  it('clears never-read files before read ones, in path order', () => {
    const never = [file('/b', 10, 0), file('/a', 10, 0), file('/read', 10, 5)]
    expect(chooseClears(never, 10).map((f) => f.path)).toEqual(['/a', '/b'])
  })

  it('counts kept and clearable bytes apart', () => {
    expect(usageOf(files)).toEqual({ bytesKept: 500, bytesClearable: 300 })
  })

  it('counts an exported folder as a read of every file below it', () => {
    const reads = new Map([['/photos', 7], ['/photos/2024/a.jpg', 3]])
    expect(lastRead(reads, '/photos/2024/a.jpg')).toBe(7)
    expect(lastRead(reads, '/photosx/a.jpg')).toBe(0)
  })
})

describe('checkSettings', () => {
  it('gives an on-demand follow a 1 GiB limit and an all follow none, unless told', () => {
    expect(checkSettings({ mode: 'on-demand' }, null).cacheLimitBytes).toBe(ON_DEMAND_LIMIT_BYTES)
    expect(checkSettings({ mode: 'all' }, null).cacheLimitBytes).toBeNull()
    expect(checkSettings({ mode: 'on-demand', cacheLimitBytes: 5 }, null).cacheLimitBytes).toBe(5)
  })

  it('keeps the pins and, in the same mode, the limit', () => {
    const current = { mode: 'on-demand' as const, folders: [], pins: ['/keep'], cacheLimitBytes: 9 }
    expect(checkSettings({ mode: 'on-demand' }, current)).toEqual(current)
    expect(checkSettings({ mode: 'folders', folders: ['a/', '/a'] }, current)).toEqual({ mode: 'folders', folders: ['/a'], pins: ['/keep'], cacheLimitBytes: null })
  })

  it('refuses folders outside mode folders, folders mode without folders, a bad limit and a bad path, with codes', () => {
    expect(() => checkSettings({ mode: 'all', folders: ['/a'] }, null)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => checkSettings({ mode: 'folders' }, null)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => checkSettings({ mode: 'on-demand', cacheLimitBytes: -1 }, null)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => checkSettings({ mode: 'on-demand', cacheLimitBytes: 1.5 }, null)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => checkSettings({ mode: 'folders', folders: ['/a/../..'] }, null)).toThrow(expect.objectContaining({ code: 'INVALID_PATH' }))
  })
})
