/**
 * Copying files from another drive into a vault drive (moving and copying between spaces): the
 * plan (which files, under which names) and the staging of one file's bytes. The bytes are read
 * decrypted from the source and written into the destination's blobs core, so a file copied from
 * a public space into a private one is encrypted there, and the other way round. Nothing is
 * listed until the destination vault commits the staged entries in one batch (vault.ts).
 */
import type Hyperdrive from 'hyperdrive'
import { DatdotError } from '../shared/errors.js'
import { drivePath, isWithin, joinDrivePath, baseName } from './paths.js'
import type { Entry as DriveEntry } from 'hyperdrive'
import { entryMetadata, entrySize, filesAt, safeKey } from './drive-ops.js'
import { writeBlob, type StagedFile } from './vault-blobs.js'
import type { JobHandle } from './jobs.js'

export interface CopyItem { entry: DriveEntry, source: string, target: string, size: number }

/**
 * The files under `from` in `source` and their names under the folder `into` of the
 * destination: a file keeps its name, a folder is copied with its contents under its own name.
 * NOT_FOUND when nothing is at `from`.
 */
export async function planCopy (source: Hyperdrive, from: string, into: string): Promise<CopyItem[]> {
  const named = drivePath(from)
  const dest = drivePath(into)
  const { path: src, files } = await filesAt(source, from)
  if (files.length === 0) throw DatdotError.notFound(named)
  const top = src === '/' ? dest : joinDrivePath(dest, baseName(src))
  return files.map((entry) => {
    const k = safeKey(entry)!
    const target = k === src ? top : joinDrivePath(top, k.slice(src === '/' ? 1 : src.length + 1))
    return { entry, source: k, target, size: entrySize(entry) }
  })
}

/** ALREADY_EXISTS for the first target the destination already has (a copy never overwrites). */
export async function assertFree (dest: Hyperdrive, items: CopyItem[]): Promise<void> {
  for (const item of items) {
    if (await dest.entry(item.target) !== null) throw DatdotError.alreadyExists(item.target)
  }
  const top = items[0]?.target
  if (top !== undefined && items.length > 1 && await dest.entry(top) !== null) throw DatdotError.alreadyExists(top)
}

/** Refuses copying a folder into itself inside one drive. */
export function assertNotInto (sameDrive: boolean, items: CopyItem[], from: string): void {
  if (!sameDrive || items.length === 0) return
  const src = drivePath(from)
  const top = items[0].target
  if (top === src || isWithin(top, src)) throw DatdotError.invalidPath(top, 'cannot copy a folder into itself')
}

/** Streams one file's bytes from the source into the destination's blobs core. */
export async function stageCopy (source: Hyperdrive, dest: Hyperdrive, item: CopyItem, job: JobHandle): Promise<StagedFile> {
  const stream = source.createReadStream(item.source, { wait: true })
  const { blob } = await writeBlob(dest, stream, job, item.size, item.source)
  return { path: item.target, blob, metadata: entryMetadata(item.entry) }
}
