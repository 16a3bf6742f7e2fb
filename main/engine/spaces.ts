/**
 * A vault's spaces: several drives, each with its own link, history and followers, listed in the
 * space index (space-index.ts) and keyed from the primary key (space-keys.ts). Visibility:
 *   - private: encrypted; no link is given out (only this vault reads it);
 *   - shared:  encrypted; its link carries the read key in the fragment (`#key=`), a secret;
 *   - public:  plain; its link is the drive key alone.
 * Private and shared differ only in whether the link is handed out, so a space may move between
 * them; a public space can never become encrypted or the other way round (a new space, files
 * moved, is the way: its key is new). Making a shared space private again does not take the
 * link back from those who have it.
 *
 * The home space is the drive every vault had before spaces (plain, 'public'); a new vault also
 * gets a 'Private' space, the UI's default. Each space is a `Vault` (vault.ts). A restore
 * re-opens every space the index lists as its blocks arrive, each downloading from peers.
 */
import type { UploadTotals } from './vault-uploads.js'
import { EventEmitter } from 'node:events'
import type Corestore from 'corestore'
import type { Readable } from 'node:stream'
import type { Job, SpaceInfo, Change } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import { Vault, type VaultOptions } from './vault.js'
import { SpaceIndex, MAX_SPACES, SPACE_NAME_CHARS, type SpaceRecord, type Visibility } from './space-index.js'

/** What an app's space records beside the usual (apps.ts): its kind, its app, where it was forked from. */
export type SpaceExtra = Pick<SpaceRecord, 'kind' | 'app' | 'appName' | 'forkedFrom'>
import { HOME_SPACE_ID, newSpaceId, spaceNamespace, spaceReadKey } from './space-keys.js'
import { drivePath, entryName, formatLink, keyId } from './paths.js'

export type SharedVaultOptions = Omit<VaultOptions, 'store' | 'namespace' | 'encryptionKey' | 'onChanged' | 'restore'>

export interface SpacesOptions {
  store: Corestore
  vault: SharedVaultOptions
  now: () => number
  /** A space's drive changed. */
  onChanged: (data: { space: string, version: number, changes: Change[], truncated: boolean }) => void
  /** The list of spaces changed (created, renamed, deleted, visibility, a restore brought one). */
  onListChanged: () => void
  /** A restore from the phrase is under way: every space downloads from peers. */
  restore?: { onComplete: () => void, onError: (err: unknown) => void }
}

/** A space name as given: trimmed, NFC, 1 to 64 characters, no slash, control or bidi characters. */
export function spaceName (input: unknown): string {
  if (typeof input !== 'string') throw DatdotError.invalidArgument('a space name must be text')
  const name = input.normalize('NFC').trim()
  if (name.length === 0) throw DatdotError.invalidArgument('a space needs a name')
  if ([...name].length > SPACE_NAME_CHARS) throw DatdotError.invalidArgument(`a space name has at most ${SPACE_NAME_CHARS} characters`)
  try {
    entryName(name)
  } catch (err) {
    throw DatdotError.invalidArgument(`not a usable space name: ${(err as DatdotError).message}`)
  }
  return name
}

export class Spaces extends EventEmitter {
  readonly index: SpaceIndex
  private readonly vaults = new Map<string, Vault>()
  private readonly opts: SpacesOptions
  /** The restore of the list of spaces is still waiting for the index's blocks. */
  private indexRestoring: boolean
  private restoreDownload: { destroy (): void } | null = null
  private closed = false

  constructor (opts: SpacesOptions) {
    super()
    this.opts = opts
    this.index = new SpaceIndex(opts.store, opts.store.primaryKey)
    this.indexRestoring = opts.restore !== undefined
  }

  async ready (): Promise<void> {
    await this.index.ready()
    if (!this.indexRestoring && this.index.records().length === 0) await this.initIndex()
    await this.openSpace(HOME_SPACE_ID)
    for (const r of this.sorted()) await this.openSpace(r.id)
    this.index.on('changed', (ids: string[]) => { this.indexChanged(ids).catch((err: unknown) => { this.opts.restore?.onError(err) }) })
    if (this.indexRestoring) this.restoreDownload = this.index.core.download({ start: 0, end: -1 })
    this.checkRestored()
  }

