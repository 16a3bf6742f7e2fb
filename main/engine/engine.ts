/**
 * The DatDot engine: one storage folder, one Corestore, one SQLite database, one swarm,
 * the vault and the followed drives. Plain Node (never imports electron): the Electron
 * shell, the headless daemon and every test run this same class. The chain and hosting services
 * sit above it (main/hosting/node.ts extends it with them).
 *
 * Storage layout:
 *   <storage>/corestore/   Hypercore data (vault + followed drives)
 *   <storage>/datdot.db    SQLite: follows (with the read keys of encrypted ones), settings,
 *                          apps opened by link, their grants and follows (app-store.ts),
 *                          ledger (migrations per module)
 *   <storage>/api-token    the loopback API token (0600), written by the API server
 *   <storage>/daemon.json  port and pid of the running daemon
 *
 * The Corestore's primary key is the recovery phrase (recovery.ts): every key of the vault and
 * the swarm's key pair are derived from it. A restore (`primaryKey` on an empty folder) marks the
 * folder 'restore pending' until the vault has come back from peers (vault-restore.ts).
 *
 * The engine does not log: it emits `event` (name, data) for every contract event and keeps
 * counters; callers decide what to show.
 */
import { existsSync } from 'node:fs'
import { mkdir, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import Corestore from 'corestore'
import Hypercore from 'hypercore'
import type { EventData, EventName } from '../shared/contract.js'
import type { HostPort } from './config.js'
import { openDatabase, migrate, type Db, type Migration } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import { Resource } from '../shared/resource.js'
import { Jobs } from './jobs.js'
import type { Vault } from './vault.js'
import { Spaces } from './spaces.js'
import { Network } from './network.js'
import { Follows } from './follows.js'
import { DownloadTickets } from './tickets.js'
import { Apps, type AppDataLimits } from './apps.js'

/** The engine's own tables (the follows and settings); other modules keep their own migration lists. */
export const ENGINE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'follows and settings',
    up: `
      CREATE TABLE follows (
        key TEXT PRIMARY KEY,
        path TEXT NOT NULL DEFAULT '/',
        added_ms INTEGER NOT NULL,
        last_version INTEGER NOT NULL DEFAULT 0,
        last_update_ms INTEGER
      ) STRICT;
      CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `
  },
  {
    version: 2,
    description: 'follows of encrypted drives keep their read key',
    // z-base-32 read key from the link's #key= fragment; NULL for a plain drive
    up: 'ALTER TABLE follows ADD COLUMN read_key TEXT;'
  }
]

/** The name (default namespace) of the swarm's key pair in the Corestore: derived from the primary key. */
export const SWARM_KEY_NAME = 'datdot/swarm'

/**
 * RocksDB memtable size of the Corestore. A big import holds up to two memtables of its blocks
 * in memory (the one filling and the one being written out): hypercore-storage's default of
 * 64 MiB made that 128 MiB. 32 MiB measured no slower (bench/vault.ts: RSS growth of an import
 * about 110-120 MiB instead of 140-200); 16 MiB keeps it under 100 MiB but costs about a fifth
 * more CPU per imported byte (more memtable flushes and compactions).
 */
export const WRITE_BUFFER_BYTES = 32 * 1024 * 1024

export interface EngineOptions {
  /** The storage folder (created if missing). */
  storage: string
  /** Bootstrap nodes for the DHT; omit for the public DHT. */
  bootstrap?: HostPort[]
  /** An injected hyperdht node (tests: testnet.createNode()); wins over bootstrap. */
  dht?: unknown
  /** Start without networking (no swarm at all). */
  offline?: boolean
  now?: () => number
  /** Free bytes on the disk holding a folder; injectable for disk-full tests. */
  freeBytes?: (dir: string) => Promise<number>
  progressIntervalMs?: number
  statusIntervalMs?: number
  /**
   * The Corestore primary key (from a recovery phrase: a restore). On an empty folder the vault
   * comes back from peers; a folder whose corestore has another key is refused, unchanged.
   */
  primaryKey?: Buffer
  /** The apps' data limits (APP_LIMITS by default; tests make them small). */
  appLimits?: Partial<AppDataLimits>
  /**
   * Reconnect timings (tests shorten them): Hyperswarm's backoffs for a dropped peer, how soon a
   * follow without a peer looks its author up again, and how long a new connection gets to send
   * its first byte before it is dropped as dead (network.ts).
   */
  network?: { backoffsMs?: [number, number, number, number], healMs?: { min: number, max: number }, aliveTimeoutMs?: number }
}

