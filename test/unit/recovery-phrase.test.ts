import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import { entropyToMnemonic, mnemonicToEntropy } from '@polkadot/util-crypto/mnemonic/bip39'
import { keyFromPhrase, phraseFromKey, phraseWords, isValidPhrase } from '../../main/engine/recovery.js'
import { DatdotError } from '../../main/shared/errors.js'

/** The error keyFromPhrase throws for `input`. */
function refusal (input: unknown): DatdotError {
  try {
    keyFromPhrase(input)
  } catch (err) {
    expect(err).toBeInstanceOf(DatdotError)
    return err as DatdotError
  }
  throw new Error('the phrase was accepted')
}

/**
 * Neither the message nor the details of `err` show the phrase or a part of it: no two of its
 * words in a row (single words may be ordinary English words of the message: the BIP39 list
 * holds 'word', 'list', 'check'...; the tests also pin the messages exactly).
 */
function expectNoWordOf (err: DatdotError, phrase: string): void {
  const shown = `${err.message} ${JSON.stringify(err.details ?? {})}`.toLowerCase()
  const words = phraseWords(phrase)
  for (let i = 0; i + 1 < words.length; i++) expect(shown, 'the error shows part of the phrase').not.toContain(`${words[i]} ${words[i + 1]}`)
}

// BIP39 reference vectors (trezor/python-mnemonic vectors.json, 256-bit entropy, English).
const VECTORS: Array<[string, string]> = [
  ['00'.repeat(32), 'abandon '.repeat(23) + 'art'],
  ['7f'.repeat(32), 'legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title'],
  ['80'.repeat(32), 'letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless'],
  ['ff'.repeat(32), 'zoo '.repeat(23) + 'vote'],
  ['68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c', 'hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel tennis maple dilemma loan word shrug inflict delay length']
]

describe('the recovery phrase', () => {
  it('writes a primary key as the 24 words of the BIP39 reference vectors', () => {
    for (const [hex, phrase] of VECTORS) {
      expect(phraseFromKey(Buffer.from(hex, 'hex'))).toBe(phrase)
      expect(keyFromPhrase(phrase).toString('hex')).toBe(hex)
    }
  })

  it('gives back the key of its phrase for random keys', () => {
    for (let i = 0; i < 64; i++) {
      const key = randomBytes(32)
      const phrase = phraseFromKey(key)
      expect(phrase.split(' ')).toHaveLength(24)
      expect(keyFromPhrase(phrase).equals(key)).toBe(true)
    }
  })

  it('writes and reads the same words as @polkadot/util-crypto\'s BIP39 for random keys', () => {
    for (let i = 0; i < 256; i++) {
      const key = randomBytes(32)
      const phrase = phraseFromKey(key)
      expect(phrase).toBe(entropyToMnemonic(key))
      expect(Buffer.from(mnemonicToEntropy(phrase)).equals(keyFromPhrase(phrase))).toBe(true)
    }
  })

  it('accepts extra spaces, tabs, new lines and capitals', () => {
    const key = randomBytes(32)
    const words = phraseFromKey(key).split(' ')
    const messy = '\n  ' + words.map((w, i) => i % 3 === 0 ? w.toUpperCase() : w).join(' \t  ') + '  \r\n'
    expect(keyFromPhrase(messy).equals(key)).toBe(true)
  })

  it('refuses a wrong word count, saying how many words it has and never the words', () => {
    const phrase = phraseFromKey(randomBytes(32))
    const words = phrase.split(' ')
    for (const n of [0, 1, 12, 23, 25]) {
      const input = n <= 24 ? words.slice(0, n).join(' ') : [...words, 'abandon'].join(' ')
      const err = refusal(input)
      expect(err.code).toBe('INVALID_ARGUMENT')
      expect(err.message).toBe(`a recovery phrase has 24 words; this one has ${n}`)
      expectNoWordOf(err, input)
    }
  })

  it('names an unknown word by its position only', () => {
    const phrase = phraseFromKey(randomBytes(32))
    const words = phrase.split(' ')
    words[6] = 'zebrra'
    const err = refusal(words.join(' '))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe('word 7 of the recovery phrase is not a word of the BIP39 English list (check its spelling)')
    expect(err.details).toEqual({ position: 7 })
    expect(err.message).not.toContain('zebrra')
    expectNoWordOf(err, phrase)
  })

  it('refuses a phrase whose checksum is wrong (a swapped or mistyped word)', () => {
    const key = randomBytes(32)
    const words = phraseFromKey(key).split(' ')
    const swapped = [...words]
    // Find a swap of two different words that breaks the checksum (the last word carries 8 checksum bits).
    let bad: string | null = null
    for (let i = 0; i < 23 && bad === null; i++) {
      if (swapped[i] === swapped[i + 1]) continue
      const t = [...words];
      [t[i], t[i + 1]] = [t[i + 1], t[i]]
      if (!isValidPhrase(t.join(' '))) bad = t.join(' ')
    }
    expect(bad).not.toBeNull()
    const err = refusal(bad)
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe('the recovery phrase does not check out (its checksum is wrong): a word is probably mistyped or out of order')
    expectNoWordOf(err, bad!)
  })

  it('refuses what is not text, and keys that are not 32 bytes', () => {
    expect(refusal(undefined).message).toBe('the recovery phrase must be text')
    expect(refusal(42).code).toBe('INVALID_ARGUMENT')
    expect(() => phraseFromKey(randomBytes(16))).toThrow(/32 bytes/)
  })
})
