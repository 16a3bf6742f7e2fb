/**
 * Streaming file bytes into the vault's blobs core ahead of a commit (the writes of imports
 * and uploads). Nothing written here is listed until the vault commits the staged entries in
 * one batch; on rollback, clearBlobs frees the staged blocks. Also the disk-space check that
 * runs before bytes are written.
 *
 * A blob is written as BLOB_BLOCK_BYTES blocks (whatever the source's chunks) appended
 * BLOB_BATCH_BLOCKS at a time: one Hypercore append (one signature, one storage write) per
 * batch, and the next batch is taken only once the previous one is stored, so the bytes in
 * flight stay bounded whatever the file size. A local file is read into two reused buffers
 * (fileBatches), the next batch while the previous one is appended.
 */
import { open as fsOpen, type FileHandle } from 'node:fs/promises'
import { type Readable, addAbortSignal } from 'node:stream'
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

/** The source's blocks grouped `count` at a time (the last group may be smaller). */
async function * batchesOf (blocks: AsyncIterable<Buffer>, count: number): AsyncGenerator<Buffer[]> {
  let batch: Buffer[] = []
  for await (const block of blocks) {
    batch.push(block)
    if (batch.length >= count) { yield batch; batch = [] }
  }
  if (batch.length > 0) yield batch
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
async function readFull (fh: FileHandle, buf: Buffer, position: number): Promise<number> {
  let got = 0
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got)
    if (bytesRead === 0) break
    got += bytesRead
  }
  return got
}

/**
 * A local file's first `size` bytes as batches of `blockBytes` blocks, read into two buffers of
 * one batch each, used in turn: while the consumer appends one batch, the next is read into the
 * other buffer. A buffer is read into again only when the consumer asks for the batch after the
 * one it holds, so the consumer must be done with each batch (appended: Hypercore has written
 * it) before it asks for the next. No new memory per batch: a streamed file left ~33 MiB of
 * read buffers for the GC to collect at the peak of a big import (bench/vault.ts).
 * If the file holds more than `size` bytes, one more batch of one byte says so.
 */
export async function * fileBatches (fh: FileHandle, size: number, blockBytes: number, blocksPerBatch: number): AsyncGenerator<Buffer[]> {
  const batchBytes = Math.min(size, blockBytes * blocksPerBatch)
  const bufs = [Buffer.allocUnsafeSlow(batchBytes), Buffer.allocUnsafeSlow(batchBytes)]
  const blocksIn = (buf: Buffer, bytes: number): Buffer[] => {
    const out: Buffer[] = []
    for (let off = 0; off < bytes; off += blockBytes) out.push(buf.subarray(off, Math.min(off + blockBytes, bytes)))
    return out
  }
  const read = (turn: number, position: number): { turn: number, want: number, got: Promise<number> } => {
    const want = Math.min(batchBytes, size - position)
    const got = readFull(fh, bufs[turn].subarray(0, want), position)
    // Awaited below; if the consumer stops early, a read still under way must not go unhandled.
    got.catch(() => {})
    return { turn, want, got }
  }
  let position = 0
  let reading = size > 0 ? read(0, 0) : null
  while (reading !== null) {
    const got = await reading.got
    const buf = bufs[reading.turn]
    const short = got < reading.want
    position += got
    // The next batch is read into the other buffer while the consumer appends this one.
    reading = !short && position < size ? read(1 - reading.turn, position) : null
    if (got > 0) yield blocksIn(buf, got)
    if (short) return
  }
  const extra = Buffer.alloc(1)
  if (await readFull(fh, extra, size) > 0) yield [extra]
}

/**
 * Streams one source into the blobs core; returns the blob pointer. Counts bytes into the job
 * as they are stored. On any error or a cancel, the blocks this blob already appended are cleared.
 */
export async function writeBlob (drive: Hyperdrive, source: Readable, job: JobHandle, expectedBytes: number | null, label: string): Promise<{ blob: BlobPointer, bytes: number }> {
  addAbortSignal(job.signal, source)
  try {
    return await appendBatches(drive, batchesOf(blocksOf(source, BLOB_BLOCK_BYTES), BLOB_BATCH_BLOCKS), job, expectedBytes, label)
  } catch (err) {
    source.destroy()
    throw err
  }
}

/**
 * Appends the batches to the blobs core, one Hypercore append each, the next batch asked for
 * only once the previous one is stored; returns the blob pointer. On any error or a cancel,
 * the blocks this blob already appended are cleared.
 */
async function appendBatches (drive: Hyperdrive, batches: AsyncIterable<Buffer[]>, job: JobHandle, expectedBytes: number | null, label: string): Promise<{ blob: BlobPointer, bytes: number }> {
  const blobs = await drive.getBlobs()
  if (!blobs) throw DatdotError.internal('vault has no blobs core')
  const core = blobs.core
  const release = await lockBlobs(blobs)
  const blockOffset = core.length
  const byteOffset = core.byteLength
  try {
    let bytes = 0
    for await (const batch of batches) {
      job.check()
      let batchBytes = 0
      for (const block of batch) batchBytes += block.length
      bytes += batchBytes
      if (expectedBytes !== null && bytes > expectedBytes) throw DatdotError.sourceChanged(label)
      await core.append(batch)
      job.addBytes(batchBytes)
    }
    job.check()
    if (expectedBytes !== null && bytes !== expectedBytes) throw DatdotError.sourceChanged(label)
    return { blob: { blockOffset, blockLength: core.length - blockOffset, byteOffset, byteLength: core.byteLength - byteOffset }, bytes }
  } catch (err) {
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
    const { blob } = await appendBatches(drive, fileBatches(fh, f.size, BLOB_BLOCK_BYTES, BLOB_BATCH_BLOCKS), job, f.size, f.source)
    return { path: f.target, blob, metadata: { mtimeMs: Math.round(st.mtimeMs) } }
  } finally {
    await fh.close().catch(() => {})
  }
}
