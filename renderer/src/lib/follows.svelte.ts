/** Drives the user follows: live status (follow.status), updates (follow.updated), browsing. */
import type { EventData, FollowInfo, FollowMode } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { DriveBrowser } from './drive-browser.svelte.js'
import { toasts } from './toasts.svelte.js'
import { shortKey, summarizePaths } from './format.js'

export class FollowsStore {
  items = $state<FollowInfo[]>([])
  loaded = $state(false)
  selectedKey = $state<string | null>(null)
  /** Keys that changed since the user last looked at them. */
  unseen = $state<Record<string, number>>({})
  readonly selected = $derived(this.items.find((f) => f.key === this.selectedKey) ?? null)
  readonly browser = $derived(this.selectedKey === null ? null : this.#browserFor(this.selectedKey))

  #client: Client
  // A plain cache, not state: #browserFor fills it from inside $derived, where mutating a SvelteMap throws.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- see above
  #browsers = new Map<string, DriveBrowser>()

  constructor (client: Client) {
    this.#client = client
  }

  #browserFor (key: string): DriveBrowser {
    let b = this.#browsers.get(key)
    if (!b) { b = new DriveBrowser(this.#client, key); this.#browsers.set(key, b) }
    return b
  }

  async refresh (): Promise<void> {
    const list = await this.#client.call('listFollows', {})
    this.items = list.sort((a, b) => a.addedMs - b.addedMs)
    this.loaded = true
    if (this.selectedKey !== null && !this.items.some((f) => f.key === this.selectedKey)) this.selectedKey = null
    if (this.browser) await this.browser.load()
  }

  /** Follows a link in a mode; throws the engine's error (INVALID_LINK, ...) for the form to show. */
  async follow (link: string, mode: FollowMode = 'all', folders: string[] = []): Promise<FollowInfo> {
    const info = await this.#client.call('follow', { link: link.trim(), mode, ...(mode === 'folders' ? { folders } : {}) })
    this.upsert(info)
    await this.select(info.key)
    return info
  }

  /** Changes what a follow downloads (to 'folders' with its folders). */
  async setMode (key: string, mode: FollowMode, folders: string[] = []): Promise<void> {
    this.upsert(await this.#client.call('setFollowMode', { key, mode, ...(mode === 'folders' ? { folders } : {}) }))
  }

  /** Names a follow ('' goes back to its label from the key). */
  async rename (key: string, name: string): Promise<void> {
    this.upsert(await this.#client.call('renameFollow', { key, name }))
  }

  /** Pins a folder or file of a followed drive: downloaded now, kept through cache clears. */
  async pin (key: string, path: string): Promise<void> {
    this.upsert(await this.#client.call('pinPath', { key, path }))
  }

  async unpin (key: string, path: string): Promise<void> {
    this.upsert(await this.#client.call('unpinPath', { key, path }))
  }

  async unfollow (key: string, purge: boolean): Promise<void> {
    await this.#client.call('unfollow', { key, purge })
    this.remove(key)
  }

  async select (key: string | null): Promise<void> {
    this.selectedKey = key
    if (key !== null) {
      const { [key]: _seen, ...rest } = this.unseen
      this.unseen = rest
      await this.#browserFor(key).load()
    }
  }

  upsert (info: FollowInfo): void {
    const i = this.items.findIndex((f) => f.key === info.key)
    if (i === -1) this.items = [...this.items, info]
    else this.items = this.items.map((f) => (f.key === info.key ? info : f))
  }

  remove (key: string): void {
    this.items = this.items.filter((f) => f.key !== key)
    this.#browsers.delete(key)
    if (this.selectedKey === key) this.selectedKey = null
  }

  async onUpdated (ev: EventData<'follow.updated'>): Promise<void> {
    const paths = ev.changes.map((c) => c.path)
    const count = ev.truncated ? `${paths.length}+` : String(paths.length)
    const body = paths.length > 0 ? summarizePaths(paths) : `now at version ${ev.version}`
    // The follow's name as the Peers page shows it (the key only while it has none).
    const name = this.items.find((f) => f.key === ev.key)?.label ?? shortKey(ev.key)
    toasts.update(`${name} updated (${count} change${paths.length === 1 ? '' : 's'})`, { body })
    if (this.selectedKey !== ev.key) this.unseen = { ...this.unseen, [ev.key]: (this.unseen[ev.key] ?? 0) + paths.length }
    const b = this.#browsers.get(ev.key)
    if (b && b.pinnedVersion === null) await b.load()
  }
}
