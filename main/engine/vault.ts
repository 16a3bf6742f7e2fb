/**
 * The user's own drive: a Hyperdrive in the engine's Corestore.
 *
 * Writes are all-or-nothing. An import (local files/folders or a browser upload session)
 * first streams every file's bytes into the blobs core, then commits all entries in one
 * Hyperbee batch: until that single append, nothing of the import is listed, so an error,
 * a cancel, or a killed process leaves the vault exactly as it was. The orphaned blob blocks
 * are cleared on rollback; after a crash (kill -9, power loss) they are reclaimed the next
 * time the vault opens (see "reclaiming blobs orphaned by a crash" below).
 *
 * Reclaiming blobs orphaned by a crash. The blobs core is append-only and every commit only
 * references blocks written before it, so the blocks no committed entry (at ANY version)
 * references form a tail: [highest block end referenced by any entry in the drive's history,
 * blobs.length). Scanning the whole history at every open would cost O(history), so the vault
 * keeps a watermark in its SQLite table `vault_blobs` (migration list VAULT_MIGRATIONS):
 *   db_length       the Hyperbee blocks [1, db_length) have been scanned
 *   settled_blocks  no scanned entry references a block at or past it, except blocks that
 *                   were already cleared (it also moves past each reclaimed tail)
 *   settled_bytes   the byte offset of block settled_blocks in the blobs core
 * The watermark is advanced after every commit (scanning only the blocks that commit
 * appended) and at open (scanning what a crash left unrecorded), so an open after a clean
 * run scans nothing. It is derived only from committed Hyperbee blocks, never from what an
 * import intended to commit: a stale or lost row only makes the next scan longer, and a row
 * ahead of the cores (storage replaced, a core rolled back) is discarded and rebuilt. With no
 * row at all (first open after an upgrade), the history is scanned once if it has at most
 * `historyScanLimit` blocks; otherwise everything written so far is treated as referenced
 * (safe: older orphans stay, new ones are reclaimed).
 * Clearing does not truncate: blobs.length stays, the cleared blocks read as absent, and the
 * next import appends after the cleared region (blob pointers are absolute offsets, so this
 * leaves a permanent, harmless hole). A drive that is not writable here (one we follow) is
 * never compacted. The engine does not log: see `compactions` / `lastCompaction` and the
 * vault's 'compacted' event.
 * What a crash leaves: RocksDB keeps recent writes in its memtable (64 MB) and a kill -9 loses
 * them, so only the part of an import RocksDB had already flushed survives as orphans. The
 * cleared range is also compacted in RocksDB right away (compactStorageRange); without that
 * the bytes would stay on disk until RocksDB compacts that range on its own.
 * Holes: the cleared blocks are absent for good, as the blocks of an aborted import already
 * are; whatever serves or publishes whole-core ranges of the vault must skip absent blocks.
 */
import { createReadStream } from 'node:fs'
import { open as fsOpen, lstat, readdir } from 'node:fs/promises'
import { basename, isAbsolute, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Transform, type Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import Hyperdrive from 'hyperdrive'
import type Corestore from 'corestore'
import type { BlobPointer } from 'hyperdrive'
import type { Change, Job, VaultInfo } from '../shared/contract.js'
import { LIMITS } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import { drivePath, entryName, formatLink, isWithin, joinDrivePath, keyId } from './paths.js'
import { Resource } from '../shared/resource.js'
import { diffOf, entrySize, filesAt, filesUnder, safeKey, type FileMetadata } from './drive-ops.js'
import type { JobHandle, Jobs } from './jobs.js'
import { migrate, type Db, type Migration } from '../shared/db.js'

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
  /** The engine's database: holds the blobs watermark (without it, every open rescans). */
  db?: Db
  /** With no watermark yet, scan at most this many Hyperbee blocks of history (default 200,000). */
  historyScanLimit?: number
}

export const VAULT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'blobs watermark for reclaiming blobs orphaned by a crash',
    up: `
      CREATE TABLE vault_blobs (
        vault_key TEXT PRIMARY KEY,
        db_length INTEGER NOT NULL,
        settled_blocks INTEGER NOT NULL,
        settled_bytes INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
      ) STRICT;
    `
  }
]

/** See "reclaiming blobs orphaned by a crash" at the top of this file. */
export interface BlobsWatermark { dbLength: number, blocks: number, bytes: number }

export interface CompactionResult {
  /** Why nothing was looked at or cleared (null when the scan ran). */
  skipped: 'not-writable' | 'history-too-long' | null
  /** Hyperbee blocks scanned to bring the watermark up to date. */
  scannedBlocks: number
  /** The cleared region [fromBlock, toBlock) of the blobs core (empty when nothing was orphaned). */
  fromBlock: number
  toBlock: number
  blocksCleared: number
  bytesReclaimed: number
  /** Whether the storage engine was also asked to compact the cleared range (frees the disk now). */
  storageCompacted: boolean
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
  private watermark: BlobsWatermark | null = null
  /** Reclaiming orphaned blobs: totals since this vault object opened. */
  readonly compactions = { runs: 0, blocksCleared: 0, bytesReclaimed: 0, watermarkErrors: 0 }
  lastCompaction: CompactionResult | null = null

