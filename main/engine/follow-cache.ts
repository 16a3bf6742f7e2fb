/**
 * The local copy of a followed drive as a cache: how many bytes of each file's contents are held
 * (the blobs core's bitfield over the file's block range), which are kept (pinned, in a selected
 * folder, or everything in mode 'all'), and which to clear, least recently read first, so the
 * cached (not kept) bytes get under the follow's limit. Clearing is hypercore `clear` on the
 * file's block range; the metadata core is never cleared (listing must keep working).
 */
import type Hyperdrive from 'hyperdrive'
import type Hypercore from 'hypercore'
import { entrySize, filesUnder, safeKey } from './drive-ops.js'
import { isWithin } from './paths.js'

/** One file of the drive's current version, as the cache sees it. */
export interface CachedFile {
  path: string
  /** Bytes of its contents held on this disk. */
  bytesHeld: number
  /** When it was last read (0: never, e.g. fetched by a mode or a pin). */
  lastReadMs: number
  /** Pinned, in a selected folder, or mode 'all': never cleared. */
  kept: boolean
  /** Its block range in the blobs core. */
  blockOffset: number
  blockLength: number
}

export interface CacheUsage {
  /** Bytes of kept files held. */
  bytesKept: number
  /** Bytes of cached (not kept) files held: what a clear would free. */
  bytesClearable: number
}

/**
 * Which files to clear so the cached bytes (held by files not kept) are at most `limit`: least
 * recently read first (ties: by path). `spare` (the file read last) is never chosen, even if it
 * alone is over the limit: it is being read. A null limit clears nothing.
 */
export function chooseClears (files: readonly CachedFile[], limit: number | null, spare: string | null = null): CachedFile[] {
  if (limit === null) return []
  const cached = files.filter((f) => !f.kept && f.bytesHeld > 0)
  let total = cached.reduce((n, f) => n + f.bytesHeld, 0)
  if (total <= limit) return []
  const order = cached
    .filter((f) => f.path !== spare)
    .sort((a, b) => a.lastReadMs - b.lastReadMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const out: CachedFile[] = []
  for (const f of order) {
    if (total <= limit) break
    out.push(f)
    total -= f.bytesHeld
  }
  return out
}

export function usageOf (files: readonly CachedFile[]): CacheUsage {
  let bytesKept = 0
  let bytesClearable = 0
  for (const f of files) {
    if (f.kept) bytesKept += f.bytesHeld
    else bytesClearable += f.bytesHeld
  }
  return { bytesKept, bytesClearable }
}

/** Hypercore keeps which blocks it has in a bitfield; countSet is not public API, hence the guard. */
interface WithBitfield { core?: { bitfield?: { countSet?: (start: number, length: number) => number } } }

/** Blocks of `core` in [start, start + length) held on this disk. */
export function blocksHeld (core: Hypercore, start: number, length: number): number {
  const end = Math.min(start + length, core.length)
  if (end <= start) return 0
  const bitfield = (core as unknown as WithBitfield).core?.bitfield
  if (bitfield?.countSet) return bitfield.countSet(start, end - start)
  return core.contiguousLength >= end ? end - start : 0
}

/** Bytes of `core` held on this disk: its blocks held times its mean block size. */
export function coreBytesHeld (core: Hypercore): number {
  if (core.length === 0) return 0
  const held = blocksHeld(core, 0, core.length)
  return held === core.length ? core.byteLength : Math.round(core.byteLength * held / core.length)
}

/** The files of the drive's current version with what is held of each. */
export async function scanFiles (drive: Hyperdrive, blobs: Hypercore, keptPath: (path: string) => boolean, reads: ReadonlyMap<string, number>): Promise<CachedFile[]> {
  const out: CachedFile[] = []
  for (const e of await filesUnder(drive, '/', Number.MAX_SAFE_INTEGER)) {
    const path = safeKey(e)
    const blob = e.value?.blob
    if (path === null || !blob || !(blob.blockLength > 0)) continue
    const held = blocksHeld(blobs, blob.blockOffset, blob.blockLength)
    const size = entrySize(e)
    out.push({
      path,
      bytesHeld: held === blob.blockLength ? size : Math.round(size * held / blob.blockLength),
      lastReadMs: lastRead(reads, path),
      kept: keptPath(path),
      blockOffset: blob.blockOffset,
      blockLength: blob.blockLength
    })
  }
  return out
}

/** When `path` or a folder above it (an exported folder) was last read; 0 if never. */
export function lastRead (reads: ReadonlyMap<string, number>, path: string): number {
  let t = reads.get(path) ?? 0
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) t = Math.max(t, reads.get(path.slice(0, i)) ?? 0)
  return Math.max(t, reads.get('/') ?? 0)
}

/** True if `path` is one of `roots` or below one. */
export function underAny (path: string, roots: readonly string[]): boolean {
  return roots.some((r) => isWithin(path, r))
}

/** Clears the contents of `files` from this disk (the blocks can be fetched again from peers). */
export async function clearFiles (blobs: Hypercore, files: readonly CachedFile[]): Promise<void> {
  for (const f of files) await blobs.clear(f.blockOffset, f.blockOffset + f.blockLength)
}
