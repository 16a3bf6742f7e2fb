/**
 * The file manager's history features on a real (offline) engine through the API handlers:
 * restoring a file or folder as it was at an older version, undoing a delete with the version
 * deletePath reports, folder sizes and dates in a listing, and bad input refused with a code.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TempDirs, startEngine } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers, type EngineHandlers } from '../../main/api/handlers.js'

async function codeOf (p: Promise<unknown>): Promise<string | null> {
  try { await p; return null } catch (err) { return (err as { code: string }).code }
}

describe('restoring from history and undoing a delete', () => {
  const tmp = new TempDirs()
  let engine: Engine
  let api: EngineHandlers

  beforeEach(async () => {
    engine = await startEngine(null, await tmp.make())
    api = createHandlers(engine)
    const src = await tmp.make()
    await mkdir(join(src, 'album', 'deep'), { recursive: true })
    await writeFile(join(src, 'album', 'a.txt'), 'first a')
    await writeFile(join(src, 'album', 'deep', 'b.txt'), 'bee bee')
    await writeFile(join(src, 'notes.txt'), 'version one')
    await api.importPaths({ space: 'Public', paths: [join(src, 'album'), join(src, 'notes.txt')], dest: '/', wait: true })
  })

  afterEach(async () => {
    await engine.close()
    await tmp.cleanup()
  })

  async function text (path: string): Promise<string | null> {
    const b = await engine.spaces.resolve('Public').vault.drive.get(path)
    return b === null ? null : b.toString()
  }

  async function paths (): Promise<string[]> {
    return (await api.listFiles({ drive: 'Public', path: '/', recursive: true, limit: 100 })).entries.map((e) => e.path).sort()
  }

  it('undoes a folder delete from the version the delete reports, bytes and all', async () => {
    const del = await api.deletePath({ space: 'Public', path: '/album' })
    expect(del.deleted).toBe(2)
    expect(del.before).toBeLessThan(del.version)
    expect(await paths()).toEqual(['/notes.txt'])
    const r = await api.restorePath({ space: 'Public', path: '/album', version: del.before })
    expect(r.restored).toBe(2)
    expect(await paths()).toEqual(['/album/a.txt', '/album/deep/b.txt', '/notes.txt'])
    expect(await text('/album/deep/b.txt')).toBe('bee bee')
  })

  it('restores the bytes a file had at an older version, as a new version', async () => {
    const vault = engine.spaces.resolve('Public').vault
    const old = vault.drive.version
    await vault.writeBatch([{ path: '/notes.txt', data: Buffer.from('version two') }])
    expect(await text('/notes.txt')).toBe('version two')
    const r = await api.restorePath({ space: 'Public', path: '/notes.txt', version: old })
    expect(r).toEqual({ version: vault.drive.version, restored: 1 })
    expect(await text('/notes.txt')).toBe('version one')
    // the newer bytes are still in the history
    expect((await vault.drive.checkout(r.version - 1).get('/notes.txt'))?.toString()).toBe('version two')
  })

  it('refuses a version the space has not reached and a path absent at that version, changing nothing', async () => {
    const vault = engine.spaces.resolve('Public').vault
    const before = vault.drive.version
    expect(await codeOf(api.restorePath({ space: 'Public', path: '/notes.txt', version: before + 5 }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(api.restorePath({ space: 'Public', path: '/nothing-here', version: before }))).toBe('NOT_FOUND')
    expect(await codeOf(api.restorePath({ space: 'Public', path: '../x', version: before }))).toBe('INVALID_PATH')
    expect(vault.drive.version).toBe(before)
  })

  it('lists folders with the bytes, file count and newest date of everything under them', async () => {
    const res = await api.listFiles({ drive: 'Public', path: '/', recursive: false, limit: 100 })
    const album = res.entries.find((e) => e.path === '/album')
    expect(album).toMatchObject({ kind: 'folder', size: 'first a'.length + 'bee bee'.length, files: 2 })
    expect(typeof album?.mtimeMs).toBe('number')
    expect(res.entries.find((e) => e.path === '/notes.txt')?.files).toBeUndefined()
  })
})
