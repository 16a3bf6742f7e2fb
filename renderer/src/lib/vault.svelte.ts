/**
 * The user's own vault: its spaces (spaces.svelte.ts), the folder being browsed in the selected
 * space (one DriveBrowser per space, so each keeps its folder), that space's history, and the
 * home space's summary (getVault: a running restore shows there).
 */
import type { EventData, HistoryItem, SpaceInfo, VaultInfo, Visibility } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { DriveBrowser } from './drive-browser.svelte.js'
import { toApiError, type ApiError } from './errors.js'
import { HOME_SPACE, SpacesStore } from './spaces.svelte.js'

export class VaultStore {
  /** The home space's summary; `restoring` is set while a restore from the phrase runs. */
  info = $state<VaultInfo | null>(null)
  readonly spaces: SpacesStore
  history = $state<HistoryItem[]>([])
  historyLoaded = $state(false)
  historyError = $state<ApiError | null>(null)
  historyOpen = $state(false)
  /** The last vault.changed of the selected space. */
  lastChange = $state<EventData<'vault.changed'> | null>(null)


  #client: Client
  // A plain cache, not state: #browserFor fills it from inside $derived, where mutating a SvelteMap throws.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- see above
  #browsers = new Map<string, DriveBrowser>()
  #historySeq = 0

  constructor (client: Client) {
    this.#client = client
    this.spaces = new SpacesStore(client)
  }

  /** The space the Vault page shows (reactive: spaces.selected is derived). */
  get space (): SpaceInfo | null {
    return this.spaces.selected
  }

  /** The folder shown in the selected space; each space keeps its own. */
  get browser (): DriveBrowser {
    return this.#browserFor(this.spaces.selected)
  }

  /** The selected space's link ('' for a private space). */
  get link (): string {
    return this.space?.link ?? ''
  }

  /** The browser of a space (the home space's until the list is loaded). */
  #browserFor (space: SpaceInfo | null): DriveBrowser {
    const id = space?.id ?? ''
    let b = this.#browsers.get(id)
    if (!b) {
      b = space === null ? new DriveBrowser(this.#client) : new DriveBrowser(this.#client, space.key, true)
      this.#browsers.set(id, b)
    }
    return b
  }

  async refresh (): Promise<void> {
    await this.spaces.refresh()
    const [info] = await Promise.all([
      this.#client.call('getVault', {}),
      this.browser.load(),
      this.historyOpen ? this.loadHistory() : Promise.resolve()
    ])
    this.info = info
  }

  /** Shows another space (its folder and history). */
  async select (id: string): Promise<void> {
    if (id === this.spaces.selectedId) return
    this.spaces.select(id)
    this.history = []
    this.historyLoaded = false
    await Promise.all([this.browser.load(), this.historyOpen ? this.loadHistory() : Promise.resolve()])
  }

  async loadHistory (): Promise<void> {
    const seq = ++this.#historySeq
    const drive = this.space?.key
    try {
      const res = await this.#client.call('history', drive === undefined ? { limit: 200 } : { drive, limit: 200 })
      if (seq !== this.#historySeq) return
      this.history = res.items
      this.historyError = null
    } catch (err) {
      if (seq !== this.#historySeq) return
      this.historyError = toApiError(err)
    } finally {
      if (seq === this.#historySeq) this.historyLoaded = true
    }
  }

  async toggleHistory (): Promise<void> {
    this.historyOpen = !this.historyOpen
    if (this.historyOpen) await this.loadHistory()
    else if (this.browser.pinnedVersion !== null) await this.browser.pin(null)
  }

  /** A space changed: its counts, and its files and history when it is the one shown. */
  async onChanged (ev: EventData<'vault.changed'>): Promise<void> {
    const shown = ev.space === this.spaces.selectedId
    if (shown) this.lastChange = ev
    await Promise.all([
      this.spaces.refresh(),
      this.#client.call('getVault', {}).then((info) => { this.info = info }),
      shown && this.browser.pinnedVersion === null ? this.browser.load() : Promise.resolve(),
      shown && this.historyOpen ? this.loadHistory() : Promise.resolve()
    ])
  }

  /** Lists the shown folder again if it is `dest` of space `space` (undefined: the home space) and live. */
  async reloadIfShown (space: string | undefined, dest: string): Promise<void> {
    const b = this.browser
    const shown = (space ?? HOME_SPACE) === this.spaces.selectedId
    if (shown && b.path === dest && b.pinnedVersion === null) await b.load()
  }

  /** The list of spaces changed (here or through a restore). */
  async onSpacesChanged (): Promise<void> {
    const before = this.spaces.selectedId
    await this.spaces.refresh()
    for (const id of [...this.#browsers.keys()]) if (id !== '' && this.spaces.byId(id) === null) this.#browsers.delete(id)
    if (this.spaces.selectedId !== before) await this.browser.load()
  }

  /** Creates a space and shows it. */
  async createSpace (name: string, visibility: Visibility): Promise<SpaceInfo> {
    const info = await this.spaces.create(name, visibility)
    await this.select(info.id)
    return info
  }

  async deleteSpace (id: string): Promise<void> {
    await this.spaces.remove(id)
    this.#browsers.delete(id)
    await this.browser.load()
  }

  /** Deletes a file or folder of the selected space; `before` is the version an undo restores from. */
  async remove (path: string): Promise<{ deleted: number, before: number, space: string | undefined }> {
    const space = this.#spaceId()
    const res = await this.#client.call('deletePath', { space, path })
    return { deleted: res.deleted, before: res.before, space }
  }

  /** Puts a file or folder of a space back as it was at `version` (an undo, or from the history). */
  async restore (path: string, version: number, space: string | undefined = this.#spaceId()): Promise<number> {
    const res = await this.#client.call('restorePath', { space, path, version })
    return res.restored
  }

  /** Creates an empty folder `name` in `parent` of the space shown; a bad or taken name is thrown (the dialog shows why). */
  async createFolder (parent: string, name: string): Promise<string> {
    const space = this.#spaceId()
    const res = await this.#client.call('createFolder', { space, parent, name })
    await this.reloadIfShown(space, parent)
    return res.path
  }

  async move (from: string, to: string): Promise<number> {
    const res = await this.#client.call('movePath', { space: this.#spaceId(), from, to })
    return res.moved
  }

  #spaceId (): string | undefined {
    return this.spaces.selectedId ?? undefined
  }
}
