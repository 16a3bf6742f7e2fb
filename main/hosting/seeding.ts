/**
 * Checking a "rent my disk" request: seeding on needs positive storage and bandwidth limits, a
 * region of 1 to 32 characters and some of the three roles; seeding off keeps the last limits.
 * The disk limit must fit in the storage folder: at most its free space plus what this node's
 * hosting already holds there. Pure: the service registers or unregisters with what this returns.
 */
import { DatdotError, formatBytes } from '../shared/errors.js'
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

/**
 * Refuses a disk limit that is not a positive whole number of bytes, or that is more than the
 * storage folder can hold: its free space (statfs) plus `usedBytes` already hosted there.
 * INVALID_ARGUMENT with `details.why` ('not-a-number', 'not-positive', 'above-free-space').
 */
export function checkDiskLimit (storageBytes: unknown, disk: { freeBytes: number, usedBytes: number }): number {
  if (typeof storageBytes !== 'number' || !Number.isSafeInteger(storageBytes)) throw DatdotError.invalidArgument('the disk limit must be a whole number of bytes', { why: 'not-a-number' })
  if (storageBytes <= 0) throw DatdotError.invalidArgument('the disk limit must be above 0', { why: 'not-positive' })
  const room = Math.max(0, disk.freeBytes) + Math.max(0, disk.usedBytes)
  if (storageBytes > room) {
    throw DatdotError.invalidArgument(`the disk limit of ${formatBytes(storageBytes)} is more than the storage folder has free (${formatBytes(room)})`, { why: 'above-free-space', storageBytes, freeBytes: room })
  }
  return storageBytes
}
