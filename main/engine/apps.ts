/**
 * DatDot apps: serverless web apps whose code is a Hyperdrive and whose data lives in the
 * user's vault. The model reuses the spaces (spaces.ts, space-index.ts):
 *   - an own app's code drive is a space of kind 'app', shared (encrypted; its link with #key=
 *     shares the app). It is listed by listApps, never in the Vault's list of spaces;
 *   - an app opened by link is its code drive followed (follows.ts), read-only: "Edit a copy"
 *     (fork) makes an own app of its files. The opened apps are kept in SQLite (app-store.ts);
 *   - an app's data drive is a space of kind 'app-data' (private until the app shares it) that
 *     records its app's link, so a restore from the phrase brings back both: an app-data space
 *     whose app is not one of ours re-opens that app by its link (reconcile).
 * The app API (app-data.ts) is scoped to one app: only its own data drive, only the drives it
 * followed itself, and only with the permissions granted to it (kept per app in SQLite).
 * Code files: app-files.ts; templates: app-templates.ts; preview capabilities: app-preview.ts.
 */
import type Hyperdrive from 'hyperdrive'
import { APP_LIMITS, type AppInfo, type AppPermission, type AppTemplate } from '../shared/contract-apps.js'
import type { Entry, EventData, EventName, HistoryItem } from '../shared/contract.js'
import type { Db } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import type { Spaces } from './spaces.js'
import type { Vault } from './vault.js'
import type { Follows } from './follows.js'
import type { SpaceRecord } from './space-index.js'
import { formatLink, keyId, parseLink } from './paths.js'
import { withView } from './drive-ops.js'
import { AppStore } from './app-store.js'
import { MANIFEST_PATH, checkCodeEdit, codeFiles, fetchCode, parseManifest, readCodeBytes, readCodeFile, readCodeText, saveHistory } from './app-files.js'
import { templateFiles } from './app-templates.js'
import { Previews, driveSource, type AppPreviewSource } from './app-preview.js'
import { AppData } from './app-data.js'
import { assertFreeAppName, freeAppName } from './app-names.js'

export type { AppPreviewSource } from './app-preview.js'

export interface AppsOptions {
  spaces: Spaces
  follows: Follows
  db: Db
  now: () => number
  emit: <E extends EventName>(name: E, data: EventData<E>) => void
  /** Subscribes to the engine's events (the apps turn vault and follow changes into app events). */
  onEvent: (listener: (name: string, data: unknown) => void) => () => void
  /** The data limits (APP_LIMITS by default; tests make them small). */
  limits?: Partial<AppDataLimits>
}

export interface AppDataLimits { dataWriteBytes: number, dataDriveBytes: number, appFollows: number }

/** One app, resolved: where its code is and whose it is. */
export interface AppHandle {
  id: string
  /** Its code drive key (z-base-32). */
  key: string
  own: boolean
  drive: Hyperdrive
  /** The own app's space (null for an app opened by link). */
  vault: Vault | null
  link: string
  /** The name to use while the manifest does not give one. */
  fallbackName: string
  createdMs: number
  forkedFrom: string | null
}

/** The code drive key a link names, or null when it is not a link. */
export function linkKey (link: string): string | null {
  try { return parseLink(link).id } catch { return null }
}

export class Apps {
  readonly store: AppStore
  readonly previews = new Previews()
  /** The app API scoped to one app: its data drive and the drives it followed. */
  readonly data: AppData
  readonly limits: AppDataLimits
  /** reconcileErrors: apps a restore could not re-open by their link (tried again at the next change). */
  readonly counters = { reconcileErrors: 0, announceErrors: 0 }
  private readonly opts: AppsOptions
  /**
   * What was last announced of each app opened by link: its version, and whether its manifest was
   * here to read then (follow.status repeats versions; a version can arrive before its files).
   */
  private readonly openedVersions = new Map<string, { version: number, named: boolean }>()
  private offEvents: (() => void) | null = null
  /** The stamp of the last save: every save gets one of its own (history groups a save's entries on it). */
  private lastSaveMs = 0
  private reconciling: Promise<void> | null = null
  private closed = false