  async close (): Promise<void> {
    this.closed = true
    this.restoreDownload?.destroy()
    for (const v of [...this.vaults.values()].reverse()) await v.close().catch(() => {})
    this.vaults.clear()
    await this.index.close()
  }

  /** A new vault's (or an older vault's first) list: its home space, and a private space. */
  private async initIndex (): Promise<void> {
    const now = this.opts.now()
    const home = await this.homeHasFiles() ? 'Vault' : 'Public'
    const written = home === 'Vault'
    await this.index.put({ id: HOME_SPACE_ID, name: home, visibility: 'public', createdMs: now, ...(written ? { written } : {}) })
    await this.index.put({ id: newSpaceId(), name: 'Private', visibility: 'private', createdMs: now + 1 })
  }

  private async homeHasFiles (): Promise<boolean> {
    const core = this.opts.store.namespace(spaceNamespace(HOME_SPACE_ID)).get({ name: 'db' })
    await core.ready()
    const length = core.length
    await core.close()
    return length > 0
  }

  private sorted (): SpaceRecord[] {
    return this.index.records().sort((a, b) => a.createdMs - b.createdMs || a.id.localeCompare(b.id))
  }

  private async openSpace (id: string): Promise<Vault> {
    const open = this.vaults.get(id)
    if (open !== undefined) return open
    const record = this.index.get(id)
    const encrypted = record !== undefined && record.visibility !== 'public'
    const vault = new Vault({
      ...this.opts.vault,
      store: this.opts.store,
      namespace: spaceNamespace(id),
      spaceName: () => this.index.get(id)?.name ?? 'Public',
      encryptionKey: encrypted ? spaceReadKey(this.opts.store.primaryKey, id) : null,
      onChanged: (data) => {
        // a write that did not go through the vault's commit (none of ours) is recorded after
        this.markWritten(id)
        this.opts.onChanged({ space: id, ...data })
      },
      beforeFirstWrite: () => this.recordWritten(id),
      restore: this.opts.restore === undefined ? undefined : { onComplete: () => { this.checkRestored() }, onError: this.opts.restore.onError }
    })
    this.vaults.set(id, vault)
    try {
      await vault.ready()
    } catch (err) {
      this.vaults.delete(id)
      throw err
    }
    this.emit('opened', vault)
    this.markWritten(id)
    return vault
  }

  /** Spaces whose first write is being recorded in the index (so a rename meanwhile keeps the flag). */
  private readonly writtenIds = new Set<string>()
  /** The index could not record a space's first write (tried again at its next change or open). */
  markErrors = 0

  /**
   * Before a space's first block: the list says it is written from now on, so a restore never
   * takes a space with blocks for an empty one. A list that cannot record it refuses the write.
   */
  private async recordWritten (id: string): Promise<void> {
    const record = this.index.get(id)
    if (record === undefined || record.written === true || this.writtenIds.has(id)) return
    this.writtenIds.add(id)
    try {
      await this.index.put({ ...record, written: true })
    } catch (err) {
      this.writtenIds.delete(id)
      throw err
    }
  }

  /** A space with blocks that the list does not call written (written before the flag existed): record it now. */
  private markWritten (id: string): void {
    const record = this.index.get(id)
    const vault = this.vaults.get(id)
    if (record === undefined || record.written === true || this.writtenIds.has(id) || vault === undefined) return
    if (vault.restoring || this.indexRestoring || vault.drive.core.length === 0 || this.closed) return
    this.writtenIds.add(id)
    this.index.put({ ...record, written: true }).catch(() => {
      this.writtenIds.delete(id)
      this.markErrors++
    })
  }

