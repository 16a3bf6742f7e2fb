/**
 * The app API, scoped to one app (apps.ts): its own data drive (list, read, write, delete, share)
 * and the drives it followed itself (follow, list, read). An app never names a space: paths are
 * checked with paths.ts and always land in that app's 'app-data' space, made on its first write;
 * a followed drive is readable only by the app that followed it (FORBIDDEN for any other key).
 * Each call needs the app's permission ('vault' or 'p2p'), granted by the user through the host.
 * Sizes are bounded by APP_LIMITS (Apps.limits) (a write, the whole data drive, a read of a followed file).
 */
import type Hyperdrive from 'hyperdrive'
import type { Entry } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import type { Vault } from './vault.js'
import { drivePath, keyId, parseLink } from './paths.js'
import { listFolder } from './drive-list.js'
import type { AppHandle, Apps } from './apps.js'

export type DataEncoding = 'utf8' | 'base64'

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/
/** Entries one list returns at most. */
const LIST_LIMIT = 1000
/** How long a read of a followed drive waits for a block from a peer. */
const READ_TIMEOUT_MS = 15_000

function decode (data: string, encoding: DataEncoding): Buffer {
  if (encoding === 'utf8') return Buffer.from(data, 'utf8')
  if (data.length % 4 !== 0 || !BASE64_RE.test(data)) throw DatdotError.invalidArgument('data is not valid base64')
  return Buffer.from(data, 'base64')
}

/** A folder's entries; a folder that is not there lists as empty. */
async function listOrEmpty (drive: Hyperdrive, path: string): Promise<Entry[]> {
  try {
    return (await listFolder(drive, path, { recursive: false, limit: LIST_LIMIT })).entries
  } catch (err) {
    if (err instanceof DatdotError && err.code === 'NOT_FOUND') return []
    throw err
  }
}

/** A file's bytes, at most `limit` of them (TOO_LARGE beyond); NOT_FOUND or NOT_A_FILE otherwise. */
async function readBounded (drive: Hyperdrive, path: string, limit: number, opts: Record<string, unknown>): Promise<Buffer> {
  const p = drivePath(path)
  if (p === '/') throw DatdotError.notAFile(p)
  const node = await drive.entry(p, opts)
  if (node === null) {
    if ((await listOrEmpty(drive, p)).length > 0) throw DatdotError.notAFile(p)
    throw DatdotError.notFound(p)
  }
  if (node.value.blob === null) throw DatdotError.notAFile(p)
  if (node.value.blob.byteLength > limit) throw DatdotError.tooLarge(`file ${p}`, limit)
  const data = await drive.get(p, opts)
  if (data === null) throw DatdotError.notFound(p)
  return data
}

export class AppData {
  /** Data spaces being made (one per app, even when two writes come at once). */
  private readonly making = new Map<string, Promise<Vault>>()

  constructor (private readonly apps: Apps) {}

  /** The app's data space, made on first use when `create`; null when it has none yet. */
  private async dataVault (a: AppHandle, create: boolean): Promise<Vault | null> {
    const r = this.apps.dataRecord(a.key)
    if (r !== undefined) return this.apps.spaces.resolve(r.id).vault
    if (!create) return null
    const pending = this.making.get(a.key)
    if (pending !== undefined) return await pending
    const make = (async () => {
      const appName = (await this.apps.info(a)).name
      const name = this.apps.spaces.freeName(`${appName.replace(/[/\\]/g, '-')} data`)
      const info = await this.apps.spaces.create(name, 'private', { kind: 'app-data', app: a.link, appName })
      this.apps.changed()
      return this.apps.spaces.resolve(info.id).vault
    })()
    this.making.set(a.key, make)
    try {
      return await make
    } finally {
      this.making.delete(a.key)
    }
  }

  async list (app: string, path: string): Promise<Entry[]> {
    const a = this.apps.assertGranted(app, 'vault')
    const p = drivePath(path)
    const vault = await this.dataVault(a, false)
    return vault === null ? [] : await listOrEmpty(vault.drive, p)
  }

  async read (app: string, path: string, encoding: DataEncoding): Promise<{ encoding: DataEncoding, data: string }> {
    const a = this.apps.assertGranted(app, 'vault')
    const p = drivePath(path)
    const vault = await this.dataVault(a, false)
    if (vault === null) throw DatdotError.notFound(p)
    const data = await readBounded(vault.drive, p, this.apps.limits.dataDriveBytes, {})
    return { encoding, data: data.toString(encoding) }
  }

