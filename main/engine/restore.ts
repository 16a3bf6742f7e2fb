/**
 * Restoring a storage folder from a recovery phrase (`datdot restore`): checks the phrase, refuses
 * a folder that is not empty, and creates the folder with the phrase's primary key, marked
 * 'restore pending' (an engine opened offline with `primaryKey`, then closed). The next engine on
 * that folder (`datdot daemon`, the app) downloads the vault from its followers and seeders; a
 * chain wallet is derived from the same key the first time the chain starts (main/chain/wallet.ts).
 */
import { readdir } from 'node:fs/promises'
import { DatdotError } from '../shared/errors.js'
import { Engine } from './engine.js'
import { keyFromPhrase } from './recovery.js'
import { keyId } from './paths.js'

/** Creates `storage` from `phrase`; resolves with the vault's key (z-base-32). Nothing is written when it throws. */
export async function restoreStorage (storage: string, phrase: string): Promise<{ vaultKey: string }> {
  const primaryKey = keyFromPhrase(phrase)
  await assertEmptyFolder(storage)
  const engine = new Engine({ storage, primaryKey, offline: true })
  await engine.ready()
  const vaultKey = keyId(engine.vault.key)
  await engine.close()
  return { vaultKey }
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
