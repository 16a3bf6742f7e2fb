/**
 * Followed drives: other people's Hyperdrives we replicate live (the whole drive, every
 * version), announce (so a third peer can get them from us while the author is offline),
 * and watch (an update event with the changed paths as soon as the author appends).
 * Follows are stored in SQLite and reopened on start.
 *
 * A follow heals itself: while it has no peer it is 'offline' (never 'synced': it cannot know
 * the author's latest version), says since when, and looks its topic up again with a growing
 * delay (and at once when the network resumes), so a peer that came back, restarted, or that
 * Hyperswarm stopped retrying is found again without waiting for the swarm's 10-minute refresh.
 *
 * An encrypted drive is followed with the read key its link carries (`#key=`, see paths.ts),
 * kept with the follow in SQLite. Its blocks replicate either way; without the key, or with a
 * wrong one, the follow says it is locked (follow-key.ts), never advances its version, and every
 * read gets FORBIDDEN with the reason. Following the link with the key later unlocks it.
 *
 * The metadata core is downloaded in full in every mode (listing works); which file contents
 * are downloaded and kept (mode, pins, cache limit) is follow-sync.ts's job.
 */
import Hyperdrive from 'hyperdrive'
import type Corestore from 'corestore'
import type { Change, FollowInfo, FollowMode } from '../shared/contract.js'
import { LIMITS } from '../shared/contract.js'
import { migrate, type Db } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import { drivePath, keyId, parseKey, parseLink } from './paths.js'
import { Resource } from '../shared/resource.js'
import { statPath } from './drive-ops.js'
import { FOLLOW_SYNC_MIGRATIONS, SyncStore, checkSettings } from './follow-sync.js'
import { Followed, ROW_COLUMNS, type Row } from './followed.js'
import { FOLLOW_NAMES_MIGRATIONS, FollowNames, cleanName } from './follow-names.js'
import type { Network } from './network.js'

export interface FollowsOptions {
  store: Corestore
  db: Db
  network: Network
  /** The vault key: following your own vault is refused. */
  /** The key is one of this vault's own spaces (not followed: they are here already). */
  isOwnKey: (key: Uint8Array) => boolean
  onUpdated: (data: { key: string, version: number, changes: Change[], truncated: boolean }) => void
  onStatus: (info: FollowInfo) => void
  onRemoved: (key: string) => void
  now?: () => number
  statusIntervalMs?: number
  /** Delay before a follow with no peer looks its topic up again: `min` at first, doubling up to `max` (ms). */
  healMs?: { min: number, max: number }
}

/** Defaults: first look-up again after 1 s, then 2, 4, ... at most every 2 minutes per follow without a peer. */
const HEAL_MS = { min: 1_000, max: 120_000 }

/** What a follow downloads: its mode, the folders of mode 'folders', its cache limit (see follow-sync.ts). */
export interface FollowModeArgs { mode: FollowMode, folders?: readonly string[], cacheLimitBytes?: number | null }

export class Follows extends Resource {
  readonly opts: FollowsOptions
  readonly now: () => number
  readonly statusIntervalMs: number
  readonly healMs: { min: number, max: number }
  /** heals: topic look-ups asked by follows without a peer; healErrors: those that failed. */
  /** syncErrors: background fetches or clears of file contents that failed (retried on the next update). */
  readonly counters = { heals: 0, healErrors: 0, syncErrors: 0 }
  readonly syncStore: SyncStore
  /** Names the user gave follows (follow-names.ts). */
  readonly names: FollowNames
  private readonly drives = new Map<string, Followed>()
  private readonly onResumed = (): void => {
    for (const f of this.drives.values()) f.networkResumed()
  }

  constructor (opts: FollowsOptions) {
    super()
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.statusIntervalMs = opts.statusIntervalMs ?? 250
    const heal = opts.healMs ?? HEAL_MS
    if (!(heal.min > 0 && heal.max >= heal.min)) throw DatdotError.invalidArgument('healMs needs 0 < min <= max')
    this.healMs = heal
    this.syncStore = new SyncStore(opts.db)
    this.names = new FollowNames(opts.db)
  }

