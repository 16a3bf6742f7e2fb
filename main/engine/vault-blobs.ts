/**
 * Streaming file bytes into the vault's blobs core ahead of a commit (the writes of imports
 * and uploads). Nothing written here is listed until the vault commits the staged entries in
 * one batch; on rollback, clearBlobs frees the staged blocks. Also the disk-space check that
 * runs before bytes are written.
 *
 * A blob is written as BLOB_BLOCK_BYTES blocks (whatever the source's chunks) appended
 * BLOB_BATCH_BLOCKS at a time: one Hypercore append (one signature, one storage write) per
 * batch, and the next batch is read only once the previous one is stored, so the bytes in
 * flight stay bounded whatever the file size.
 */
import { createReadStream } from 'node:fs'
import { open as fsOpen } from 'node:fs/promises'
import { Readable, addAbortSignal } from 'node:stream'
import type Hyperdrive from 'hyperdrive'
import type { BlobPointer } from 'hyperdrive'
import { DatdotError } from '../shared/errors.js'
import type { FileMetadata } from './drive-ops.js'
import type { JobHandle } from './jobs.js'
import type { PlannedFile } from './vault-sources.js'

/** A file whose bytes are in the blobs core, waiting for the commit that lists it at `path`. */
export interface StagedFile { path: string, blob: BlobPointer, metadata: FileMetadata }

/** Disk headroom kept free beyond the bytes an import needs (Corestore overhead, SQLite, OS). */
export const DISK_MARGIN_BYTES = 64 * 1024 * 1024

/** Bytes of one blobs block: Hyperdrive's own (64 KiB); the hosting network refuses blocks over 1 MiB. */
export const BLOB_BLOCK_BYTES = 64 * 1024

/** Blocks per append: 1 MiB per Hypercore append, the read-ahead of a local file is the same. */
export const BLOB_BATCH_BLOCKS = 16

/** Throws DISK_FULL unless `bytes` plus the margin fit in the free space of `dir`. */
export async function checkDisk (freeBytes: (dir: string) => Promise<number>, dir: string, bytes: number): Promise<void> {
  const free = await freeBytes(dir)
  if (bytes + DISK_MARGIN_BYTES > free) throw DatdotError.diskFull(bytes + DISK_MARGIN_BYTES, free)
}

/** Hyperblobs' writer lock (every blob writer takes it, so two blobs never interleave their blocks). */
type Lock = (fn: (release: () => void) => void) => void

async function lockBlobs (blobs: object): Promise<() => void> {
  const lock = (blobs as { _lock?: Lock })._lock
  if (typeof lock !== 'function') throw DatdotError.internal('the blobs core has no writer lock (hyperblobs changed)')
  return await new Promise((resolve) => { lock(resolve) })
}

/** The source's bytes cut into `size`-byte blocks (the last may be shorter); whole blocks are views, not copies. */
export async function * blocksOf (source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = []
  let partBytes = 0
  for await (const chunk of source) {
    let off = 0
    if (partBytes > 0) {
      off = Math.min(size - partBytes, chunk.length)
      parts.push(chunk.subarray(0, off))
      partBytes += off
      if (partBytes < size) continue
      yield Buffer.concat(parts, size)
      parts = []
      partBytes = 0
    }
    for (; chunk.length - off >= size; off += size) yield chunk.subarray(off, off + size)
    if (off < chunk.length) {
      parts.push(chunk.subarray(off))
      partBytes = chunk.length - off
    }
  }
  if (partBytes > 0) yield parts.length === 1 ? parts[0] : Buffer.concat(parts, partBytes)
}

/**
 * Streams one source into the blobs core; returns the blob pointer. Counts bytes into the job
 * as they are stored. On any error or a cancel, the blocks this blob already appended are cleared.
 */
export async function writeBlob (drive: Hyperdrive, source: Readable, job: JobHandle, expectedBytes: number | null, label: string): Promise<{ blob: BlobPointer, bytes: number }> {
  const blobs = await drive.getBlobs()
  if (!blobs) throw DatdotError.internal('vault has no blobs core')
  const core = blobs.core
  addAbortSignal(job.signal, source)
  const release = await lockBlobs(blobs)
  const blockOffset = core.length
  const byteOffset = core.byteLength
  try {
    let bytes = 0
    let batch: Buffer[] = []
    let batchBytes = 0
    const append = async (): Promise<void> => {
      await core.append(batch)
      job.addBytes(batchBytes)
      batch = []
      batchBytes = 0
    }
    for await (const block of blocksOf(source, BLOB_BLOCK_BYTES)) {
      bytes += block.length
      if (expectedBytes !== null && bytes > expectedBytes) throw DatdotError.sourceChanged(label)
      batch.push(block)
      batchBytes += block.length
      if (batch.length >= BLOB_BATCH_BLOCKS) await append()
    }
    if (batch.length > 0) await append()
    job.check()
    if (expectedBytes !== null && bytes !== expectedBytes) throw DatdotError.sourceChanged(label)
    return { blob: { blockOffset, blockLength: core.length - blockOffset, byteOffset, byteLength: core.byteLength - byteOffset }, bytes }
  } catch (err) {
    source.destroy()
    if (core.length > blockOffset) await core.clear(blockOffset, core.length).catch(() => {})
    if (job.signal.aborted) throw DatdotError.cancelled(job.job.label)
    throw err
  } finally {
    release()
  }
}

/** Frees the blocks of staged files that will never be committed (best effort). */
export async function clearBlobs (drive: Hyperdrive, staged: Iterable<StagedFile>): Promise<void> {
  const blobs = await drive.getBlobs().catch(() => null)
  if (!blobs) return
  for (const f of staged) {
    if (f.blob.blockLength > 0) await blobs.core.clear(f.blob.blockOffset, f.blob.blockOffset + f.blob.blockLength).catch(() => {})
  }
}

/** Stages one planned local file; SOURCE_CHANGED if it is no longer the regular file of the planned size. */
export async function importFile (drive: Hyperdrive, f: PlannedFile, job: JobHandle): Promise<StagedFile> {
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
    const stream = f.size === 0
      ? Readable.from([])
      : createReadStream('', { fd: fh.fd, autoClose: false, start: 0, highWaterMark: BLOB_BLOCK_BYTES * BLOB_BATCH_BLOCKS })
    const { blob } = await writeBlob(drive, stream, job, f.size, f.source)
    return { path: f.target, blob, metadata: { mtimeMs: Math.round(st.mtimeMs) } }
  } finally {
    await fh.close().catch(() => {})
  }
}
