/**
 * New folders (the file manager's "New folder", createFolder): an empty folder is kept in the
 * drive by an empty marker file and lists as a folder; it moves and goes with its contents. Hostile
 * or taken names are refused with a message a person can act on, and write nothing.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { TempDirs, startEngine } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers, type EngineHandlers } from '../../main/api/handlers.js'
import { FOLDER_MARKER } from '../../main/shared/contract.js'
import { errorOf } from '../helpers/error-of.js'

describe('new folders in a space', () => {
  const tmp = new TempDirs()
  let engine: Engine
  let api: EngineHandlers

  beforeAll(async () => {
    engine = await startEngine(null, await tmp.make())
    api = createHandlers(engine)
  })

  afterAll(async () => {
    await engine.close()
    await tmp.cleanup()
  })

  it('creates an empty folder that lists as a folder, takes files, moves and is deleted with its contents', async () => {
    const made = await api.createFolder({ parent: '/', name: 'Photos' })
    expect(made.path).toBe('/Photos')
    const top = (await api.listFiles({ path: '/', recursive: false, limit: 100 })).entries
    expect(top.map((e) => [e.kind, e.path])).toEqual([['folder', '/Photos']])
    // its totals, and the space's, do not count the marker: an empty folder holds no file
    expect([top[0].files, top[0].size]).toEqual([0, 0])
    expect((await api.getVault({})).files).toBe(0)
    expect((await api.listFiles({ path: '/Photos', recursive: false, limit: 100 })).entries.map((e) => e.name)).toEqual([FOLDER_MARKER])
    const inner = await api.createFolder({ parent: '/Photos', name: 'Summer 2026' })
    expect(inner.path).toBe('/Photos/Summer 2026')
    await engine.vault.writeBatch([{ path: '/Photos/Summer 2026/beach.jpg', data: Buffer.from('jpg') }])
    await api.movePath({ from: '/Photos', to: '/Pictures', overwrite: false })
    expect((await api.listFiles({ path: '/Pictures/Summer 2026', recursive: false, limit: 100 })).entries.map((e) => e.name).sort()).toEqual([FOLDER_MARKER, 'beach.jpg'].sort())
    await api.deletePath({ path: '/Pictures' })
    expect((await api.listFiles({ path: '/', recursive: false, limit: 100 })).entries).toEqual([])
  })

  it('refuses empty, dot, slash, too long, control-character, marker and taken names with the reason, writing nothing', async () => {
    await api.createFolder({ parent: '/', name: 'Docs' })
    await engine.vault.writeBatch([{ path: '/notes.txt', data: Buffer.from('n') }])
    const version = engine.vault.drive.version
    const cases: Array<[string, string, RegExp]> = [
      ['', 'INVALID_ARGUMENT', /^A folder needs a name$/],
      ['   ', 'INVALID_ARGUMENT', /^A folder needs a name$/],
      ['.', 'INVALID_ARGUMENT', /cannot be a folder name/],
      ['..', 'INVALID_ARGUMENT', /"\.\." cannot be a folder name/],
      ['/', 'INVALID_ARGUMENT', /cannot contain "\/"/],
      ['a/../../b', 'INVALID_ARGUMENT', /cannot contain "\/"/],
      ['x'.repeat(256), 'INVALID_ARGUMENT', /too long: a folder name is at most 255 bytes \(this one has 256;/],
      [' padded', 'INVALID_ARGUMENT', /cannot start or end with a space/],
      ['evil\u202Etxt.exe', 'INVALID_PATH', /bidirectional control/],
      ['tab\there', 'INVALID_PATH', /control characters/],
      [FOLDER_MARKER, 'INVALID_ARGUMENT', /keeps empty folders with/],
      ['Docs', 'ALREADY_EXISTS', /^"Docs" already exists in this space: choose another name$/],
      ['notes.txt', 'ALREADY_EXISTS', /"notes\.txt" already exists/]
    ]
    for (const [name, code, message] of cases) {
      const err = await errorOf(api.createFolder({ parent: '/', name }))
      expect(err?.code, JSON.stringify(name)).toBe(code)
      expect(err?.message, JSON.stringify(name)).toMatch(message)
    }
    // a file is not a folder to create in; a folder inside a taken name's folder is fine
    expect((await errorOf(api.createFolder({ parent: '/notes.txt', name: 'x' })))?.code).toBe('INVALID_PATH')
    expect(engine.vault.drive.version).toBe(version)
    expect((await api.createFolder({ parent: '/Docs', name: 'Docs' })).path).toBe('/Docs/Docs')
  })
})
