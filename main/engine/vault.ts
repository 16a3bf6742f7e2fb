/**
 * The user's own drive: a Hyperdrive in the engine's Corestore.
 *
 * Writes are all-or-nothing. An import (local files/folders or a browser upload session)
 * first streams every file's bytes into the blobs core, then commits all entries in one
 * Hyperbee batch: until that single append, nothing of the import is listed, so an error,
 * a cancel, or a killed process leaves the vault exactly as it was (the orphaned blob blocks
 * are cleared on rollback; after a crash they are unreachable and cost only disk).
 */
import { createReadStream } from 'node:fs'
import { open as fsOpen, lstat, readdir } from 'node:fs/promises'
import { basename, isAbsolute, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Transform, type Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import Hyperdrive from 'hyperdrive'
import type Corestore from 'corestore'
import type { BlobPointer } from 'hyperdrive'
import type { Change, Job, VaultInfo } from '../api/contract.js'
import { LIMITS } from '../api/contract.js'
import { DatdotError } from './errors.js'
import { drivePath, entryName, formatLink, isWithin, joinDrivePath, keyId } from './paths.js'
import { Resource } from './resource.js'
import { diffOf, entrySize, filesUnder, safeKey, type FileMetadata } from './drive-ops.js'
import type { JobHandle, Jobs } from './jobs.js'

export interface VaultOptions {
  store: Corestore
  jobs: Jobs
  /** Free bytes on the disk holding `dir` (injectable for fault tests). */
  freeBytes: (dir: string) => Promise<number>
  storageDir: string
  onChanged: (data: { version: number, changes: Change[], truncated: boolean }) => void
  now?: () => number
  /** Idle upload sessions are dropped after this long. */
  uploadIdleMs?: number
}

interface StagedFile { path: string, blob: BlobPointer, metadata: FileMetadata }

interface UploadSession {
  id: string
  dest: string
  job: JobHandle
  files: Map<string, StagedFile>
  busy: boolean
  timer: NodeJS.Timeout | null
}

/** Disk headroom kept free beyond the bytes an import needs (Corestore overhead, SQLite, OS). */
const DISK_MARGIN_BYTES = 64 * 1024 * 1024

export class Vault extends Resource {
  readonly drive: Hyperdrive
  private readonly opts: VaultOptions
  private readonly now: () => number
  private lastVersion = 0
  private writeQueue: Promise<unknown> = Promise.resolve()
  private readonly uploads = new Map<string, UploadSession>()
  private statsCache: { version: number, files: number, bytes: number } | null = null
  private readonly onAppend = (): void => { this.publishChanges().catch(() => {}) }

  constructor (opts: VaultOptions) {
    super()
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.drive = new Hyperdrive(opts.store.namespace('vault'))
  }

  protected async _open (): Promise<void> {
    await this.drive.ready()
    await this.drive.getBlobs()
    this.lastVersion = this.drive.version
    this.drive.core.on('append', this.onAppend)
  }

  protected async _close (): Promise<void> {
    this.drive.core.off('append', this.onAppend)
    for (const s of this.uploads.values()) await this.dropUpload(s, DatdotError.closed('vault'))
    await this.writeQueue.catch(() => {})
    await this.drive.close()
  }

  get key (): Buffer {
    return this.drive.key
  }

  get id (): string {
    return keyId(this.drive.key)
  }

  async info (): Promise<VaultInfo> {
    const version = this.drive.version
    if (this.statsCache?.version !== version) {
      let files = 0
      let bytes = 0
      for await (const e of this.drive.list('/', { recursive: true })) {
        if (safeKey(e) === null) continue
        files++
        bytes += entrySize(e)
      }
      this.statsCache = { version, files, bytes }
    }
    return { key: this.id, link: formatLink(this.drive.key), version, files: this.statsCache.files, bytes: this.statsCache.bytes }
  }

  share (path: string): string {
    return formatLink(this.drive.key, drivePath(path))
  }

  // ---------------------------------------------------------------- metadata writes

  /** Runs metadata mutations one at a time (read-modify-write safety for move and delete). */
  private exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.writeQueue.then(fn, fn)
    this.writeQueue = run.catch(() => {})
    return run
  }

  private async commit (apply: (batch: Hyperdrive) => Promise<void>): Promise<number> {
    if (this.closing) throw DatdotError.closed('vault')
    const batch = this.drive.batch()
    try {
      await apply(batch)
      await batch.flush()
    } catch (err) {
      await batch.close().catch(() => {})
      throw err
    }
    return this.drive.version
  }

  async deletePath (path: string): Promise<{ version: number, deleted: number }> {
    const p = drivePath(path)
    if (p === '/') throw DatdotError.invalidPath(p, 'refusing to delete the whole vault; delete its folders one by one')
    return this.exclusive(async () => {
      const files = await filesUnder(this.drive, p)
      if (files.length === 0) throw DatdotError.notFound(p)
      const version = await this.commit(async (batch) => {
        for (const f of files) await batch.del(f.key)
      })
      return { version, deleted: files.length }
    })
  }

  async movePath (from: string, to: string, overwrite: boolean): Promise<{ version: number, moved: number }> {
    const src = drivePath(from)
    const dst = drivePath(to)
    if (src === '/' || dst === '/') throw DatdotError.invalidPath(src === '/' ? src : dst, 'cannot move the vault root')
    if (src === dst) throw DatdotError.invalidArgument('source and destination are the same')
    if (isWithin(dst, src)) throw DatdotError.invalidPath(dst, 'cannot move a folder into itself')
    return this.exclusive(async () => {
      const files = await filesUnder(this.drive, src)
      if (files.length === 0) throw DatdotError.notFound(src)
      const moves = files.map((f) => {
        const k = safeKey(f)!
        return { entry: f, target: k === src ? dst : dst + k.slice(src.length) }
      })
      if (!overwrite) {
        for (const m of moves) if (await this.drive.entry(m.target) !== null) throw DatdotError.alreadyExists(m.target)
        const asFile = await this.drive.entry(dst)
        if (asFile !== null && moves.length > 1) throw DatdotError.alreadyExists(dst)
      }
      const version = await this.commit(async (batch) => {
        for (const m of moves) {
          await batch.putEntry(m.target, { ...m.entry.value })
          await batch.del(m.entry.key)
        }
      })
      return { version, moved: moves.length }
    })
  }

  // ---------------------------------------------------------------- imports

  /** Streams one source into the blobs core; returns the blob pointer. Counts bytes into the job. */
  private async writeBlob (source: Readable, job: JobHandle, expectedBytes: number | null, label: string): Promise<{ blob: BlobPointer, bytes: number }> {
    const blobs = await this.drive.getBlobs()
    if (!blobs) throw DatdotError.internal('vault has no blobs core')
    const ws = (blobs as unknown as { createWriteStream (): NodeJS.WritableStream & { id: BlobPointer } }).createWriteStream()
    let bytes = 0
    const counter = new Transform({
      transform (chunk: Buffer, _enc, cb) {
        bytes += chunk.length
        if (expectedBytes !== null && bytes > expectedBytes) return cb(DatdotError.sourceChanged(label))
        job.addBytes(chunk.length)
        cb(null, chunk)
      }
    })
    await pipeline(source, counter, ws as unknown as NodeJS.WritableStream, { signal: job.signal })
    if (expectedBytes !== null && bytes !== expectedBytes) throw DatdotError.sourceChanged(label)
    return { blob: { ...ws.id }, bytes }
  }

  private async clearBlobs (staged: Iterable<StagedFile>): Promise<void> {
    const blobs = await this.drive.getBlobs().catch(() => null)
    if (!blobs) return
    for (const f of staged) {
      if (f.blob.blockLength > 0) await blobs.core.clear(f.blob.blockOffset, f.blob.blockOffset + f.blob.blockLength).catch(() => {})
    }
  }

  private async commitStaged (staged: StagedFile[]): Promise<number> {
    return this.exclusive(() => this.commit(async (batch) => {
      for (const f of staged) {
        await batch.putEntry(f.path, { executable: false, linkname: null, blob: f.blob, metadata: f.metadata })
      }
    }))
  }

  private async checkDisk (bytes: number): Promise<void> {
    const free = await this.opts.freeBytes(this.opts.storageDir)
    if (bytes + DISK_MARGIN_BYTES > free) throw DatdotError.diskFull(bytes + DISK_MARGIN_BYTES, free)
  }

  /**
   * Imports local files and folders into `dest`. Folders are imported with their contents
   * under their own name; symlinks and special files are skipped (never followed).
   * Returns the job immediately; `done` settles when it ends.
   */
  importPaths (paths: string[], dest: string): { job: Job, done: Promise<Job> } {
    const destPath = drivePath(dest)
    for (const p of paths) {
      if (!isAbsolute(p)) throw DatdotError.invalidArgument(`Import paths must be absolute: ${p.slice(0, 200)}`)
    }
    const label = paths.length === 1 ? `Import ${basename(paths[0]!)}` : `Import ${paths.length} items`
    const handle = this.opts.jobs.create('import', label)
    const done = this.opts.jobs.run(handle, async (job) => {
      const plan = await scanSources(paths.map((p) => resolve(p)), destPath, job)
      const totalBytes = plan.reduce((n, f) => n + f.size, 0)
      job.setTotals(plan.length, totalBytes)
      await this.checkDisk(totalBytes)
      const staged: StagedFile[] = []
      try {
        for (const f of plan) {
          job.check()
          staged.push(await this.importFile(f, job))
          job.fileDone()
        }
        job.check()
        return await this.commitStaged(staged)
      } catch (err) {
        await this.clearBlobs(staged)
        throw err
      }
    })
    return { job: { ...handle.job }, done }
  }

  private async importFile (f: PlannedFile, job: JobHandle): Promise<StagedFile> {
    let fh
    try {
      fh = await fsOpen(f.source, 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw DatdotError.sourceVanished(f.source, err)
      throw DatdotError.from(err)
    }
    try {
      const st = await fh.stat()
      if (!st.isFile()) throw DatdotError.sourceChanged(f.source)
      if (st.size !== f.size) throw DatdotError.sourceChanged(f.source)
      const stream = f.size === 0 ? emptyStream() : createReadStream('', { fd: fh.fd, autoClose: false, start: 0, highWaterMark: 1024 * 1024 })
      const { blob } = await this.writeBlob(stream, job, f.size, f.source)
      return { path: f.target, blob, metadata: { mtimeMs: Math.round(st.mtimeMs) } }
    } finally {
      await fh.close().catch(() => {})
    }
  }

  // ---------------------------------------------------------------- upload sessions (browser UI)

  beginUpload (dest: string): { uploadId: string, job: Job } {
    const destPath = drivePath(dest)
    if (this.uploads.size >= LIMITS.uploadsOpen) throw DatdotError.limitReached('open uploads', LIMITS.uploadsOpen)
    const id = randomBytes(16).toString('hex')
    const job = this.opts.jobs.create('upload', `Upload to ${destPath}`)
    const session: UploadSession = { id, dest: destPath, job, files: new Map(), busy: false, timer: null }
    this.uploads.set(id, session)
    this.touchUpload(session)
    return { uploadId: id, job: { ...job.job } }
  }

  private session (uploadId: string): UploadSession {
    const s = this.uploads.get(uploadId)
    if (!s) throw DatdotError.notFound(`upload ${uploadId.slice(0, 40)}`)
    return s
  }

  private touchUpload (s: UploadSession): void {
    if (s.timer) clearTimeout(s.timer)
    s.timer = setTimeout(() => {
      this.dropUpload(s, DatdotError.cancelled('upload (idle for too long)')).catch(() => {})
    }, this.opts.uploadIdleMs ?? 10 * 60_000)
    s.timer.unref()
  }

  /** Streams one file of an upload session into the blobs core; it becomes visible at commit. */
  async uploadFile (uploadId: string, relativePath: string, source: Readable, declaredBytes: number | null): Promise<{ bytes: number }> {
    const s = this.session(uploadId)
    const rel = drivePath(relativePath)
    if (rel === '/') throw DatdotError.invalidPath(relativePath, 'an upload needs a file name')
    const target = joinDrivePath(s.dest, rel)
    if (s.busy) throw DatdotError.invalidArgument('this upload session is already receiving a file; send files one at a time')
    if (s.files.size >= LIMITS.importFiles) throw DatdotError.limitReached('files in one upload', LIMITS.importFiles)
    s.busy = true
    this.touchUpload(s)
    try {
      if (declaredBytes !== null) await this.checkDisk(declaredBytes)
      const { blob, bytes } = await this.writeBlob(source, s.job, declaredBytes, target)
      const previous = s.files.get(target)
      if (previous) await this.clearBlobs([previous])
      s.files.set(target, { path: target, blob, metadata: { mtimeMs: this.now() } })
      s.job.fileDone()
      return { bytes }
    } catch (err) {
      if (!s.job.running) throw DatdotError.cancelled('upload')
      throw err
    } finally {
      s.busy = false
    }
  }

  async commitUpload (uploadId: string): Promise<Job> {
    const s = this.session(uploadId)
    if (s.busy) throw DatdotError.invalidArgument('a file is still being uploaded')
    if (s.files.size === 0) throw DatdotError.invalidArgument('nothing was uploaded')
    this.uploads.delete(uploadId)
    if (s.timer) clearTimeout(s.timer)
    try {
      const version = await this.commitStaged([...s.files.values()])
      return s.job.succeed(version)
    } catch (err) {
      await this.clearBlobs(s.files.values())
      s.job.fail(err)
      throw err
    }
  }

  async abortUpload (uploadId: string): Promise<void> {
    await this.dropUpload(this.session(uploadId), DatdotError.cancelled('upload'))
  }

  private async dropUpload (s: UploadSession, why: DatdotError): Promise<void> {
    if (!this.uploads.delete(s.id)) return
    if (s.timer) clearTimeout(s.timer)
    s.job.cancel()
    s.job.fail(why)
    await this.clearBlobs(s.files.values())
  }

  // ---------------------------------------------------------------- change events

  private async publishChanges (): Promise<void> {
    const version = this.drive.version
    if (version <= this.lastVersion) return
    const from = this.lastVersion
    this.lastVersion = version
    const { changes, truncated } = await diffOf(this.drive, from, version)
    this.opts.onChanged({ version, changes, truncated })
  }
}

// ---------------------------------------------------------------- scanning local sources

interface PlannedFile { source: string, target: string, size: number }

async function scanSources (sources: string[], dest: string, job: JobHandle): Promise<PlannedFile[]> {
  const plan: PlannedFile[] = []
  const targets = new Set<string>()
  const add = (f: PlannedFile): void => {
    if (plan.length >= LIMITS.importFiles) throw DatdotError.limitReached('files in one import', LIMITS.importFiles)
    if (targets.has(f.target)) throw DatdotError.alreadyExists(`${f.target} (two sources map to the same vault path)`)
    targets.add(f.target)
    plan.push(f)
  }
  for (const src of sources) {
    job.check()
    const st = await lstat(src).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw DatdotError.notFound(src)
      throw DatdotError.from(err)
    })
    const name = entryName(basename(src) || 'root')
    if (st.isFile()) {
      add({ source: src, target: joinDrivePath(dest, name), size: st.size })
    } else if (st.isDirectory()) {
      await walk(src, joinDrivePath(dest, name), add, job, 0)
    } else {
      throw DatdotError.invalidArgument(`Not a regular file or folder: ${src.slice(0, 200)}`)
    }
  }
  return plan
}

const MAX_DEPTH = 64

async function walk (dir: string, target: string, add: (f: PlannedFile) => void, job: JobHandle, depth: number): Promise<void> {
  if (depth > MAX_DEPTH) throw DatdotError.limitReached('nested folder levels', MAX_DEPTH)
  job.check()
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw DatdotError.sourceVanished(dir, err)
    throw DatdotError.from(err)
  })
  names.sort()
  for (const name of names) {
    const abs = join(dir, name)
    const st = await lstat(abs).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw DatdotError.sourceVanished(abs, err)
      throw DatdotError.from(err)
    })
    if (st.isSymbolicLink() || !(st.isFile() || st.isDirectory())) continue
    const child = joinDrivePath(target, entryName(name))
    if (st.isDirectory()) await walk(abs, child, add, job, depth + 1)
    else add({ source: abs, target: child, size: st.size })
  }
}

function emptyStream (): Readable {
  const t = new Transform()
  t.end()
  return t
}