  constructor (opts: AppsOptions) {
    this.opts = opts
    this.store = new AppStore(opts.db, opts.now)
    this.limits = { dataWriteBytes: APP_LIMITS.dataWriteBytes, dataDriveBytes: APP_LIMITS.dataDriveBytes, appFollows: APP_LIMITS.appFollows, ...opts.limits }
    this.data = new AppData(this)
  }

  now (): number { return this.opts.now() }

  get spaces (): Spaces { return this.opts.spaces }
  get follows (): Follows { return this.opts.follows }

  async ready (): Promise<void> {
    this.offEvents = this.opts.onEvent((name, data) => { this.onEngineEvent(name, data) })
    await this.reconcile()
  }

  async close (): Promise<void> {
    this.closed = true
    this.offEvents?.()
    this.previews.clear()
    await this.reconciling?.catch(() => {})
  }

  emit<E extends EventName> (name: E, data: EventData<E>): void {
    this.opts.emit(name, data)
  }

  // ---------------------------------------------------------------- resolving an app

  /** The app a caller names: an own app's space id or code key, or an opened app's code key. NOT_FOUND otherwise. */
  get (ref: string): AppHandle {
    const record = this.spaces.index.get(ref)
    if (record?.kind === 'app') return this.ownHandle(record)
    const key = (() => { try { return keyId(ref) } catch { return null } })()
    if (key !== null) {
      const own = this.spaces.byKey(key)
      const r = own === null ? undefined : this.spaces.index.get(own.id)
      if (r?.kind === 'app') return this.ownHandle(r)
      const row = this.store.openedRow(key)
      if (row !== undefined && this.follows.has(key)) {
        return { id: key, key, own: false, drive: this.follows.get(key).drive, vault: null, link: row.link, fallbackName: `App ${key.slice(0, 8)}`, createdMs: row.added_ms, forkedFrom: null }
      }
    }
    throw DatdotError.notFound(`app ${ref.slice(0, 80)}`)
  }

  private ownHandle (r: SpaceRecord): AppHandle {
    const vault = this.spaces.resolve(r.id).vault
    return { id: r.id, key: vault.id, own: true, drive: vault.drive, vault, link: formatLink(vault.key, '/', vault.readKey), fallbackName: r.name, createdMs: r.createdMs, forkedFrom: r.forkedFrom ?? null }
  }

  /** The app's code, readable: an opened app's encrypted drive needs the right key. */
  async readable (ref: string): Promise<AppHandle> {
    const a = this.get(ref)
    if (!a.own) await this.follows.get(a.key).assertReadable()
    return a
  }

  /**
   * A version to read the code at: the latest, or one that ends a save (appHistory's versions).
   * A version inside a save is refused: its checkout would be half a batch.
   */
  private async savedVersion (a: AppHandle, version: number | undefined): Promise<number | undefined> {
    if (version === undefined || version === a.drive.version) return version
    if (!(await saveHistory(a.drive, 200)).some((h) => h.version === version)) throw DatdotError.notFound(`saved version ${version} (appHistory lists them)`)
    return version
  }

  private ownOnly (a: AppHandle): Vault {
    if (a.vault === null) throw DatdotError.forbidden('this app was opened by its link and is read-only: use "Edit a copy" (forkApp) to change it')
    return a.vault
  }

  /** The 'app-data' space of an app (by its code key), if it has one. */
  dataRecord (key: string): SpaceRecord | undefined {
    return this.spaces.index.records().find((r) => r.kind === 'app-data' && r.app !== undefined && linkKey(r.app) === key)
  }

  /** The app id a data space's app link names: an own app's space id, else the code key. */
  private appIdOf (link: string): string | null {
    const key = linkKey(link)
    if (key === null) return null
    const own = this.spaces.byKey(key)
    return own !== null && this.spaces.index.get(own.id)?.kind === 'app' ? own.id : key
  }

