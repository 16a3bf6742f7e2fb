/**
 * Streaming file bytes into the vault's blobs core ahead of a commit (the writes of imports
 * and uploads). Nothing written here is listed until the vault commits the staged entries in
 * one batch; on rollback, clearBlobs frees the staged blocks. Also the disk-space check that
 * runs before bytes are written.
 */
import { createReadStream } from 'node:fs'
import { open as fsOpen } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { Transform, type Readable } from 'node:stream'
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

/** Throws DISK_FULL unless `bytes` plus the margin fit in the free space of `dir`. */
export async function checkDisk (freeBytes: (dir: string) => Promise<number>, dir: string, bytes: number): Promise<void> {
  const free = await freeBytes(dir)
  if (bytes + DISK_MARGIN_BYTES > free) throw DatdotError.diskFull(bytes + DISK_MARGIN_BYTES, free)
}

/** Streams one source into the blobs core; returns the blob pointer. Counts bytes into the job. */
export async function writeBlob (drive: Hyperdrive, source: Readable, job: JobHandle, expectedBytes: number | null, label: string): Promise<{ blob: BlobPointer, bytes: number }> {
  const blobs = await drive.getBlobs()
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
    const stream = f.size === 0 ? emptyStream() : createReadStream('', { fd: fh.fd, autoClose: false, start: 0, highWaterMark: 1024 * 1024 })
    const { blob } = await writeBlob(drive, stream, job, f.size, f.source)
    return { path: f.target, blob, metadata: { mtimeMs: Math.round(st.mtimeMs) } }
  } finally {
    await fh.close().catch(() => {})
  }
}

function emptyStream (): Readable {
  const t = new Transform()
  t.end()
  return t
}
