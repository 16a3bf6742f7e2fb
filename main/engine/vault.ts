/**
 * The user's own drive: a Hyperdrive in the engine's Corestore. `Vault` is its public face;
 * the work is split by job:
 *   vault-sources.ts  planning an import of local files and folders
 *   vault-blobs.ts    streaming file bytes into the blobs core ahead of a commit
 *   vault-uploads.ts  upload sessions of the browser UI
 *   vault-reclaim.ts  reclaiming blobs orphaned by a crash (the blobs watermark)
 * Reads (list, stat, history, diff, export) are in drive-ops.ts, shared with followed drives.
 *
 * Writes are all-or-nothing. An import (local files/folders or a browser upload session)
 * first streams every file's bytes into the blobs core, then commits all entries in one
 * Hyperbee batch: until that single append, nothing of the import is listed, so an error,
 * a cancel, or a killed process leaves the vault exactly as it was. The orphaned blob blocks
 * are cleared on rollback; after a crash (kill -9, power loss) they are reclaimed the next
 * time the vault opens (see vault-reclaim.ts). The engine does not log: see `compactions` /
 * `lastCompaction` and the vault's 'compacted' event.
 */
import { basename, isAbsolute, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import Hyperdrive, { type Entry as DriveEntry } from 'hyperdrive'
import type Corestore from 'corestore'
import { FOLDER_MARKER, type Change, type Job, type VaultInfo } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import { drivePath, formatLink, isWithin, keyId } from './paths.js'
import { Resource } from '../shared/resource.js'
import { diffOf, entrySize, filesAt, filesUnder, safeKey, withView } from './drive-ops.js'
import type { JobHandle, Jobs } from './jobs.js'
import { migrate, type Db } from '../shared/db.js'
import { scanSources } from './vault-sources.js'
import { checkDisk, clearBlobs, importFile, writeBlob, type StagedFile } from './vault-blobs.js'
import { UploadSessions, type UploadTotals } from './vault-uploads.js'
import { assertFree, assertNotInto, planCopy, stageCopy } from './vault-copy.js'
import { VaultRestore, restoredAlready } from './vault-restore.js'
import { VAULT_MIGRATIONS, loadWatermark, reclaimOrphanedBlobs, saveWatermark, scanReferencedBlobs, type BlobsWatermark, type CompactionResult } from './vault-reclaim.js'

/** Keys ending so are the markers of empty folders (vault-folders.ts), not files of the space. */
const MARKER_SUFFIX = '/' + FOLDER_MARKER

export interface VaultOptions {
  store: Corestore
  /** The Corestore namespace of this drive (a space's: space-keys.ts); default 'vault', the home space. */
  namespace?: string
  /** The space's name as jobs should say it (" to Family"); none for a lone vault. */
  spaceName?: () => string
  /** Runs before the drive's first block is written (the spaces record it in their list first). */
  beforeFirstWrite?: () => Promise<void>
  /** Hyperdrive's block encryption key: the drive's blocks are stored and replicated encrypted. */
  encryptionKey?: Buffer | null
  jobs: Jobs
  /** Free bytes on the disk holding `dir` (injectable for fault tests). */
  freeBytes: (dir: string) => Promise<number>
  storageDir: string
  onChanged: (data: { version: number, changes: Change[], truncated: boolean }) => void
  now?: () => number
  /** Idle upload sessions are dropped after this long. */
  uploadIdleMs?: number
  /** The engine's database: holds the blobs watermark (without it, every open rescans). */
  db?: Db
  /** With no watermark yet, scan at most this many Hyperbee blocks of history (default 200,000). */
  historyScanLimit?: number
  /**
   * A restore from the recovery phrase is under way (vault-restore.ts): download every block of
   * the vault from peers, and reclaim nothing meanwhile; `onComplete` once it is all here.
   */
  restore?: { onComplete: () => void, onError: (err: unknown) => void }
}

export class Vault extends Resource {
  readonly drive: Hyperdrive
  private readonly opts: VaultOptions
  private readonly now: () => number
  private lastVersion = 0
  private writeQueue: Promise<unknown> = Promise.resolve()
  private readonly uploads: UploadSessions
  private statsCache: { version: number, files: number, bytes: number } | null = null
  private readonly onAppend = (): void => { this.publishChanges().catch(() => {}) }
  private watermark: BlobsWatermark | null = null
  /** Reclaiming orphaned blobs: totals since this vault object opened. */
  readonly compactions = { runs: 0, blocksCleared: 0, bytesReclaimed: 0, watermarkErrors: 0 }
  lastCompaction: CompactionResult | null = null
  /** The running restore (null when none, or once complete: then 'restored' is emitted). */
  private restore: VaultRestore | null = null

  constructor (opts: VaultOptions) {
    super()
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.drive = new Hyperdrive(opts.store.namespace(opts.namespace ?? 'vault'), null, opts.encryptionKey ? { encryptionKey: opts.encryptionKey } : {})
    this.uploads = new UploadSessions({
      jobs: opts.jobs,
      where: () => this.where(),
      now: this.now,
      idleMs: opts.uploadIdleMs,
      checkDisk: (bytes) => this.checkDisk(bytes),
      writeBlob: (source, job, expectedBytes, label) => writeBlob(this.drive, source, job, expectedBytes, label),
      clearBlobs: (staged) => clearBlobs(this.drive, staged),
      commitStaged: (staged) => this.commitStaged(staged)
    })
  }

  protected async _open (): Promise<void> {
    await this.drive.ready()
    await this.drive.getBlobs()
    if (this.opts.db) migrate(this.opts.db, 'vault', VAULT_MIGRATIONS, this.now)
    if (this.opts.restore !== undefined && !(await restoredAlready(this.drive))) return this.startRestore(this.opts.restore)
    this.lastCompaction = await this.reclaimOrphanedBlobs()
    this.compactions.runs++
    this.compactions.blocksCleared += this.lastCompaction.blocksCleared
    this.compactions.bytesReclaimed += this.lastCompaction.bytesReclaimed
    this.emit('compacted', this.lastCompaction)
    this.lastVersion = this.drive.version
    this.drive.core.on('append', this.onAppend)
  }

  /** Opening a vault being restored: its blocks come from peers, nothing is reclaimed (they may arrive out of order). */
  private startRestore (restore: NonNullable<VaultOptions['restore']>): void {
    this.lastCompaction = { skipped: 'restoring', scannedBlocks: 0, fromBlock: 0, toBlock: 0, blocksCleared: 0, bytesReclaimed: 0, storageCompacted: false }
    this.lastVersion = this.drive.version
    this.drive.core.on('append', this.onAppend)
    this.restore = new VaultRestore(this.drive, () => { this.restoreEnded() }, restore.onError)
    this.restore.start()
  }

  /** True while a restore from the recovery phrase is still downloading the vault. */
  get restoring (): boolean {
    return this.restore !== null
  }

  /**
   * Ends a restore that has nothing more to fetch (the phrase's vault was empty, or the rest is
   * given up): writes are allowed from now on. NOT_FOUND when no restore is running.
   */
  finishRestore (): void {
    const restore = this.restore
    if (restore === null) throw DatdotError.notFound('a restore in progress')
    restore.stop()
    this.restoreEnded()
  }

  /** The restore is over (complete, or ended by the user): writable again, and the UI is told. */
  private restoreEnded (): void {
    this.restore = null
    this.opts.restore?.onComplete()
    this.emit('restored')
    this.opts.onChanged({ version: this.drive.version, changes: [], truncated: false })
  }

  /**
   * While a restore downloads the vault, writing would fork it: the restored cores are writable
   * but do not yet know the blocks the old machine signed. Every write path checks this first.
   */
  private assertWritable (): void {
    if (this.restore === null) return
    const core = this.drive.core
    throw DatdotError.forbidden(`the vault is being restored from its followers and seeders (${core.contiguousLength} of ${core.length} blocks here so far): writing now would fork it. Wait for the restore, or if there is nothing to restore, end it: datdot restore --finish`)
  }

  protected async _close (): Promise<void> {
    this.restore?.stop()
    this.drive.core.off('append', this.onAppend)
    await this.uploads.dropAll(DatdotError.closed('vault'))
    await this.writeQueue.catch(() => {})
    await this.drive.close()
  }

  get key (): Buffer {
    return this.drive.key
  }

  get id (): string {
    return keyId(this.drive.key)
  }

  /** " to <space>" for job labels, or nothing. */
  private where (): string {
    const name = this.opts.spaceName?.()
    return name === undefined ? '' : ` to ${name}`
  }

  /** The read key of an encrypted drive (null for a plain one): whoever holds it reads every file. */
  get readKey (): Buffer | null {
    return this.opts.encryptionKey ?? null
  }

  async info (): Promise<VaultInfo> {
    const version = this.drive.version
    if (this.statsCache?.version !== version) {
      let files = 0
      let bytes = 0
      for await (const e of this.drive.list('/', { recursive: true })) {
        // unsafe keys are not shown; the marker of an empty folder (vault-folders.ts) is not a file
        if (safeKey(e) === null || e.key.endsWith(MARKER_SUFFIX)) continue
        files++
        bytes += entrySize(e)
      }
      this.statsCache = { version, files, bytes }
    }
    const core = this.drive.core
    const restoring = this.restore === null ? null : { blocksHere: core.contiguousLength, blocksKnown: core.length }
    return { key: this.id, link: formatLink(this.drive.key, '/', this.readKey), version, files: this.statsCache.files, bytes: this.statsCache.bytes, restoring }
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
    this.assertWritable()
    if (this.drive.core.length === 0) await this.opts.beforeFirstWrite?.()
    const batch = this.drive.batch()
    try {
      await apply(batch)
      await batch.flush()
    } catch (err) {
      await batch.close().catch(() => {})
      throw err
    }
    const version = this.drive.version
    // Commits run one at a time (exclusive), so this scans exactly the blocks just appended.
    await this.advanceWatermark().catch(() => { this.compactions.watermarkErrors++ })
    return version
  }

  /** Deletes a file or folder in one commit; `before` is the version to restore from to undo it. */
  async deletePath (path: string): Promise<{ version: number, deleted: number, before: number }> {
    const p = drivePath(path)
    if (p === '/') throw DatdotError.invalidPath(p, 'refusing to delete the whole vault; delete its folders one by one')
    this.assertWritable()
    return this.exclusive(async () => {
      const files = await filesUnder(this.drive, path)
      if (files.length === 0) throw DatdotError.notFound(p)
      const before = this.drive.version
      const version = await this.commit(async (batch) => {
        for (const f of files) await batch.del(f.key)
      })
      return { version, deleted: files.length, before }
    })
  }

  /**
   * Puts a file or folder back as it was at `version` (its entries point at blobs the drive
   * keeps: no bytes are copied), in one commit. Files added under it since then stay; NOT_FOUND
   * when nothing was there at that version, INVALID_ARGUMENT for a version the drive has not reached.
   */
  async restorePath (path: string, version: number): Promise<{ version: number, restored: number }> {
    const p = drivePath(path)
    this.assertWritable()
    if (version < 1 || version > this.drive.version) throw DatdotError.invalidArgument(`version ${version} is not one of this space's (1 to ${this.drive.version})`)
    return this.exclusive(async () => {
      const files = await withView(this.drive, version, async (old) => await filesUnder(old, p))
      if (files.length === 0) throw DatdotError.notFound(`${p} at version ${version}`)
      const next = await this.commit(async (batch) => {
        for (const f of files) await batch.putEntry(f.key, { ...f.value })
      })
      return { version: next, restored: files.length }
    })
  }

  /**
   * Writes small files held in memory and deletes paths, all in one commit (one new version):
   * the apps' code saves and data writes. Every path is checked before anything is written.
   * Deletions come first in the batch, then the files (stamped `mtimeMs`): apps' history groups on that.
   */
  async writeBatch (files: ReadonlyArray<{ path: string, data: Buffer }>, deleted: readonly string[] = [], mtimeMs: number = this.now()): Promise<number> {
    const puts = files.map((f) => ({ path: drivePath(f.path), data: f.data }))
    for (const d of deleted) if (drivePath(d) === '/') throw DatdotError.invalidPath('/', 'refusing to delete the whole drive')
    this.assertWritable()
    return this.exclusive(async () => {
      const gone: DriveEntry[] = []
      for (const d of deleted) gone.push(...await filesUnder(this.drive, d))
      return await this.commit(async (batch) => {
        for (const f of gone) await batch.del(f.key)
        for (const f of puts) await batch.put(f.path, f.data, { metadata: { mtimeMs } })
      })
    })
  }

  async movePath (from: string, to: string, overwrite: boolean): Promise<{ version: number, moved: number }> {
    const named = drivePath(from)
    const dst = drivePath(to)
    if (named === '/' || dst === '/') throw DatdotError.invalidPath(named === '/' ? named : dst, 'cannot move the vault root')
    this.assertWritable()
    return this.exclusive(async () => {
      // The source may be stored in another Unicode form than its NFC name (an older vault):
      // moving '/cafe\u0301' to '/caf\u00e9' is then a real rename, to the NFC name.
      const { path: src, files } = await filesAt(this.drive, from)
      if (files.length === 0) throw DatdotError.notFound(named)
      if (src === dst) throw DatdotError.invalidArgument('source and destination are the same')
      if (isWithin(dst, src)) throw DatdotError.invalidPath(dst, 'cannot move a folder into itself')
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

  // ---------------------------------------------------------------- reclaiming orphaned blobs

  private saveWatermark (w: BlobsWatermark): void {
    this.watermark = w
    saveWatermark(this.opts.db, this.id, w, this.now())
  }

  /** Scans the Hyperbee blocks committed since the watermark and saves it. */
  private async advanceWatermark (): Promise<void> {
    if (this.watermark === null) return
    const to = this.drive.core.length
    if (to <= this.watermark.dbLength) return
    this.saveWatermark(await scanReferencedBlobs(this.drive, this.watermark, to))
  }

  /** Runs once at open, before any import can write (see vault-reclaim.ts). */
  private async reclaimOrphanedBlobs (): Promise<CompactionResult> {
    const { result, watermark } = await reclaimOrphanedBlobs(this.drive, loadWatermark(this.opts.db, this.id), { historyScanLimit: this.opts.historyScanLimit })
    if (watermark !== null) this.saveWatermark(watermark)
    return result
  }

  // ---------------------------------------------------------------- imports

  private async commitStaged (staged: StagedFile[]): Promise<number> {
    return this.exclusive(() => this.commit(async (batch) => {
      for (const f of staged) {
        await batch.putEntry(f.path, { executable: false, linkname: null, blob: f.blob, metadata: f.metadata })
      }
    }))
  }

  /** Stages every item's bytes, then commits them in one batch; an error or a cancel clears what was staged. */
  private async stageAndCommit<T> (job: JobHandle, items: T[], stage: (item: T) => Promise<StagedFile>): Promise<number> {
    const staged: StagedFile[] = []
    try {
      for (const item of items) {
        job.check()
        staged.push(await stage(item))
        job.fileDone()
      }
      job.check()
      return await this.commitStaged(staged)
    } catch (err) {
      await clearBlobs(this.drive, staged)
      throw err
    }
  }

  private async checkDisk (bytes: number): Promise<void> {
    await checkDisk(this.opts.freeBytes, this.opts.storageDir, bytes)
  }

  /**
   * Imports local files and folders into `dest`. Folders are imported with their contents
   * under their own name; symlinks and special files are skipped (never followed).
   * Returns the job immediately; `done` settles when it ends.
   */
  importPaths (paths: string[], dest: string): { job: Job, done: Promise<Job> } {
    const destPath = drivePath(dest)
    this.assertWritable()
    for (const p of paths) {
      if (!isAbsolute(p)) throw DatdotError.invalidArgument(`Import paths must be absolute: ${p.slice(0, 200)}`)
    }
    const label = paths.length === 1 ? `Import ${basename(paths[0])}` : `Import ${paths.length} items`
    const handle = this.opts.jobs.create('import', label + this.where())
    const done = this.opts.jobs.run(handle, async (job) => {
      const plan = await scanSources(paths.map((p) => resolve(p)), destPath, job)
      const totalBytes = plan.reduce((n, f) => n + f.size, 0)
      job.setTotals(plan.length, totalBytes)
      await this.checkDisk(totalBytes)
      return await this.stageAndCommit(job, plan, (f) => importFile(this.drive, f, job))
    })
    return { job: { ...handle.job }, done }
  }

  /**
   * Copies a file or folder of another drive (another space) into the folder `into` of this one,
   * as a job: every file's bytes first, then one commit; an error or a cancel leaves this drive
   * as it was. Never overwrites (ALREADY_EXISTS). `done` resolves with the version committed.
   */
  copyFrom (source: Hyperdrive, from: string, into: string): { job: Job, done: Promise<Job> } {
    this.assertWritable()
    const handle = this.opts.jobs.create('import', `Copy ${drivePath(from)}${this.where()}`)
    const done = this.opts.jobs.run(handle, async (job) => {
      const items = await planCopy(source, from, into)
      assertNotInto(source === this.drive, items, from)
      await assertFree(this.drive, items)
      const totalBytes = items.reduce((n, f) => n + f.size, 0)
      job.setTotals(items.length, totalBytes)
      await this.checkDisk(totalBytes)
      return await this.stageAndCommit(job, items, (item) => stageCopy(source, this.drive, item, job))
    })
    return { job: { ...handle.job }, done }
  }

  // ---------------------------------------------------------------- upload sessions (browser UI)

  beginUpload (dest: string, totals?: UploadTotals): { uploadId: string, job: Job } {
    this.assertWritable()
    return this.uploads.begin(dest, totals)
  }

  /** Streams one file of an upload session into the blobs core; it becomes visible at commit. */
  async uploadFile (uploadId: string, relativePath: string, source: Readable, declaredBytes: number | null): Promise<{ bytes: number }> {
    this.assertWritable()
    return this.uploads.file(uploadId, relativePath, source, declaredBytes)
  }

  async commitUpload (uploadId: string): Promise<Job> {
    return this.uploads.commit(uploadId)
  }

  async abortUpload (uploadId: string): Promise<void> {
    await this.uploads.abort(uploadId)
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
