/**
 * Read-side operations shared by the vault and followed drives: list, stat, history, diff,
 * export. Everything read from a drive is treated as untrusted (a followed drive is written
 * by someone else): keys are validated with drivePath() before use, sizes and metadata are
 * checked, and export never writes outside its destination folder.
 */
import { createWriteStream as fsCreateWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat as fsStat, open as fsOpen } from 'node:fs/promises'
import { join, resolve, sep, dirname } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import type Hyperdrive from 'hyperdrive'
import type { Entry as DriveEntry } from 'hyperdrive'
import type { Change, Entry, HistoryItem } from '../api/contract.js'
import { LIMITS } from '../api/contract.js'
import { DatdotError } from './errors.js'
import { drivePath, isWithin, baseName } from './paths.js'
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
    const p = drivePath(e.key)
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

export async function statPath (view: Hyperdrive, path: string): Promise<Entry> {
  const p = drivePath(path)
  if (p === '/') return folderEntry('/')
  const e = await view.entry(p)
  if (e !== null) {
    const entry = toEntry(e)
    if (entry) return entry
  }
  for await (const child of view.list(p, { recursive: true })) {
    if (safeKey(child) !== null) return folderEntry(p)
  }
  throw DatdotError.notFound(p)
}

export async function listFolder (view: Hyperdrive, path: string, opts: { recursive: boolean, limit: number }): Promise<{ entries: Entry[], truncated: boolean }> {
  const folder = drivePath(path)
  const entries: Entry[] = []
  let truncated = false
  if (folder !== '/') {
    const self = await view.entry(folder)
    if (self !== null) throw DatdotError.notAFolder(folder)
  }
  if (opts.recursive) {
    for await (const e of view.list(folder, { recursive: true })) {
      const entry = toEntry(e)
      if (!entry || !isWithin(entry.path, folder)) continue
      if (entries.length >= opts.limit) { truncated = true; break }
      entries.push(entry)
    }
  } else {
    for await (const node of view.list(folder, { recursive: false })) {
      const key = safeKey(node)
      if (key === null || !isWithin(key, folder) || key === folder) continue
      const rest = key.slice(folder === '/' ? 1 : folder.length + 1)
      const slash = rest.indexOf('/')
      if (entries.length >= opts.limit) { truncated = true; break }
      if (slash === -1) {
        const entry = toEntry(node)
        if (entry) entries.push(entry)
      } else {
        const child = (folder === '/' ? '' : folder) + '/' + rest.slice(0, slash)
        entries.push(folderEntry(child))
      }
    }
  }
  if (!truncated && entries.length === 0 && folder !== '/') throw DatdotError.notFound(folder)
  entries.sort((a, b) => (a.kind === b.kind ? (a.path < b.path ? -1 : 1) : a.kind === 'folder' ? -1 : 1))
  return { entries, truncated }
}

/** All files under a path (the path itself if it is a file). */
export async function filesUnder (view: Hyperdrive, path: string, limit: number = LIMITS.importFiles): Promise<DriveEntry[]> {
  const p = drivePath(path)
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
    try { path = drivePath(node.key.slice(FILES_PREFIX.length)) } catch { continue }
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
 * Each file is written to a temporary name and renamed when complete, so a crash or an
 * error never leaves a half-written file under the final name. Nothing is overwritten
 * unless `overwrite` is set; conflicts are detected before the first byte is written.
 */
export async function exportTo (view: Hyperdrive, job: JobHandle, opts: ExportOptions): Promise<void> {
  const src = drivePath(opts.path)
  const destRoot = resolve(opts.dest)
  const st = await fsStat(destRoot).catch(() => null)
  if (st === null) await mkdir(destRoot, { recursive: true })
  else if (!st.isDirectory()) throw DatdotError.invalidArgument(`Export destination is not a folder: ${destRoot}`)

  const files = await filesUnder(view, src)
  if (files.length === 0) throw DatdotError.notFound(src)
  const single = files.length === 1 && safeKey(files[0]!) === src
  const base = src === '/' ? '/' : (single ? dirname(src).replace(/\\/g, '/') : src)
  const top = src === '/' ? destRoot : (single ? destRoot : join(destRoot, baseName(src)))

  const plan: Array<{ entry: DriveEntry, target: string, size: number }> = []
  let totalBytes = 0
  for (const entry of files) {
    const key = safeKey(entry)!
    const rel = single ? baseName(key) : key.slice(base === '/' ? 1 : base.length + 1)
    const target = resolve(top, ...rel.split('/'))
    if (target !== top && !target.startsWith(top + sep)) throw DatdotError.invalidPath(key, 'would be written outside the export folder')
    const size = entrySize(entry)
    plan.push({ entry, target, size })
    totalBytes += size
  }
  if (!opts.overwrite) {
    for (const p of plan) {
      if (await fsStat(p.target).then(() => true, () => false)) throw DatdotError.alreadyExists(p.target)
    }
  }
  const free = await opts.freeBytes(destRoot)
  if (totalBytes > free) throw DatdotError.diskFull(totalBytes, free)
  job.setTotals(plan.length, totalBytes)

  for (const p of plan) {
    job.check()
    await mkdir(dirname(p.target), { recursive: true })
    const tmp = `${p.target}.datdot-${randomBytes(4).toString('hex')}.partial`
    try {
      let written = 0
      const counter = new Transform({
        transform (chunk: Buffer, _enc, cb) {
          written += chunk.length
          job.addBytes(chunk.length)
          cb(null, chunk)
        }
      })
      if (p.size === 0) {
        const fh = await fsOpen(tmp, 'w')
        await fh.close()
      } else {
        await pipeline(view.createReadStream(p.entry.key), counter, fsCreateWriteStream(tmp), { signal: job.signal })
      }
      if (written !== p.size) throw DatdotError.corrupt(`${p.entry.key}: read ${written} bytes, the entry says ${p.size}`)
      const fh = await fsOpen(tmp, 'r+')
      try { await fh.sync() } finally { await fh.close() }
      await rename(tmp, p.target)
    } catch (err) {
      await rm(tmp, { force: true })
      if (job.signal.aborted) throw DatdotError.cancelled(job.job.label)
      throw err
    }
    job.fileDone()
  }
}
