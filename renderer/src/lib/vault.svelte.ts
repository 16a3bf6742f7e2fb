/** The user's own drive: summary, share link, the folder being browsed, version history. */
import type { EventData, HistoryItem, VaultInfo } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { DriveBrowser } from './drive-browser.svelte.js'
import { toApiError, type ApiError } from './errors.js'

export class VaultStore {
  info = $state<VaultInfo | null>(null)
  readonly browser: DriveBrowser
  history = $state<HistoryItem[]>([])
  historyLoaded = $state(false)
  historyError = $state<ApiError | null>(null)
  historyOpen = $state(false)
  /** Set on the first vault.changed after load, to flash the list; cleared by the UI. */
  lastChange = $state<EventData<'vault.changed'> | null>(null)

  readonly link = $derived(this.info?.link ?? '')
  readonly isEmpty = $derived(this.info !== null && this.info.files === 0)

  #client: Client

  constructor (client: Client) {
    this.#client = client
    this.browser = new DriveBrowser(client)
  }

  async refresh (): Promise<void> {
    const [info] = await Promise.all([
      this.#client.call('getVault', {}),
      this.browser.load(),
      this.historyOpen ? this.loadHistory() : Promise.resolve()
    ])
    this.info = info
  }

  async loadHistory (): Promise<void> {
    try {
      const res = await this.#client.call('history', { limit: 200 })
      this.history = res.items
      this.historyError = null
    } catch (err) {
      this.historyError = toApiError(err)
    } finally {
      this.historyLoaded = true
    }
  }

  async toggleHistory (): Promise<void> {
    this.historyOpen = !this.historyOpen
    if (this.historyOpen) await this.loadHistory()
    else if (this.browser.pinnedVersion !== null) await this.browser.pin(null)
  }

  async onChanged (ev: EventData<'vault.changed'>): Promise<void> {
    this.lastChange = ev
    if (this.info) this.info = { ...this.info, version: ev.version }
    await Promise.all([
      this.#client.call('getVault', {}).then((info) => { this.info = info }),
      this.browser.pinnedVersion === null ? this.browser.load() : Promise.resolve(),
      this.historyOpen ? this.loadHistory() : Promise.resolve()
    ])
  }

  async remove (path: string): Promise<number> {
    const res = await this.#client.call('deletePath', { path })
    return res.deleted
  }

  async move (from: string, to: string): Promise<number> {
    const res = await this.#client.call('movePath', { from, to })
    return res.moved
  }
}
