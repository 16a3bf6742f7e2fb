import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { mkdtemp, rm, writeFile, mkdir, readFile, stat, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, basename } from 'node:path'
import { createShellMethods, type ShellDeps } from '../../main/electron/shell-methods.js'
import type { Handlers, Job, Entry } from '../../main/shared/contract.js'
import type { OpenDialogResult } from '../../main/electron/policy.js'

let dir = ''
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'datdot-shell-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

function job (over: Partial<Job> = {}): Job {
  return {
    id: 'j1', kind: 'import', state: 'running', label: 'x', bytesDone: 0, bytesTotal: 0, filesDone: 0, filesTotal: 0,
    startedMs: 0, endedMs: null, version: null, error: null, ...over
  }
}

function fileEntry (path: string, kind: Entry['kind'] = 'file'): Entry {
  return { path, name: basename(path), kind, size: 5, mtimeMs: null, version: 1 }
}

/** Engine stand-in recording its calls; exportPath writes the file like the engine does (dest/basename). */
function fakeEngine (over: Partial<Handlers> = {}) {
  const calls: Array<[string, unknown]> = []
  const engine: Partial<Handlers> = {
    importPaths: async (args) => { calls.push(['importPaths', args]); return job() },
    exportPath: async (args) => {
      calls.push(['exportPath', args])
      if (args.wait) await writeFile(join(args.dest, basename(args.path)), 'hello')
      return job({ kind: 'export', state: args.wait ? 'done' : 'running' })
    },
    stat: async (args) => { calls.push(['stat', args]); return fileEntry(args.path) },
    ...over
  }
  return { engine, calls }
}

function deps (engine: Partial<Handlers>, dialog: OpenDialogResult, extra: Partial<ShellDeps> = {}) {
  const dialogs: unknown[] = []
  const opened: string[] = []
  const clipboard: string[] = []
  const d: ShellDeps = {
    engine,
    showOpenDialog: async (opts) => { dialogs.push(opts); return dialog },
    writeClipboard: (t) => { clipboard.push(t) },
    openPath: async (p) => { opened.push(p); return '' },
    tempRoot: dir,
    ...extra
  }
  return { d, dialogs, opened, clipboard }
}

describe('pickAndImport', () => {
  it('imports what the user picked into the requested folder', async () => {
    const { engine, calls } = fakeEngine()
    const { d, dialogs } = deps(engine, { canceled: false, filePaths: ['/home/u/a.txt', '/home/u/b.txt'] })
    const r = await createShellMethods(d).handlers.pickAndImport({ kind: 'files', dest: '/docs' })
    expect(r?.kind).toBe('import')
    expect(dialogs).toEqual([{ kind: 'files', title: 'Add files to your vault', buttonLabel: 'Add' }])
    expect(calls).toEqual([['importPaths', { paths: ['/home/u/a.txt', '/home/u/b.txt'], dest: '/docs', wait: false }]])
  })

  it('imports into the space the page names, and into the home space when it names none', async () => {
    const { engine, calls } = fakeEngine()
    const { d } = deps(engine, { canceled: false, filePaths: ['/home/u/a.txt'] })
    const { handlers } = createShellMethods(d)
    await handlers.pickAndImport({ kind: 'files', space: 'p1', dest: '/docs' })
    await handlers.pickAndImport({ kind: 'files', dest: '/' })
    expect(calls).toEqual([
      ['importPaths', { space: 'p1', paths: ['/home/u/a.txt'], dest: '/docs', wait: false }],
      ['importPaths', { paths: ['/home/u/a.txt'], dest: '/', wait: false }]
    ])
    expect(Object.keys(calls[1][1] as object)).not.toContain('space')
  })

  it('returns null and imports nothing when the dialog is cancelled', async () => {
    const { engine, calls } = fakeEngine()
    const { d } = deps(engine, { canceled: true, filePaths: [] })
    await expect(createShellMethods(d).handlers.pickAndImport({ kind: 'folder', dest: '/' })).resolves.toBeNull()
    expect(calls).toEqual([])
  })
})

