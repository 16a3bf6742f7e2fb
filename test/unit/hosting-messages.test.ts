/**
 * The hosting wire codec (main/hosting/messages.ts): every message type round-trips, and every
 * truncated, padded, garbage or oversized input is refused with a DatdotError PROTOCOL_ERROR
 * naming what was malformed, never a raw Error. Property-based with fast-check, bounded runs.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import c, { type Encoding } from 'compact-encoding'
import { DatdotError } from '../../main/shared/errors.js'
import {
  deliverMessage, receiptMessage, challengeMessage, commitmentMessage, openMessage, proofMessage, errorMessage,
  settleMessage, slotReceiptMessage, storedChunk, merkleProof, treeNode, signedRoot, decodeExact,
  boundedArray, boundedBuffer, boundedString, struct,
  MAX_PROOF_NODES, MAX_WALK_STEPS, MAX_ERROR_CODE_CHARS, MAX_ERROR_MESSAGE_CHARS, MAX_ENCODED_BYTES,
  type StoredChunk, type TreeNode, type MerkleProof
} from '../../main/hosting/messages.js'
import { MAX_MANIFEST_BYTES, MAX_ROOT_SIGNATURE_BYTES, type SignedRoot } from '../../main/chain/roots.js'

const bytes = (n: number): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: n, maxLength: n }).map((u) => Buffer.from(u))
const varBytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((u) => Buffer.from(u))
const uint = fc.oneof(fc.nat(300), fc.nat(), fc.maxSafeNat())
const arbNode: fc.Arbitrary<TreeNode> = fc.record({ index: uint, size: uint, hash: bytes(32) })
const arbProof: fc.Arbitrary<MerkleProof> = fc.record({
  index: uint, length: uint, nodes: fc.array(arbNode, { maxLength: 6 }), roots: fc.array(arbNode, { maxLength: 6 })
})
const arbChunk: fc.Arbitrary<StoredChunk> = fc.record({ index: uint, encoded: varBytes(600), encoderSignature: bytes(64), merkle: arbProof })
const arbRoot: fc.Arbitrary<SignedRoot> = fc.record({
  coreKey: bytes(32), manifest: varBytes(200), length: uint, fork: uint, treeHash: bytes(32), signature: varBytes(200)
})

interface Case { name: string, codec: Encoding<unknown>, arb: fc.Arbitrary<unknown> }
const CASES: Case[] = [
  { name: 'deliver', codec: deliverMessage, arb: fc.record({ requestId: uint, contractId: uint, coreKey: bytes(32), chunk: arbChunk }) },
  { name: 'receipt', codec: receiptMessage, arb: fc.record({ requestId: uint, signature: bytes(64) }) },
  { name: 'challenge', codec: challengeMessage, arb: fc.record({ requestId: uint, contractId: uint, coreKey: bytes(32), seed: bytes(32), steps: uint }) },
  { name: 'commitment', codec: commitmentMessage, arb: fc.record({ requestId: uint, hashes: fc.array(bytes(32), { maxLength: 40 }) }) },
  { name: 'open', codec: openMessage, arb: fc.record({ requestId: uint, contractId: uint, coreKey: bytes(32), index: uint }) },
  { name: 'proof', codec: proofMessage, arb: fc.record({ requestId: uint, chunk: arbChunk }) },
  {
    name: 'error',
    codec: errorMessage,
    arb: fc.record({ requestId: uint, code: fc.string({ maxLength: MAX_ERROR_CODE_CHARS }), message: fc.string({ maxLength: 200 }) })
  },
  {
    name: 'settle',
    codec: settleMessage,
    arb: fc.record({ requestId: uint, contractId: uint, coreKey: bytes(32), rootLength: uint, receiptsRoot: bytes(32) })
  },
  { name: 'slot-receipt', codec: slotReceiptMessage, arb: fc.record({ requestId: uint, signature: bytes(64) }) },
  { name: 'stored chunk', codec: storedChunk, arb: arbChunk },
  { name: 'merkle proof', codec: merkleProof, arb: arbProof },
  { name: 'tree node', codec: treeNode, arb: arbNode },
  { name: 'signed root', codec: signedRoot, arb: arbRoot }
]

/** The DatdotError `fn` throws; fails the test if it returns or throws anything else. */
function refusal (fn: () => unknown): DatdotError {
  try {
    fn()
  } catch (err) {
    if (!(err instanceof DatdotError)) throw new Error(`a raw ${(err as Error).name} escaped: ${(err as Error).message}`)
    return err
  }
  throw new Error('the input was accepted')
}

