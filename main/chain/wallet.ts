/**
 * The chain wallet's seed file (<storage>/chain/wallet.json, `{ "mnemonic": "..." }`, 0600).
 *
 * A storage folder without one gets a wallet derived from its Corestore primary key, so the
 * recovery phrase brings the wallet back too:
 *
 *   seed     = BLAKE2b-256(message = "datdot/wallet/v1" (UTF-8), key = primary key)
 *   mnemonic = BIP39(seed), 24 English words;  the account is sr25519 from that mnemonic
 *              (Keyring.addFromUri(mnemonic), as for any Substrate mnemonic)
 *
 * The file is written the first time, and later starts read it as before. A file that already
 * exists is never changed: folders made before the derivation keep their random wallet (it has
 * its own phrase, see walletPhraseOf), and nobody's address changes.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { blake2AsU8a, mnemonicGenerate } from '@polkadot/util-crypto'
import { entropyToMnemonic } from '@polkadot/util-crypto/mnemonic/bip39'
import ENGLISH from '@polkadot/util-crypto/mnemonic/wordlists/en'
import { DatdotError } from '../shared/errors.js'

export const WALLET_CONTEXT = 'datdot/wallet/v1'

/** The wallet mnemonic the recovery phrase derives (see the top of this file). */
export function derivedWalletMnemonic (primaryKey: Uint8Array): string {
  if (primaryKey.length !== 32) throw DatdotError.invalidArgument('a primary key is 32 bytes')
  const seed = blake2AsU8a(new TextEncoder().encode(WALLET_CONTEXT), 256, primaryKey)
  return entropyToMnemonic(seed, ENGLISH)
}

/** The mnemonic of the wallet file, or null when there is none yet. Throws CORRUPT for a broken file. */
export function readWalletMnemonic (file: string): string | null {
  if (!existsSync(file)) return null
  chmodSync(file, 0o600)
  let parsed: { mnemonic?: unknown }
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as { mnemonic?: unknown }
  } catch (err) {
    throw DatdotError.corrupt(`wallet seed in ${file}`, err)
  }
  if (typeof parsed?.mnemonic !== 'string') throw DatdotError.corrupt(`wallet seed in ${file}`)
  return parsed.mnemonic
}

/**
 * The wallet's mnemonic: the file's when it exists, else a new one written to the file, derived
 * from `primaryKey` when given (random without one: a chain client with no storage folder's key).
 */
export function loadOrCreateWallet (file: string, primaryKey?: Uint8Array): string {
  const existing = readWalletMnemonic(file)
  if (existing !== null) return existing
  const mnemonic = primaryKey !== undefined ? derivedWalletMnemonic(primaryKey) : mnemonicGenerate()
  writeFileSync(file, JSON.stringify({ mnemonic }), { mode: 0o600, flag: 'wx' })
  return mnemonic
}

/**
 * What the recovery phrase says about the wallet: 'none' (no wallet yet: it will be derived from
 * the phrase), 'derived' (the phrase restores it), or 'own' with the wallet's own phrase (a
 * wallet made before the derivation: it must be backed up separately).
 */
export function walletPhraseOf (file: string, primaryKey: Uint8Array): { wallet: 'none' | 'derived' } | { wallet: 'own', walletPhrase: string } {
  const mnemonic = readWalletMnemonic(file)
  if (mnemonic === null) return { wallet: 'none' }
  if (mnemonic === derivedWalletMnemonic(primaryKey)) return { wallet: 'derived' }
  return { wallet: 'own', walletPhrase: mnemonic }
}
