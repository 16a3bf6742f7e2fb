/**
 * Local seeders on the Hosting page: seeding nodes the node runs on its own local dev chain, so a
 * newcomer's vault has hosters without the command line. Loads their state, follows the
 * 'seeders.status' event, starts (1 to 8) and stops them.
 */
import { LOCAL_SEEDER_LIMITS, type LocalSeedersState } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { handleError, toApiError, type ApiError } from './errors.js'

export class LocalSeedersStore {
  value = $state<LocalSeedersState | null>(null)
  error = $state<ApiError | null>(null)
  /** A start or stop this page asked for is under way. */
  busy = $state(false)
  #client: Client

  constructor (client: Client) {
    this.#client = client
  }

  /**
   * The card shows on a node that can run them, while they run, and while the chain has fewer
   * providers than a plan of one replica needs (unknown before the chain starts: the first run).
   */
  get shown (): boolean {
    const v = this.value
    if (v === null || v.unavailable !== null) return false
    return v.state !== 'off' || v.providers === null || v.providers < v.providersNeeded
  }

  onStatus (status: LocalSeedersState): void { this.value = status }

  async load (): Promise<void> {
    try {
      this.value = await this.#client.call('getLocalSeeders', {})
      this.error = null
    } catch (err) {
      this.error = toApiError(err)
    }
  }

  /** Starts `count` seeders; a bad count is returned (shown by the card), other failures toasted too. */
  async start (count: number): Promise<ApiError | null> {
    if (!Number.isInteger(count) || count < LOCAL_SEEDER_LIMITS.min || count > LOCAL_SEEDER_LIMITS.max) {
      return { code: 'INVALID_ARGUMENT', message: `Seeders: a whole number from ${LOCAL_SEEDER_LIMITS.min} to ${LOCAL_SEEDER_LIMITS.max}.` }
    }
    this.busy = true
    try {
      this.value = await this.#client.call('startLocalSeeders', { count })
      return null
    } catch (err) {
      const e = handleError(err, 'Could not start the local seeders')
      await this.load()
      return e
    } finally {
      this.busy = false
    }
  }

  async stop (): Promise<void> {
    this.busy = true
    try {
      this.value = await this.#client.call('stopLocalSeeders', {})
    } catch (err) {
      handleError(err, 'Could not stop the local seeders')
    } finally {
      this.busy = false
    }
  }
}