  async info (a: AppHandle): Promise<AppInfo> {
    const { manifest, error } = parseManifest(await readCodeText(a.drive, MANIFEST_PATH, { wait: false }).catch(() => null))
    const data = this.dataRecord(a.key)
    return {
      id: a.id,
      key: a.key,
      name: manifest?.name ?? a.fallbackName,
      own: a.own,
      link: a.link,
      version: a.drive.version,
      manifest,
      manifestError: a.drive.version <= 1 && !a.own ? 'the app is still downloading' : error,
      dataSpace: data?.id ?? null,
      granted: this.store.grants(a.id),
      forkedFrom: a.forkedFrom,
      createdMs: a.createdMs
    }
  }

  async list (): Promise<AppInfo[]> {
    const handles: AppHandle[] = []
    for (const r of this.spaces.index.records()) if (r.kind === 'app') handles.push(this.ownHandle(r))
    for (const row of this.store.opened()) {
      try { handles.push(this.get(row.key)) } catch { /* its follow is gone: reconcile brings it back */ }
    }
    const out: Array<AppInfo & { at: number }> = []
    for (const [at, h] of handles.entries()) out.push({ ...await this.info(h), at })
    // newest first; made in the same millisecond: the later one first (the list is in order made)
    return out.sort((x, y) => y.createdMs - x.createdMs || y.at - x.at).map(({ at: _at, ...info }) => info)
  }

  // ---------------------------------------------------------------- creating, opening, removing

  async create (name: string, template: AppTemplate): Promise<AppInfo> {
    assertFreeAppName(name, (await this.list()).map((a) => a.name))
    const files = templateFiles(template, name)
    return this.createFrom(name, Object.entries(files).map(([path, text]) => ({ path, data: Buffer.from(text, 'utf8') })))
  }

  private async createFrom (name: string, files: Array<{ path: string, data: Buffer }>, forkedFrom?: string): Promise<AppInfo> {
    const spaceName = this.spaces.freeName(name.replace(/[/\\]/g, '-').trim() || 'App')
    const space = await this.spaces.create(spaceName, 'shared', { kind: 'app', ...(forkedFrom === undefined ? {} : { forkedFrom }) })
    try {
      await this.spaces.resolve(space.id).vault.writeBatch(files, [], this.saveStamp())
    } catch (err) {
      await this.spaces.delete(space.id).catch(() => {})
      throw err
    }
    this.changed()
    return this.info(this.get(space.id))
  }

  /** Opens someone's app by its link: its code drive is followed; one of your own apps opens as itself. */
  async openLink (link: string): Promise<AppInfo> {
    const parsed = parseLink(link)
    const own = this.spaces.byKey(parsed.id)
    if (own !== null) {
      if (this.spaces.index.get(own.id)?.kind === 'app') return this.info(this.get(own.id))
      throw DatdotError.invalidArgument('that link is one of your own spaces, not an app')
    }
    const followed = await this.follows.follow(link)
    if (this.store.openedRow(parsed.id) === undefined) this.store.addOpened({ key: parsed.id, link: followed.link, added_ms: this.opts.now() })
    this.changed()
    return this.info(this.get(parsed.id))
  }

  /** "Edit a copy": a new own app with the files of this one at its current version. */
  async fork (ref: string, name?: string): Promise<AppInfo> {
    const src = await this.readable(ref)
    const srcInfo = await this.info(src)
    const files = await withView(src.drive, src.drive.version, (view) => readCodeBytes(view))
    const taken = (await this.list()).map((a) => a.name)
    if (name !== undefined) assertFreeAppName(name, taken)
    const newName = name ?? freeAppName(`${srcInfo.name} copy`, taken)
    // The copy is named in its manifest too: two apps of the same name in one list would confuse.
    if (srcInfo.manifest !== null) {
      const manifest = JSON.parse(files.get(MANIFEST_PATH)?.toString('utf8') ?? '{}') as Record<string, unknown>
      files.set(MANIFEST_PATH, Buffer.from(JSON.stringify({ ...manifest, name: newName }, null, 2) + '\n'))
    }
    return this.createFrom(newName, [...files].map(([path, data]) => ({ path, data })), src.link)
  }

