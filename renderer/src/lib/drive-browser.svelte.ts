/**
 * Browsing one drive (a space of the vault, or a followed drive): the current folder, its entries, and
 * optionally a pinned older version (read-only). Loads are sequenced so a slow answer for a
 * folder the user already left never overwrites the newer one.
 *
 * A folder comes a page at a time (listFiles with a cursor): the first page on load, the next
 * ones as the list scrolls (loadMore). A folder that fits on one page is sorted folders first
 * by natural name order; a bigger one stays in the engine's stored (name) order, so pages
 * append without reshuffling what is on screen.
 */
import { FOLDER_MARKER, type Entry } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { toApiError, type ApiError } from './errors.js'
import { parentPath } from './format.js'

/** Entries asked for per page. */
export const PAGE_SIZE = 500
/** A reload asks for what was shown, up to this many (the engine's cap is 10,000). */
const RELOAD_MAX = 5_000

/** A listing without the marker files that keep empty folders (contract-vault.ts FOLDER_MARKER): a folder holding only one shows empty. */
export function shownEntries (entries: Entry[]): Entry[] {
  return entries.filter((e) => !(e.kind === 'file' && e.name === FOLDER_MARKER))
}

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
  /** Cursor of the next page; null when the whole folder is here. */
  next = $state<string | null>(null)
  /** How many entries the folder holds, when the engine counted them (one-page folders). */
  total = $state<number | null>(null)
  loadingMore = $state(false)
  /** The last page that failed to load (the list keeps what it has; loadMore retries). */
  moreError = $state<ApiError | null>(null)
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

  #args (): { path: string, drive?: string, version?: number } {
    const args: { path: string, drive?: string, version?: number } = { path: this.path }
    if (this.drive !== undefined) args.drive = this.drive
    if (this.pinnedVersion !== null) args.version = this.pinnedVersion
    return args
  }

  /** Loads the folder's first page again (as many entries as were shown, so a reload keeps the scroll). */
  async load (): Promise<void> {
    const seq = ++this.#seq
    const path = this.path
    this.loading = true
    this.loadingMore = false
    try {
      const limit = Math.min(RELOAD_MAX, Math.max(PAGE_SIZE, this.entries.length))
      const res = await this.#client.call('listFiles', { ...this.#args(), limit })
      if (seq !== this.#seq) return
      const entries = shownEntries(res.entries)
      this.entries = res.next === null ? sortEntries(entries) : entries
      this.version = res.version
      this.truncated = res.truncated
      this.next = res.next
      this.total = res.total === null ? null : res.total - (res.entries.length - entries.length)
      this.error = null
      this.moreError = null
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
      this.next = null
      this.loaded = true
    } finally {
      if (seq === this.#seq) this.loading = false
    }
  }

  /** Appends the next page, if any (one at a time; dropped if the folder was reloaded meanwhile). */
  async loadMore (): Promise<void> {
    const cursor = this.next
    if (cursor === null || this.loadingMore || this.loading) return
    const seq = this.#seq
    this.loadingMore = true
    try {
      const res = await this.#client.call('listFiles', { ...this.#args(), limit: PAGE_SIZE, cursor })
      if (seq !== this.#seq) return
      this.entries = this.entries.concat(shownEntries(res.entries))
      this.version = res.version
      this.truncated = res.truncated
      this.next = res.next
      this.moreError = null
    } catch (err) {
      if (seq !== this.#seq) return
      const e = toApiError(err)
      // The folder changed under the cursor (gone, or an older engine's cursor): start again.
      if (e.code === 'NOT_FOUND' || e.code === 'INVALID_ARGUMENT') { await this.load(); return }
      this.moreError = e
    } finally {
      if (seq === this.#seq) this.loadingMore = false
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
    this.next = null
    this.total = null
    this.moreError = null
    this.loaded = false
    this.error = null
  }
}
