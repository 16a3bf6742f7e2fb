/**
 * The recovery phrase: the storage folder's Corestore primary key (32 bytes) written as a
 * 24-word BIP39 phrase (English list, 256 bits of entropy + 8 checksum bits). Every drive key of
 * the vault is derived from that primary key, so the phrase alone re-creates them on a new machine.
 *
 * Reading a phrase is forgiving about form (surrounding and repeated spaces, tabs, new lines,
 * upper case) and strict about content: a wrong word count, an unknown word (named by its
 * position) or a bad checksum is an INVALID_ARGUMENT saying which. No error message or detail
 * ever holds the phrase or one of its words.
 *
 * BIP39 is done here with node:crypto's SHA-256 rather than @polkadot/util-crypto's bip39: that
 * module loads @polkadot/util-crypto's hashing and wasm (some 300 modules, a fifth or more of
 * the daemon's start), and this file is loaded at every start (the recovery handlers, restore.ts).
 * Only the word list is taken from it (a plain module). test/unit/recovery-phrase.test.ts checks
 * the BIP39 reference vectors and @polkadot's bip39 on random keys.
 */
import { createHash } from 'node:crypto'
import ENGLISH from '@polkadot/util-crypto/mnemonic/wordlists/en'
import { DatdotError } from '../shared/errors.js'

export const PHRASE_WORDS = 24
export const PRIMARY_KEY_BYTES = 32

const WORDS = new Map(ENGLISH.map((w, i) => [w, i]))
const BITS_PER_WORD = 11

/** BIP39's checksum of 32 bytes of entropy: the first 8 bits (256 / 32) of its SHA-256. */
function checksumByte (entropy: Uint8Array): number {
  return createHash('sha256').update(entropy).digest()[0]
}

/** Bit `i` of `bytes`, counted from the most significant bit of byte 0. */
function bitAt (bytes: Uint8Array, i: number): number {
  return (bytes[i >> 3] >> (7 - (i & 7))) & 1
}

/** The phrase of a 32-byte primary key: 24 lower-case English words separated by single spaces. */
export function phraseFromKey (key: Uint8Array): string {
  if (!(key instanceof Uint8Array) || key.length !== PRIMARY_KEY_BYTES) throw DatdotError.invalidArgument(`a primary key is ${PRIMARY_KEY_BYTES} bytes`)
  // 256 bits of entropy and 8 checksum bits: 24 words of 11 bits each, most significant bit first.
  const bits = Uint8Array.of(...key, checksumByte(key))
  const words: string[] = []
  for (let w = 0; w < PHRASE_WORDS; w++) {
    let index = 0
    for (let b = 0; b < BITS_PER_WORD; b++) index = (index << 1) | bitAt(bits, w * BITS_PER_WORD + b)
    words.push(ENGLISH[index])
  }
  return words.join(' ')
}

/** The 33 bytes (the entropy, then the checksum byte) that 24 words of the list stand for. */
function bytesOfWords (words: string[]): Buffer {
  const bytes = Buffer.alloc(PRIMARY_KEY_BYTES + 1)
  words.forEach((word, w) => {
    const index = WORDS.get(word)!
    for (let b = 0; b < BITS_PER_WORD; b++) {
      const i = w * BITS_PER_WORD + b
      bytes[i >> 3] |= ((index >> (BITS_PER_WORD - 1 - b)) & 1) << (7 - (i & 7))
    }
  })
  return bytes
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
  const bytes = bytesOfWords(words)
  const key = bytes.subarray(0, PRIMARY_KEY_BYTES)
  if (bytes[PRIMARY_KEY_BYTES] !== checksumByte(key)) {
    throw DatdotError.invalidArgument('the recovery phrase does not check out (its checksum is wrong): a word is probably mistyped or out of order', { checksum: false })
  }
  return Buffer.from(key)
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