export type EngineEventListener = <E extends EventName>(name: E, data: EventData<E>) => void

export async function diskFreeBytes (dir: string): Promise<number> {
  const s = await statfs(dir)
  return Number(s.bavail) * Number(s.bsize)
}

export class Engine extends Resource {
  readonly storage: string
  readonly options: EngineOptions
  readonly now: () => number
  readonly jobs: Jobs
  readonly downloads: DownloadTickets
  store!: Corestore
  db!: Db
  /** The vault's spaces (several drives); `vault` is its home space. */
  spaces!: Spaces
  vault!: Vault
  network!: Network
  follows!: Follows
  /** DatDot apps: code drives, their data spaces, previews and the app API (apps.ts). */
  apps!: Apps
  readonly freeBytes: (dir: string) => Promise<number>
  /** What _close closes, first to last: services opened later go first (unshift). */
  protected readonly services: Array<{ close (): Promise<void> }> = []

  constructor (opts: EngineOptions) {
    super()
    if (!opts.storage) throw DatdotError.invalidArgument('storage folder is required')
    this.options = opts
    this.storage = opts.storage
    this.now = opts.now ?? Date.now
    this.freeBytes = opts.freeBytes ?? diskFreeBytes
    this.downloads = new DownloadTickets(this.now)
    this.jobs = new Jobs({
      now: this.now,
      progressIntervalMs: opts.progressIntervalMs,
      emit: (job) => this.emitEvent('job.progress', job)
    })
  }

  readonly counters = { events: 0, listenerErrors: 0, restoreErrors: 0 }

  /** Emits a contract event. A throwing listener is counted, never allowed to break the work that emitted. */
  emitEvent<E extends EventName> (name: E, data: EventData<E>): void {
    this.counters.events++
    for (const listener of this.listeners('event')) {
      try {
        (listener as EngineEventListener)(name, data)
      } catch {
        this.counters.listenerErrors++
      }
    }
  }

  onEvent (listener: EngineEventListener): () => void {
    this.on('event', listener)
    return () => { this.off('event', listener) }
  }

  protected async _open (): Promise<void> {
    await mkdir(this.storage, { recursive: true, mode: 0o700 })
    const restoring = await this.openStore()
    this.db = openDatabase(join(this.storage, 'datdot.db'))
    this.services.push({ close: async () => { this.db.close() } })
    migrate(this.db, 'engine', ENGINE_MIGRATIONS, this.now)
    if (restoring) this.db.prepare("INSERT OR REPLACE INTO settings (name, value) VALUES ('restore', 'pending')").run()

    this.spaces = new Spaces({
      store: this.store,
      now: this.now,
      vault: { jobs: this.jobs, freeBytes: this.freeBytes, storageDir: this.storage, db: this.db, now: this.now },
      onChanged: (data) => { this.emitEvent('vault.changed', data) },
      onListChanged: () => { this.emitEvent('spaces.changed', {}) },
      restore: this.restorePending() ? { onComplete: () => { this.restoreComplete() }, onError: () => { this.counters.restoreErrors++ } } : undefined
    })
    await this.spaces.ready()
    this.services.unshift(this.spaces)
    this.vault = this.spaces.home

    this.network = new Network({
      store: this.store,
      dht: this.options.dht,
      bootstrap: this.options.bootstrap,
      backoffsMs: this.options.network?.backoffsMs,
      aliveTimeoutMs: this.options.network?.aliveTimeoutMs,
      keyPair: await this.store.createKeyPair(SWARM_KEY_NAME),
      onStatus: (s) => this.emitEvent('network.status', s)
    })
    if (!this.options.offline) await this.network.ready()
    this.services.unshift(this.network)

    this.follows = new Follows({
      store: this.store,
      db: this.db,
      network: this.network,
      now: this.now,
      statusIntervalMs: this.options.statusIntervalMs,
      healMs: this.options.network?.healMs,
      isOwnKey: (key) => this.spaces.byKey(key) !== null,
      onUpdated: (data) => this.emitEvent('follow.updated', data),
      onStatus: (info) => this.emitEvent('follow.status', info),
      onRemoved: (key) => this.emitEvent('follow.removed', { key })
    })
    await this.follows.ready()
    this.services.unshift(this.follows)

    this.apps = new Apps({
      spaces: this.spaces,
      follows: this.follows,
      db: this.db,
      now: this.now,
      emit: (name, data) => { this.emitEvent(name, data) },
      onEvent: (listener) => this.onEvent(listener),
      limits: this.options.appLimits
    })
    await this.apps.ready()
    this.services.unshift(this.apps)

    await this.announceSpaces()
  }

