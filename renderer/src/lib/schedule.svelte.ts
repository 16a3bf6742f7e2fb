/**
 * The availability schedule on the Hosting page: the hours in force and a change waiting to hold
 * (as the chain has them, in UTC), the user's edit in local hours, and saving it on chain.
 */
import type { AvailabilitySchedule } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { handleError, toApiError, type ApiError } from './errors.js'
import { localOffsetMin, localToUtc, utcToLocal } from './schedule-time.js'

export class ScheduleStore {
  value = $state<AvailabilitySchedule | null>(null)
  error = $state<ApiError | null>(null)
  saving = $state(false)
  #client: Client
  #offsetMin: number

  constructor (client: Client, timezoneOffsetMin = localOffsetMin()) {
    this.#client = client
    this.#offsetMin = timezoneOffsetMin
  }

  get offsetMin (): number { return this.#offsetMin }

  /** The hours that will hold last (the waiting change, else the ones in force), in local time. */
  get localHours (): number[] {
    const v = this.value
    if (v === null) return []
    return utcToLocal(v.next?.hours ?? v.hours, this.#offsetMin)
  }

  async load (): Promise<void> {
    try {
      this.value = await this.#client.call('getSchedule', {})
      this.error = null
    } catch (err) {
      this.error = toApiError(err)
    }
  }

  /** Saves local hours; a refusal is returned (and shown by the caller), a failure toasted. */
  async save (localHours: number[]): Promise<ApiError | null> {
    this.saving = true
    try {
      this.value = await this.#client.call('setSchedule', { hours: localToUtc(localHours, this.#offsetMin) })
      return null
    } catch (err) {
      const e = toApiError(err)
      if (e.code !== 'INVALID_ARGUMENT') handleError(err, 'Could not save the schedule')
      return e
    } finally {
      this.saving = false
    }
  }
}
