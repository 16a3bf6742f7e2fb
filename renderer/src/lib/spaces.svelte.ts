/**
 * The vault's spaces (main/engine/spaces.ts): the list, which one the Vault page shows (the
 * first private space by default, remembered across page switches), and the changes to the list
 * (create, rename, private <-> shared, delete) and between spaces (copy or move a file or folder).
 */
import type { Job, SpaceInfo, Visibility } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { toApiError } from './api-error.js'

/** The id of the home space (plain, public; it cannot be deleted). */
export const HOME_SPACE = 'home'

/** What each visibility means, in the words the UI uses everywhere. */
export const VISIBILITY: Record<Visibility, { label: string, meaning: string, detail: string }> = {
  private: {
    label: 'Private',
    meaning: 'Only you',
    detail: 'Encrypted. No link is given out: only this vault (and your recovery phrase) can read it.'
  },
  shared: {
    label: 'Shared',
    meaning: 'Anyone with the link',
    detail: 'Encrypted. Its link carries the key: whoever has the link reads every file in it.'
  },
  public: {
    label: 'Public',
    meaning: 'Anyone with the link · not encrypted',
    detail: 'Not encrypted. Anyone with the link, and any peer that stores it, can read it.'
  }
}

/** A failed create or rename as the dialog says it: a taken name in plain words, not the engine's "Already exists: space X". */
export function spaceNameError (err: unknown, name: string): string {
  const e = toApiError(err)
  return e.code === 'ALREADY_EXISTS' ? `You already have a space called "${name.trim()}". Pick another name.` : e.message
}

export class SpacesStore {
  items = $state<SpaceInfo[]>([])
  loaded = $state(false)
  /** The list itself is still coming back with a restore. */
  restoringList = $state(false)
  /** The space the Vault page shows; null until the list is loaded. */
  selectedId = $state<string | null>(null)
  readonly selected = $derived(this.items.find((s) => s.id === this.selectedId) ?? null)
  /** A running restore over every space and the list itself: blocks here and known so far; null when none runs. */
  readonly restore = $derived.by(() => {
    const busy = this.items.filter((s) => s.restoring !== null)
    if (busy.length === 0 && !this.restoringList) return null
    let blocksHere = 0
    let blocksKnown = 0
    for (const s of busy) {
      blocksHere += s.restoring?.blocksHere ?? 0
      blocksKnown += s.restoring?.blocksKnown ?? 0
    }
    return { spaces: busy.length, blocksHere, blocksKnown, list: this.restoringList }
  })

  #client: Client

  constructor (client: Client) {
    this.#client = client
  }

  async refresh (): Promise<void> {
    const res = await this.#client.call('listSpaces', {})
    this.items = res.spaces
    this.restoringList = res.restoringList
    this.loaded = true
    if (this.selectedId === null || !this.items.some((s) => s.id === this.selectedId)) this.selectedId = this.#defaultId()
  }

  /** The first private space, else the first encrypted one, else the home space. */
  #defaultId (): string | null {
    const pick = this.items.find((s) => s.visibility === 'private') ??
      this.items.find((s) => s.encrypted) ??
      this.items.find((s) => s.id === HOME_SPACE) ??
      this.items[0]
    return pick?.id ?? null
  }

  select (id: string): void {
    this.selectedId = id
  }

  byId (id: string): SpaceInfo | null {
    return this.items.find((s) => s.id === id) ?? null
  }

  #upsert (info: SpaceInfo): void {
    const i = this.items.findIndex((s) => s.id === info.id)
    this.items = i === -1 ? [...this.items, info] : this.items.map((s) => (s.id === info.id ? info : s))
  }

  async create (name: string, visibility: Visibility): Promise<SpaceInfo> {
    const info = await this.#client.call('createSpace', { name, visibility })
    this.#upsert(info)
    return info
  }

  async rename (id: string, name: string): Promise<SpaceInfo> {
    const info = await this.#client.call('updateSpace', { space: id, name })
    this.#upsert(info)
    return info
  }

  /** Private <-> shared (public spaces stay public: the engine refuses and says why). */
  async setVisibility (id: string, visibility: Visibility): Promise<SpaceInfo> {
    const info = await this.#client.call('updateSpace', { space: id, visibility })
    this.#upsert(info)
    return info
  }

  async remove (id: string): Promise<void> {
    await this.#client.call('deleteSpace', { space: id, confirm: true })
    this.items = this.items.filter((s) => s.id !== id)
    if (this.selectedId === id) this.selectedId = this.#defaultId()
  }

  /** Copies (or moves) a file or folder of one space into a folder of another, as a job. */
  async transfer (args: { from: string, path: string, to: string, into: string, move: boolean }): Promise<Job> {
    return await this.#client.call('transferPath', { ...args, wait: false })
  }
}
