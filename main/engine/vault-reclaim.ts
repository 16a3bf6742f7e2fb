/**
 * Reclaiming blobs orphaned by a crash, for the vault (main/engine/vault.ts).
 *
 * The blobs core is append-only and every commit only references blocks written before it, so
 * the blocks no committed entry (at ANY version) references form a tail: [highest block end
 * referenced by any entry in the drive's history, blobs.length). Scanning the whole history at
 * every open would cost O(history), so the vault keeps a watermark in its SQLite table
 * `vault_blobs` (migration list VAULT_MIGRATIONS):
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
 * never compacted. The engine does not log: see the vault's `compactions` / `lastCompaction`
 * and its 'compacted' event.
 * What a crash leaves: RocksDB keeps recent writes in its memtable (64 MB) and a kill -9 loses
 * them, so only the part of an import RocksDB had already flushed survives as orphans. The
 * cleared range is also compacted in RocksDB right away (compactStorageRange); without that
 * the bytes would stay on disk until RocksDB compacts that range on its own.
 * Holes: the cleared blocks are absent for good, as the blocks of an aborted import already
 * are; whatever serves or publishes whole-core ranges of the vault must skip absent blocks.
 */
import { createRequire } from 'node:module'
import type Hyperdrive from 'hyperdrive'
import type { BlobPointer } from 'hyperdrive'
import { DatdotError } from '../shared/errors.js'
import type { Db, Migration } from '../shared/db.js'

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

/** See the top of this file. */
export interface BlobsWatermark { dbLength: number, blocks: number, bytes: number }

export interface CompactionResult {
  /** Why nothing was looked at or cleared (null when the scan ran). */
  skipped: 'not-writable' | 'history-too-long' | 'restoring' | null
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

/** The saved watermark of the vault `vaultKey`, or null (no database, or no row yet). */
export function loadWatermark (db: Db | undefined, vaultKey: string): BlobsWatermark | null {
  const row = db?.prepare('SELECT db_length, settled_blocks, settled_bytes FROM vault_blobs WHERE vault_key = ?').get(vaultKey) as
    { db_length: number, settled_blocks: number, settled_bytes: number } | undefined
  return row ? { dbLength: row.db_length, blocks: row.settled_blocks, bytes: row.settled_bytes } : null
}

export function saveWatermark (db: Db | undefined, vaultKey: string, w: BlobsWatermark, nowMs: number): void {
  db?.prepare(`INSERT INTO vault_blobs (vault_key, db_length, settled_blocks, settled_bytes, updated_ms) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (vault_key) DO UPDATE SET db_length = excluded.db_length, settled_blocks = excluded.settled_blocks,
    settled_bytes = excluded.settled_bytes, updated_ms = excluded.updated_ms`).run(vaultKey, w.dbLength, w.blocks, w.bytes, nowMs)
}

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
