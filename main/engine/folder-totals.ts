/**
 * Folder sizes and dates for a listing page (listFiles): for each sub-folder shown, a recursive
 * range read of it sums its files' bytes, counts them and keeps the newest file's modification
 * time. Bounded: at most `limit` files are read for one page; folders past that are left
 * uncounted (their entries keep size 0 and no `files`). The marker file of a folder made empty
 * (FOLDER_MARKER) is not counted.
 * Callers count only drives whose metadata is here (a sparse follow would wait on the network).
 */
import type Hyperdrive from 'hyperdrive'
import { FOLDER_MARKER, type Entry } from '../shared/contract.js'
import { entryMetadata, entrySize, safeKey } from './drive-ops.js'
import { isWithin } from './paths.js'

/** Files read at most for one listing's folder totals. */
export const FOLDER_TOTALS_LIMIT = 20_000

const MARKER_SUFFIX = '/' + FOLDER_MARKER

interface Totals { size: number, files: number, mtimeMs: number | null }

/**
 * The listed entries with their folders' totals filled in (the same array when none is counted).
 * Each folder of the page is walked on its own (a range read of its keys), so a page of a big
 * folder costs its sub-folders' files, not the whole folder's; `limit` reads in all, and a folder
 * the budget does not cover is left uncounted.
 */
export async function withFolderTotals (view: Hyperdrive, entries: Entry[], limit = FOLDER_TOTALS_LIMIT): Promise<Entry[]> {
  const folders = new Map<string, Totals>()
  let budget = limit
  for (const e of entries) {
    if (e.kind !== 'folder' || folders.has(e.path)) continue
    const t = await folderTotals(view, e.path, budget)
    if (t === null) break
    budget -= t.files
    folders.set(e.path, t)
  }
  if (folders.size === 0) return entries
  return entries.map((e) => {
    const t = e.kind === 'folder' ? folders.get(e.path) : undefined
    return t === undefined ? e : { ...e, size: t.size, files: t.files, mtimeMs: t.mtimeMs }
  })
}

/** One folder's totals, or null when it holds more than `budget` files. */
async function folderTotals (view: Hyperdrive, folder: string, budget: number): Promise<Totals | null> {
  const t: Totals = { size: 0, files: 0, mtimeMs: null }
  for await (const node of view.list(folder, { recursive: true })) {
    const key = safeKey(node)
    if (key === null || !isWithin(key, folder) || key === folder) continue
    // the empty file that keeps an empty folder (vault-folders.ts) is not one of its files
    if (key.endsWith(MARKER_SUFFIX)) continue
    if (++t.files > budget) return null
    t.size += entrySize(node)
    const m = entryMetadata(node).mtimeMs
    if (typeof m === 'number' && (t.mtimeMs === null || m > t.mtimeMs)) t.mtimeMs = m
  }
  return t
}
