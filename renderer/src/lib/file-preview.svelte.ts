/**
 * The file preview's state: which file is shown, its download URL (a ticket the server lets a
 * media player reuse for its many Range requests, so audio and video play while they arrive
 * from a followed drive), how it is shown (by its extension), and, for text, its first bytes.
 */
import type { Entry } from '../../../main/shared/contract.js'
import { previewKind, type PreviewKind } from '../../../main/shared/media-types.js'
import type { Client } from './client-types.js'
import { toApiError, type ApiError } from './errors.js'
import type { FileRef } from './transfer.js'

/** Text is shown up to this many bytes (asked as one range, so a huge log costs little). */
export const TEXT_PREVIEW_BYTES = 256 * 1024

export class FilePreview {
  entry = $state<Entry | null>(null)
  ref = $state<FileRef | null>(null)
  kind = $state<PreviewKind>('none')
  url = $state<string | null>(null)
  text = $state<string | null>(null)
  /** The text shown is the file's start only. */
  truncated = $state(false)
  loading = $state(false)
  error = $state<ApiError | null>(null)
  /** A media element or image failed to load or decode. */
  broken = $state(false)

  #client: Client
  #seq = 0

  constructor (client: Client) {
    this.#client = client
  }

  get open (): boolean { return this.entry !== null }

  /** Shows `entry` (at `ref`); a later open() wins over a slower earlier one. */
  async show (ref: FileRef, entry: Entry): Promise<void> {
    const seq = ++this.#seq
    this.entry = entry
    this.ref = ref
    this.kind = previewKind(entry.name)
    this.url = null
    this.text = null
    this.truncated = false
    this.error = null
    this.broken = false
    if (this.kind === 'none') return
    this.loading = true
    try {
      const { url } = await this.#client.call('createDownloadUrl', ref)
      if (seq !== this.#seq) return
      const inline = `${url}?inline=1`
      if (this.kind === 'text') await this.#loadText(inline, entry.size, seq)
      else this.url = inline
    } catch (err) {
      if (seq === this.#seq) this.error = toApiError(err)
    } finally {
      if (seq === this.#seq) this.loading = false
    }
  }

  async #loadText (url: string, size: number, seq: number): Promise<void> {
    const ranged = size > TEXT_PREVIEW_BYTES
    const res = await fetch(url, ranged ? { headers: { Range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}` } } : {})
    if (!res.ok) throw new Error(`the file could not be read (HTTP ${res.status})`)
    const text = new TextDecoder('utf-8', { fatal: false }).decode(await res.arrayBuffer())
    if (seq !== this.#seq) return
    this.text = text
    this.truncated = ranged
  }

  close (): void {
    this.#seq++
    this.entry = null
    this.ref = null
    this.url = null
    this.text = null
    this.loading = false
  }
}
