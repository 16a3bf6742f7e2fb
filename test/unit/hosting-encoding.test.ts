import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import hcrypto from 'hypercore-crypto'
import {
  encodeChunk, decodeChunk, encodedChunkHash, signEncodedChunk, verifyEncodedChunkSignature, parseHeader,
  encodedByteLength, field, HEADER_BYTES, MAX_BLOCK_BYTES, MAX_ROUNDS, MAX_ROUNDS_V1, DEFAULT_ROUNDS, ENCODING_VERSION, type ChunkBinding
} from '../../main/hosting/encoding.js'
import { DatdotError } from '../../main/shared/errors.js'

function binding (over: Partial<ChunkBinding> = {}): ChunkBinding {
  return { coreKey: Buffer.alloc(32, 1), index: 7, hosterKey: Buffer.alloc(32, 2), ...over }
}

describe('the cube-root field', () => {
  it('cube root and cube are inverse permutations, including at the edges of the field', () => {
    const { P, cbrt, cube } = field
    for (const x of [0, 1, 2, 3, 65535, 65536, P - 2, P - 1, 123456789, 4000000000]) {
      expect(cube(cbrt(x))).toBe(x)
      expect(cbrt(cube(x))).toBe(x)
    }
  })

  it('modular multiplication agrees with BigInt arithmetic', () => {
    const { P, mulmod } = field
    const big = BigInt(P)
    for (let i = 0; i < 2000; i++) {
      const a = randomBytes(4).readUInt32LE() % P
      const b = randomBytes(4).readUInt32LE() % P
      expect(mulmod(a, b)).toBe(Number((BigInt(a) * BigInt(b)) % big))
    }
    expect(mulmod(P - 1, P - 1)).toBe(1)
  })
})

describe('encodeChunk and decodeChunk', () => {
  it('round-trip blocks of every length modulo 4, empty and 64 KiB blocks', () => {
    for (const len of [0, 1, 2, 3, 4, 5, 63, 1000, 65536]) {
      const block = randomBytes(len)
      for (const rounds of [1, 2, 3]) {
        const enc = encodeChunk(block, binding(), { rounds })
        expect(enc.byteLength).toBe(HEADER_BYTES + 4 * Math.ceil(len / 4))
        expect(encodedByteLength(enc)).toBe(len)
        expect(decodeChunk(enc, binding()).equals(block)).toBe(true)
      }
    }
  })

  it('round-trips blocks of all 0xff and all zero bytes, which the whitening keeps inside the field', () => {
    for (const fill of [0x00, 0xff]) {
      const block = Buffer.alloc(4096, fill)
      const enc = encodeChunk(block, binding())
      expect(decodeChunk(enc, binding()).equals(block)).toBe(true)
      // the replica must not leak the structure: it is not a repetition of one word
      const words = new Set<number>()
      for (let i = HEADER_BYTES; i < enc.byteLength; i += 4) words.add(enc.readUInt32LE(i))
      expect(words.size).toBeGreaterThan(1000)
    }
  })

  it('gives two hosters unrelated replicas of the same block', () => {
    const block = randomBytes(65536)
    const a = encodeChunk(block, binding({ hosterKey: Buffer.alloc(32, 2) }))
    const b = encodeChunk(block, binding({ hosterKey: Buffer.alloc(32, 3) }))
    expect(a.equals(b)).toBe(false)
    let same = 0
    for (let i = HEADER_BYTES; i < a.byteLength; i += 4) if (a.readUInt32LE(i) === b.readUInt32LE(i)) same++
    expect(same).toBeLessThan(4) // ~16384 words, chance agreement is 16384 / 2^32
  })

  it('binds the replica to the core key and the index as well', () => {
    const block = randomBytes(1024)
    const base = encodeChunk(block, binding())
    expect(encodeChunk(block, binding({ index: 8 })).equals(base)).toBe(false)
    expect(encodeChunk(block, binding({ coreKey: Buffer.alloc(32, 9) })).equals(base)).toBe(false)
  })

  it('does not decode to the original under another hoster key: A cannot pass B’s replica off as its own', () => {
    const block = randomBytes(4096)
    const forB = encodeChunk(block, binding({ hosterKey: Buffer.alloc(32, 3) }))
    const asA = decodeChunk(forB, binding({ hosterKey: Buffer.alloc(32, 2) }))
    expect(asA.equals(block)).toBe(false)
  })

  it('chains every word into the next, so changing the first byte changes every later word', () => {
    const block = randomBytes(4096)
    const flipped = Buffer.from(block)
    flipped[0] ^= 1
    const a = encodeChunk(block, binding(), { rounds: 1 })
    const b = encodeChunk(flipped, binding(), { rounds: 1 })
    let same = 0
    for (let i = HEADER_BYTES; i < a.byteLength; i += 4) if (a.readUInt32LE(i) === b.readUInt32LE(i)) same++
    expect(same).toBe(0)
  })

  it('rejects malformed chunks with CORRUPT and oversized blocks with TOO_LARGE', () => {
    const enc = encodeChunk(randomBytes(10), binding())
    const codeOf = (fn: () => unknown): string | undefined => {
      try { fn() } catch (err) { return (err as DatdotError).code }
      return undefined
    }
    expect(codeOf(() => decodeChunk(enc.subarray(0, 4), binding()))).toBe('CORRUPT')
    expect(codeOf(() => decodeChunk(Buffer.concat([enc, Buffer.alloc(4)]), binding()))).toBe('CORRUPT')
    const badVersion = Buffer.from(enc); badVersion[0] = 9
    expect(codeOf(() => decodeChunk(badVersion, binding()))).toBe('CORRUPT')
    const tooManyRounds = Buffer.from(enc); tooManyRounds[1] = 200
    expect(codeOf(() => decodeChunk(tooManyRounds, binding()))).toBe('CORRUPT')
    expect(codeOf(() => encodeChunk(Buffer.alloc(MAX_BLOCK_BYTES + 1), binding()))).toBe('TOO_LARGE')
    expect(codeOf(() => encodeChunk(Buffer.alloc(4), binding({ hosterKey: Buffer.alloc(31) })))).toBe('INVALID_ARGUMENT')
  })
})