describe('importDropped', () => {
  const drop = 'ab'.repeat(16)

  it('imports the files and folders preload registered under the drop token, once each, and only once', async () => {
    const file = join(dir, 'a.txt')
    const folder = join(dir, 'photos')
    await writeFile(file, 'a')
    await mkdir(folder)
    const { engine, calls } = fakeEngine()
    const shell = createShellMethods(deps(engine, { canceled: true, filePaths: [] }).d)
    await shell.drops.register({ drop, paths: [file, folder, file] })
    await shell.handlers.importDropped({ drop, dest: '/' })
    expect(calls).toEqual([['importPaths', { paths: [file, folder], dest: '/', wait: false }]])
    await expect(shell.handlers.importDropped({ drop, dest: '/' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(calls).toHaveLength(1)
  })

  it('imports a drop into the space the page names', async () => {
    const file = join(dir, 'a.txt')
    await writeFile(file, 'a')
    const { engine, calls } = fakeEngine()
    const shell = createShellMethods(deps(engine, { canceled: true, filePaths: [] }).d)
    await shell.drops.register({ drop, paths: [file] })
    await shell.handlers.importDropped({ drop, space: 'Private', dest: '/inbox' })
    expect(calls).toEqual([['importPaths', { space: 'Private', paths: [file], dest: '/inbox', wait: false }]])
  })

  it('refuses a token preload never registered, importing nothing', async () => {
    const { engine, calls } = fakeEngine()
    const { handlers } = createShellMethods(deps(engine, { canceled: true, filePaths: [] }).d)
    await expect(handlers.importDropped({ drop, dest: '/' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(calls).toEqual([])
  })
})

describe('exportWithDialog', () => {
  it('exports to the picked folder without overwriting', async () => {
    const { engine, calls } = fakeEngine()
    const { d } = deps(engine, { canceled: false, filePaths: [dir] })
    const r = await createShellMethods(d).handlers.exportWithDialog({ drive: 'k', path: '/a.txt', version: 3 })
    expect(r?.kind).toBe('export')
    expect(calls).toEqual([['exportPath', { drive: 'k', path: '/a.txt', version: 3, dest: dir, overwrite: false, wait: false }]])
  })

  it('returns null when the dialog is cancelled', async () => {
    const { engine, calls } = fakeEngine()
    const { d } = deps(engine, { canceled: true, filePaths: [] })
    await expect(createShellMethods(d).handlers.exportWithDialog({ path: '/a.txt' })).resolves.toBeNull()
    expect(calls).toEqual([])
  })
})

describe('openFile', () => {
  it('exports the file to a fresh read-only temporary copy, opens it and removes it on cleanup', async () => {
    const { engine } = fakeEngine()
    const { d, opened } = deps(engine, { canceled: true, filePaths: [] })
    const shell = createShellMethods(d)
    await expect(shell.handlers.openFile({ path: '/notes/a.txt' })).resolves.toEqual({ ok: true })
    expect(opened).toHaveLength(1)
    expect(basename(opened[0])).toBe('a.txt')
    expect(opened[0].startsWith(join(dir, 'datdot-open-'))).toBe(true)
    expect(await readFile(opened[0], 'utf8')).toBe('hello')
    expect((await stat(opened[0])).mode & 0o222).toBe(0)
    await shell.cleanup()
    expect(await readdir(dir)).toEqual([])
  })

  it('refuses a folder without exporting anything', async () => {
    const { engine, calls } = fakeEngine({ stat: async (args) => fileEntry(args.path, 'folder') })
    const { d, opened } = deps(engine, { canceled: true, filePaths: [] })
    await expect(createShellMethods(d).handlers.openFile({ path: '/photos' })).rejects.toMatchObject({ code: 'NOT_A_FILE' })
    expect(calls).toEqual([])
    expect(opened).toEqual([])
  })

  it('reports a failed export with its own error code', async () => {
    const { engine } = fakeEngine({
      exportPath: async () => job({ kind: 'export', state: 'failed', error: { code: 'DISK_FULL', message: 'The disk is full' } })
    })
    const { d, opened } = deps(engine, { canceled: true, filePaths: [] })
    await expect(createShellMethods(d).handlers.openFile({ path: '/a.txt' })).rejects.toMatchObject({ code: 'DISK_FULL' })
    expect(opened).toEqual([])
  })

  it('turns an error from the system opener into INTERNAL', async () => {
    const { engine } = fakeEngine()
    const { d } = deps(engine, { canceled: true, filePaths: [] }, { openPath: async () => 'no application' })
    await expect(createShellMethods(d).handlers.openFile({ path: '/a.txt' })).rejects.toMatchObject({ code: 'INTERNAL' })
  })
})

describe('copyText', () => {
  it('writes the text to the clipboard', async () => {
    const { engine } = fakeEngine()
    const { d, clipboard } = deps(engine, { canceled: true, filePaths: [] })
    await expect(createShellMethods(d).handlers.copyText({ text: 'hyper://abc' })).resolves.toEqual({ ok: true })
    expect(clipboard).toEqual(['hyper://abc'])
  })
})
