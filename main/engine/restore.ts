/**
 * Restoring a storage folder from a recovery phrase (`datdot restore`): checks the phrase, refuses
 * a folder that is not empty, and creates the folder with the phrase's primary key, marked
 * 'restore pending' (an engine opened offline with `primaryKey`, then closed). The next engine on
 * that folder (`datdot daemon`, the app) downloads the vault from its followers and seeders; a
 * chain wallet is derived from the same key the first time the chain starts (main/chain/wallet.ts).
 *
 * The in-app restore (main/server/node-host.ts) instead clears a pristine folder's node data
 * (`clearNodeData`: only the entries a node writes, never the API token, daemon.json or the
 * Electron profile) and then creates it the same way (`createRestored`).
 */
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { DatdotError } from '../shared/errors.js'
import { Engine } from './engine.js'
import { keyFromPhrase } from './recovery.js'
import { keyId } from './paths.js'
import { writeBackupState } from './backup-state.js'

/**
 * What a node writes in its storage folder (engine, chain, hosting): all an in-app restore
 * removes. The API token, daemon.json and the Electron profile ('electron') stay, and so does
 * anything else someone put in the folder.
 */
export const NODE_DATA = ['corestore', 'datdot.db', 'datdot.db-wal', 'datdot.db-shm', 'datdot.db-journal', 'chain', 'hosting'] as const

/** Creates `storage` from `phrase`; resolves with the vault's key (z-base-32). Nothing is written when it throws. */
export async function restoreStorage (storage: string, phrase: string): Promise<{ vaultKey: string }> {
  const primaryKey = keyFromPhrase(phrase)
  await assertEmptyFolder(storage)
  return await createRestored(storage, primaryKey)
}

/**
 * Creates the node data of `storage` (which has none) with `primaryKey`, marked 'restore
 * pending' and 'backed up' (whoever restores has the phrase). Resolves with the vault's key.
 */
export async function createRestored (storage: string, primaryKey: Buffer): Promise<{ vaultKey: string }> {
  const engine = new Engine({ storage, primaryKey, offline: true })
  await engine.ready()
  try {
    writeBackupState(engine.db, 'backed-up')
    return { vaultKey: keyId(engine.vault.key) }
  } finally {
    await engine.close()
  }
}

/** Removes the node data (NODE_DATA) of a closed node's folder; everything else stays. */
export async function clearNodeData (storage: string): Promise<void> {
  for (const name of NODE_DATA) await rm(join(storage, name), { recursive: true, force: true })
}

/** Throws INVALID_ARGUMENT unless `dir` is missing or an empty folder. */
export async function assertEmptyFolder (dir: string): Promise<void> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return
    if (code === 'ENOTDIR') throw DatdotError.invalidArgument(`${dir} is not a folder`)
    throw err
  }
  if (entries.length > 0) {
    throw DatdotError.invalidArgument(`The storage folder ${dir} is not empty: restore into an empty or new folder (nothing was changed)`)
  }
}
