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
 */
import Hyperdrive from 'hyperdrive'
import type Corestore from 'corestore'
import type { Download } from 'hypercore'
import type { Change, FollowInfo } from '../shared/contract.js'
import { LIMITS } from '../shared/contract.js'
import type { Db } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import { formatLink, keyId, parseKey, parseLink } from './paths.js'
import { readKeyVerdict, type DriveLock } from './follow-key.js'
import { Resource } from '../shared/resource.js'
import { diffOf } from './drive-ops.js'
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

interface Row {
  key: string
  path: string
  added_ms: number
  last_version: number
  last_update_ms: number | null
  /** The encrypted drive's read key (z-base-32), null for a plain drive. */
  read_key: string | null
}

const ROW_COLUMNS = 'key, path, added_ms, last_version, last_update_ms, read_key'

/** A session of the drive `id`, decrypting with `readKey` when it has one. */
function openDrive (store: Corestore, id: string, readKey: string | null): Hyperdrive {
  // A Hyperdrive closes the Corestore it is given: give it a session of its own.
  return new Hyperdrive(store.session(), parseKey(id), readKey === null ? {} : { encryptionKey: Buffer.from(parseKey(readKey)) })
}

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
  /** Whether the drive reads with this follow's key: null yes, a DriveLock no, undefined not known yet. */
  private lock: DriveLock | null | undefined = undefined
  closed = false

  constructor (private readonly owner: Follows, readonly id: string, public row: Row) {
    this.drive = openDrive(owner.opts.store, id, row.read_key)
    this.healDelayMs = owner.healMs.min
  }

  /** Checks (once block 0 is here) whether the drive reads with this follow's key; reports a change. */
  async checkLock (): Promise<DriveLock | null | undefined> {
    if (this.lock !== undefined || this.closed) return this.lock
    const verdict = await readKeyVerdict(this.drive)
    if (verdict !== undefined && this.lock === undefined && !this.closed) {
      this.lock = verdict
      if (verdict !== null) this.status(true)
    }
    return this.lock
  }

  /** Throws FORBIDDEN (with why) when the drive is encrypted and this follow's key does not open it. */
  async assertReadable (): Promise<void> {
    const lock = await this.checkLock()
    if (lock) throw DatdotError.encryptedDrive(this.id, lock)
  }

  async open (): Promise<void> {
    const drive = this.drive
    await this.openDrive()
    // With block 0 already here (a restart), know at once whether the key opens the drive, so
    // the first status never calls a locked drive readable.
    await this.checkLock()
    const core = drive.core
    core.on('append', this.onAppend)
    core.on('peer-add', this.onPeer)
    core.on('peer-remove', this.onPeer)
    core.on('download', this.onDownload)
    core.on('download', this.onMetadataBlock)
    this.downloads.push(core.download({ start: 0, end: -1 }))
    await this.owner.opts.network.join(drive.discoveryKey, { server: true, client: true })
    this.watchPeers()
    if (this.lock) { this.status(true); return }
    // The blobs core is known once the first metadata block arrives; wire it up then.
    this.openBlobs().catch(() => {})
    if (core.length > 0) this.onAppend()
  }

  /**
   * Opens the Hyperdrive. One whose header (block 0) is already here but does not decode with
   * this follow's key fails to open: the follow is then locked and keeps only the metadata core
   * (still replicated and announced, as ciphertext); close() closes what the failed open left.
   */
  private async openDrive (): Promise<void> {
    try {
      await this.drive.ready()
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'DECODING_ERROR') throw err
      this.lock = this.drive.encryptionKey ? 'wrong-key' : 'needs-key'
      await this.drive.core.ready()
    }
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

  /** Block 0 (the header) arrived while the key was not checked yet: check it now. */
  private readonly onMetadataBlock = (index: number): void => {
    if (index === 0 && this.lock === undefined) this.onAppend()
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
    // A locked drive (encrypted, without its key or with a wrong one) has no version to report.
    if (await this.checkLock()) return
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
      link: formatLink(this.id, this.row.path, this.row.read_key === null ? null : parseKey(this.row.read_key)),
      path: this.row.path,
      encrypted: this.row.read_key !== null,
      locked: this.lock ?? null,
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
    this.drive.core.off('download', this.onMetadataBlock)
    await this.owner.opts.network.leave(this.drive.discoveryKey).catch(() => {})
    await this.publishing
    await this.drive.close()
    if (this.lock) {
      // A drive that failed to open never closes its sessions itself.
      await this.drive.core.close().catch(() => {})
      await this.drive.corestore.close().catch(() => {})
    }
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

  /**
   * Follows a link. A link with a read key (#key=) follows an encrypted drive; following an
   * already followed drive with a new read key reopens it with that key (a plain link never
   * drops the key a follow has).
   */
  async follow (link: string): Promise<FollowInfo> {
    if (this.closing) throw DatdotError.closed('engine')
    const parsed = parseLink(link)
    if (this.opts.isOwnKey(parsed.key)) {
      throw DatdotError.invalidArgument('That link is one of your own spaces; share it with others to let them follow it')
    }
    const readKey = parsed.readKey === null ? null : keyId(parsed.readKey)
    const existing = this.drives.get(parsed.id)
    if (existing) {
      if (readKey === null || readKey === existing.row.read_key) return existing.info()
      this.drives.delete(existing.id)
      await existing.close()
      this.opts.db.prepare('UPDATE follows SET read_key = ? WHERE key = ?').run(readKey, existing.id)
      return await this.start({ ...existing.row, read_key: readKey })
    }
    if (this.drives.size >= LIMITS.follows) throw DatdotError.limitReached('followed drives', LIMITS.follows)
    const row: Row = { key: parsed.id, path: parsed.path, added_ms: this.now(), last_version: 0, last_update_ms: null, read_key: readKey }
    this.opts.db.prepare(`INSERT INTO follows (${ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(row.key, row.path, row.added_ms, row.last_version, row.last_update_ms, row.read_key)
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
