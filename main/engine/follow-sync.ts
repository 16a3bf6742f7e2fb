/**
 * What a followed drive downloads, and keeps: its mode ('all' every file; 'folders' the files of
 * the selected folders, live; 'on-demand' nothing until read), its pins (downloaded and kept in
 * every mode), its cache limit (cached bytes beyond the kept ones; least recently read files are
 * cleared first, see follow-cache.ts), and when each file was last read. The metadata core is
 * downloaded in full by follows.ts in every mode, so listing always works. Stored per follow in
 * SQLite (tables of its own, module 'follow-sync').
 */
import type Hyperdrive from 'hyperdrive'
import type Hypercore from 'hypercore'
import type { Download } from 'hypercore'
import type { FollowMode } from '../shared/contract.js'
import type { Db, Migration } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import { drivePath } from './paths.js'
import { filesUnder } from './drive-ops.js'
import { blocksHeld, chooseClears, clearFiles, coreBytesHeld, scanFiles, underAny, usageOf, type CacheUsage } from './follow-cache.js'

export const FOLLOW_SYNC_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'follow modes, pins, cache limits and reads',
    up: `
      CREATE TABLE follow_sync (
        key TEXT PRIMARY KEY,
        mode TEXT NOT NULL,
        folders TEXT NOT NULL,
        pins TEXT NOT NULL,
        cache_limit INTEGER
      ) STRICT;
      CREATE TABLE follow_reads (
        key TEXT NOT NULL,
        path TEXT NOT NULL,
        read_ms INTEGER NOT NULL,
        PRIMARY KEY (key, path)
      ) STRICT;
    `
  }
]

/** The cache limit of an on-demand follow unless one is given. */
export const ON_DEMAND_LIMIT_BYTES = 1024 ** 3
const MAX_ROOTS = 256
/** How often a sparse follow counts its usage again while file contents arrive. */
const USAGE_MS = 250

export interface SyncSettings {
  mode: FollowMode
  /** Selected folders (mode 'folders'). */
  folders: string[]
  pins: string[]
  cacheLimitBytes: number | null
}

export const ALL_SETTINGS: SyncSettings = { mode: 'all', folders: [], pins: [], cacheLimitBytes: null }

function paths (input: readonly string[]): string[] {
  const out = [...new Set(input.map((p) => drivePath(p)))]
  if (out.length > MAX_ROOTS) throw DatdotError.limitReached('folders', MAX_ROOTS)
  return out
}

/**
 * Validates a mode change (or a new follow's mode) against the current settings: 'folders' needs
 * folders, the other modes take none; a limit is a whole number of bytes, or null for none. An
 * absent limit keeps the current one, or for a new follow or a new mode takes the mode's default.
 */
export function checkSettings (args: { mode: FollowMode, folders?: readonly string[], cacheLimitBytes?: number | null }, current: SyncSettings | null): SyncSettings {
  const folders = paths(args.folders ?? [])
  if (args.mode === 'folders' && folders.length === 0) throw DatdotError.invalidArgument("mode 'folders' needs at least one folder")
  if (args.mode !== 'folders' && folders.length > 0) throw DatdotError.invalidArgument(`folders are only for mode 'folders', not '${args.mode}'`)
  const limit = args.cacheLimitBytes
  if (limit !== undefined && limit !== null && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw DatdotError.invalidArgument('the cache limit is a whole number of bytes, 0 or more', { cacheLimitBytes: limit })
  }
  const fallback = current !== null && current.mode === args.mode ? current.cacheLimitBytes : args.mode === 'on-demand' ? ON_DEMAND_LIMIT_BYTES : null
  return { mode: args.mode, folders, pins: current?.pins ?? [], cacheLimitBytes: limit === undefined ? fallback : limit }
}

interface SyncRow { mode: string, folders: string, pins: string, cache_limit: number | null }

/** The follow-sync tables. */
export class SyncStore {
  constructor (private readonly db: Db) {}

