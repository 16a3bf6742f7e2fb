/**
 * The Backup page's state: the recovery phrase (fetched only when the user asks and confirms,
 * dropped again on hide or when the page is left), the first-start prompt's state (written down,
 * dismissed, and whether this fresh install can still be restored from a phrase), restoring from
 * a phrase typed by the user (the only thing sent is the phrase text), and ending a restore that
 * has nothing left to fetch.
 */
import type { RecoveryPhrase } from '../../../main/shared/contract.js'
import type { BackupState } from '../../../main/shared/contract-app.js'
import type { Client } from './client-types.js'
import { toApiError, type ApiError } from './errors.js'

export class BackupStore {
  /** The phrase while it is on screen; null otherwise. */
  phrase = $state<RecoveryPhrase | null>(null)
  loading = $state(false)
  error = $state<ApiError | null>(null)
  readonly words = $derived(this.phrase === null ? [] : this.phrase.phrase.split(' '))
  /** The prompt's state; null until loaded. */
  state = $state<BackupState | null>(null)
  /** The restore form is open (the prompt's "Restore" button opens it on the Backup page). */
  restoreOpen = $state(false)
  /** A restoreFromPhrase call is running: the node is being replaced. */
  restoreStarting = $state(false)
  restoreError = $state<ApiError | null>(null)
  /** The first-start prompt shows while the phrase is neither written down nor the prompt dismissed. */
  readonly prompting = $derived(this.state?.backup === 'pending')

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

  async loadState (): Promise<void> {
    this.state = await this.#client.call('getBackupState', {})
  }

  /** The user wrote the phrase down, or closed the prompt. */
  async setState (backup: 'backed-up' | 'dismissed'): Promise<void> {
    await this.#client.call('setBackupState', { backup })
    if (this.state !== null) this.state = { ...this.state, backup }
  }

  /**
   * Replaces this fresh install with the vault of `phrase` (the user has confirmed). True when the
   * restore started; on failure `restoreError` says why (never with the phrase) and nothing changed.
   */
  async restore (phrase: string): Promise<boolean> {
    this.restoreStarting = true
    this.restoreError = null
    try {
      await this.#client.call('restoreFromPhrase', { phrase, confirm: true })
      this.restoreOpen = false
      return true
    } catch (err) {
      this.restoreError = toApiError(err)
      return false
    } finally {
      this.restoreStarting = false
      await this.loadState().catch(() => {})
    }
  }

  /** Ends the running restore: the vault can be written again. */
  async finishRestore (): Promise<void> {
    await this.#client.call('finishRestore', { confirm: true })
  }
}