  async remove (ref: string, keepData: boolean): Promise<void> {
    const a = this.get(ref)
    const data = this.dataRecord(a.key)
    this.previews.dropApp(a.id)
    if (a.own) await this.spaces.delete(a.id)
    else if (this.follows.has(a.key) && this.store.followers(a.key).length === 0) await this.follows.unfollow(a.key, false)
    this.store.forget(a.id)
    if (data !== undefined && !keepData) await this.spaces.delete(data.id)
    else if (data !== undefined) {
      // its data stays in the vault, no longer tied to an app (a restore must not re-open a removed app)
      const { app: _app, ...rest } = data
      await this.spaces.index.put(rest)
    }
    this.changed()
  }

  // ---------------------------------------------------------------- code files

  /** A save's mtimeMs: now, or one more than the last save's when the clock has not moved. */
  private saveStamp (): number {
    this.lastSaveMs = Math.max(this.opts.now(), this.lastSaveMs + 1)
    return this.lastSaveMs
  }

  async listFiles (ref: string, version?: number): Promise<{ version: number, files: Entry[] }> {
    const a = await this.readable(ref)
    return withView(a.drive, await this.savedVersion(a, version), async (view) => ({ version: view.version, files: await codeFiles(view) }))
  }

  async readFile (ref: string, path: string, version?: number): Promise<{ version: number, text: string }> {
    const a = await this.readable(ref)
    return withView(a.drive, await this.savedVersion(a, version), async (view) => {
      const text = await readCodeText(view, path, { wait: true })
      if (text === null) throw DatdotError.notFound(path)
      return { version: view.version, text }
    })
  }

  /** One save: every path checked first, then one commit (one new version) or nothing at all. */
  async saveFiles (ref: string, files: ReadonlyArray<{ path: string, text: string }>, deleted: readonly string[]): Promise<{ version: number }> {
    const a = this.get(ref)
    const vault = this.ownOnly(a)
    const edit = checkCodeEdit(await codeFiles(a.drive), files, deleted)
    if (edit.files.length === 0 && !edit.deleted.includes(MANIFEST_PATH)) {
      // a save of deletions only re-writes the manifest too, so that the save has files to stamp
      const manifest = await readCodeFile(a.drive, MANIFEST_PATH, { wait: false }).catch(() => null)
      if (manifest !== null) edit.files.push({ path: MANIFEST_PATH, data: manifest })
    }
    const version = await vault.writeBatch(edit.files, edit.deleted, this.saveStamp())
    this.changed()
    return { version }
  }

  async history (ref: string): Promise<HistoryItem[]> {
    const a = await this.readable(ref)
    return saveHistory(a.drive, 200)
  }

  /** The files of `version` become the current ones, as a new version: files added since are deleted. */
  async revert (ref: string, version: number): Promise<{ version: number }> {
    const a = this.get(ref)
    const vault = this.ownOnly(a)
    if (await this.savedVersion(a, version) === a.drive.version) return { version: a.drive.version }
    const old = await withView(a.drive, version, (view) => readCodeBytes(view))
    const gone = (await codeFiles(a.drive)).map((e) => e.path).filter((p) => !old.has(p))
    const v = await vault.writeBatch([...old].map(([path, data]) => ({ path, data })), gone, this.saveStamp())
    this.changed()
    return { version: v }
  }

  // ---------------------------------------------------------------- preview capabilities and permissions

  async startPreview (ref: string, version?: number): Promise<{ cap: string, entry: string }> {
    const a = await this.readable(ref)
    version = await this.savedVersion(a, version)
    const entry = await withView(a.drive, version, async (view) => {
      if (!a.own) await fetchCode(view)
      const { manifest } = parseManifest(await readCodeText(view, MANIFEST_PATH, { wait: true }).catch(() => null))
      return manifest?.entry ?? '/index.html'
    })
    const cap = this.previews.add(a.id, driveSource(a.drive, a.key, version, entry))
    return { cap, entry }
  }

  stopPreview (cap: string): void {
    this.previews.stop(cap)
  }