  /** The index grew (a restore brought blocks, or this node wrote): open new spaces, close deleted ones. */
  private async indexChanged (ids: string[]): Promise<void> {
    for (const id of ids) {
      if (this.closed) return
      const record = this.index.get(id)
      const vault = this.vaults.get(id)
      if (record === undefined && vault !== undefined && id !== HOME_SPACE_ID) {
        this.vaults.delete(id)
        this.emit('closed', vault)
        await vault.close()
      } else if (record !== undefined && vault === undefined) {
        await this.openSpace(id)
      }
    }
    this.checkRestored()
    this.opts.onListChanged()
  }

  /** Ends the restore once the index and every space it lists are here. */
  private checkRestored (): void {
    if (this.opts.restore === undefined || this.closed) return
    if (this.indexRestoring && this.index.complete) {
      this.indexRestoring = false
      this.restoreDownload?.destroy()
      this.restoreDownload = null
    }
    // A space the list says was never written has nothing to fetch: its restore is over.
    if (!this.indexRestoring) {
      for (const [id, vault] of this.vaults) if (vault.restoring && this.index.get(id)?.written !== true) vault.finishRestore()
    }
    if (!this.restoring) this.opts.restore.onComplete()
    this.opts.onListChanged()
  }

  /** A restore is still bringing back the list of spaces or one of them. */
  get restoring (): boolean {
    if (this.indexRestoring || [...this.vaults.values()].some((v) => v.restoring)) return true
    // a space the list names that is not open yet (indexChanged is opening it) is not back either
    return this.opts.restore !== undefined && this.index.records().some((r) => !this.vaults.has(r.id))
  }

  /** Ends a restore with nothing more to fetch: every space still restoring, and the list itself. */
  async finishRestore (): Promise<void> {
    if (!this.restoring) throw DatdotError.notFound('a restore in progress')
    for (const v of this.vaults.values()) if (v.restoring) v.finishRestore()
    if (this.indexRestoring) {
      this.indexRestoring = false
      this.restoreDownload?.destroy()
      this.restoreDownload = null
      if (this.index.records().length === 0 && this.index.core.length === 0) await this.initIndex()
      for (const r of this.sorted()) await this.openSpace(r.id)
    }
    this.opts.restore?.onComplete()
    this.opts.onListChanged()
  }

  // ---------------------------------------------------------------- lookups

  get home (): Vault {
    const v = this.vaults.get(HOME_SPACE_ID)
    if (v === undefined) throw DatdotError.closed('vault')
    return v
  }

  /** Every open space's vault (home first). */
  all (): Vault[] {
    return [...this.vaults.values()]
  }

  /**
   * The space a caller names: its id, its name (any case) or its drive key; the home space
   * when none is named. NOT_FOUND otherwise.
   */
  resolve (space?: string): { id: string, vault: Vault } {
    if (space === undefined) return { id: HOME_SPACE_ID, vault: this.home }
    const byId = this.vaults.get(space)
    if (byId !== undefined) return { id: space, vault: byId }
    const lower = space.normalize('NFC').trim().toLowerCase()
    for (const r of this.index.records()) {
      const v = this.vaults.get(r.id)
      if (v !== undefined && r.name.toLowerCase() === lower) return { id: r.id, vault: v }
    }
    const own = this.byKey(space)
    if (own !== null) return own
    throw DatdotError.notFound(`space ${space.slice(0, 80)}`)
  }

  /** The own space whose drive has this key (z-base-32 or hex), or null. */
  byKey (key: string | Uint8Array): { id: string, vault: Vault } | null {
    let id: string
    try { id = keyId(key) } catch { return null }
    for (const [spaceId, vault] of this.vaults) if (vault.id === id) return { id: spaceId, vault }
    return null
  }

  private record (id: string): SpaceRecord {
    const r = this.index.get(id)
    if (r !== undefined) return r
    if (id === HOME_SPACE_ID) return { id, name: 'Public', visibility: 'public', createdMs: 0 }
    throw DatdotError.notFound(`space ${id}`)
  }

