/**
 * Listing a folder of a drive, one page at a time (listFiles). A page is a range read of the
 * drive's Hyperbee that starts where the previous page stopped (its cursor), so a page costs
 * about `limit` reads whatever the folder's size; a sub-folder met in a shallow listing is shown
 * once and its contents are skipped with one new range (as hyperdrive's readdir does).
 *
 * Order: the order keys are stored in (bytes of the names; a sub-folder where its first file
 * is), so pages concatenate without duplicates or gaps even while the folder changes: an entry
 * added after the cursor shows on a later page, one added before it does not. A listing that
 * fits on one page (no cursor, no next) is sorted folders first, as listings always were.
 *
 * The cursor is opaque to callers: the last key the page read, the mode (shallow or
 * recursive) and a short hash of the folder it belongs to. A cursor that does not decode, or
 * belongs to another folder or mode, is refused with INVALID_ARGUMENT. Hyperbee keeps no
 * counts, so `total` is given only when the whole listing is one page (counting a folder of
 * 100,000 files would be a full walk); otherwise it is null.
 */
import { createHash } from 'node:crypto'
import type Hyperdrive from 'hyperdrive'
import type { Entry as DriveEntry } from 'hyperdrive'
import type { Entry } from '../shared/contract.js'
import { LIMITS } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import { lookupForms, storedPath, baseName } from './paths.js'
import { toEntry } from './drive-ops.js'

export interface ListOptions { recursive: boolean, limit: number, cursor?: string }
export interface ListPage { entries: Entry[], truncated: boolean, next: string | null, total: number | null }

/** Longest cursor accepted (a 4096-byte path, base64url of JSON, with room). */
export const CURSOR_CHARS = 16_384

/** Where a page resumes: after a file key (or any key, recursive), or past a whole sub-folder. */
interface Resume { mode: 'shallow' | 'recursive', after: string, skipFolder: boolean }

function folderHash (folder: string): string {
  return createHash('sha256').update(folder).digest('base64url').slice(0, 11)
}

export function encodeCursor (folder: string, r: Resume): string {
  const json = JSON.stringify({ v: 1, m: r.mode === 'recursive' ? 'r' : r.skipFolder ? 'd' : 'f', k: r.after, h: folderHash(folder) })
  return Buffer.from(json, 'utf8').toString('base64url')
}

function badCursor (why: string): DatdotError {
  return DatdotError.invalidArgument(`Invalid cursor: ${why}; start the listing again without one`, { field: 'cursor' })
}

/** Decodes a cursor given back by a caller: anything but one this module wrote for `folder` and the mode is refused. */
export function decodeCursor (cursor: string, folder: string, recursive: boolean): Resume {
  if (cursor.length === 0 || cursor.length > CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor('not a cursor of this listing')
  let raw: unknown
  try { raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) } catch { throw badCursor('not a cursor of this listing') }
  const c = raw as { v?: unknown, m?: unknown, k?: unknown, h?: unknown } | null
  if (c === null || typeof c !== 'object' || c.v !== 1 || typeof c.k !== 'string' || typeof c.h !== 'string' || !['f', 'd', 'r'].includes(c.m as string)) {
    throw badCursor('not a cursor of this listing')
  }
  if (c.h !== folderHash(folder)) throw badCursor('it belongs to another folder')
  if ((c.m === 'r') !== recursive) throw badCursor(recursive ? 'it belongs to a shallow listing' : 'it belongs to a recursive listing')
  let valid = false
  try { valid = c.k.length > 0 && storedPath('/' + c.k) === '/' + c.k } catch { valid = false }
  if (!valid || (c.m !== 'r' && c.k.includes('/'))) throw badCursor('it names no valid entry')
  return { mode: recursive ? 'recursive' : 'shallow', after: c.k, skipFolder: c.m === 'd' }
}

function checkLimit (limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > LIMITS.listEntries) {
    throw DatdotError.invalidArgument(`limit must be a whole number from 1 to ${LIMITS.listEntries}`, { field: 'limit', limit })
  }
}

