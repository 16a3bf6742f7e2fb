/**
 * An app's code drive as files (apps.ts): its manifest parsed and checked, every file listed,
 * one read as text, and an edit batch validated before anything is written (saveAppFiles is
 * all-or-nothing: a bad path or an oversized file refuses the whole batch).
 */
import type Hyperdrive from 'hyperdrive'
import { APP_LIMITS, AppManifest } from '../shared/contract-apps.js'
import type { Entry, HistoryItem } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import { drivePath } from './paths.js'
import { historyOf } from './drive-ops.js'
import { listFolder } from './drive-list.js'

export const MANIFEST_PATH = '/manifest.json'

/** A manifest's text parsed and checked: the manifest, or null and why not. */
export function parseManifest (text: string | null): { manifest: AppManifest | null, error: string | null } {
  if (text === null) return { manifest: null, error: 'manifest.json is missing' }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return { manifest: null, error: `manifest.json is not valid JSON: ${(err as Error).message}` }
  }
  const parsed = AppManifest.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(manifest)'}: ${i.message}`)
    return { manifest: null, error: `manifest.json: ${issues.join('; ')}` }
  }
  try {
    drivePath(parsed.data.entry)
  } catch (err) {
    return { manifest: null, error: `manifest.json: entry: ${(err as Error).message}` }
  }
  return { manifest: { ...parsed.data, entry: drivePath(parsed.data.entry), permissions: [...new Set(parsed.data.permissions)] }, error: null }
}

/** Every file of a code drive view (recursive); an empty drive has none. */
export async function codeFiles (view: Hyperdrive): Promise<Entry[]> {
  if (view.version <= 1) return []
  const { entries } = await listFolder(view, '/', { recursive: true, limit: APP_LIMITS.codeFiles + 1 }).catch((err: unknown) => {
    if (err instanceof DatdotError && err.code === 'NOT_FOUND') return { entries: [] }
    throw err
  })
  return entries
}

/** How long a read waits for a block not here yet (an app opened by link still downloading). */
const READ_TIMEOUT_MS = 15_000

/** One file of a code drive view as bytes; null when there is none. `wait: false` never waits for a block from a peer. */
export async function readCodeFile (view: Hyperdrive, path: string, opts: { wait: boolean }): Promise<Buffer | null> {
  const p = drivePath(path)
  if (p === '/') throw DatdotError.notAFile(p)
  const get = opts.wait ? { timeout: READ_TIMEOUT_MS } : { wait: false }
  const node = await view.entry(p, get)
  if (node === null) {
    const inside = await codeFiles(view).then((all) => all.some((e) => e.path.startsWith(p + '/')))
    if (inside) throw DatdotError.notAFile(p)
    return null
  }
  if (node.value.blob === null) return null
  if (node.value.blob.byteLength > APP_LIMITS.codeFileBytes) throw DatdotError.tooLarge(`code file ${p}`, APP_LIMITS.codeFileBytes)
  return await view.get(p, get)
}

/** One file of a code drive view as text; null when there is none. */
export async function readCodeText (view: Hyperdrive, path: string, opts: { wait: boolean }): Promise<string | null> {
  const data = await readCodeFile(view, path, opts)
  return data === null ? null : data.toString('utf8')
}

/** Every file of a code drive view, path to bytes (a fork, a revert). */
export async function readCodeBytes (view: Hyperdrive): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const e of await codeFiles(view)) {
    const data = await readCodeFile(view, e.path, { wait: true })
    if (data !== null) out.set(e.path, data)
  }
  return out
}

/**
 * Waits until every code file of a view is on this disk (an app opened by link: its preview
 * starts once its files are here, so the frame never asks for a file that is still on the way).
 * One file at a time, each waiting at most READ_TIMEOUT_MS for a peer; nothing is kept in memory.
 */
export async function fetchCode (view: Hyperdrive): Promise<void> {
  for (const e of await codeFiles(view)) {
    await readCodeFile(view, e.path, { wait: true }).catch((err: unknown) => {
      if (err instanceof DatdotError) throw err
      throw DatdotError.timeout(`the app's file ${e.path} is still downloading and no peer sent it; try again once its author is online`, READ_TIMEOUT_MS)
    })
  }
}

export interface CodeEdit { files: Array<{ path: string, data: Buffer }>, deleted: string[] }

/**
 * Checks a save before anything is written: every path valid, no file over the limit, no path
 * both written and deleted, and the drive within APP_LIMITS.codeFiles afterwards.
 */
export function checkCodeEdit (current: readonly Entry[], files: ReadonlyArray<{ path: string, text: string }>, deleted: readonly string[]): CodeEdit {
  const out: CodeEdit = { files: [], deleted: [] }
  const written = new Set<string>()
  for (const f of files) {
    const path = drivePath(f.path)
    if (path === '/') throw DatdotError.invalidPath(f.path, 'a file needs a name')
    if (written.has(path)) throw DatdotError.invalidArgument(`${path} is written twice in one save`)
    const data = Buffer.from(f.text, 'utf8')
    if (data.length > APP_LIMITS.codeFileBytes) throw DatdotError.tooLarge(`code file ${path}`, APP_LIMITS.codeFileBytes)
    written.add(path)
    out.files.push({ path, data })
  }
  for (const d of deleted) {
    const path = drivePath(d)
    if (path === '/') throw DatdotError.invalidPath(d, 'refusing to delete every file of the app')
    if (written.has(path)) throw DatdotError.invalidArgument(`${path} is both written and deleted in one save`)
    out.deleted.push(path)
  }
  const remaining = new Set(current.map((e) => e.path).filter((p) => !out.deleted.some((d) => p === d || p.startsWith(d + '/'))))
  for (const p of written) remaining.add(p)
  if (remaining.size > APP_LIMITS.codeFiles) throw DatdotError.limitReached('files in an app', APP_LIMITS.codeFiles)
  return out
}

/**
 * An app's saves, newest first: one item per save (a save is one batch, several drive entries).
 * Each save stamps its files with one mtimeMs of its own (Apps keeps them distinct) and writes
 * its deletions before its files, so walking the entries newest first, a save is a run of puts
 * with one mtimeMs followed by deletions. Its version is its last entry's: a checkout there
 * is a whole save. `path` is the file saved when there was one, else '/'.
 */
export async function saveHistory (drive: Hyperdrive, limit: number): Promise<HistoryItem[]> {
  const entries = await historyOf(drive, { limit: limit * 20 })
  const saves: Array<HistoryItem & { paths: Set<string>, dels: boolean }> = []
  for (const e of entries) {
    const cur = saves[saves.length - 1]
    const joins = cur !== undefined && (e.type === 'del' || (!cur.dels && cur.mtimeMs !== null && cur.mtimeMs === e.mtimeMs))
    if (joins) {
      cur.paths.add(e.path)
      if (e.type === 'del') cur.dels = true
      continue
    }
    if (saves.length >= limit) break
    saves.push({ version: e.version, type: e.type, path: e.path, size: e.size, mtimeMs: e.mtimeMs, paths: new Set([e.path]), dels: e.type === 'del' })
  }
  return saves.map(({ paths, dels: _dels, ...item }) => paths.size === 1 ? item : { ...item, type: 'put', path: '/', size: null })
}