  load (key: string): { settings: SyncSettings, reads: Map<string, number> } {
    const row = this.db.prepare('SELECT mode, folders, pins, cache_limit FROM follow_sync WHERE key = ?').get(key) as SyncRow | undefined
    const settings = row === undefined
      ? { ...ALL_SETTINGS }
      : { mode: row.mode as FollowMode, folders: JSON.parse(row.folders) as string[], pins: JSON.parse(row.pins) as string[], cacheLimitBytes: row.cache_limit }
    const reads = new Map<string, number>()
    for (const r of this.db.prepare('SELECT path, read_ms FROM follow_reads WHERE key = ?').all(key) as Array<{ path: string, read_ms: number }>) reads.set(r.path, r.read_ms)
    return { settings, reads }
  }

  save (key: string, s: SyncSettings): void {
    this.db.prepare('INSERT OR REPLACE INTO follow_sync (key, mode, folders, pins, cache_limit) VALUES (?, ?, ?, ?, ?)')
      .run(key, s.mode, JSON.stringify(s.folders), JSON.stringify(s.pins), s.cacheLimitBytes)
  }

  noteRead (key: string, path: string, ms: number): void {
    this.db.prepare('INSERT OR REPLACE INTO follow_reads (key, path, read_ms) VALUES (?, ?, ?)').run(key, path, ms)
  }

  remove (key: string): void {
    this.db.prepare('DELETE FROM follow_sync WHERE key = ?').run(key)
    this.db.prepare('DELETE FROM follow_reads WHERE key = ?').run(key)
  }
}

export interface SyncHooks {
  now: () => number
  /** Something shown in FollowInfo changed (usage, downloads settled). */
  onChange: () => void
  /** A background fetch or clear failed (counted by the owner; the next update tries again). */
  onError: (err: unknown) => void
}

/** The downloads and clears of one followed drive's file contents. */
export class FollowSync {
  usage: CacheUsage = { bytesKept: 0, bytesClearable: 0 }
  private blobs: Hypercore | null = null
  private all: Download | null = null
  private readonly ranges = new Set<Download>()
  private fetching: Promise<void> = Promise.resolve()
  private fetchesRunning = 0
  private working: Promise<void> | null = null
  private again = false
  private lastRead: string | null = null
  private usageTimer: NodeJS.Timeout | null = null
  private closed = false

  constructor (private readonly drive: Hyperdrive, private readonly key: string, private readonly store: SyncStore,
    public settings: SyncSettings, private readonly reads: Map<string, number>, private readonly hooks: SyncHooks) {}

  /** Kept: never cleared (everything in mode 'all', pins, the selected folders). */
  readonly keptPath = (path: string): boolean => {
    const s = this.settings
    return s.mode === 'all' || underAny(path, s.pins) || (s.mode === 'folders' && underAny(path, s.folders))
  }

  /** No kept download is in flight (a sparse follow is 'synced' then). */
  get settled (): boolean {
    return this.fetchesRunning === 0 && this.ranges.size === 0
  }

  /** The blobs core is known (the first metadata block arrived): start downloading what the mode wants. */
  blobsReady (blobs: Hypercore): void {
    if (this.closed) return
    this.blobs = blobs
    this.apply()
  }

  /**
   * Downloads are linear: from the start of the range on, not (hypercore's default) from random
   * places in it. The author writes a file's blocks in order, so files arrive whole one after the
   * other, and a read of a file that is still on its way does not queue its first block behind a
   * full window of random blocks from elsewhere (hypercore serves a read first, but only once a
   * request slot is free; with 1 MiB blocks that window is 16 MiB on the wire).
   */
  private apply (): void {
    if (this.blobs === null || this.closed) return
    if (this.settings.mode === 'all') this.all ??= this.blobs.download({ start: 0, end: -1, linear: true })
    else if (this.all !== null) { this.all.destroy(); this.all = null }
    this.fetchKept()
  }

