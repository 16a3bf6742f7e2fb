/**
 * One followed drive (the registry is follows.ts): opens it with its read key, downloads its
 * metadata core in full (what file contents it downloads and keeps is follow-sync.ts's job),
 * reports updates and status, notes when it has no peer and looks its topic up again, and
 * finds whether its read key opens it (follow-key.ts).
 */
import Hyperdrive from 'hyperdrive'
import type Corestore from 'corestore'
import type { Download } from 'hypercore'
import type { Change, FollowInfo } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import { formatLink, parseKey } from './paths.js'
import { readKeyVerdict, type DriveLock } from './follow-key.js'
import { diffOf } from './drive-ops.js'
import { coreBytesHeld } from './follow-cache.js'
import { labelFor } from './follow-names.js'
import { FollowSync, type SyncStore } from './follow-sync.js'
import type { Network } from './network.js'

/** What a Followed needs of the registry that owns it (follows.ts). */
export interface FollowOwner {
  readonly opts: {
    store: Corestore
    network: Network
    onUpdated: (data: { key: string, version: number, changes: Change[], truncated: boolean }) => void
    onStatus: (info: FollowInfo) => void
  }
  readonly now: () => number
  readonly statusIntervalMs: number
  readonly healMs: { min: number, max: number }
  readonly counters: { heals: number, healErrors: number, syncErrors: number }
  readonly syncStore: SyncStore
  readonly names: { get: (id: string) => string | null }
  saveProgress: (id: string, version: number, now: number) => void
}

export interface Row {
  key: string
  path: string
  added_ms: number
  last_version: number
  last_update_ms: number | null
  /** The encrypted drive's read key (z-base-32), null for a plain drive. */
  read_key: string | null
}

export const ROW_COLUMNS = 'key, path, added_ms, last_version, last_update_ms, read_key'

/** A session of the drive `id`, decrypting with `readKey` when it has one. */
function openDrive (store: Corestore, id: string, readKey: string | null): Hyperdrive {
  // A Hyperdrive closes the Corestore it is given: give it a session of its own.
  return new Hyperdrive(store.session(), parseKey(id), readKey === null ? {} : { encryptionKey: Buffer.from(parseKey(readKey)) })
}

export class Followed {
  readonly drive: Hyperdrive
  readonly sync: FollowSync
  bytesDownloaded = 0
  /** Blobs-core length the current drive version needs (from the metadata), so 'synced' means every byte. */
  private blobsNeeded = 0
  /** The drive version blobsNeeded was read at; until it matches, the follow cannot be 'synced'. */
  private blobsNeededVersion = -1
  private blobsOpening: Promise<void> | null = null
  private downloads: Download[] = []
  private lastStatusMs = 0
  private statusTimer: NodeJS.Timeout | null = null
  /** The last status emitted said 'synced' (the next completion is then not reported early again). */
  private reportedComplete = false
  private publishing: Promise<void> = Promise.resolve()
  /** Since when this follow has had no peer (null while it has one). */
  private offlineSinceMs: number | null = null
  private healTimer: NodeJS.Timeout | null = null
  private healDelayMs: number
  /** Whether the drive reads with this follow's key: null yes, a DriveLock no, undefined not known yet. */
  private lock: DriveLock | null | undefined = undefined
  closed = false

  constructor (private readonly owner: FollowOwner, readonly id: string, public row: Row) {
    this.drive = openDrive(owner.opts.store, id, row.read_key)
    this.healDelayMs = owner.healMs.min
    const { settings, reads } = owner.syncStore.load(id)
    this.sync = new FollowSync(this.drive, id, owner.syncStore, settings, reads, {
      now: owner.now,
      onChange: () => { this.progress() },
      onError: () => { owner.counters.syncErrors++ }
    })
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
    blobs.core.on('download', this.onBlobsDownload)
    blobs.core.on('append', this.onStatusChange)
    blobs.core.on('peer-add', this.onPeer)
    blobs.core.on('peer-remove', this.onPeer)
    this.sync.blobsReady(blobs.core)
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
  private readonly onStatusChange = (): void => { this.progress() }
  private readonly onBlobsDownload = (): void => { this.sync.downloaded() }
  private readonly onDownload = (_index: number, byteLength: number): void => {
    this.bytesDownloaded += byteLength
    this.progress()
  }

  /**
   * Download progress: coalesced (status(false)), except the block that completes the follow,
   * which is reported at once so 'synced' is not late by up to statusIntervalMs. Checking is
   * cheap (core lengths), unlike info(), which runs only when a status is emitted.
   */
  private progress (): void {
    this.status(!this.reportedComplete && this.peerCount() > 0 && this.blocks().complete)
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
    this.sync.updated()
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
      const info = this.info()
      this.reportedComplete = info.state === 'synced'
      this.owner.opts.onStatus(info)
      return
    }
    if (this.statusTimer !== null) return
    const wait = Math.max(0, this.owner.statusIntervalMs - (this.owner.now() - this.lastStatusMs))
    this.statusTimer = setTimeout(() => { this.statusTimer = null; this.status(true) }, wait)
    this.statusTimer.unref()
  }