  constructor (opts: VaultOptions) {
    super()
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.drive = new Hyperdrive(opts.store.namespace('vault'))
  }

  protected async _open (): Promise<void> {
    await this.drive.ready()
    await this.drive.getBlobs()
    if (this.opts.db) migrate(this.opts.db, 'vault', VAULT_MIGRATIONS, this.now)
    this.lastCompaction = await this.reclaimOrphanedBlobs()
    this.compactions.runs++
    this.compactions.blocksCleared += this.lastCompaction.blocksCleared
    this.compactions.bytesReclaimed += this.lastCompaction.bytesReclaimed
    this.emit('compacted', this.lastCompaction)
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
    const version = this.drive.version
    // Commits run one at a time (exclusive), so this scans exactly the blocks just appended.
    await this.advanceWatermark().catch(() => { this.compactions.watermarkErrors++ })
    return version
  }

  // ---------------------------------------------------------------- reclaiming orphaned blobs

  private loadWatermark (): BlobsWatermark | null {
    const row = this.opts.db?.prepare('SELECT db_length, settled_blocks, settled_bytes FROM vault_blobs WHERE vault_key = ?').get(this.id) as
      { db_length: number, settled_blocks: number, settled_bytes: number } | undefined
    return row ? { dbLength: row.db_length, blocks: row.settled_blocks, bytes: row.settled_bytes } : null
  }

  private saveWatermark (w: BlobsWatermark): void {
    this.watermark = w
    this.opts.db?.prepare(`INSERT INTO vault_blobs (vault_key, db_length, settled_blocks, settled_bytes, updated_ms) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (vault_key) DO UPDATE SET db_length = excluded.db_length, settled_blocks = excluded.settled_blocks,
      settled_bytes = excluded.settled_bytes, updated_ms = excluded.updated_ms`).run(this.id, w.dbLength, w.blocks, w.bytes, this.now())
  }

  /** Scans the Hyperbee blocks committed since the watermark and saves it. */
  private async advanceWatermark (): Promise<void> {
    if (this.watermark === null) return
    const to = this.drive.core.length
    if (to <= this.watermark.dbLength) return
    this.saveWatermark(await scanReferencedBlobs(this.drive, this.watermark, to))
  }

  /** Runs once at open, before any import can write (see reclaimOrphanedBlobs). */
  private async reclaimOrphanedBlobs (): Promise<CompactionResult> {
    const { result, watermark } = await reclaimOrphanedBlobs(this.drive, this.loadWatermark(), { historyScanLimit: this.opts.historyScanLimit })
    if (watermark !== null) this.saveWatermark(watermark)
    return result
  }

  async deletePath (path: string): Promise<{ version: number, deleted: number }> {
    const p = drivePath(path)
    if (p === '/') throw DatdotError.invalidPath(p, 'refusing to delete the whole vault; delete its folders one by one')
    return this.exclusive(async () => {
      const files = await filesUnder(this.drive, path)
      if (files.length === 0) throw DatdotError.notFound(p)
      const version = await this.commit(async (batch) => {
        for (const f of files) await batch.del(f.key)
      })
      return { version, deleted: files.length }
    })
  }