  async info (id: string): Promise<SpaceInfo> {
    const vault = this.resolve(id).vault
    const r = this.record(id)
    const v = await vault.info()
    return {
      id,
      name: r.name,
      visibility: r.visibility,
      encrypted: vault.readKey !== null,
      key: v.key,
      link: this.linkOf(r, vault),
      version: v.version,
      files: v.files,
      bytes: v.bytes,
      createdMs: r.createdMs,
      peers: vault.drive.core.peers.length,
      restoring: v.restoring,
      kind: r.kind ?? 'files',
      ...(r.appName !== undefined ? { appName: r.appName } : {})
    }
  }

  async list (): Promise<{ spaces: SpaceInfo[], restoringList: boolean }> {
    const spaces: SpaceInfo[] = []
    // an app's code is listed with the apps (apps.ts), not in the Vault; its data is
    for (const id of this.vaults.keys()) if (this.index.get(id)?.kind !== 'app') spaces.push(await this.info(id))
    spaces.sort((a, b) => a.createdMs - b.createdMs || a.id.localeCompare(b.id))
    return { spaces, restoringList: this.indexRestoring }
  }

  private linkOf (r: SpaceRecord, vault: Vault): string | null {
    if (r.visibility === 'private') return null
    return formatLink(vault.key, '/', r.visibility === 'shared' ? vault.readKey : null)
  }

  /** The link of a shared or public space. A link always opens a whole space: a folder to share becomes its own space. */
  share (space: string | undefined, path: string): string {
    const { id, vault } = this.resolve(space)
    const r = this.record(id)
    if (drivePath(path) !== '/') {
      throw DatdotError.invalidArgument(`a link opens a whole space, not one folder: to share ${drivePath(path)} alone, create a shared space and move it there`)
    }
    const link = this.linkOf(r, vault)
    if (link === null) throw DatdotError.forbidden(`"${r.name}" is private: only you can read it. Make it shared to get a link (whoever has the link reads every file in it)`)
    return link
  }

  // ---------------------------------------------------------------- changes to the list

  private assertListWritable (): void {
    if (this.indexRestoring) throw DatdotError.forbidden('the list of spaces is still being restored from your seeders and devices: wait for it, or end the restore, before changing spaces')
  }

  private assertNameFree (name: string, except?: string): void {
    const lower = name.toLowerCase()
    for (const r of this.index.records()) {
      if (r.id !== except && r.name.toLowerCase() === lower) throw DatdotError.alreadyExists(`space ${name}`)
    }
  }

  /** `base` (cut to a space name's length) if no space has that name, else `base 2`, `base 3`, ... */
  freeName (base: string): string {
    const cut = (s: string): string => [...s].slice(0, SPACE_NAME_CHARS).join('').trim()
    const taken = new Set(this.index.records().map((r) => r.name.toLowerCase()))
    const first = spaceName(cut(base))
    if (!taken.has(first.toLowerCase())) return first
    for (let n = 2; ; n++) {
      const suffix = ` ${n}`
      const name = spaceName(cut(base).slice(0, SPACE_NAME_CHARS - suffix.length).trim() + suffix)
      if (!taken.has(name.toLowerCase())) return name
    }
  }

  async create (nameInput: string, visibility: Visibility, extra: SpaceExtra = {}): Promise<SpaceInfo> {
    this.assertListWritable()
    const name = spaceName(nameInput)
    this.assertNameFree(name)
    if (this.index.records().length >= MAX_SPACES) throw DatdotError.invalidArgument(`a vault holds at most ${MAX_SPACES} spaces`)
    const id = newSpaceId()
    await this.index.put({ id, name, visibility, createdMs: this.opts.now(), ...extra })
    await this.openSpace(id)
    this.opts.onListChanged()
    return this.info(id)
  }

