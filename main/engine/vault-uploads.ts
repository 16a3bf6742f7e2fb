/**
 * Upload sessions of the browser UI: a page opens a session for a vault folder, sends its files
 * one at a time (each streamed into the blobs core as it arrives, see vault-blobs.ts), then
 * commits them all at once or aborts. At most LIMITS.uploadsOpen sessions are open; a session
 * idle for `idleMs` is dropped, and a dropped session's blocks are cleared. Nothing of a
 * session is listed before its commit.
 */
import type { Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import type { Job } from '../shared/contract.js'
import { LIMITS } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import type { Timers } from '../shared/timeout.js'
import { drivePath, joinDrivePath } from './paths.js'
import type { JobHandle, Jobs } from './jobs.js'
import type { StagedFile } from './vault-blobs.js'

export interface UploadDeps {
  jobs: Jobs
  now: () => number
  /** Idle sessions are dropped after this long (default 10 minutes). */
  idleMs?: number
  /** Default: the real timers, unref'd (an idle timer never keeps the process alive). */
  timers?: Timers
  /** Throws DISK_FULL when a file of this many bytes does not fit. */
  checkDisk: (bytes: number) => Promise<void>
  /** " to <space>" for the job's label (optional). */
  where?: () => string
  writeBlob: (source: Readable, job: JobHandle, expectedBytes: number | null, label: string) => Promise<{ blob: StagedFile['blob'], bytes: number }>
  clearBlobs: (staged: Iterable<StagedFile>) => Promise<void>
  /** Commits the staged files in one batch; resolves to the new vault version. */
  commitStaged: (staged: StagedFile[]) => Promise<number>
}

/** What the page says it is about to send: the job's totals from the start (more is counted as it comes). */
export interface UploadTotals { files?: number, bytes?: number }

interface UploadSession {
  id: string
  dest: string
  job: JobHandle
  files: Map<string, StagedFile>
  busy: boolean
  timer: unknown
}

const unrefTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>)
}

/** "Upload to Private" into a space's top folder ("Upload to / in Private" read as a riddle), "Upload to /trip in Private" below it. */
export function uploadLabel (destPath: string, where: string): string {
  if (destPath === '/' && where !== '') return `Upload${where}`
  return `Upload to ${destPath}${where.replace(/^ to /, ' in ')}`
}

export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>()
  private readonly timers: Timers

  constructor (private readonly deps: UploadDeps) {
    this.timers = deps.timers ?? unrefTimers
  }

  get size (): number {
    return this.sessions.size
  }

  begin (dest: string, totals: UploadTotals = {}): { uploadId: string, job: Job } {
    const destPath = drivePath(dest)
    if (this.sessions.size >= LIMITS.uploadsOpen) throw DatdotError.limitReached('open uploads', LIMITS.uploadsOpen)
    const id = randomBytes(16).toString('hex')
    const job = this.deps.jobs.create('upload', uploadLabel(destPath, this.deps.where?.() ?? ''), totals)
    const session: UploadSession = { id, dest: destPath, job, files: new Map(), busy: false, timer: null }
    this.sessions.set(id, session)
    this.touch(session)
    return { uploadId: id, job: { ...job.job } }
  }

  /** Streams one file of a session into the blobs core; it becomes visible at commit. */
  async file (uploadId: string, relativePath: string, source: Readable, declaredBytes: number | null): Promise<{ bytes: number }> {
    const s = this.session(uploadId)
    const rel = drivePath(relativePath)
    if (rel === '/') throw DatdotError.invalidPath(relativePath, 'an upload needs a file name')
    const target = joinDrivePath(s.dest, rel)
    if (s.busy) throw DatdotError.invalidArgument('this upload session is already receiving a file; send files one at a time')
    if (s.files.size >= LIMITS.importFiles) throw DatdotError.limitReached('files in one upload', LIMITS.importFiles)
    s.busy = true
    this.touch(s)
    try {
      if (declaredBytes !== null) await this.deps.checkDisk(declaredBytes)
      const { blob, bytes } = await this.deps.writeBlob(source, s.job, declaredBytes, target)
      const previous = s.files.get(target)
      if (previous) await this.deps.clearBlobs([previous])
      s.files.set(target, { path: target, blob, metadata: { mtimeMs: this.deps.now() } })
      s.job.fileDone()
      return { bytes }
    } catch (err) {
      if (!s.job.running) throw DatdotError.cancelled('upload')
      throw err
    } finally {
      s.busy = false
    }
  }

  async commit (uploadId: string): Promise<Job> {
    const s = this.session(uploadId)
    if (s.busy) throw DatdotError.invalidArgument('a file is still being uploaded')
    if (s.files.size === 0) throw DatdotError.invalidArgument('nothing was uploaded')
    this.sessions.delete(uploadId)
    if (s.timer !== null) this.timers.clearTimeout(s.timer)
    try {
      const version = await this.deps.commitStaged([...s.files.values()])
      return s.job.succeed(version)
    } catch (err) {
      await this.deps.clearBlobs(s.files.values())
      s.job.fail(err)
      throw err
    }
  }

  async abort (uploadId: string): Promise<void> {
    await this.drop(this.session(uploadId), DatdotError.cancelled('upload'))
  }

  /** Drops every open session (the vault is closing): their jobs fail with `why`. */
  async dropAll (why: DatdotError): Promise<void> {
    for (const s of this.sessions.values()) await this.drop(s, why)
  }

  private session (uploadId: string): UploadSession {
    const s = this.sessions.get(uploadId)
    if (!s) throw DatdotError.notFound(`upload ${uploadId.slice(0, 40)}`)
    return s
  }

  private touch (s: UploadSession): void {
    if (s.timer !== null) this.timers.clearTimeout(s.timer)
    s.timer = this.timers.setTimeout(() => {
      this.drop(s, DatdotError.cancelled('upload (idle for too long)')).catch(() => {})
    }, this.deps.idleMs ?? 10 * 60_000)
  }

  private async drop (s: UploadSession, why: DatdotError): Promise<void> {
    if (!this.sessions.delete(s.id)) return
    if (s.timer !== null) this.timers.clearTimeout(s.timer)
    s.job.cancel()
    s.job.fail(why)
    await this.deps.clearBlobs(s.files.values())
  }
}