  async movePath (from: string, to: string, overwrite: boolean): Promise<{ version: number, moved: number }> {
    const named = drivePath(from)
    const dst = drivePath(to)
    if (named === '/' || dst === '/') throw DatdotError.invalidPath(named === '/' ? named : dst, 'cannot move the vault root')
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
    const label = paths.length === 1 ? `Import ${basename(paths[0])}` : `Import ${paths.length} items`
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

// ---------------------------------------------------------------- reclaiming orphaned blobs

/**
 * Brings the watermark `saved` up to date with the drive's history, then clears
 * [watermark, blobs.length): the blocks no committed entry references. Returns the new
 * watermark to save (null when nothing may be done: the drive is not writable here), saved
 * by the caller only after the clear, so a crash in between repeats a harmless clear and
 * never skips one. Must run before anything writes blobs (the vault runs it in _open):
 * blocks of an import in progress are not referenced yet. Cheap when nothing is orphaned:
 * after a clean run the watermark is current, it scans nothing and clears nothing.
 */
export async function reclaimOrphanedBlobs (drive: Hyperdrive, saved: BlobsWatermark | null, opts: { historyScanLimit?: number } = {}): Promise<{ result: CompactionResult, watermark: BlobsWatermark | null }> {
  const blobs = await drive.getBlobs()
  if (!blobs) throw DatdotError.internal('drive has no blobs core')
  const blobsLength = blobs.core.length
  const byteLength = blobs.core.byteLength
  const dbLength = drive.core.length
  const result: CompactionResult = { skipped: null, scannedBlocks: 0, fromBlock: blobsLength, toBlock: blobsLength, blocksCleared: 0, bytesReclaimed: 0, storageCompacted: false }
  if (!drive.writable || !blobs.core.writable) {
    // A drive we follow: its blocks are its writer's, referenced by versions we may not have.
    result.skipped = 'not-writable'
    return { result, watermark: null }
  }
  let w = saved
  // Ahead of the cores (storage folder replaced, a core rolled back by a power loss): rebuild.
  if (w !== null && (w.dbLength > dbLength || w.blocks > blobsLength || w.bytes > byteLength)) w = null
  if (w === null) {
    if (dbLength - 1 > (opts.historyScanLimit ?? 200_000)) {
      // Too long to scan at open: everything written so far counts as referenced.
      result.skipped = 'history-too-long'
      return { result, watermark: { dbLength, blocks: blobsLength, bytes: byteLength } }
    }
    w = { dbLength: 0, blocks: 0, bytes: 0 }
  }
  const scanned = await scanReferencedBlobs(drive, w, dbLength)
  result.scannedBlocks = Math.max(0, dbLength - w.dbLength)
  result.fromBlock = scanned.blocks
  if (scanned.blocks >= blobsLength) return { result, watermark: scanned }
  await blobs.core.clear(scanned.blocks, blobsLength)
  result.storageCompacted = await compactStorageRange(blobs.core, scanned.blocks, blobsLength)
  result.blocksCleared = blobsLength - scanned.blocks
  result.bytesReclaimed = byteLength - scanned.bytes
  return { result, watermark: { dbLength, blocks: blobsLength, bytes: byteLength } }
}

/**
 * Raises `from` (blocks and bytes) past every blob referenced by the entries committed in the
 * Hyperbee blocks [from.dbLength, to). Throws on anything it cannot read or understand, so a
 * doubt never leads to clearing.
 */
export async function scanReferencedBlobs (drive: Hyperdrive, from: BlobsWatermark, to: number): Promise<BlobsWatermark> {
  let { blocks, bytes } = from
  const gte = Math.max(1, from.dbLength)
  if (gte < to) {
    for await (const node of drive.db.createHistoryStream({ gte, lt: to }) as AsyncIterable<{ type: string, value: unknown }>) {
      if (node.type !== 'put') continue
      const blob = (node.value as { blob?: BlobPointer | null } | null)?.blob ?? null
      if (blob === null) continue
      const ok = [blob.blockOffset, blob.blockLength, blob.byteOffset, blob.byteLength].every((n) => Number.isSafeInteger(n) && n >= 0)
      if (!ok) throw DatdotError.corrupt('an entry of the vault has an unreadable blob pointer')
      const end = blob.blockOffset + blob.blockLength
      if (end > blocks) {
        blocks = end
        bytes = blob.byteOffset + blob.byteLength
      }
    }
  }
  return { dbLength: Math.max(from.dbLength, to), blocks, bytes }
}

/**
 * Hypercore's clear() deletes the blocks with a RocksDB range tombstone; the bytes leave the disk
 * only when RocksDB compacts that key range (and garbage-collects the blob files holding them).
 * Hypercore's own compact() does not do that (it hands rocksdb-native Buffers that its
 * compactRange takes for options), so this asks RocksDB directly for the cleared key range,
 * through hypercore-storage internals of the pinned versions. Best effort: returns false where
 * those internals are missing; the blocks are cleared either way and RocksDB frees them later.
 */
async function compactStorageRange (core: unknown, start: number, end: number): Promise<boolean> {
  try {
    const storage = (core as { state?: { storage?: { db?: unknown, core?: { dataPointer?: unknown } } } }).state?.storage
    const db = storage?.db as { _state?: { compactRange?: (db: unknown, s: Buffer, e: Buffer, o: object) => Promise<void> } } | undefined
    const ptr = storage?.core?.dataPointer
    if (typeof db?._state?.compactRange !== 'function' || typeof ptr !== 'number') return false
    const fromHypercore = createRequire(createRequire(import.meta.url).resolve('hypercore'))
    const keys = fromHypercore('hypercore-storage/lib/keys.js') as { core?: { block?: (ptr: number, index: number) => Buffer } }
    if (typeof keys.core?.block !== 'function') return false
    // blobGarbageCollectionPolicy FORCE, age cutoff 1 and bottommost FORCE: rewrite the blob
    // files referenced from the compacted range so the cleared bytes are dropped now.
    await db._state.compactRange(db, keys.core.block(ptr, start), keys.core.block(ptr, end), {
      blobGarbageCollectionPolicy: 1, blobGarbageCollectionAgeCutoff: 1, bottommostLevelCompaction: 2
    })
    return true
  } catch {
    return false
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