/** Bytes as hex, so toEqual compares strings (fast) and a Uint8Array equals a Buffer of the same bytes. */
function normalize (v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex')
  if (Array.isArray(v)) return v.map(normalize)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]))
  return v
}

describe('round trips', () => {
  for (const { name, codec, arb } of CASES) {
    it(`decodes every ${name} to the value that was encoded, and re-encodes it to the same bytes`, () => {
      fc.assert(fc.property(arb, (v) => {
        const buf = c.encode(codec, v)
        const back = decodeExact(codec, buf, name)
        expect(normalize(back)).toEqual(normalize(v))
        expect(Buffer.compare(c.encode(codec, back), buf)).toBe(0)
      }), { numRuns: 40 })
    })
  }

  it('decodes an empty manifest or signature as an empty buffer, never null', () => {
    const root: SignedRoot = { coreKey: Buffer.alloc(32, 1), manifest: Buffer.alloc(0), length: 1, fork: 0, treeHash: Buffer.alloc(32, 2), signature: Buffer.alloc(0) }
    const back = decodeExact(signedRoot, c.encode(signedRoot, root), 'signed root')
    expect(Buffer.isBuffer(back.manifest) && back.manifest.byteLength === 0).toBe(true)
    expect(Buffer.isBuffer(back.signature) && back.signature.byteLength === 0).toBe(true)
  })

  it('takes the fields at their limits: 64 proof nodes, 4096 walk hashes, the largest encoded chunk, manifest and signature', () => {
    const node = { index: 1, size: 2, hash: Buffer.alloc(32, 3) }
    const proof = { index: 0, length: 1, nodes: new Array<TreeNode>(MAX_PROOF_NODES).fill(node), roots: new Array<TreeNode>(MAX_PROOF_NODES).fill(node) }
    expect(decodeExact(merkleProof, c.encode(merkleProof, proof), 'proof').nodes).toHaveLength(MAX_PROOF_NODES)
    const hashes = new Array<Buffer>(MAX_WALK_STEPS).fill(Buffer.alloc(32, 9))
    expect(decodeExact(commitmentMessage, c.encode(commitmentMessage, { requestId: 1, hashes }), 'commitment').hashes).toHaveLength(MAX_WALK_STEPS)
    const chunk = { index: 0, encoded: Buffer.alloc(MAX_ENCODED_BYTES, 7), encoderSignature: Buffer.alloc(64), merkle: proof }
    expect(decodeExact(storedChunk, c.encode(storedChunk, chunk), 'chunk').encoded.byteLength).toBe(MAX_ENCODED_BYTES)
    const root = { coreKey: Buffer.alloc(32), manifest: Buffer.alloc(MAX_MANIFEST_BYTES), length: 1, fork: 0, treeHash: Buffer.alloc(32), signature: Buffer.alloc(MAX_ROOT_SIGNATURE_BYTES) }
    expect(decodeExact(signedRoot, c.encode(signedRoot, root), 'root').signature.byteLength).toBe(MAX_ROOT_SIGNATURE_BYTES)
  })

  it('decodes a message that sits at an offset inside a larger buffer, and only its own bytes', () => {
    const msg = c.encode(openMessage, { requestId: 5, contractId: 6, coreKey: Buffer.alloc(32, 7), index: 8 })
    const big = Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), msg, Buffer.from([0xee])])
    const view = new Uint8Array(big.buffer, big.byteOffset + 3, msg.byteLength)
    expect(decodeExact(openMessage, view, 'open')).toMatchObject({ requestId: 5, contractId: 6, index: 8 })
  })

  it('cuts an error code or message that is too long on encode, so an honest peer never sends one its peer refuses', () => {
    const long = { requestId: 1, code: 'X'.repeat(MAX_ERROR_CODE_CHARS + 10), message: 'm'.repeat(MAX_ERROR_MESSAGE_CHARS * 2) }
    const back = decodeExact(errorMessage, c.encode(errorMessage, long), 'error')
    expect(back.code).toBe('X'.repeat(MAX_ERROR_CODE_CHARS))
    expect(back.message).toHaveLength(MAX_ERROR_MESSAGE_CHARS)
  })
})