describe('cube-cbc-v2 and the v1 chunks made before it', () => {
  // made by the v1 code (commit 6b3225c, encodeChunk with rounds 2) and an encoder key from seed 3
  const goldenBlock = Buffer.from(Array.from({ length: 37 }, (_, i) => (i * 73 + 11) & 0xff))
  const goldenV1 = Buffer.from('0102250000002dd45eca9534d02b868b62b84e5f0e2a58ffcf30c2cd7a7bafba2b854aa8c6ab9e6fa80aa7af0bde', 'hex')
  const goldenSig = Buffer.from('4c3cbc85f929c6779c8809bf15caf1254cee30a87e198c3f4187be72966796061b4501f1efa1e2b13c5952b4ae3ce8bffb63ebac55149c489e5d327ed1081c04', 'hex')
  const goldenEncoder = hcrypto.keyPair(Buffer.alloc(32, 3))

  it('still decodes and verifies a v1 chunk made by the v1 code, in WebAssembly and JavaScript', () => {
    expect(decodeChunk(goldenV1, binding()).equals(goldenBlock)).toBe(true)
    expect(decodeChunk(goldenV1, binding(), { kernel: 'js' }).equals(goldenBlock)).toBe(true)
    expect(verifyEncodedChunkSignature(binding(), goldenV1, goldenSig, goldenEncoder.publicKey)).toBe(true)
    expect(encodeChunk(goldenBlock, binding(), { rounds: 2, version: 1 }).equals(goldenV1)).toBe(true)
    expect(encodeChunk(goldenBlock, binding(), { rounds: 2, version: 1, kernel: 'js' }).equals(goldenV1)).toBe(true)
  })

  it('encodes new chunks as version 2 at 16 rounds by default, with their own keystream and signing domain', () => {
    expect(ENCODING_VERSION).toBe(2)
    expect(DEFAULT_ROUNDS).toBe(16)
    const v2 = encodeChunk(goldenBlock, binding(), { rounds: 2 })
    expect(v2[0]).toBe(2)
    expect(encodeChunk(goldenBlock, binding())[1]).toBe(16)
    expect(v2.subarray(2).equals(goldenV1.subarray(2))).toBe(false)
    expect(decodeChunk(v2, binding()).equals(goldenBlock)).toBe(true)
    // a v1 signature does not carry over to the same bytes labelled v2
    const relabelled = Buffer.from(goldenV1); relabelled[0] = 2
    expect(verifyEncodedChunkSignature(binding(), relabelled, goldenSig, goldenEncoder.publicKey)).toBe(false)
  })

  it('makes the first output word depend on the last input word from 2 rounds on, which v1 never does', () => {
    const block = randomBytes(4096)
    const changed = Buffer.from(block)
    changed[4095] ^= 0x80
    for (const rounds of [2, 3, 16]) {
      const a = encodeChunk(block, binding(), { rounds })
      const b = encodeChunk(changed, binding(), { rounds })
      expect(a.readUInt32LE(HEADER_BYTES)).not.toBe(b.readUInt32LE(HEADER_BYTES))
      const a1 = encodeChunk(block, binding(), { rounds, version: 1 })
      const b1 = encodeChunk(changed, binding(), { rounds, version: 1 })
      expect(a1.readUInt32LE(HEADER_BYTES)).toBe(b1.readUInt32LE(HEADER_BYTES))
    }
    // one round runs forward only, in both versions: word 0 is done before the last word is read
    const one = [block, changed].map((blk) => encodeChunk(blk, binding(), { rounds: 1 }).readUInt32LE(HEADER_BYTES))
    expect(one[0]).toBe(one[1])
  })

  it('reads each version’s header with its own limits: v1 up to 16 rounds, v2 up to 32, no other version', () => {
    const v1 = encodeChunk(goldenBlock, binding(), { rounds: MAX_ROUNDS_V1, version: 1 })
    expect(parseHeader(v1)).toEqual({ version: 1, rounds: 16, byteLength: 37, n: 10 })
    const v1Over = Buffer.from(v1); v1Over[1] = MAX_ROUNDS_V1 + 1
    expect(() => parseHeader(v1Over)).toThrow(expect.objectContaining({ code: 'CORRUPT' }))
    const v2 = encodeChunk(goldenBlock, binding(), { rounds: MAX_ROUNDS })
    expect(parseHeader(v2).rounds).toBe(32)
    expect(decodeChunk(v2, binding()).equals(goldenBlock)).toBe(true)
    const v2Over = Buffer.from(v2); v2Over[1] = MAX_ROUNDS + 1
    expect(() => parseHeader(v2Over)).toThrow(expect.objectContaining({ code: 'CORRUPT' }))
    for (const version of [0, 3, 255]) {
      const other = Buffer.from(v2); other[0] = version
      expect(() => decodeChunk(other, binding())).toThrow(expect.objectContaining({ code: 'CORRUPT' }))
    }
    expect(() => encodeChunk(goldenBlock, binding(), { rounds: MAX_ROUNDS_V1 + 1, version: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => encodeChunk(goldenBlock, binding(), { rounds: MAX_ROUNDS + 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })
})

describe('encoder signatures', () => {
  const encoder = hcrypto.keyPair()
  const block = randomBytes(2048)
  const enc = encodeChunk(block, binding())
  const sig = signEncodedChunk(binding(), enc, encoder.secretKey)

  it('verify for the exact chunk, core, index and hoster they were made for', () => {
    expect(verifyEncodedChunkSignature(binding(), enc, sig, encoder.publicKey)).toBe(true)
  })

  it('fail for another hoster, index, core, encoder or a changed chunk', () => {
    expect(verifyEncodedChunkSignature(binding({ hosterKey: Buffer.alloc(32, 5) }), enc, sig, encoder.publicKey)).toBe(false)
    expect(verifyEncodedChunkSignature(binding({ index: 8 }), enc, sig, encoder.publicKey)).toBe(false)
    expect(verifyEncodedChunkSignature(binding({ coreKey: Buffer.alloc(32, 5) }), enc, sig, encoder.publicKey)).toBe(false)
    expect(verifyEncodedChunkSignature(binding(), enc, sig, hcrypto.keyPair().publicKey)).toBe(false)
    const changed = Buffer.from(enc); changed[HEADER_BYTES] ^= 1
    expect(verifyEncodedChunkSignature(binding(), changed, sig, encoder.publicKey)).toBe(false)
    expect(encodedChunkHash(changed).equals(encodedChunkHash(enc))).toBe(false)
  })
})
