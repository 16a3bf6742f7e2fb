/**
 * File and folder names at the edges: exports of names close to the 255-byte limit, names the
 * destination file system cannot hold, exports that fail half-way, Unicode NFC/NFD spellings of
 * one name, and names with bidirectional or other invisible control characters.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { mkdir, writeFile, readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { TempDirs, startEngine } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers, type EngineHandlers } from '../../main/api/handlers.js'
import type { Job } from '../../main/shared/contract.js'
import { FILES_PREFIX } from '../../main/engine/drive-ops.js'
import { errorOf } from '../helpers/error-of.js'

const NFC = 'caf\u00e9.txt'
const NFD = 'cafe\u0301.txt'
/** 240 bytes: a valid name, but '<name>.datdot-XXXXXXXX.partial' would be 262. */
const LONG = 'l'.repeat(236) + '.txt'

describe('vault names: long names, Unicode forms and control characters', () => {
  const tmp = new TempDirs()
  let engine: Engine
  let api: EngineHandlers
  let src: string

  beforeEach(async () => {
    engine = await startEngine(null, await tmp.make())
    api = createHandlers(engine)
    src = await tmp.make()
  })

  afterEach(async () => {
    await engine.close()
    await tmp.cleanup()
  })

  async function vaultPaths (): Promise<string[]> {
    return (await api.listFiles({ path: '/', recursive: true, limit: 1000 })).entries.map((e) => e.path).sort()
  }

  async function importFolder (name: string, files: Record<string, string>): Promise<void> {
    await mkdir(join(src, name))
    for (const [file, text] of Object.entries(files)) await writeFile(join(src, name, file), text)
    await api.importPaths({ paths: [join(src, name)], dest: '/', wait: true })
  }

  it('exports a file and a folder whose names are 240 bytes long', async () => {
    await importFolder('long', { [LONG]: 'long name', 'a.txt': 'a' })
    const out = await tmp.make()
    await api.exportPath({ path: '/long/' + LONG, dest: out, overwrite: false, wait: true })
    expect(await readFile(join(out, LONG), 'utf8')).toBe('long name')
    const out2 = await tmp.make()
    await api.exportPath({ path: '/long', dest: out2, overwrite: false, wait: true })
    expect((await readdir(join(out2, 'long'))).sort()).toEqual(['a.txt', LONG].sort())
  })

  it('refuses with INVALID_PATH a name the destination cannot hold, and leaves no folder or file behind', async () => {
    await importFolder('long', { [LONG]: 'long name', 'a.txt': 'a' })
    // A destination so deep that dest/long/a.txt fits in PATH_MAX (4096) but dest/long/<LONG> does not.
    const root = await tmp.make()
    let deep = root
    while (deep.length < 3950) deep = join(deep, 'd'.repeat(Math.min(200, 3950 - deep.length)))
    await mkdir(deep, { recursive: true })
    expect(deep.length + '/long/'.length + LONG.length).toBeGreaterThan(4096)
    const err = await errorOf(api.exportPath({ path: '/long', dest: deep, overwrite: false, wait: true }))
    expect(err?.code).toBe('INVALID_PATH')
    expect(err?.message).toMatch(/cannot hold/)
    expect(await readdir(deep)).toEqual([])
  })

  it('undoes a cancelled folder export: no files, temporary files or folders are left', async () => {
    await importFolder('docs', { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' })
    const out = await tmp.make()
    const dest = join(out, 'new', 'place')
    const off = engine.onEvent((name, data) => {
      const job = data as Job
      if (name === 'job.progress' && job.kind === 'export' && job.filesDone === 2) api.cancelJob({ id: job.id }).catch(() => {})
    })
    const err = await errorOf(api.exportPath({ path: '/docs', dest, overwrite: false, wait: true }))
    off()
    expect(err?.code).toBe('CANCELLED')
    expect(await readdir(out)).toEqual([])
  })

  it('keeps one entry for a name imported in NFD and then in NFC, found by either spelling', async () => {
    await writeFile(join(src, NFD), 'decomposed')
    await api.importPaths({ paths: [join(src, NFD)], dest: '/', wait: true })
    expect(await vaultPaths()).toEqual(['/' + NFC])
    const other = await tmp.make()
    await writeFile(join(other, NFC), 'composed')
    await api.importPaths({ paths: [join(other, NFC)], dest: '/', wait: true })
    expect(await vaultPaths()).toEqual(['/' + NFC])
    for (const spelling of [NFC, NFD]) {
      const entry = await api.stat({ path: '/' + spelling })
      expect(entry.path).toBe('/' + NFC)
      expect(entry.size).toBe('composed'.length)
    }
  })

  it('stores moves and uploads under the NFC name', async () => {
    await writeFile(join(src, 'x.txt'), 'x')
    await api.importPaths({ paths: [join(src, 'x.txt')], dest: '/', wait: true })
    await api.movePath({ from: '/x.txt', to: '/dir/' + NFD, overwrite: false })
    const { uploadId } = await api.beginUpload({ dest: '/cafe\u0301' })
    await engine.spaces.uploadFile(uploadId, 'sub/' + NFD, Readable.from([Buffer.from('up')]), 2)
    await api.commitUpload({ uploadId })
    expect(await vaultPaths()).toEqual(['/caf\u00e9/sub/' + NFC, '/dir/' + NFC])
    const listed = await api.listFiles({ path: '/cafe\u0301/sub', recursive: false, limit: 10 })
    expect(listed.entries.map((e) => e.name)).toEqual([NFC])
  })

  it('finds and exports an entry another program stored under its NFD key', async () => {
    await writeFile(join(src, 'x.txt'), 'x')
    await api.importPaths({ paths: [join(src, 'x.txt')], dest: '/', wait: true })
    const entry = await engine.vault.drive.entry('/x.txt')
    await engine.vault.drive.db.put(FILES_PREFIX + '/' + NFD, entry!.value)
    expect((await api.stat({ path: '/' + NFC })).path).toBe('/' + NFD)
    const out = await tmp.make()
    await api.exportPath({ path: '/' + NFC, dest: out, overwrite: false, wait: true })
    expect(await readFile(join(out, NFD), 'utf8')).toBe('x')
    await api.movePath({ from: '/' + NFD, to: '/' + NFC, overwrite: false })
    expect(await vaultPaths()).toEqual(['/' + NFC, '/x.txt'])
  })

  it('refuses a name with a right-to-left override (U+202E) anywhere it could come in, writing nothing', async () => {
    const bad = 'photo\u202Egpj.exe'
    await writeFile(join(src, bad), 'x')
    await writeFile(join(src, 'ok.txt'), 'ok')
    const version = engine.vault.drive.version
    const err = await errorOf(api.importPaths({ paths: [join(src, bad)], dest: '/', wait: true }))
    expect(err?.code).toBe('INVALID_PATH')
    expect(err?.message).toMatch(/bidirectional/)
    expect(err?.message).toContain('\\u202e')
    expect(err?.message).not.toContain('\u202E')
    expect((await errorOf(api.importPaths({ paths: [src], dest: '/', wait: true })))?.code).toBe('INVALID_PATH')
    expect((await errorOf(api.importPaths({ paths: [join(src, 'ok.txt')], dest: '/in\u2066side', wait: true })))?.code).toBe('INVALID_PATH')
    expect(engine.vault.drive.version).toBe(version)
    expect(await vaultPaths()).toEqual([])

    await api.importPaths({ paths: [join(src, 'ok.txt')], dest: '/', wait: true })
    expect((await errorOf(api.movePath({ from: '/ok.txt', to: '/' + bad, overwrite: false })))?.code).toBe('INVALID_PATH')
    const { uploadId } = await api.beginUpload({ dest: '/' })
    expect((await errorOf(engine.spaces.uploadFile(uploadId, bad, Readable.from([Buffer.from('x')]), 1)))?.code).toBe('INVALID_PATH')
    await api.abortUpload({ uploadId })
    expect(await vaultPaths()).toEqual(['/ok.txt'])
  })

  it('hides an entry whose stored key carries a bidirectional control, as it does other unsafe keys', async () => {
    await writeFile(join(src, 'x.txt'), 'x')
    await api.importPaths({ paths: [join(src, 'x.txt')], dest: '/', wait: true })
    const entry = await engine.vault.drive.entry('/x.txt')
    await engine.vault.drive.db.put(FILES_PREFIX + '/evil\u202Etxt.exe', entry!.value)
    expect(await vaultPaths()).toEqual(['/x.txt'])
    const out = await tmp.make()
    await api.exportPath({ path: '/', dest: out, overwrite: false, wait: true })
    expect(await readdir(out)).toEqual(['x.txt'])
  })
})