  async update (space: string, change: { name?: string, visibility?: Visibility }): Promise<SpaceInfo> {
    this.assertListWritable()
    const { id } = this.resolve(space)
    const r = this.record(id)
    const name = change.name === undefined ? r.name : spaceName(change.name)
    if (name !== r.name) this.assertNameFree(name, id)
    const visibility = change.visibility ?? r.visibility
    if ((visibility === 'public') !== (r.visibility === 'public')) {
      throw DatdotError.invalidArgument(visibility === 'public'
        ? `"${r.name}" is encrypted and stays so: to publish its files, create a public space and copy them there`
        : `"${r.name}" is public (not encrypted) and stays so: for private files, create a private space and move them there`)
    }
    if (name === r.name && visibility === r.visibility) return this.info(id)
    await this.index.put({ ...r, name, visibility, ...(r.written === true || this.writtenIds.has(id) ? { written: true } : {}) })
    this.opts.onListChanged()
    return this.info(id)
  }

  /**
   * Deletes a space: it leaves the list and its blocks are cleared from this disk. Copies that
   * followers and seeders made stay with them. The home space cannot be deleted.
   */
  async delete (space: string): Promise<void> {
    this.assertListWritable()
    const { id, vault } = this.resolve(space)
    if (id === HOME_SPACE_ID) throw DatdotError.forbidden('the home space cannot be deleted (delete its files instead)')
    // Out of the map first: the index's 'changed' (from this very delete) must not close it meanwhile.
    this.vaults.delete(id)
    try {
      await this.index.delete(id)
    } catch (err) {
      this.vaults.set(id, vault)
      throw err
    }
    this.emit('closed', vault)
    const drive = vault.drive
    const blobs = await drive.getBlobs().catch(() => null)
    const lengths = { meta: drive.core.length, blobs: blobs?.core.length ?? 0 }
    if (blobs !== null && lengths.blobs > 0) await blobs.core.clear(0, lengths.blobs).catch(() => {})
    if (lengths.meta > 0) await drive.core.clear(0, lengths.meta).catch(() => {})
    await vault.close()
    this.opts.onListChanged()
  }

  // ---------------------------------------------------------------- between spaces

  /**
   * Copies (or moves) a file or folder from one space into a folder of another (or the same)
   * space, as a job. A move deletes the source after the copy committed; the source is never
   * touched when the copy fails.
   */
  transfer (args: { from: string | undefined, path: string, to: string | undefined, into: string, move: boolean }): { job: Job, done: Promise<Job> } {
    const src = this.resolve(args.from)
    const dst = this.resolve(args.to)
    if (src.id === dst.id && args.move) {
      throw DatdotError.invalidArgument('moving inside one space is a rename: use movePath')
    }
    const started = dst.vault.copyFrom(src.vault.drive, args.path, args.into)
    if (!args.move) return started
    const done = started.done.then(async (job) => {
      if (job.state !== 'done') return job
      await src.vault.deletePath(args.path)
      return job
    })
    return { job: started.job, done }
  }

  // ---------------------------------------------------------------- upload sessions, routed by space

  beginUpload (space: string | undefined, dest: string, totals?: UploadTotals): { uploadId: string, job: Job } {
    const { id, vault } = this.resolve(space)
    const r = vault.beginUpload(dest, totals)
    return { ...r, uploadId: `${id}.${r.uploadId}` }
  }

  private uploadVault (uploadId: string): { vault: Vault, inner: string } {
    const dot = uploadId.indexOf('.')
    const vault = dot > 0 ? this.vaults.get(uploadId.slice(0, dot)) : undefined
    if (vault === undefined) throw DatdotError.notFound(`upload ${uploadId.slice(0, 80)}`)
    return { vault, inner: uploadId.slice(dot + 1) }
  }

  async uploadFile (uploadId: string, relativePath: string, source: Readable, declaredBytes: number | null): Promise<{ bytes: number }> {
    const { vault, inner } = this.uploadVault(uploadId)
    return vault.uploadFile(inner, relativePath, source, declaredBytes)
  }

  async commitUpload (uploadId: string): Promise<Job> {
    const { vault, inner } = this.uploadVault(uploadId)
    return vault.commitUpload(inner)
  }

  async abortUpload (uploadId: string): Promise<void> {
    const { vault, inner } = this.uploadVault(uploadId)
    await vault.abortUpload(inner)
  }
}