describe('malformed input', () => {
  for (const { name, codec, arb } of CASES) {
    it(`refuses every truncation of a ${name} with PROTOCOL_ERROR naming it`, () => {
      fc.assert(fc.property(arb, fc.nat(), (v, cut) => {
        const buf = c.encode(codec, v)
        const short = buf.subarray(0, cut % buf.byteLength)
        const e = refusal(() => decodeExact(codec, short, name))
        expect(e.code).toBe('PROTOCOL_ERROR')
        expect(e.message).toMatch(name)
      }), { numRuns: 60 })
    })

    it(`refuses a ${name} followed by trailing bytes`, () => {
      fc.assert(fc.property(arb, fc.uint8Array({ minLength: 1, maxLength: 9 }), (v, extra) => {
        const e = refusal(() => decodeExact(codec, Buffer.concat([c.encode(codec, v), extra]), name))
        expect(e.code).toBe('PROTOCOL_ERROR')
        expect(e.message).toContain(`${extra.byteLength} trailing bytes`)
      }), { numRuns: 30 })
    })

    it(`either decodes random bytes as a ${name} or refuses them with PROTOCOL_ERROR, never a raw error`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (garbage) => {
        try {
          decodeExact(codec, garbage, name)
        } catch (err) {
          expect(err).toBeInstanceOf(DatdotError)
          expect((err as DatdotError).code).toBe('PROTOCOL_ERROR')
        }
      }), { numRuns: 300 })
    })

    it(`either decodes a ${name} with one byte changed or refuses it with PROTOCOL_ERROR`, () => {
      fc.assert(fc.property(arb, fc.nat(), fc.integer({ min: 1, max: 255 }), (v, at, xor) => {
        const buf = Buffer.from(c.encode(codec, v))
        buf[at % buf.byteLength] ^= xor
        try {
          decodeExact(codec, buf, name)
        } catch (err) {
          expect(err).toBeInstanceOf(DatdotError)
          expect((err as DatdotError).code).toBe('PROTOCOL_ERROR')
        }
      }), { numRuns: 60 })
    })
  }

  it('refuses an empty buffer for every message type', () => {
    for (const { name, codec } of CASES) expect(refusal(() => decodeExact(codec, Buffer.alloc(0), name)).code).toBe('PROTOCOL_ERROR')
  })

  it('refuses a number too large for JavaScript instead of decoding an inexact one', () => {
    // 0xff prefix: a uint64 follows; 2^64 - 1 is not a safe integer
    const buf = Buffer.concat([Buffer.from([0xff]), Buffer.alloc(8, 0xff), Buffer.alloc(64)])
    const e = refusal(() => decodeExact(receiptMessage, buf, 'receipt'))
    expect(e.code).toBe('PROTOCOL_ERROR')
    expect(e.message).toContain('malformed receipt')
  })
})

