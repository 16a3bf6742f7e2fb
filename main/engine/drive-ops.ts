/**
 * Read-side operations shared by the vault and followed drives: list, stat, history, diff,
 * export. Everything read from a drive is treated as untrusted (a followed drive is written
 * by someone else): keys are validated with drivePath() before use, sizes and metadata are
 * checked, and export never writes outside its destination folder.
 */
import { createWriteStream as fsCreateWriteStream } from 'node:fs'
import { mkdir, rename, rm, rmdir, lstat, stat as fsStat, open as fsOpen } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { join, resolve, sep, dirname } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import type Hyperdrive from 'hyperdrive'
import type { Entry as DriveEntry } from 'hyperdrive'
import type { Change, Entry, HistoryItem } from '../shared/contract.js'
import { LIMITS } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import { storedPath, lookupForms, isWithin, baseName } from './paths.js'
import type { JobHandle } from './jobs.js'

/** How Hyperdrive 13 prefixes file keys in its Hyperbee (sub-encoder 'files'). */
export const FILES_PREFIX = 'files\u0000'

export interface FileMetadata { mtimeMs: number | null }

/** Reads our metadata from an entry without trusting its shape. */
export function entryMetadata (e: DriveEntry): FileMetadata {
  const m = e.value?.metadata as { mtimeMs?: unknown } | null | undefined
  const t = m && typeof m.mtimeMs === 'number' && Number.isFinite(m.mtimeMs) ? m.mtimeMs : null
  return { mtimeMs: t }
}

export function entrySize (e: DriveEntry): number {
  const n = e.value?.blob?.byteLength
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : 0
}

/** The key of an entry as a validated drive path, or null if it is not one (hostile or foreign drive). */
export function safeKey (e: DriveEntry): string | null {
  try {
    const p = storedPath(e.key)
    return p === '/' ? null : p
  } catch {
    return null
  }
}

export function toEntry (e: DriveEntry): Entry | null {
  const p = safeKey(e)
  if (p === null) return null
  return { path: p, name: baseName(p), kind: 'file', size: entrySize(e), mtimeMs: entryMetadata(e).mtimeMs, version: e.seq + 1 }
}

function folderEntry (path: string): Entry {
  return { path, name: baseName(path), kind: 'folder', size: 0, mtimeMs: null, version: 0 }
}

export function at (drive: Hyperdrive, version?: number): Hyperdrive {
  if (version === undefined || version === drive.version) return drive
  if (version < 1 || version > drive.version) throw DatdotError.notFound(`version ${version} (the drive is at version ${drive.version})`)
  return drive.checkout(version)
}

async function closeCheckout (drive: Hyperdrive, view: Hyperdrive): Promise<void> {
  if (view !== drive) await view.close()
}

export async function withView<T> (drive: Hyperdrive, version: number | undefined, fn: (view: Hyperdrive) => Promise<T>): Promise<T> {
  const view = at(drive, version)
  try {
    return await fn(view)
  } finally {
    await closeCheckout(drive, view)
  }
}

/** Finds a file or folder under any of the Unicode forms of `path` (see lookupForms in paths.ts). */
export async function statPath (view: Hyperdrive, path: string): Promise<Entry> {
  const forms = lookupForms(path)
  if (forms[0] === '/') return folderEntry('/')
  for (const p of forms) {
    const e = await view.entry(p)
    if (e !== null) {
      const entry = toEntry(e)
      if (entry) return entry
    }
    for await (const child of view.list(p, { recursive: true })) {
      if (safeKey(child) !== null) return folderEntry(p)
    }
  }
  throw DatdotError.notFound(forms[0])
}

/** All files under a path (the path itself if it is a file). */
export async function filesUnder (view: Hyperdrive, path: string, limit: number = LIMITS.importFiles): Promise<DriveEntry[]> {
  return (await filesAt(view, path, limit)).files
}

/**
 * Like filesUnder, and says under which key the path was found: the first of its Unicode
 * forms (lookupForms) that holds anything, or the NFC form when none does (files empty).
 */
export async function filesAt (view: Hyperdrive, path: string, limit: number = LIMITS.importFiles): Promise<{ path: string, files: DriveEntry[] }> {
  const forms = lookupForms(path)
  for (const p of forms) {
    const files = await filesOne(view, p, limit)
    if (files.length > 0) return { path: p, files }
  }
  return { path: forms[0], files: [] }
}

async function filesOne (view: Hyperdrive, p: string, limit: number): Promise<DriveEntry[]> {
  if (p !== '/') {
    const e = await view.entry(p)
    if (e !== null) return safeKey(e) === null ? [] : [e]
  }
  const out: DriveEntry[] = []
  for await (const e of view.list(p, { recursive: true })) {
    const k = safeKey(e)
    if (k === null || !isWithin(k, p)) continue
    if (out.length >= limit) throw DatdotError.limitReached('files in one operation', limit)
    out.push(e)
  }
  return out
}