  protected async _open (): Promise<void> {
    migrate(this.opts.db, 'follow-sync', FOLLOW_SYNC_MIGRATIONS, this.now)
    migrate(this.opts.db, 'follow-names', FOLLOW_NAMES_MIGRATIONS, this.now)
    this.opts.network.on('resumed', this.onResumed)
    const rows = this.opts.db.prepare(`SELECT ${ROW_COLUMNS} FROM follows ORDER BY added_ms`).all() as Row[]
    for (const row of rows) {
      const f = new Followed(this, row.key, row)
      this.drives.set(row.key, f)
      await f.open()
    }
  }

  protected async _close (): Promise<void> {
    this.opts.network.off('resumed', this.onResumed)
    for (const f of this.drives.values()) await f.close()
    this.drives.clear()
  }

  get size (): number {
    return this.drives.size
  }

  get (key: string): Followed {
    let id: string
    try { id = keyId(key) } catch { throw DatdotError.unknownDrive(key) }
    const f = this.drives.get(id)
    if (!f) throw DatdotError.unknownDrive(key)
    return f
  }

  has (key: string): boolean {
    try { return this.drives.has(keyId(key)) } catch { return false }
  }

  list (): FollowInfo[] {
    return [...this.drives.values()].map((f) => f.info())
  }

  /** Like list(), with each follow's kept and clearable bytes counted again first. */
  async listCounted (): Promise<FollowInfo[]> {
    for (const f of this.drives.values()) await f.sync.refresh()
    return this.list()
  }

  /** Names a follow (stored with it); an empty name goes back to its label from the key. */
  async rename (key: string, name: string): Promise<FollowInfo> {
    const f = this.get(key)
    this.names.set(f.id, cleanName(name))
    f.status(true)
    return f.info()
  }

  /** Changes what a follow downloads: switching to 'all' fetches the rest; to a sparse mode, clears over the limit. */
  async setMode (key: string, args: FollowModeArgs): Promise<FollowInfo> {
    const f = this.get(key)
    await f.sync.setSettings(checkSettings(args, f.sync.settings))
    f.status(true)
    return f.info()
  }

  /** Pins a folder or file (NOT_FOUND if the drive has no such path): fetched now and kept through clears. */
  async pinPath (key: string, path: string): Promise<FollowInfo> {
    const f = this.get(key)
    await f.assertReadable()
    const p = (await statPath(f.drive, path)).path
    const s = f.sync.settings
    if (!s.pins.includes(p)) await f.sync.setSettings({ ...s, pins: [...s.pins, p] })
    f.status(true)
    return f.info()
  }

  /** Unpins a path (NOT_FOUND if it is not pinned): its contents become cache, cleared first when over the limit. */
  async unpinPath (key: string, path: string): Promise<FollowInfo> {
    const f = this.get(key)
    const p = drivePath(path)
    const s = f.sync.settings
    if (!s.pins.includes(p)) throw DatdotError.notFound(`a pin of ${p}`)
    await f.sync.setSettings({ ...s, pins: s.pins.filter((x) => x !== p) })
    f.status(true)
    return f.info()
  }

  /** A file of a followed drive is read (opened, exported): most recently used for the cache. Other keys are ignored. */
  noteRead (key: string | undefined, path: string): void {
    if (key === undefined || !this.has(key)) return
    let p: string
    try { p = drivePath(path) } catch { return } // the read itself says why the path is bad
    this.get(key).sync.noteRead(p)
  }

