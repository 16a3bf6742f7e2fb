/**
 * The Backup page's state: the recovery phrase (fetched only when the user asks and confirms,
 * dropped again on hide or when the page is left) and ending a restore that has nothing left to
 * fetch.
 */
import type { RecoveryPhrase } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { toApiError, type ApiError } from './errors.js'

export class BackupStore {
  /** The phrase while it is on screen; null otherwise. */
  phrase = $state<RecoveryPhrase | null>(null)
  loading = $state(false)
  error = $state<ApiError | null>(null)
  readonly words = $derived(this.phrase === null ? [] : this.phrase.phrase.split(' '))

  #client: Client

  constructor (client: Client) {
    this.#client = client
  }

  /** Fetches the phrase (the user has confirmed). */
  async reveal (): Promise<void> {
    this.loading = true
    this.error = null
    try {
      this.phrase = await this.#client.call('getRecoveryPhrase', { confirm: true })
    } catch (err) {
      this.error = toApiError(err)
    } finally {
      this.loading = false
    }
  }

  /** Takes the phrase off the screen and out of memory. */
  hide (): void {
    this.phrase = null
  }

  /** Ends the running restore: the vault can be written again. */
  async finishRestore (): Promise<void> {
    await this.#client.call('finishRestore', { confirm: true })
  }
}