export async function historyOf (drive: Hyperdrive, opts: { limit: number, beforeVersion?: number }): Promise<HistoryItem[]> {
  const items: HistoryItem[] = []
  const range: { reverse: true, limit: number, lt?: number } = { reverse: true, limit: opts.limit + 1 }
  if (opts.beforeVersion !== undefined) range.lt = Math.max(0, opts.beforeVersion - 1)
  for await (const node of drive.db.createHistoryStream(range) as AsyncIterable<{ seq: number, type: 'put' | 'del', key: string, value: DriveEntry['value'] | null }>) {
    if (items.length >= opts.limit) break
    // Hyperdrive 13 keeps file entries under the 'files' sub-encoding ('files\0/path').
    if (typeof node.key !== 'string' || !node.key.startsWith(FILES_PREFIX)) continue
    let path: string
    try { path = storedPath(node.key.slice(FILES_PREFIX.length)) } catch { continue }
    if (path === '/') continue
    const blob = node.value?.blob
    const size = node.type === 'put' && blob && Number.isSafeInteger(blob.byteLength) ? blob.byteLength : null
    const m = node.value?.metadata as { mtimeMs?: unknown } | null | undefined
    items.push({
      version: node.seq + 1,
      type: node.type,
      path,
      size,
      mtimeMs: node.type === 'put' && m && typeof m.mtimeMs === 'number' ? m.mtimeMs : null
    })
  }
  return items
}

export async function diffOf (drive: Hyperdrive, from: number, to: number, limit = 1000): Promise<{ changes: Change[], truncated: boolean }> {
  if (from > to) throw DatdotError.invalidArgument(`from (${from}) is after to (${to})`)
  const changes: Change[] = []
  let truncated = false
  if (from === to) return { changes, truncated }
  const view = at(drive, to)
  try {
    for await (const d of view.diff(from) as AsyncIterable<{ left: DriveEntry | null, right: DriveEntry | null }>) {
      if (changes.length >= limit) { truncated = true; break }
      if (d.left) {
        const p = safeKey(d.left)
        if (p) changes.push({ type: 'put', path: p, size: entrySize(d.left) })
      } else if (d.right) {
        const p = safeKey(d.right)
        if (p) changes.push({ type: 'del', path: p, size: null })
      }
    }
  } finally {
    await closeCheckout(drive, view)
  }
  return { changes, truncated }
}

export interface ExportOptions {
  path: string
  dest: string
  overwrite: boolean
  freeBytes: (dir: string) => Promise<number>
}

/**
 * Exports a file or folder of `view` into the local folder `dest`:
 * a file F goes to dest/basename(F), a folder D to dest/basename(D)/..., the root to dest/...
 *
 * All or nothing. Before the first byte is written, every target is looked up: an existing
 * file (unless `overwrite`), a folder or file in the way, or a name the destination file system
 * cannot hold (too long: ENAMETOOLONG) stops the export with ALREADY_EXISTS or INVALID_PATH.
 * Then every file is written to a short temporary name in its target folder
 * ('.datdot-<16 hex>.partial', whatever the length of the final name) and synced; only when
 * all are written are they renamed to their final names. If anything fails (an error, a
 * cancel, a name the file system refuses at rename), the temporary files, the files this
 * export already put in place and the folders it created are removed again; only files that
 * `overwrite` already replaced cannot be brought back, and the error message lists them.
 */