  /** What the preview route serves for a capability; null when it is not (or no longer) one. */
  preview (cap: string): AppPreviewSource | null {
    return this.previews.get(cap)
  }

  async setPermission (ref: string, permission: AppPermission, granted: boolean): Promise<AppInfo> {
    const a = this.get(ref)
    this.store.setGrant(a.id, permission, granted)
    this.changed()
    return this.info(a)
  }

  /** FORBIDDEN unless the app was granted `permission` (the host asks the user first). */
  assertGranted (ref: string, permission: AppPermission): AppHandle {
    const a = this.get(ref)
    if (!this.store.grants(a.id).includes(permission)) throw DatdotError.forbidden(`this app has not been granted the '${permission}' permission`)
    return a
  }

  // ---------------------------------------------------------------- events and restore

  changed (): void {
    this.emit('apps.changed', {})
  }

  private onEngineEvent (name: string, data: unknown): void {
    if (name === 'vault.changed') {
      const { space, version } = data as EventData<'vault.changed'>
      const r = this.spaces.index.get(space)
      const app = r?.kind === 'app-data' && r.app !== undefined ? this.appIdOf(r.app) : null
      if (app !== null) this.emit('app.data.changed', { app, version })
    } else if (name === 'follow.updated') {
      const { key, version } = data as EventData<'follow.updated'>
      for (const app of this.store.followers(key)) this.emit('app.followed.changed', { app, key, version })
      if (this.store.openedRow(key) !== undefined) this.changed()
    } else if (name === 'follow.status') {
      // An app opened by link gets its first versions as a follow's status (its first download
      // sends no update): the list must show its name and manifest once they arrive.
      const { key, version } = data as EventData<'follow.status'>
      const seen = this.openedVersions.get(key)
      if (this.store.openedRow(key) !== undefined && (seen?.version !== version || !seen.named)) {
        this.announceOpened(key, version).catch(() => { this.counters.announceErrors++ })
      }
    } else if (name === 'spaces.changed') {
      // the list of spaces holds the apps: a restore or another change may have brought or taken one
      this.changed()
      this.reconcile().catch(() => { this.counters.reconcileErrors++ })
    }
  }

  /**
   * Announces an app opened by link when its version changed, or when its manifest, which may
   * arrive after the version that holds it (a version is known from the metadata, its files come
   * with the blobs), can now be read: until then the app shows its placeholder name.
   */
  private async announceOpened (key: string, version: number): Promise<void> {
    const named = await readCodeText(this.get(key).drive, MANIFEST_PATH, { wait: false }).then((t) => t !== null, () => false)
    const seen = this.openedVersions.get(key)
    if (seen?.version === version && seen.named === named) return
    this.openedVersions.set(key, { version, named })
    this.changed()
  }

  /**
   * Re-opens the apps the list of spaces says we use but are not open here: an app-data space
   * whose app is not one of ours (a restore brought it back) re-opens that app by its link.
   */
  async reconcile (): Promise<void> {
    if (this.reconciling !== null) return await this.reconciling
    this.reconciling = this.reconcileOnce().finally(() => { this.reconciling = null })
    await this.reconciling
  }

  private async reconcileOnce (): Promise<void> {
    const wanted = new Map<string, { link: string, addedMs: number }>()
    for (const r of this.spaces.index.records()) {
      const key = r.kind === 'app-data' && r.app !== undefined ? linkKey(r.app) : null
      if (key === null || this.spaces.byKey(key) !== null) continue
      if (this.store.openedRow(key) === undefined || !this.follows.has(key)) wanted.set(key, { link: r.app as string, addedMs: r.createdMs })
    }
    let opened = 0
    for (const [key, w] of wanted) {
      if (this.closed) return
      try {
        const f = await this.follows.follow(w.link)
        if (this.store.openedRow(key) === undefined) this.store.addOpened({ key, link: f.link, added_ms: w.addedMs })
        opened++
      } catch {
        this.counters.reconcileErrors++
      }
    }
    if (opened > 0) this.changed()
  }
}
