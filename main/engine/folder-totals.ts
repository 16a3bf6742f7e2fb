/**
 * Folder sizes and dates for a listing (listFiles): one recursive pass over the listed folder
 * sums, for each sub-folder shown, its files' bytes, counts them and keeps the newest file's
 * modification time. Bounded: a folder holding more than `limit` files in all is left uncounted
 * (its entries keep size 0 and no `files`), so a listing never costs more than that many reads.
 * Callers count only drives whose metadata is here (a sparse follow would wait on the network).
 */
import type Hyperdrive from 'hyperdrive'
import type { Entry } from '../shared/contract.js'
import { entryMetadata, entrySize, safeKey } from './drive-ops.js'
import { isWithin } from './paths.js'

/** Files read at most for one listing's folder totals. */
export const FOLDER_TOTALS_LIMIT = 20_000

interface Totals { size: number, files: number, mtimeMs: number | null }

/** The listed entries with their folders' totals filled in (the same array when none is counted). */
export async function withFolderTotals (view: Hyperdrive, folder: string, entries: Entry[], limit = FOLDER_TOTALS_LIMIT): Promise<Entry[]> {
  const folders = new Map<string, Totals>()
  for (const e of entries) if (e.kind === 'folder') folders.set(e.path, { size: 0, files: 0, mtimeMs: null })
  if (folders.size === 0) return entries
  const prefix = folder === '/' ? '/' : folder + '/'
  let read = 0
  for await (const node of view.list(folder, { recursive: true })) {
    const key = safeKey(node)
    if (key === null || !isWithin(key, folder) || key === folder) continue
    if (++read > limit) return entries
    const slash = key.indexOf('/', prefix.length)
    if (slash === -1) continue // a file of the folder itself
    const t = folders.get(key.slice(0, slash))
    if (t === undefined) continue
    t.size += entrySize(node)
    t.files++
    const m = entryMetadata(node).mtimeMs
    if (typeof m === 'number' && (t.mtimeMs === null || m > t.mtimeMs)) t.mtimeMs = m
  }
  return entries.map((e) => {
    const t = e.kind === 'folder' ? folders.get(e.path) : undefined
    return t === undefined ? e : { ...e, size: t.size, files: t.files, mtimeMs: t.mtimeMs }
  })
}
