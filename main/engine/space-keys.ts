/**
 * The keys of a vault's spaces, all derived from the Corestore primary key (the recovery phrase),
 * so that a restore on a new machine re-creates every space from the phrase and the space index:
 *   - a space's drive lives in its own Corestore namespace (its signing keys derive from it);
 *   - an encrypted space's read key (Hyperdrive's block `encryptionKey`) is an HMAC-SHA256 of
 *     its id under the primary key;
 *   - the space index (space-index.ts) is an encrypted core with a key derived the same way.
 * The home space keeps the namespace every vault had before spaces ('vault'), so an older
 * vault's drive is its home space, with the same key and followers.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { DatdotError } from '../shared/errors.js'

/** The id of the home space: the vault's first drive (plain, as every vault's drive was before spaces). */
export const HOME_SPACE_ID = 'home'
/** A space id: 'home', or 16 lower-case hex characters. */
export const SPACE_ID_RE = /^(home|[0-9a-f]{16})$/

export function newSpaceId (): string {
  return randomBytes(8).toString('hex')
}

export function assertSpaceId (id: string): void {
  if (!SPACE_ID_RE.test(id)) throw DatdotError.invalidArgument(`not a space id: ${id.slice(0, 40)}`)
}

/** The Corestore namespace of a space's drive. */
export function spaceNamespace (id: string): string {
  assertSpaceId(id)
  return id === HOME_SPACE_ID ? 'vault' : `datdot/space/${id}`
}

function derive (primaryKey: Uint8Array, label: string): Buffer {
  if (primaryKey.length !== 32) throw DatdotError.invalidArgument('the primary key must be 32 bytes')
  return createHmac('sha256', primaryKey).update(label).digest()
}

/** The read key (block encryption key) of an encrypted space. */
export function spaceReadKey (primaryKey: Uint8Array, id: string): Buffer {
  assertSpaceId(id)
  return derive(primaryKey, `datdot/space-read-key/${id}`)
}

/** The encryption key of the space index core. */
export function indexKey (primaryKey: Uint8Array): Buffer {
  return derive(primaryKey, 'datdot/space-index-key')
}
