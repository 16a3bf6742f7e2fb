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
 */
import Hyperdrive from 'hyperdrive'
import type Corestore from 'corestore'
import type { Download } from 'hypercore'
import type { Change, FollowInfo } from '../shared/contract.js'
import { LIMITS } from '../shared/contract.js'
import type { Db } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import { formatLink, keyId, parseKey, parseLink } from './paths.js'
import { Resource } from '../shared/resource.js'
import { diffOf } from './drive-ops.js'
import type { Network } from './network.js'

export interface FollowsOptions {
  store: Corestore
  db: Db
  network: Network
  /** The vault key: following your own vault is refused. */
  ownKey: () => Buffer
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

interface Row { key: string, path: string, added_ms: number, last_version: number, last_update_ms: number | null }

export class Followed {
  readonly drive: Hyperdrive
  bytesDownloaded = 0
  /** Blobs-core length the current drive version needs (from the metadata), so 'synced' means every byte. */
  private blobsNeeded = 0
  /** The drive version blobsNeeded was read at; until it matches, the follow cannot be 'synced'. */
  private blobsNeededVersion = -1
  private blobsOpening: Promise<void> | null = null
  private downloads: Download[] = []
  private lastStatusMs = 0
  private statusTimer: NodeJS.Timeout | null = null
  private publishing: Promise<void> = Promise.resolve()
  /** Since when this follow has had no peer (null while it has one). */
  private offlineSinceMs: number | null = null
  private healTimer: NodeJS.Timeout | null = null
  private healDelayMs: number
  closed = false

  constructor (private readonly owner: Follows, readonly id: string, public row: Row) {
    // A Hyperdrive closes the Corestore it is given: give it a session of its own.
    this.drive = new Hyperdrive(owner.opts.store.session(), parseKey(id))
    this.healDelayMs = owner.healMs.min
  }

  async open (): Promise<void> {
    const drive = this.drive
    await drive.ready()
    const core = drive.core
    core.on('append', this.onAppend)
    core.on('peer-add', this.onPeer)
    core.on('peer-remove', this.onPeer)
    core.on('download', this.onDownload)
    this.downloads.push(core.download({ start: 0, end: -1 }))
    await this.owner.opts.network.join(drive.discoveryKey, { server: true, client: true })
    this.watchPeers()
    // The blobs core is known once the first metadata block arrives; wire it up then.
    this.openBlobs().catch(() => {})
    if (core.length > 0) this.onAppend()
  }

  /** Wires up the blobs core once, however many times it is asked for. */
  private openBlobs (): Promise<void> {
    if (this.blobsOpening === null) {
      this.blobsOpening = this.openBlobsOnce().catch((err) => { this.blobsOpening = null; throw err })
    }
    return this.blobsOpening
  }

  private async openBlobsOnce (): Promise<void> {
    const blobs = await this.drive.getBlobs()
    if (!blobs || this.closed) return
    blobs.core.on('download', this.onDownload)
    blobs.core.on('append', this.onStatusChange)
    blobs.core.on('peer-add', this.onPeer)
    blobs.core.on('peer-remove', this.onPeer)
    this.downloads.push(blobs.core.download({ start: 0, end: -1 }))
    this.status(true)
  }

  private readonly onAppend = (): void => {
    this.publishing = this.publishing.then(() => this.publishUpdate()).catch(() => {})
  }

  private readonly onPeer = (): void => {
    this.watchPeers()
    this.status(true)
  }

  private peerCount (): number {
    const blobs = this.drive.blobs?.core ?? null
    return Math.max(this.drive.core.peers.length, blobs ? blobs.peers.length : 0)
  }

  /** Notes since when the follow has had no peer and, while it has none, looks the author up again. */
  private watchPeers (): void {
    if (this.closed) return
    if (this.peerCount() > 0) {
      this.offlineSinceMs = null
      this.healDelayMs = this.owner.healMs.min
      if (this.healTimer !== null) { clearTimeout(this.healTimer); this.healTimer = null }
      return
    }
    this.offlineSinceMs ??= this.owner.now()
    if (this.healTimer === null) this.scheduleHeal()
  }

  private scheduleHeal (): void {
    this.healTimer = setTimeout(() => {
      this.healTimer = null
      if (this.closed || this.peerCount() > 0) return
      this.owner.counters.heals++
      this.owner.opts.network.refresh(this.drive.discoveryKey).catch(() => { this.owner.counters.healErrors++ })
      this.healDelayMs = Math.min(this.healDelayMs * 2, this.owner.healMs.max)
      this.scheduleHeal()
    }, this.healDelayMs)
    this.healTimer.unref()
  }

  /** The network resumed (it announces and looks everything up itself): start the heal delays over. */
  networkResumed (): void {
    if (this.closed || this.healTimer === null) return
    clearTimeout(this.healTimer)
    this.healDelayMs = this.owner.healMs.min
    this.scheduleHeal()
  }
  private readonly onStatusChange = (): void => { this.status(false) }
  private readonly onDownload = (_index: number, byteLength: number): void => {
    this.bytesDownloaded += byteLength
    this.status(false)
  }

  private async publishUpdate (): Promise<void> {
    if (this.closed) return
    if (!this.drive.blobs) await this.openBlobs()
    const version = this.drive.version
    const from = Math.min(this.row.last_version, version)
    const needed = await this.drive.getBlobsLength(version).catch(() => null)
    if (needed !== null) {
      this.blobsNeeded = Math.max(this.blobsNeeded, needed)
      this.blobsNeededVersion = version
    }
    if (version <= this.row.last_version) { this.status(true); return }
    const { changes, truncated } = await diffOf(this.drive, from, version)
    if (this.closed) return
    const now = this.owner.now()
    this.row = { ...this.row, last_version: version, last_update_ms: now }
    this.owner.saveProgress(this.id, version, now)
    this.owner.opts.onUpdated({ key: this.id, version, changes, truncated })
    this.status(true)
  }