describe('oversized fields are refused before they are allocated', () => {
  /** A header claiming `count` items, with no items behind it. */
  function claims (count: number): Buffer { return c.encode(c.uint, count) }

  it('refuses more than 64 proof nodes, and says how many were claimed', () => {
    const buf = Buffer.concat([claims(3), claims(1), claims(MAX_PROOF_NODES + 1)])
    const e = refusal(() => decodeExact(merkleProof, buf, 'proof'))
    expect(e.code).toBe('PROTOCOL_ERROR')
    expect(e.message).toContain(`${MAX_PROOF_NODES + 1} items, at most ${MAX_PROOF_NODES}`)
  })

  it('refuses a commitment of more than 4096 hashes, even one that claims billions', () => {
    for (const n of [MAX_WALK_STEPS + 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      const e = refusal(() => decodeExact(commitmentMessage, Buffer.concat([claims(1), claims(n)]), 'commitment'))
      expect(e.message).toContain('commitment hashes')
    }
  })

  it('refuses an encoded chunk over the largest block plus header, a manifest over 4 KiB and a signature over 1 KiB', () => {
    const chunk = Buffer.concat([claims(0), c.encode(c.buffer, Buffer.alloc(MAX_ENCODED_BYTES + 1))])
    expect(refusal(() => decodeExact(storedChunk, chunk, 'chunk')).message).toContain('encoded chunk is')
    const manifest = Buffer.concat([Buffer.alloc(32), c.encode(c.buffer, Buffer.alloc(MAX_MANIFEST_BYTES + 1))])
    expect(refusal(() => decodeExact(signedRoot, manifest, 'root')).message).toContain('manifest is')
    const sig = Buffer.concat([Buffer.alloc(32), claims(0), claims(1), claims(0), Buffer.alloc(32), c.encode(c.buffer, Buffer.alloc(MAX_ROOT_SIGNATURE_BYTES + 1))])
    expect(refusal(() => decodeExact(signedRoot, sig, 'root')).message).toContain('root signature is')
  })

  it('refuses an error code or message over its limit from a peer that does not cut it', () => {
    const code = Buffer.concat([claims(1), c.encode(c.string, 'C'.repeat(MAX_ERROR_CODE_CHARS + 1)), c.encode(c.string, 'ok')])
    expect(refusal(() => decodeExact(errorMessage, code, 'error')).message).toContain('error code over 64 characters')
    const message = Buffer.concat([claims(1), c.encode(c.string, 'C'), c.encode(c.string, 'm'.repeat(MAX_ERROR_MESSAGE_CHARS + 1))])
    expect(refusal(() => decodeExact(errorMessage, message, 'error')).message).toContain('error message over 1024 characters')
  })

  it('refuses to encode over-limit arrays and buffers with TOO_LARGE instead of sending what the peer refuses', () => {
    const node = { index: 1, size: 2, hash: Buffer.alloc(32) }
    const tooMany = { index: 0, length: 1, nodes: new Array<TreeNode>(MAX_PROOF_NODES + 1).fill(node), roots: [] }
    expect(refusal(() => c.encode(merkleProof, tooMany)).code).toBe('TOO_LARGE')
    const hashes = new Array<Buffer>(MAX_WALK_STEPS + 1).fill(Buffer.alloc(32))
    expect(refusal(() => c.encode(commitmentMessage, { requestId: 1, hashes })).code).toBe('TOO_LARGE')
    const chunk = { index: 0, encoded: Buffer.alloc(MAX_ENCODED_BYTES + 1), encoderSignature: Buffer.alloc(64), merkle: { index: 0, length: 1, nodes: [], roots: [] } }
    expect(refusal(() => c.encode(storedChunk, chunk)).code).toBe('TOO_LARGE')
  })
})

describe('the codec builders', () => {
  it('struct encodes fields in the order given, so a reordered struct is a different wire format', () => {
    const ab = struct<{ a: number, b: number }>({ a: c.uint, b: c.uint })
    const ba = struct<{ b: number, a: number }>({ b: c.uint, a: c.uint })
    expect([...c.encode(ab, { a: 1, b: 2 })]).toEqual([1, 2])
    expect([...c.encode(ba, { a: 1, b: 2 })]).toEqual([2, 1])
    expect(decodeExact(ba, c.encode(ab, { a: 1, b: 2 }), 'ba')).toEqual({ b: 1, a: 2 })
  })

  it('bounded codecs enforce exactly their own limit on both sides', () => {
    const arr = boundedArray(c.uint, 3, 'things')
    expect(decodeExact(arr, c.encode(arr, [1, 2, 3]), 'things')).toEqual([1, 2, 3])
    expect(refusal(() => c.encode(arr, [1, 2, 3, 4])).code).toBe('TOO_LARGE')
    expect(refusal(() => decodeExact(arr, Buffer.from([4, 1, 2, 3, 4]), 'things')).message).toContain('things: 4 items, at most 3')
    const buf = boundedBuffer(2, 'blob')
    expect([...decodeExact(buf, c.encode(buf, Buffer.from([7, 8])), 'blob')]).toEqual([7, 8])
    expect(refusal(() => c.encode(buf, Buffer.alloc(3))).code).toBe('TOO_LARGE')
    expect(refusal(() => decodeExact(buf, Buffer.from([3, 1, 2, 3]), 'blob')).message).toContain('blob is 3 bytes, at most 2')
    const str = boundedString(2, 'label')
    expect(decodeExact(str, c.encode(str, 'abc'), 'label')).toBe('ab')
    expect(refusal(() => decodeExact(str, c.encode(c.string, 'abc'), 'label')).message).toContain('label over 2 characters')
  })
})
