/**
 * Browsing one drive (a space of the vault, or a followed drive): the current folder, its entries, and
 * optionally a pinned older version (read-only). Loads are sequenced so a slow answer for a
 * folder the user already left never overwrites the newer one.
 */
import type { Entry } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { toApiError, type ApiError } from './errors.js'
import { parentPath } from './format.js'

export function sortEntries (entries: Entry[]): Entry[] {
  return [...entries].sort((a, b) => {
    if (a.kind !== b.kind) return a.kind === 'folder' ? -1 : 1
    return a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' })
  })
}

export class DriveBrowser {
  /** Drive key, undefined for the home space. */
  readonly drive: string | undefined
  /** One of the vault's own spaces (writable), not a followed drive. */
  readonly own: boolean
  path = $state('/')
  /** Version pinned for read-only browsing; null follows the live drive. */
  pinnedVersion = $state<number | null>(null)
  entries = $state<Entry[]>([])
  /** Version the listing was taken at. */
  version = $state(0)
  truncated = $state(false)
  loading = $state(false)
  loaded = $state(false)
  error = $state<ApiError | null>(null)

  #client: Client
  #seq = 0

  constructor (client: Client, drive?: string, own = drive === undefined) {
    this.#client = client
    this.drive = drive
    this.own = own
  }

  /** Followed drives and pinned versions cannot be changed. */
  get readOnly (): boolean {
    return !this.own || this.pinnedVersion !== null
  }

  async load (): Promise<void> {
    const seq = ++this.#seq
    const path = this.path
    this.loading = true
    try {
      const args: { path: string, drive?: string, version?: number } = { path }
      if (this.drive !== undefined) args.drive = this.drive
      if (this.pinnedVersion !== null) args.version = this.pinnedVersion
      const res = await this.#client.call('listFiles', args)
      if (seq !== this.#seq) return
      this.entries = sortEntries(res.entries)
      this.version = res.version
      this.truncated = res.truncated
      this.error = null
      this.loaded = true
    } catch (err) {
      if (seq !== this.#seq) return
      const e = toApiError(err)
      // The folder we were in is gone (deleted, moved, or absent at this version): go up.
      if ((e.code === 'NOT_FOUND' || e.code === 'NOT_A_FOLDER') && path !== '/') {
        this.path = parentPath(path)
        await this.load()
        return
      }
      this.error = e
      this.entries = []
      this.loaded = true
    } finally {
      if (seq === this.#seq) this.loading = false
    }
  }

  /** Shows another folder; the old listing is not shown under the new name meanwhile. */
  async open (path: string): Promise<void> {
    if (path !== this.path) this.#clear()
    this.path = path
    await this.load()
  }

  /** Browses the drive as it was at `version` (read-only), or live again with null. */
  async pin (version: number | null): Promise<void> {
    if (version !== this.pinnedVersion) this.#clear()
    this.pinnedVersion = version
    await this.load()
  }

  #clear (): void {
    this.entries = []
    this.loaded = false
    this.error = null
  }
}