  /**
   * Emits follow.status. Forced calls emit now; the others are coalesced into one trailing
   * emit at most every statusIntervalMs, computed when it fires, so the last state reached
   * (e.g. 'synced' after the final block) is always reported.
   */
  status (force: boolean): void {
    if (this.closed) return
    if (force) {
      if (this.statusTimer) { clearTimeout(this.statusTimer); this.statusTimer = null }
      this.lastStatusMs = this.owner.now()
      this.owner.opts.onStatus(this.info())
      return
    }
    if (this.statusTimer !== null) return
    const wait = Math.max(0, this.owner.statusIntervalMs - (this.owner.now() - this.lastStatusMs))
    this.statusTimer = setTimeout(() => { this.statusTimer = null; this.status(true) }, wait)
    this.statusTimer.unref()
  }

  info (): FollowInfo {
    const core = this.drive.core
    const blobs = this.drive.blobs?.core ?? null
    const blobsTotal = Math.max(blobs ? blobs.length : 0, this.blobsNeeded)
    const blocksTotal = core.length + blobsTotal
    const blocksHave = Math.min(core.contiguousLength, core.length) + (blobs ? Math.min(blobs.contiguousLength, blobsTotal) : 0)
    const peers = this.peerCount()
    let state: FollowInfo['state']
    if (core.length === 0) state = peers > 0 ? 'syncing' : 'connecting'
    // Without a peer nobody can tell whether the author moved on: offline, at the last version seen.
    else if (peers === 0) state = 'offline'
    else if (blocksHave < blocksTotal || blobs === null || this.blobsNeededVersion !== this.drive.version) state = 'syncing'
    else state = 'synced'
    return {
      key: this.id,
      link: formatLink(this.id, this.row.path),
      path: this.row.path,
      state,
      version: this.drive.version,
      peers,
      bytesDownloaded: this.bytesDownloaded,
      blocksHave,
      blocksTotal,
      addedMs: this.row.added_ms,
      lastUpdateMs: this.row.last_update_ms,
      offlineSinceMs: state === 'offline' ? (this.offlineSinceMs ?? this.owner.now()) : null
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.statusTimer) clearTimeout(this.statusTimer)
    if (this.healTimer) clearTimeout(this.healTimer)
    for (const d of this.downloads) d.destroy()
    this.drive.core.off('append', this.onAppend)
    await this.owner.opts.network.leave(this.drive.discoveryKey).catch(() => {})
    await this.publishing
    await this.drive.close()
  }
}

export class Follows extends Resource {
  readonly opts: FollowsOptions
  readonly now: () => number
  readonly statusIntervalMs: number
  readonly healMs: { min: number, max: number }
  /** heals: topic look-ups asked by follows without a peer; healErrors: those that failed. */
  readonly counters = { heals: 0, healErrors: 0 }
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
  }

  protected async _open (): Promise<void> {
    this.opts.network.on('resumed', this.onResumed)
    const rows = this.opts.db.prepare('SELECT key, path, added_ms, last_version, last_update_ms FROM follows ORDER BY added_ms').all() as Row[]
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

  async follow (link: string): Promise<FollowInfo> {
    if (this.closing) throw DatdotError.closed('engine')
    const parsed = parseLink(link)
    if (Buffer.from(parsed.key).equals(this.opts.ownKey())) {
      throw DatdotError.invalidArgument('That link is your own vault; share it with others to let them follow it')
    }
    const existing = this.drives.get(parsed.id)
    if (existing) return existing.info()
    if (this.drives.size >= LIMITS.follows) throw DatdotError.limitReached('followed drives', LIMITS.follows)
    const row: Row = { key: parsed.id, path: parsed.path, added_ms: this.now(), last_version: 0, last_update_ms: null }
    const f = new Followed(this, parsed.id, row)
    this.drives.set(parsed.id, f)
    this.opts.db.prepare('INSERT INTO follows (key, path, added_ms, last_version, last_update_ms) VALUES (?, ?, ?, ?, ?)')
      .run(row.key, row.path, row.added_ms, row.last_version, row.last_update_ms)
    try {
      await f.open()
    } catch (err) {
      this.drives.delete(parsed.id)
      this.opts.db.prepare('DELETE FROM follows WHERE key = ?').run(parsed.id)
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
    await f.close()
    if (purge) {
      // Hypercore 11.37's purge() is broken (it calls a method that does not exist), so the
      // local copy is removed by clearing every block of both cores; the cores' small headers stay.
      const drive = new Hyperdrive(this.opts.store.session(), parseKey(f.id))
      try {
        await drive.ready()
        const blobs = await drive.getBlobs().catch(() => null)
        if (drive.core.length > 0) await drive.core.clear(0, drive.core.length)
        if (blobs && blobs.core.length > 0) await blobs.core.clear(0, blobs.core.length)
      } finally {
        await drive.close()
      }
    }
    this.opts.onRemoved(f.id)
  }

  /** @internal */
  saveProgress (id: string, version: number, now: number): void {
    if (!this.drives.has(id)) return
    this.opts.db.prepare('UPDATE follows SET last_version = ?, last_update_ms = ? WHERE key = ?').run(version, now, id)
  }
}