/**
 * One page of a folder: its entries (files and, shallow, sub-folders), whether more follow
 * (`truncated`, and `next` to pass back as `cursor`), and the total when the page is all of it.
 */
export async function listFolder (view: Hyperdrive, path: string, opts: ListOptions): Promise<ListPage> {
  checkLimit(opts.limit)
  const forms = lookupForms(path)
  const resume = opts.cursor === undefined ? null : decodeCursor(opts.cursor, forms[0], opts.recursive)
  for (const folder of forms) {
    const found = await listOne(view, folder, forms[0], { ...opts, resume })
    if (found !== null) return found
  }
  throw DatdotError.notFound(forms[0])
}

/** Lists one spelling of a folder; null when nothing is there. */
async function listOne (view: Hyperdrive, folder: string, id: string, opts: ListOptions & { resume: Resume | null }): Promise<ListPage | null> {
  if (folder !== '/' && (await view.entry(folder)) !== null) throw DatdotError.notAFolder(folder)
  const { entries, last, more } = await readPage(view, folder, opts.recursive, opts.limit, opts.resume)
  if (entries.length === 0 && folder !== '/' && !(await holdsAnything(view, folder))) return null
  const next = more && last !== null ? encodeCursor(id, last) : null
  const whole = opts.resume === null && next === null
  if (whole) entries.sort((a, b) => (a.kind === b.kind ? (a.path < b.path ? -1 : 1) : a.kind === 'folder' ? -1 : 1))
  return { entries, truncated: next !== null, next, total: whole ? entries.length : null }
}

/** True when any key lies under `folder` (one read). */
async function holdsAnything (view: Hyperdrive, folder: string): Promise<boolean> {
  for await (const node of view.entries({ gt: folder + '/', lt: folder + '0' }, { limit: 1 })) if (node !== null) return true
  return false
}

/** The range of keys a page reads: from the resume point to the end of the folder. */
function rangeFrom (prefix: string, end: string, resume: Resume | null): { gt?: string, gte?: string, lt: string } {
  if (resume === null) return { gt: prefix, lt: end }
  // Past a sub-folder 'name': every key under 'name/' is below 'name0' ('0' is the byte after '/').
  return resume.skipFolder ? { gte: prefix + resume.after + '0', lt: end } : { gt: prefix + resume.after, lt: end }
}

/**
 * Reads up to `limit` entries from the resume point, and one more to know whether more follow.
 * Keys that are not valid paths (a hostile drive) are read past but not shown.
 */
async function readPage (view: Hyperdrive, folder: string, recursive: boolean, limit: number, resume: Resume | null): Promise<{ entries: Entry[], last: Resume | null, more: boolean }> {
  const prefix = folder === '/' ? '/' : folder + '/'
  const end = folder === '/' ? '0' : folder + '0'
  const mode = recursive ? 'recursive' : 'shallow'
  const entries: Entry[] = []
  let from = resume
  let last: Resume | null = null
  for (;;) {
    let skipTo: Resume | null = null
    for await (const node of view.entries(rangeFrom(prefix, end, from)) as AsyncIterable<DriveEntry>) {
      const rest = node.key.slice(prefix.length)
      const slash = recursive ? -1 : rest.indexOf('/')
      const here: Resume = slash === -1 ? { mode, after: rest, skipFolder: false } : { mode, after: rest.slice(0, slash), skipFolder: true }
      const entry = slash === -1 ? toEntry(node) : folderOf(prefix + here.after)
      if (entry === null) { last = here; if (slash === -1) continue; skipTo = here; break }
      if (entries.length >= limit) return { entries, last, more: true }
      entries.push(entry)
      last = here
      if (slash !== -1) { skipTo = here; break }
    }
    if (skipTo === null) return { entries, last, more: false }
    from = skipTo
  }
}

function folderOf (path: string): Entry | null {
  try { storedPath(path) } catch { return null }
  return { path, name: baseName(path), kind: 'folder', size: 0, mtimeMs: null, version: 0 }
}