  /**
   * Blocks had and wanted: both cores in mode 'all'; otherwise the metadata (the file contents a
   * sparse follow wants are counted by the sync as settled or not).
   */
  private blocks (): { have: number, total: number, complete: boolean } {
    const core = this.drive.core
    const blobs = this.drive.blobs?.core ?? null
    const metaHave = Math.min(core.contiguousLength, core.length)
    const current = blobs !== null && this.blobsNeededVersion === this.drive.version
    if (this.sync.settings.mode !== 'all') {
      return { have: metaHave, total: core.length, complete: metaHave === core.length && current && this.sync.settled }
    }
    const blobsTotal = Math.max(blobs ? blobs.length : 0, this.blobsNeeded)
    const have = metaHave + (blobs ? Math.min(blobs.contiguousLength, blobsTotal) : 0)
    return { have, total: core.length + blobsTotal, complete: have >= core.length + blobsTotal && current }
  }

  info (): FollowInfo {
    const core = this.drive.core
    const blobs = this.drive.blobs?.core ?? null
    const { have: blocksHave, total: blocksTotal, complete } = this.blocks()
    const peers = this.peerCount()
    let state: FollowInfo['state']
    // Nothing known yet: 'syncing' only once a peer says it has the drive (peers that only
    // opened it, e.g. other followers of a link nobody serves, are no source).
    if (core.length === 0) state = core.peers.some((p) => p.remoteLength > 0) ? 'syncing' : 'connecting'
    // Without a peer nobody can tell whether the author moved on: offline, at the last version seen.
    else if (peers === 0) state = 'offline'
    else state = complete ? 'synced' : 'syncing'
    const s = this.sync.settings
    // Mode 'all' holds (nearly) every block: counted from the core. A sparse follow holds some
    // blocks of some files: counted per file by its last usage pass (follow-sync.ts).
    const sparse = s.mode !== 'all' && !(blobs !== null && blobs.length > 0 && blobs.contiguousLength === blobs.length)
    const blobsHeld = blobs === null ? 0 : sparse ? this.sync.usage.bytesKept + this.sync.usage.bytesClearable : coreBytesHeld(blobs)
    const name = this.owner.names.get(this.id)
    return {
      key: this.id,
      name,
      label: name ?? labelFor(this.id),
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
      offlineSinceMs: state === 'offline' ? (this.offlineSinceMs ?? this.owner.now()) : null,
      mode: s.mode,
      folders: s.folders,
      pins: s.pins,
      cacheLimitBytes: s.cacheLimitBytes,
      bytesLocal: coreBytesHeld(core) + blobsHeld,
      bytesPinned: s.mode === 'all' ? blobsHeld : Math.min(this.sync.usage.bytesKept, blobsHeld),
      bytesClearable: s.mode === 'all' ? 0 : Math.min(this.sync.usage.bytesClearable, blobsHeld)
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.statusTimer) clearTimeout(this.statusTimer)
    if (this.healTimer) clearTimeout(this.healTimer)
    for (const d of this.downloads) d.destroy()
    // Work in flight (a diff, a folder fetch) may wait on blocks no peer will send: closing the
    // drive first ends those reads (SESSION_CLOSED), then that work settles.
    const syncClosed = this.sync.close()
    this.drive.core.off('append', this.onAppend)
    this.drive.core.off('download', this.onMetadataBlock)
    await this.owner.opts.network.leave(this.drive.discoveryKey).catch(() => {})
    await this.drive.close()
    await this.publishing
    await syncClosed
    if (this.lock) {
      // A drive that failed to open never closes its sessions itself.
      await this.drive.core.close().catch(() => {})
      await this.drive.corestore.close().catch(() => {})
    }
  }
}