  /**
   * Every space and the space index are announced on the swarm, and so is every space opened
   * later (created, or brought back by a restore); a deleted space leaves it.
   */
  private async announceSpaces (): Promise<void> {
    const join = async (discoveryKey: Buffer): Promise<void> => { await this.network.join(discoveryKey, { server: true, client: true }) }
    this.spaces.on('opened', (v: Vault) => { join(v.drive.discoveryKey).catch(() => {}) })
    this.spaces.on('closed', (v: Vault) => { this.network.leave(v.drive.discoveryKey).catch(() => {}) })
    await join(this.spaces.index.discoveryKey)
    for (const v of this.spaces.all()) await join(v.drive.discoveryKey)
  }

  /**
   * Opens the Corestore (before anything else is written, so a refused primary key changes
   * nothing). True when this starts a restore: a primary key given for a folder with no corestore.
   */
  private async openStore (): Promise<boolean> {
    const dir = join(this.storage, 'corestore')
    const key = this.options.primaryKey
    if (key !== undefined && (!Buffer.isBuffer(key) || key.length !== 32)) throw DatdotError.invalidArgument('primaryKey must be 32 bytes')
    // A folder with a corestore opens with its own key, compared with the given one below.
    const restoring = key !== undefined && !existsSync(dir)
    this.store = new Corestore(Hypercore.defaultStorage(dir, { writeBufferSize: WRITE_BUFFER_BYTES }), restoring ? { primaryKey: key, unsafe: true } : {})
    try {
      await this.store.ready()
    } catch (err) {
      const msg = (err as Error).message ?? ''
      if (/lock/i.test(msg)) throw DatdotError.invalidArgument(`The storage folder ${this.storage} is in use by another DatDot process`)
      throw err
    }
    if (key !== undefined && !key.equals(this.store.primaryKey)) {
      await this.store.close()
      throw DatdotError.invalidArgument(`The storage folder ${this.storage} holds another vault: the recovery phrase is not this folder's (nothing was changed; restore into an empty folder)`)
    }
    this.services.unshift({ close: () => this.store.close() })
    return restoring
  }

  private restorePending (): boolean {
    const row = this.db.prepare("SELECT value FROM settings WHERE name = 'restore'").get() as { value: string } | undefined
    return row?.value === 'pending'
  }

  private restoreComplete (): void {
    if (this.closing) return
    this.db.prepare("DELETE FROM settings WHERE name = 'restore'").run()
  }

  protected async _close (): Promise<void> {
    this.jobs.cancelAll()
    for (const s of this.services) {
      await s.close().catch(() => {})
    }
    this.services.length = 0
  }

  assertOpen (): void {
    if (this.closing || !this.opened) throw DatdotError.closed('engine')
  }
}