  /** The drive has a new version: fetch the new files of the kept folders. */
  updated (): void {
    this.fetchKept()
  }

  /** Downloads every file under the kept roots (selected folders and pins) not fully here yet. */
  private fetchKept (): void {
    const roots = this.settings.mode === 'all' ? [] : [...this.settings.pins, ...(this.settings.mode === 'folders' ? this.settings.folders : [])]
    if (roots.length === 0 || this.blobs === null) return
    this.fetchesRunning++
    this.fetching = this.fetching.then(async () => {
      for (const root of roots) await this.fetchRoot(root)
    }).catch(this.hooks.onError).finally(() => { this.fetchesRunning--; this.hooks.onChange() })
  }

  private async fetchRoot (root: string): Promise<void> {
    const blobs = this.blobs
    if (blobs === null || this.closed) return
    for (const e of await filesUnder(this.drive, root, Number.MAX_SAFE_INTEGER)) {
      const blob = e.value?.blob
      if (this.closed || !blob || !(blob.blockLength > 0)) continue
      if (blocksHeld(blobs, blob.blockOffset, blob.blockLength) === blob.blockLength) continue
      const d = blobs.download({ start: blob.blockOffset, end: blob.blockOffset + blob.blockLength, linear: true })
      this.ranges.add(d)
      d.done().catch(() => {}).finally(() => { this.ranges.delete(d); this.hooks.onChange() })
    }
  }

  /** A file was read (opened, exported): it is the most recently used one. */
  noteRead (path: string): void {
    const now = this.hooks.now()
    this.reads.set(path, now)
    this.lastRead = path
    this.store.noteRead(this.key, path, now)
  }

  /**
   * Blocks of file contents arrived: over the limit (a cheap bound first), clear now; else count
   * usage again soon (at most every USAGE_MS while blocks arrive).
   */
  downloaded (): void {
    const s = this.settings
    if (s.mode === 'all' || this.blobs === null || this.closed) return
    if (s.cacheLimitBytes !== null && coreBytesHeld(this.blobs) > s.cacheLimitBytes) {
      this.refresh().catch(this.hooks.onError)
      return
    }
    if (this.usageTimer !== null) return
    this.usageTimer = setTimeout(() => {
      this.usageTimer = null
      this.refresh().catch(this.hooks.onError)
    }, USAGE_MS)
    this.usageTimer.unref()
  }

  /** Recounts usage and clears what is over the limit; concurrent calls share one pass (and one more after). */
  async refresh (): Promise<void> {
    if (this.working !== null) { this.again = true; return await this.working }
    this.working = (async () => {
      do {
        this.again = false
        await this.pass()
      } while (this.again && !this.closed)
    })().finally(() => { this.working = null })
    await this.working
  }

  private async pass (): Promise<void> {
    const blobs = this.blobs
    if (blobs === null || this.closed) return
    // Mode 'all' keeps everything: nothing to count apart or clear (followed.ts counts the core).
    if (this.settings.mode === 'all') { this.usage = { bytesKept: 0, bytesClearable: 0 }; return }
    let files = await scanFiles(this.drive, blobs, this.keptPath, this.reads)
    const clears = chooseClears(files, this.settings.cacheLimitBytes, this.lastRead)
    if (clears.length > 0 && !this.closed) {
      await clearFiles(blobs, clears)
      files = await scanFiles(this.drive, blobs, this.keptPath, this.reads)
    }
    this.usage = usageOf(files)
    this.hooks.onChange()
  }

  async setSettings (s: SyncSettings): Promise<void> {
    this.settings = s
    this.store.save(this.key, s)
    this.apply()
    await this.fetching
    await this.refresh()
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.usageTimer !== null) clearTimeout(this.usageTimer)
    this.all?.destroy()
    for (const d of this.ranges) d.destroy()
    this.ranges.clear()
    await this.fetching
    await this.working?.catch(() => {})
  }
}
