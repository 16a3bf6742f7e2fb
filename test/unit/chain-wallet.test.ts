import { describe, it, expect, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { Keyring } from '@polkadot/api'
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto'
import { mnemonicToEntropy } from '@polkadot/util-crypto/mnemonic/bip39'
import { TempDirs } from '../helpers/engines.js'
import { derivedWalletMnemonic, loadOrCreateWallet, walletPhraseOf, WALLET_CONTEXT } from '../../main/chain/wallet.js'
import { keyFromPhrase, phraseFromKey } from '../../main/engine/recovery.js'

/** libsodium's BLAKE2b (an implementation independent of the one under test); the package has no typings. */
const sodium = createRequire(import.meta.url)('sodium-native') as { crypto_generichash (out: Buffer, message: Buffer, key: Buffer): void }

async function addressOf (mnemonic: string): Promise<string> {
  await cryptoWaitReady()
  return new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(mnemonic).address
}

describe('the chain wallet of a storage folder', () => {
  const tmp = new TempDirs()
  afterAll(async () => { await tmp.cleanup() })

  it('derives a new wallet from the primary key: BLAKE2b-256 keyed with it over "datdot/wallet/v1", as 24 BIP39 words', () => {
    const key = randomBytes(32)
    const expected = Buffer.alloc(32)
    sodium.crypto_generichash(expected, Buffer.from(WALLET_CONTEXT), key)
    const mnemonic = derivedWalletMnemonic(key)
    expect(mnemonic.split(' ')).toHaveLength(24)
    expect(Buffer.from(mnemonicToEntropy(mnemonic)).equals(expected)).toBe(true)
    expect(derivedWalletMnemonic(randomBytes(32))).not.toBe(mnemonic)
  })

  it('gives a new folder the wallet its recovery phrase restores, and keeps reading it from the file', async () => {
    const key = randomBytes(32)
    const dir = await tmp.make()
    const file = join(dir, 'wallet.json')
    const first = loadOrCreateWallet(file, key)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(walletPhraseOf(file, key)).toEqual({ wallet: 'derived' })
    // Restored on a new machine from the phrase: the same address.
    const restoredDir = await tmp.make()
    const restored = loadOrCreateWallet(join(restoredDir, 'wallet.json'), keyFromPhrase(phraseFromKey(key)))
    expect(await addressOf(restored)).toBe(await addressOf(first))
    // Later starts read the file as it is, whatever key they are given.
    expect(loadOrCreateWallet(file, randomBytes(32))).toBe(first)
  })

  it("leaves an existing folder's wallet file as it is and says it has its own phrase", async () => {
    const dir = await tmp.make()
    await mkdir(join(dir, 'chain'))
    const file = join(dir, 'chain', 'wallet.json')
    const own = mnemonicGenerate()
    await writeFile(file, JSON.stringify({ mnemonic: own }), { mode: 0o600 })
    const before = await readFile(file)
    const key = randomBytes(32)
    expect(walletPhraseOf(file, key)).toEqual({ wallet: 'own', walletPhrase: own })
    expect(loadOrCreateWallet(file, key)).toBe(own)
    expect((await readFile(file)).equals(before)).toBe(true)
    expect(walletPhraseOf(join(dir, 'missing.json'), key)).toEqual({ wallet: 'none' })
  })
})
