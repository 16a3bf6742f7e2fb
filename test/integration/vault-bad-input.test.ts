import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { mkdir, writeFile, symlink, rmSync, appendFileSync, readFile, readdir, stat } from 'node:fs'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { TempDirs, startEngine } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers, type EngineHandlers } from '../../main/api/handlers.js'
import type { Job } from '../../main/shared/contract.js'
import { FILES_PREFIX } from '../../main/engine/drive-ops.js'

const mkdirP = promisify(mkdir)
const writeFileP = promisify(writeFile)
const symlinkP = promisify(symlink)
const readFileP = promisify(readFile)
const readdirP = promisify(readdir)
const statP = promisify(stat)

async function codeOf (p: Promise<unknown>): Promise<string | null> {
  try { await p; return null } catch (err) { return (err as { code: string }).code }
}

describe('the vault refuses bad input clearly and loses nothing', () => {
  const tmp = new TempDirs()
  let engine: Engine
  let api: EngineHandlers
  let src: string
  let freeBytes = Number.MAX_SAFE_INTEGER

  beforeEach(async () => {
    freeBytes = Number.MAX_SAFE_INTEGER
    engine = await startEngine(null, await tmp.make(), { freeBytes: async () => freeBytes })
    api = createHandlers(engine)
    src = await tmp.make()
    await writeFileP(join(src, 'keep.txt'), 'kept')
    await api.importPaths({ paths: [join(src, 'keep.txt')], dest: '/', wait: true })
  })

  afterEach(async () => {
    await engine.close()
    await tmp.cleanup()
  })

  async function vaultPaths (): Promise<string[]> {
    return (await api.listFiles({ path: '/', recursive: true, limit: 1000 })).entries.map((e) => e.path).sort()
  }

  function onProgress (fn: (job: Job) => void): () => void {
    return engine.onEvent((name, data) => { if (name === 'job.progress') fn(data as Job) })
  }

  it('rolls back a folder import when a file vanishes half-way, listing none of it', async () => {
    const dir = join(src, 'batch')
    await mkdirP(dir)
    for (const n of ['a.bin', 'b.bin', 'c.bin']) await writeFileP(join(dir, n), randomBytes(100_000))
    const version = engine.vault.drive.version
    const off = onProgress((job) => { if (job.kind === 'import' && job.filesDone === 1) rmSync(join(dir, 'b.bin'), { force: true }) })
    const code = await codeOf(api.importPaths({ paths: [dir], dest: '/', wait: true }))
    off()
    expect(code).toBe('SOURCE_VANISHED')
    expect(engine.vault.drive.version).toBe(version)
    expect(await vaultPaths()).toEqual(['/keep.txt'])
  })

  it('rolls back when a source file grows while it is being imported', async () => {
    const dir = join(src, 'growing')
    await mkdirP(dir)
    await writeFileP(join(dir, 'a.txt'), 'a')
    await writeFileP(join(dir, 'b.txt'), 'b')
    const off = onProgress((job) => { if (job.kind === 'import' && job.filesDone === 1) appendFileSync(join(dir, 'b.txt'), 'more') })
    const code = await codeOf(api.importPaths({ paths: [dir], dest: '/', wait: true }))
    off()
    expect(code).toBe('SOURCE_CHANGED')
    expect(await vaultPaths()).toEqual(['/keep.txt'])
  })

  it('refuses an import that does not fit on the disk before writing anything', async () => {
    await writeFileP(join(src, 'big.bin'), randomBytes(1024 * 1024))
    freeBytes = 1024
    const version = engine.vault.drive.version
    const blobsBefore = (await engine.vault.drive.getBlobs())!.core.length
    const err = await api.importPaths({ paths: [join(src, 'big.bin')], dest: '/', wait: true }).catch((e: { code: string, message: string }) => e)
    expect((err as { code: string }).code).toBe('DISK_FULL')
    expect((err as { message: string }).message).toMatch(/Not enough disk space/)
    expect(engine.vault.drive.version).toBe(version)
    expect((await engine.vault.drive.getBlobs())!.core.length).toBe(blobsBefore)
  })

  it('cancels a running import and leaves the vault unchanged', async () => {
    await writeFileP(join(src, 'large.bin'), randomBytes(32 * 1024 * 1024))
    let cancelled = false
    const off = onProgress((job) => {
      if (job.kind === 'import' && job.state === 'running' && job.bytesDone > 0 && !cancelled) {
        cancelled = true
        api.cancelJob({ id: job.id }).catch(() => {})
      }
    })
    const code = await codeOf(api.importPaths({ paths: [join(src, 'large.bin')], dest: '/', wait: true }))
    off()
    expect(cancelled).toBe(true)
    expect(code).toBe('CANCELLED')
    expect(await vaultPaths()).toEqual(['/keep.txt'])
    const jobs = await api.listJobs({})
    expect(jobs.find((j) => j.label === 'Import large.bin to Public')?.state).toBe('cancelled')
  })

  it('skips symlinks instead of following them out of the imported folder', async () => {
    const dir = join(src, 'links')
    await mkdirP(dir)
    await writeFileP(join(dir, 'real.txt'), 'real')
    await symlinkP('/etc/passwd', join(dir, 'passwd'))
    await symlinkP('/etc', join(dir, 'etc'))
    await api.importPaths({ paths: [dir], dest: '/', wait: true })
    expect(await vaultPaths()).toEqual(['/keep.txt', '/links/real.txt'])
  })

  it('refuses a local file whose name has control characters, importing nothing', async () => {
    const dir = join(src, 'weird')
    await mkdirP(dir)
    await writeFileP(join(dir, 'ok.txt'), 'ok')
    await writeFileP(join(dir, 'bad\nname.txt'), 'x')
    expect(await codeOf(api.importPaths({ paths: [dir], dest: '/', wait: true }))).toBe('INVALID_PATH')
    expect(await vaultPaths()).toEqual(['/keep.txt'])
  })

  it('refuses relative paths, missing paths and hostile destinations', async () => {
    expect(await codeOf(api.importPaths({ paths: ['relative/file'], dest: '/', wait: true }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(api.importPaths({ paths: [join(src, 'missing')], dest: '/', wait: true }))).toBe('NOT_FOUND')
    expect(await codeOf(api.importPaths({ paths: [join(src, 'keep.txt')], dest: '/../up', wait: true }))).toBe('INVALID_PATH')
    expect(await codeOf(api.importPaths({ paths: [join(src, 'keep.txt')], dest: '/a\u0000b', wait: true }))).toBe('INVALID_PATH')
  })

  it('moves folders atomically and refuses moves into themselves or over existing files', async () => {
    const dir = join(src, 'docs')
    await mkdirP(join(dir, 'sub'), { recursive: true } as never)
    await writeFileP(join(dir, 'a.txt'), 'a')
    await writeFileP(join(dir, 'sub', 'b.txt'), 'b')
    await api.importPaths({ paths: [dir], dest: '/', wait: true })
    expect(await codeOf(api.movePath({ from: '/docs', to: '/docs/sub/x', overwrite: false }))).toBe('INVALID_PATH')
    expect(await codeOf(api.movePath({ from: '/docs/a.txt', to: '/keep.txt', overwrite: false }))).toBe('ALREADY_EXISTS')
    expect(await codeOf(api.movePath({ from: '/nope', to: '/x', overwrite: false }))).toBe('NOT_FOUND')
    const r = await api.movePath({ from: '/docs', to: '/papers', overwrite: false })
    expect(r.moved).toBe(2)
    expect(await vaultPaths()).toEqual(['/keep.txt', '/papers/a.txt', '/papers/sub/b.txt'])
    expect((await engine.vault.drive.get('/papers/sub/b.txt'))?.toString()).toBe('b')
  })

  it('keeps every version readable after files are deleted', async () => {
    const before = engine.vault.drive.version
    expect(await codeOf(api.deletePath({ path: '/' }))).toBe('INVALID_PATH')
    expect(await codeOf(api.deletePath({ path: '/missing' }))).toBe('NOT_FOUND')
    await api.deletePath({ path: '/keep.txt' })
    expect(await vaultPaths()).toEqual([])
    const old = await api.listFiles({ path: '/', version: before, recursive: true, limit: 10 })
    expect(old.entries.map((e) => e.path)).toEqual(['/keep.txt'])
    const history = await api.history({ limit: 10 })
    expect(history.items[0]).toMatchObject({ type: 'del', path: '/keep.txt' })
    expect(await codeOf(api.listFiles({ path: '/', version: 9999, recursive: false, limit: 10 }))).toBe('NOT_FOUND')
  })

  it('exports without overwriting, and never writes outside the destination even for hostile entry names', async () => {
    const out = await tmp.make()
    await api.exportPath({ path: '/keep.txt', dest: out, overwrite: false, wait: true })
    expect(await readFileP(join(out, 'keep.txt'), 'utf8')).toBe('kept')
    expect(await codeOf(api.exportPath({ path: '/keep.txt', dest: out, overwrite: false, wait: true }))).toBe('ALREADY_EXISTS')
    // A drive written by someone else can hold any key: put raw hostile entries in the bee.
    const entry = await engine.vault.drive.entry('/keep.txt')
    await engine.vault.drive.db.put(FILES_PREFIX + '/../../escaped.txt', entry!.value)
    await engine.vault.drive.db.put(FILES_PREFIX + '/dir/../../escaped2.txt', entry!.value)
    await engine.vault.drive.db.put(FILES_PREFIX + '/a\u0000b', entry!.value)
    const raw: string[] = []
    for await (const e of engine.vault.drive.list('/', { recursive: true })) raw.push(e.key)
    expect(raw.length).toBe(4)
    const out2 = await tmp.make()
    const job = await api.exportPath({ path: '/', dest: join(out2, 'inner'), overwrite: false, wait: true })
    expect(job.filesDone).toBe(1)
    expect(await readdirP(out2)).toEqual(['inner'])
    expect((await readdirP(join(out2, 'inner'))).sort()).toEqual(['keep.txt'])
    const listed = await vaultPaths()
    expect(listed).toEqual(['/keep.txt'])
    expect((await statP(join(out2, 'inner', 'keep.txt'))).size).toBe(4)
  })

  it('refuses to open a storage folder another engine is using, without hanging or harming it', async () => {
    const { Engine } = await import('../../main/engine/engine.js')
    const second = new Engine({ storage: engine.storage, offline: true })
    const err = await second.ready().catch((e: { code: string, message: string }) => e)
    expect((err as { code: string }).code).toBe('INVALID_ARGUMENT')
    expect((err as { message: string }).message).toMatch(/in use by another DatDot process/)
    expect(second.closed).toBe(true)
    expect(await vaultPaths()).toEqual(['/keep.txt'])
  })
})
