/**
 * The user's apps (own ones and ones opened by link): the list, creating from a template,
 * opening by link, forking, removing, permissions; and which app the editor shows.
 */
import type { AppInfo, AppPermission, AppTemplate } from '../../../main/shared/contract-apps.js'
import type { Client } from './client-types.js'
import { AppEditor } from './app-editor.svelte.js'
import { toApiError } from './api-error.js'

export const TEMPLATES: Array<{ id: AppTemplate, label: string, description: string }> = [
  { id: 'blank', label: 'Blank', description: 'An empty page with the datdot API ready to use.' },
  { id: 'notes', label: 'Notes', description: 'Write notes saved in your own data drive.' },
  { id: 'gallery', label: 'Photo gallery', description: 'Show the photos the app keeps in your vault.' },
  { id: 'social', label: 'Social', description: "Post to your own drive and follow friends' posts: no server." }
]

export const PERMISSIONS: Record<AppPermission, { label: string, detail: string }> = {
  vault: { label: 'Its data', detail: 'Read and write files in its own data drive in your vault.' },
  p2p: { label: 'Peers', detail: 'Follow drives you agree to and read them.' },
  chain: { label: 'Chain', detail: 'See the chain status and your balance.' },
  payments: { label: 'Payments', detail: 'Ask for payments and sponsorships (you confirm each one).' }
}

export class AppsStore {
  items = $state<AppInfo[]>([])
  loaded = $state(false)
  /** Why the list could not be loaded (shown on the page, not as a toast). */
  error = $state<string | null>(null)
  /** The app open in the editor. */
  editor = $state<AppEditor | null>(null)
  readonly #client: Client

  constructor (client: Client) {
    this.#client = client
  }

  /** Loads the list; a failure is kept in `error` for the page to show. */
  async load (): Promise<void> {
    try {
      await this.refresh()
      this.error = null
    } catch (err) {
      this.error = toApiError(err).message
    }
  }

  async refresh (): Promise<void> {
    const { apps } = await this.#client.call('listApps', {})
    this.items = apps
    this.loaded = true
    const ed = this.editor
    if (ed) {
      const info = apps.find((a) => a.id === ed.app.id)
      if (info) ed.setInfo(info)
    }
  }

  upsert (info: AppInfo): void {
    const i = this.items.findIndex((a) => a.id === info.id)
    this.items = i === -1 ? [info, ...this.items] : this.items.map((a) => (a.id === info.id ? info : a))
    if (this.editor?.app.id === info.id) this.editor.setInfo(info)
  }

  async create (name: string, template: AppTemplate): Promise<AppInfo> {
    const info = await this.#client.call('createApp', { name: name.trim(), template })
    this.upsert(info)
    return info
  }

  async openLink (link: string): Promise<AppInfo> {
    const info = await this.#client.call('openAppLink', { link: link.trim() })
    this.upsert(info)
    return info
  }

  async fork (id: string, name?: string): Promise<AppInfo> {
    const info = await this.#client.call('forkApp', name === undefined ? { app: id } : { app: id, name })
    this.upsert(info)
    return info
  }

  async remove (id: string, keepData: boolean): Promise<void> {
    await this.#client.call('removeApp', { app: id, keepData, confirm: true })
    this.items = this.items.filter((a) => a.id !== id)
    if (this.editor?.app.id === id) await this.close()
  }

  async setPermission (id: string, permission: AppPermission, granted: boolean): Promise<void> {
    this.upsert(await this.#client.call('setAppPermission', { app: id, permission, granted }))
  }

  /** Opens an app in the editor (closing the one shown: its preview stops). */
  async edit (info: AppInfo): Promise<AppEditor> {
    await this.close()
    const ed = new AppEditor(this.#client, info)
    this.editor = ed
    await ed.load()
    return ed
  }

  async close (): Promise<void> {
    const ed = this.editor
    this.editor = null
    await ed?.dispose()
  }
}
