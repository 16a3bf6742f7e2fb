/**
 * Checking a "rent my disk" request: seeding on needs positive storage and bandwidth limits, a
 * region of 1 to 32 characters and some of the three roles; seeding off keeps the last limits.
 * Pure: the service registers or unregisters with what this returns.
 */
import { DatdotError } from '../shared/errors.js'
import type { RoleName } from '../chain/records.js'
import type { HostingSettings } from './config.js'

export interface SeedingRequest {
  on: boolean
  storageBytes?: number
  bandwidthBps?: number
  region?: string
  /** The roles to register in; default all three (tests register single-role providers). */
  roles?: RoleName[]
}

export const ALL_ROLES: readonly RoleName[] = ['encoder', 'hoster', 'attestor']

/** The settings after `req`, and the roles to register in. INVALID_ARGUMENT names the bad field. */
export function checkSeeding (req: SeedingRequest, current: HostingSettings): { settings: HostingSettings, roles: RoleName[] } {
  const next: HostingSettings = {
    seeding: req.on,
    storageBytes: req.storageBytes ?? current.storageBytes,
    bandwidthBps: req.bandwidthBps ?? current.bandwidthBps,
    region: req.region ?? current.region
  }
  if (next.seeding && (!Number.isSafeInteger(next.storageBytes) || next.storageBytes <= 0)) throw DatdotError.invalidArgument('storageBytes must be a positive whole number')
  if (next.seeding && (!Number.isSafeInteger(next.bandwidthBps) || next.bandwidthBps <= 0)) throw DatdotError.invalidArgument('bandwidthBps must be a positive whole number')
  if (next.region.length === 0 || next.region.length > 32) throw DatdotError.invalidArgument('region must be 1 to 32 characters')
  const roles: RoleName[] = req.roles ?? [...ALL_ROLES]
  if (roles.length === 0 || roles.some((r) => !ALL_ROLES.includes(r))) throw DatdotError.invalidArgument('roles must be some of encoder, hoster, attestor')
  return { settings: next, roles }
}