  async write (app: string, path: string, data: string, encoding: DataEncoding): Promise<{ version: number }> {
    const a = this.apps.assertGranted(app, 'vault')
    const p = drivePath(path)
    if (p === '/') throw DatdotError.invalidPath(path, 'a file needs a name')
    if (data.length > this.apps.limits.dataWriteBytes * 2) throw DatdotError.tooLarge('one app data write', this.apps.limits.dataWriteBytes)
    const bytes = decode(data, encoding)
    if (bytes.length > this.apps.limits.dataWriteBytes) throw DatdotError.tooLarge('one app data write', this.apps.limits.dataWriteBytes)
    const vault = await this.dataVault(a, true) as Vault
    const before = await vault.info()
    const existing = await vault.drive.entry(p)
    if (existing === null && (await listOrEmpty(vault.drive, p)).length > 0) throw DatdotError.alreadyExists(`${p} (a folder)`)
    const after = before.bytes - (existing?.value.blob?.byteLength ?? 0) + bytes.length
    if (after > this.apps.limits.dataDriveBytes) throw DatdotError.tooLarge(`this app's data drive (${before.bytes} bytes used)`, this.apps.limits.dataDriveBytes)
    return { version: await vault.writeBatch([{ path: p, data: bytes }]) }
  }

  async delete (app: string, path: string): Promise<{ version: number }> {
    const a = this.apps.assertGranted(app, 'vault')
    const p = drivePath(path)
    const vault = await this.dataVault(a, false)
    if (vault === null) throw DatdotError.notFound(p)
    return { version: (await vault.deletePath(p)).version }
  }

  /** Shares the app's data drive (its space becomes shared) and returns its link. */
  async link (app: string): Promise<{ link: string }> {
    const a = this.apps.assertGranted(app, 'vault')
    const vault = await this.dataVault(a, true) as Vault
    const space = this.apps.spaces.byKey(vault.id)
    if (space === null) throw DatdotError.closed('app data space')
    if (this.apps.spaces.index.get(space.id)?.visibility === 'private') await this.apps.spaces.update(space.id, { visibility: 'shared' })
    return { link: this.apps.spaces.share(space.id, '/') }
  }

  // ---------------------------------------------------------------- followed drives

  /** Follows a drive for this app (persisted; at most `limits.appFollows` per app). */
  async follow (app: string, link: string): Promise<{ key: string }> {
    const a = this.apps.assertGranted(app, 'p2p')
    const parsed = parseLink(link)
    if (this.apps.spaces.byKey(parsed.id) !== null) throw DatdotError.invalidArgument('that link is one of your own spaces: an app follows other people\'s drives')
    const followed = this.apps.store.follows(a.id)
    if (!followed.includes(parsed.id) && followed.length >= this.apps.limits.appFollows) throw DatdotError.limitReached('drives followed by one app', this.apps.limits.appFollows)
    await this.apps.follows.follow(link)
    this.apps.store.addFollow(a.id, parsed.id, this.apps.now())
    return { key: parsed.id }
  }

  /** A drive this app followed, readable; FORBIDDEN for any key it did not follow. */
  private async followed (app: string, key: string): Promise<Hyperdrive> {
    const a = this.apps.assertGranted(app, 'p2p')
    let id: string
    try { id = keyId(key) } catch { throw DatdotError.forbidden('this app did not follow that drive') }
    if (!this.apps.store.hasFollow(a.id, id)) throw DatdotError.forbidden(`this app did not follow the drive ${id.slice(0, 12)}…: it may read only drives it followed`)
    const f = this.apps.follows.get(id)
    await f.assertReadable()
    return f.drive
  }

  async followedList (app: string, key: string, path: string): Promise<Entry[]> {
    const p = drivePath(path)
    return listOrEmpty(await this.followed(app, key), p)
  }

  async followedRead (app: string, key: string, path: string, encoding: DataEncoding): Promise<{ encoding: DataEncoding, data: string }> {
    const drive = await this.followed(app, key)
    const data = await readBounded(drive, path, this.apps.limits.dataWriteBytes, { timeout: READ_TIMEOUT_MS })
    return { encoding, data: data.toString(encoding) }
  }
}
