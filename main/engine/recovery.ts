/**
 * The recovery phrase: the storage folder's Corestore primary key (32 bytes) written as a
 * 24-word BIP39 phrase (English list, 256 bits of entropy + 8 checksum bits). Every drive key of
 * the vault is derived from that primary key, so the phrase alone re-creates them on a new machine.
 *
 * Reading a phrase is forgiving about form (surrounding and repeated spaces, tabs, new lines,
 * upper case) and strict about content: a wrong word count, an unknown word (named by its
 * position) or a bad checksum is an INVALID_ARGUMENT saying which. No error message or detail
 * ever holds the phrase or one of its words.
 */
import { entropyToMnemonic, mnemonicToEntropy } from '@polkadot/util-crypto/mnemonic/bip39'
import ENGLISH from '@polkadot/util-crypto/mnemonic/wordlists/en'
import { DatdotError } from '../shared/errors.js'

export const PHRASE_WORDS = 24
export const PRIMARY_KEY_BYTES = 32

const WORDS = new Set(ENGLISH)

/** The phrase of a 32-byte primary key: 24 lower-case English words separated by single spaces. */
export function phraseFromKey (key: Uint8Array): string {
  if (!(key instanceof Uint8Array) || key.length !== PRIMARY_KEY_BYTES) throw DatdotError.invalidArgument(`a primary key is ${PRIMARY_KEY_BYTES} bytes`)
  return entropyToMnemonic(key, ENGLISH)
}

/** The words of a phrase as typed: split on any white space, lower-cased (BIP39 words are lower case). */
export function phraseWords (input: string): string[] {
  return input.normalize('NFKD').trim().split(/\s+/).filter((w) => w !== '').map((w) => w.toLowerCase())
}

/** The primary key a phrase stands for. Throws INVALID_ARGUMENT naming the problem, never the phrase. */
export function keyFromPhrase (input: unknown): Buffer {
  if (typeof input !== 'string') throw DatdotError.invalidArgument('the recovery phrase must be text')
  const words = phraseWords(input)
  if (words.length !== PHRASE_WORDS) {
    throw DatdotError.invalidArgument(`a recovery phrase has ${PHRASE_WORDS} words; this one has ${words.length}`, { words: words.length })
  }
  const unknown = words.findIndex((w) => !WORDS.has(w))
  if (unknown !== -1) {
    throw DatdotError.invalidArgument(`word ${unknown + 1} of the recovery phrase is not a word of the BIP39 English list (check its spelling)`, { position: unknown + 1 })
  }
  try {
    return Buffer.from(mnemonicToEntropy(words.join(' '), ENGLISH))
  } catch {
    throw DatdotError.invalidArgument('the recovery phrase does not check out (its checksum is wrong): a word is probably mistyped or out of order', { checksum: false })
  }
}

/** True for a phrase keyFromPhrase accepts. */
export function isValidPhrase (input: unknown): boolean {
  try {
    keyFromPhrase(input)
    return true
  } catch {
    return false
  }
}