export async function exportTo (view: Hyperdrive, job: JobHandle, opts: ExportOptions): Promise<void> {
  const destRoot = resolve(opts.dest)
  const st = await fsStat(destRoot).catch(() => null)
  if (st !== null && !st.isDirectory()) throw DatdotError.invalidArgument(`Export destination is not a folder: ${destRoot}`)

  const { path: src, files } = await filesAt(view, opts.path)
  if (files.length === 0) throw DatdotError.notFound(src)
  const single = files.length === 1 && safeKey(files[0]) === src
  const base = src === '/' ? '/' : (single ? dirname(src).replace(/\\/g, '/') : src)
  const top = src === '/' ? destRoot : (single ? destRoot : join(destRoot, baseName(src)))

  const plan: Array<{ entry: DriveEntry, target: string, size: number, existed: boolean, tmp: string | null }> = []
  let totalBytes = 0
  for (const entry of files) {
    const key = safeKey(entry)!
    const rel = single ? baseName(key) : key.slice(base === '/' ? 1 : base.length + 1)
    const target = resolve(top, ...rel.split('/'))
    if (target !== top && !target.startsWith(top + sep)) throw DatdotError.invalidPath(key, 'would be written outside the export folder')
    const size = entrySize(entry)
    plan.push({ entry, target, size, existed: false, tmp: null })
    totalBytes += size
  }
  for (const p of plan) {
    job.check()
    const found = await lookupTarget(p.target)
    if (found === null) continue
    if (found.isDirectory()) throw DatdotError.alreadyExists(`${p.target} (a folder is in the way)`)
    if (!opts.overwrite) throw DatdotError.alreadyExists(p.target)
    p.existed = true
  }
  const free = await opts.freeBytes(st === null ? await existingAncestor(destRoot) : destRoot)
  if (totalBytes > free) throw DatdotError.diskFull(totalBytes, free)
  job.setTotals(plan.length, totalBytes)

  const createdDirs: string[] = []
  const placed: typeof plan = []
  try {
    await makeDirs(destRoot, createdDirs)
    for (const p of plan) {
      job.check()
      await makeDirs(dirname(p.target), createdDirs)
      p.tmp = join(dirname(p.target), `.datdot-${randomBytes(8).toString('hex')}.partial`)
      await writeTemp(view, job, p.entry, p.size, p.tmp)
      job.fileDone()
    }
    job.check()
    for (const p of plan) {
      await rename(p.tmp!, p.target).catch((err: unknown) => { throw fsError(err, p.target) })
      p.tmp = null
      placed.push(p)
    }
  } catch (err) {
    for (const p of plan) if (p.tmp !== null) await rm(p.tmp, { force: true }).catch(() => {})
    const replaced: string[] = []
    for (const p of placed) {
      if (p.existed) replaced.push(p.target)
      else await rm(p.target, { force: true }).catch(() => {})
    }
    for (const dir of createdDirs.reverse()) await rmdir(dir).catch(() => {})
    const e = job.signal.aborted ? DatdotError.cancelled(job.job.label) : DatdotError.from(err)
    if (replaced.length > 0) {
      e.message += ` (the export was undone, but ${replaced.length} existing file${replaced.length === 1 ? ' was' : 's were'} already replaced: ${replaced.slice(0, 5).join(', ')}${replaced.length > 5 ? ', ...' : ''})`
    }
    throw e
  }
}

/** The nearest folder at or above `dir` that exists (where the disk space is measured). */
async function existingAncestor (dir: string): Promise<string> {
  let cur = dir
  while (dirname(cur) !== cur && await fsStat(cur).then(() => false, () => true)) cur = dirname(cur)
  return cur
}

/** lstat of an export target: null when nothing is there; names the file system cannot hold are refused. */
async function lookupTarget (target: string): Promise<Stats | null> {
  try {
    return await lstat(target)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    if (code === 'ENOTDIR') throw DatdotError.alreadyExists(`${target} (a file is in the way of its folder)`)
    throw fsError(err, target)
  }
}

/** Names the destination file system refuses become INVALID_PATH, naming the target. */
function fsError (err: unknown, target: string): DatdotError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENAMETOOLONG') return DatdotError.invalidPath(target, 'the destination file system cannot hold a name or path this long')
  if (code === 'EILSEQ' || code === 'EINVAL') return DatdotError.invalidPath(target, 'the destination file system does not allow this name')
  if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') return DatdotError.alreadyExists(`${target} (something else is in the way)`)
  return DatdotError.from(err)
}

/** mkdir -p that records, in creation order, each folder it made (so a failed export can remove them). */
async function makeDirs (dir: string, created: string[]): Promise<void> {
  let first: string | undefined
  try {
    first = await mkdir(dir, { recursive: true })
  } catch (err) {
    throw fsError(err, dir)
  }
  if (first === undefined) return
  const made: string[] = []
  for (let cur = dir; ; cur = dirname(cur)) {
    made.unshift(cur)
    if (cur === first || cur === dirname(cur)) break
  }
  created.push(...made)
}

/** Writes one entry's bytes to `tmp` and syncs it; removes `tmp` on failure. */
async function writeTemp (view: Hyperdrive, job: JobHandle, entry: DriveEntry, size: number, tmp: string): Promise<void> {
  try {
    let written = 0
    const counter = new Transform({
      transform (chunk: Buffer, _enc, cb) {
        written += chunk.length
        job.addBytes(chunk.length)
        cb(null, chunk)
      }
    })
    if (size === 0) {
      const fh = await fsOpen(tmp, 'w')
      await fh.close()
    } else {
      await pipeline(view.createReadStream(entry.key), counter, fsCreateWriteStream(tmp), { signal: job.signal })
    }
    if (written !== size) throw DatdotError.corrupt(`${entry.key}: read ${written} bytes, the entry says ${size}`)
    const fh = await fsOpen(tmp, 'r+')
    try { await fh.sync() } finally { await fh.close() }
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw fsError(err, tmp)
  }
}