  /**
   * Follows a link. A link with a read key (#key=) follows an encrypted drive; following an
   * already followed drive with a new read key reopens it with that key (a plain link never
   * drops the key a follow has). `mode` says what it downloads (default everything); following
   * an already followed drive keeps its mode (setMode changes it). With `again: 'refuse'` (the
   * API: a user pasting a link twice), following an already followed drive without a new read
   * key is ALREADY_EXISTS, naming the follow; the engine's own callers (apps) get it back.
   */
  async follow (link: string, modeArgs: FollowModeArgs = { mode: 'all' }, opts: { again?: 'return' | 'refuse' } = {}): Promise<FollowInfo> {
    if (this.closing) throw DatdotError.closed('engine')
    const parsed = parseLink(link)
    const settings = checkSettings(modeArgs, null)
    if (this.opts.isOwnKey(parsed.key)) {
      throw DatdotError.invalidArgument('That link is one of your own spaces; share it with others to let them follow it')
    }
    const readKey = parsed.readKey === null ? null : keyId(parsed.readKey)
    const existing = this.drives.get(parsed.id)
    if (existing) {
      if (readKey === null || readKey === existing.row.read_key) {
        if (opts.again === 'refuse') throw DatdotError.alreadyFollowed(existing.info().label)
        return existing.info()
      }
      this.drives.delete(existing.id)
      await existing.close()
      this.opts.db.prepare('UPDATE follows SET read_key = ? WHERE key = ?').run(readKey, existing.id)
      return await this.start({ ...existing.row, read_key: readKey })
    }
    if (this.drives.size >= LIMITS.follows) throw DatdotError.limitReached('followed drives', LIMITS.follows)
    const row: Row = { key: parsed.id, path: parsed.path, added_ms: this.now(), last_version: 0, last_update_ms: null, read_key: readKey }
    this.opts.db.prepare(`INSERT INTO follows (${ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(row.key, row.path, row.added_ms, row.last_version, row.last_update_ms, row.read_key)
    this.syncStore.save(row.key, settings)
    return await this.start(row)
  }

  /** Opens a follow whose row is stored; a follow that fails to open is removed, row included. */
  private async start (row: Row): Promise<FollowInfo> {
    const f = new Followed(this, row.key, row)
    this.drives.set(row.key, f)
    try {
      await f.open()
    } catch (err) {
      this.drives.delete(row.key)
      this.opts.db.prepare('DELETE FROM follows WHERE key = ?').run(row.key)
      this.syncStore.remove(row.key)
      await f.close().catch(() => {})
      throw DatdotError.from(err)
    }
    const info = f.info()
    this.opts.onStatus(info)
    return info
  }

  async unfollow (key: string, purge: boolean): Promise<void> {
    const f = this.get(key)
    this.drives.delete(f.id)
    this.opts.db.prepare('DELETE FROM follows WHERE key = ?').run(f.id)
    this.syncStore.remove(f.id)
    this.names.remove(f.id)
    await f.close()
    if (purge) {
      // Hypercore 11.37's purge() is broken (it calls a method that does not exist), so the
      // local copy is removed by clearing every block of both cores; the cores' small headers stay.
      await this.clearCores(f.id)
    }
    this.opts.onRemoved(f.id)
  }

  /**
   * Clears every block of a drive's two cores, found by key (the blobs core's key follows from
   * the metadata core's manifest): no read key needed, so an encrypted drive is cleared too.
   */
  private async clearCores (id: string): Promise<void> {
    const meta = this.opts.store.get({ key: Buffer.from(parseKey(id)) })
    try {
      await meta.ready()
      const blobsKey = meta.length > 0 ? Hyperdrive.getContentKey(meta) : null
      if (meta.length > 0) await meta.clear(0, meta.length)
      if (blobsKey === null) return
      const blobs = this.opts.store.get({ key: blobsKey })
      try {
        await blobs.ready()
        if (blobs.length > 0) await blobs.clear(0, blobs.length)
      } finally {
        await blobs.close()
      }
    } finally {
      await meta.close()
    }
  }

  /** @internal */
  saveProgress (id: string, version: number, now: number): void {
    if (!this.drives.has(id)) return
    this.opts.db.prepare('UPDATE follows SET last_version = ?, last_update_ms = ? WHERE key = ?').run(version, now, id)
  }
}
