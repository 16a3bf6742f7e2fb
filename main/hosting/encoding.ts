/**
 * Unique per-hoster encoding of hypercore blocks ("replica encoding"), scheme `cube-cbc-v1`.
 *
 * Goal: a hoster's stored replica is bound to its identity and slow to produce from the
 * public original, while decoding (for the attestor's check, or to serve a reader) is cheap.
 *
 * Construction (see docs/protocol.md, "Unique encoding"):
 * - The block is cut into 32-bit little-endian words x_j (zero-padded to a multiple of 4).
 * - A keystream bound to (core key, block index, hoster key) is drawn from chacha20 with a
 *   BLAKE2b-derived key. Word j is first whitened: x_j ^= w_j.
 * - Each of `rounds` rounds runs a CBC chain over the words in the prime field p = 2^32 - 5:
 *       y_j = cbrt((x_j + k_rj + y_{j-1}) mod p)       (y_{-1} = an IV from the keystream)
 *   The cube root x^((2p-1)/3) is a permutation of GF(p) because p = 2 (mod 3); it costs
 *   ~48 modular multiplications, its inverse (cubing) costs 2. The chain makes encoding
 *   strictly sequential inside a block; decoding word j needs only y_j and y_{j-1}, so it is
 *   parallel and ~30x cheaper.
 * - Words whose whitened value is >= p (probability 5 / 2^32 each) are passed through
 *   unchanged; every cube-root output is < p, so the decoder tells them apart.
 *
 * Layout of an encoded chunk: [version u8 = 1][rounds u8][original byteLength u32 LE][words].
 */
import { createCipheriv } from 'node:crypto'
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import { DatdotError } from '../shared/errors.js'

export const ENCODING_SCHEME = 'cube-cbc-v1'
export const ENCODING_VERSION = 1
/** Rounds of the CBC cube-root chain; each multiplies encode and decode cost. See docs/protocol.md. */
export const DEFAULT_ROUNDS = 2
export const MAX_ROUNDS = 16
/** Largest block we encode. Hyperdrive writes 64 KiB blocks; anything far larger is refused. */
export const MAX_BLOCK_BYTES = 1024 * 1024
export const HEADER_BYTES = 6

const P = 4294967291 // 2^32 - 5, prime, P % 3 === 2
const D = 2863311527 // (2P - 1) / 3: the inverse of 3 modulo P - 1
const DOMAIN_KEY = b4a.from('datdot/encoding/cube-cbc-v1/key')
const DOMAIN_SIGN = b4a.from('datdot/encoding/cube-cbc-v1/signed-chunk')

/** What an encoding is bound to. */
export interface ChunkBinding {
  /** Key of the hypercore the block belongs to (32 bytes). */
  coreKey: Uint8Array
  /** Index of the block in that core. */
  index: number
  /** Public key of the hoster the replica is made for (32 bytes). */
  hosterKey: Uint8Array
}

export interface EncodeOptions {
  rounds?: number
}

/** Encodes one block for one hoster. Cost: see bench/encoding.ts. */
export function encodeChunk (block: Uint8Array, binding: ChunkBinding, opts: EncodeOptions = {}): Buffer {
  const rounds = opts.rounds ?? DEFAULT_ROUNDS
  checkRounds(rounds)
  checkBinding(binding)
  if (block.byteLength > MAX_BLOCK_BYTES) throw DatdotError.tooLarge('Block', MAX_BLOCK_BYTES)
  const n = Math.ceil(block.byteLength / 4)
  const out = b4a.alloc(HEADER_BYTES + 4 * n)
  out[0] = ENCODING_VERSION
  out[1] = rounds
  out.writeUInt32LE(block.byteLength, 2)
  if (n === 0) return out
  const words = new Uint32Array(n)
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength)
  const full = Math.floor(block.byteLength / 4)
  for (let j = 0; j < full; j++) words[j] = view.getUint32(4 * j, true)
  if (full < n) {
    let w = 0
    for (let b = 4 * full, s = 0; b < block.byteLength; b++, s += 8) w += block[b] * 2 ** s
    words[full] = w
  }
  const ks = keystream(binding, rounds, n)
  for (let j = 0; j < n; j++) words[j] = (words[j] ^ ks[j]) >>> 0
  for (let r = 0; r < rounds; r++) {
    const base = (r + 1) * (n + 1)
    let prev = red(ks[base])
    for (let j = 0; j < n; j++) {
      const x = words[j]
      let y: number
      if (x >= P) y = x
      else y = cbrt(red(x + ks[base + 1 + j] + prev))
      words[j] = y
      prev = y >= P ? y - P : y
    }
  }
  const ov = new DataView(out.buffer, out.byteOffset + HEADER_BYTES, 4 * n)
  for (let j = 0; j < n; j++) ov.setUint32(4 * j, words[j], true)
  return out
}

/** Inverse of encodeChunk. Throws CORRUPT on a malformed chunk. */
export function decodeChunk (encoded: Uint8Array, binding: ChunkBinding, opts: { maxRounds?: number } = {}): Buffer {
  checkBinding(binding)
  const { rounds, byteLength, n } = parseHeader(encoded, opts.maxRounds ?? MAX_ROUNDS)
  const words = new Uint32Array(n)
  const view = new DataView(encoded.buffer, encoded.byteOffset + HEADER_BYTES, 4 * n)
  for (let j = 0; j < n; j++) words[j] = view.getUint32(4 * j, true)
  const ks = keystream(binding, rounds, n)
  for (let r = rounds - 1; r >= 0; r--) {
    const base = (r + 1) * (n + 1)
    // walk backwards so words[j - 1] is still this round's output when word j is decoded
    for (let j = n - 1; j >= 0; j--) {
      const y = words[j]
      if (y >= P) continue
      const before = j === 0 ? ks[base] : words[j - 1]
      const prev = before >= P ? before - P : before
      const k = ks[base + 1 + j]
      let v = cube(y) - (k >= P ? k - P : k) - prev
      if (v < 0) v += P
      if (v < 0) v += P
      words[j] = v
    }
  }
  const out = b4a.alloc(byteLength)
  const full = Math.floor(byteLength / 4)
  const ov = new DataView(out.buffer, out.byteOffset, out.byteLength)
  for (let j = 0; j < n; j++) {
    const w = (words[j] ^ ks[j]) >>> 0
    if (j < full) ov.setUint32(4 * j, w, true)
    else {
      for (let b = 4 * j, s = 0; b < byteLength; b++, s += 8) out[b] = Math.floor(w / 2 ** s) & 0xff
      if (w >= 2 ** (8 * (byteLength - 4 * j))) throw DatdotError.corrupt('encoded chunk has non-zero padding')
    }
  }
  return out
}

/** The original block length an encoded chunk claims, without decoding it. */
export function encodedByteLength (encoded: Uint8Array): number {
  return parseHeader(encoded, MAX_ROUNDS).byteLength
}

/** BLAKE2b-256 of the encoded chunk: what encoders sign and challenges commit to. */
export function encodedChunkHash (encoded: Uint8Array): Buffer {
  return hcrypto.hash(encoded)
}

/** The exact bytes an encoder signs for one encoded chunk. */
export function encodedChunkSignable (binding: ChunkBinding, encodedHash: Uint8Array): Buffer {
  checkBinding(binding)
  if (encodedHash.byteLength !== 32) throw DatdotError.invalidArgument('encodedHash must be 32 bytes')
  const idx = b4a.alloc(8)
  idx.writeBigUInt64LE(BigInt(binding.index))
  return b4a.concat([DOMAIN_SIGN, binding.coreKey, idx, binding.hosterKey, encodedHash])
}

/** Encoder side: ed25519 signature binding (core key, index, hoster key, encoded hash). */
export function signEncodedChunk (binding: ChunkBinding, encoded: Uint8Array, secretKey: Uint8Array): Buffer {
  return hcrypto.sign(encodedChunkSignable(binding, encodedChunkHash(encoded)), secretKey)
}

export function verifyEncodedChunkSignature (binding: ChunkBinding, encoded: Uint8Array, signature: Uint8Array, encoderKey: Uint8Array): boolean {
  if (signature.byteLength !== 64 || encoderKey.byteLength !== 32) return false
  return hcrypto.verify(encodedChunkSignable(binding, encodedChunkHash(encoded)), signature, encoderKey)
}

function parseHeader (encoded: Uint8Array, maxRounds: number): { rounds: number, byteLength: number, n: number } {
  if (encoded.byteLength < HEADER_BYTES) throw DatdotError.corrupt('encoded chunk is shorter than its header')
  if (encoded[0] !== ENCODING_VERSION) throw DatdotError.corrupt(`unknown encoding version ${encoded[0]}`)
  const rounds = encoded[1]
  if (rounds < 1 || rounds > maxRounds) throw DatdotError.corrupt(`encoded chunk has ${rounds} rounds (allowed 1 to ${maxRounds})`)
  const byteLength = (encoded[2] | (encoded[3] << 8) | (encoded[4] << 16)) + encoded[5] * 2 ** 24
  if (byteLength > MAX_BLOCK_BYTES) throw DatdotError.corrupt('encoded chunk claims a block over the size limit')
  const n = Math.ceil(byteLength / 4)
  if (encoded.byteLength !== HEADER_BYTES + 4 * n) throw DatdotError.corrupt('encoded chunk length does not match its header')
  return { rounds, byteLength, n }
}

function checkRounds (rounds: number): void {
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ROUNDS) {
    throw DatdotError.invalidArgument(`rounds must be an integer from 1 to ${MAX_ROUNDS}`)
  }
}

function checkBinding (b: ChunkBinding): void {
  if (b.coreKey?.byteLength !== 32) throw DatdotError.invalidArgument('coreKey must be 32 bytes')
  if (b.hosterKey?.byteLength !== 32) throw DatdotError.invalidArgument('hosterKey must be 32 bytes')
  if (!Number.isSafeInteger(b.index) || b.index < 0) throw DatdotError.invalidArgument('index must be a non-negative integer')
}

/**
 * Keystream words: [0, n) whitening, then per round r: one IV word and n chain words at
 * (r + 1) * (n + 1). chacha20 keyed by BLAKE2b(domain, core key, index, hoster key).
 */
function keystream (binding: ChunkBinding, rounds: number, n: number): Uint32Array {
  const idx = b4a.alloc(8)
  idx.writeBigUInt64LE(BigInt(binding.index))
  const key = hcrypto.hash([DOMAIN_KEY, binding.coreKey, idx, binding.hosterKey])
  const words = (rounds + 1) * (n + 1)
  const cipher = createCipheriv('chacha20', key, b4a.alloc(16))
  const bytes = cipher.update(b4a.alloc(4 * words))
  const ks = new Uint32Array(words)
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < words; i++) ks[i] = v.getUint32(4 * i, true)
  return ks
}

/**
 * x mod P for 0 <= x < 2^53. The float quotient is off by at most one, and q * P stays exact
 * (q < 2^21), so one correction step suffices. ~1.5x faster than the `%` operator on doubles.
 */
function red (x: number): number {
  const r = x - Math.floor(x / P) * P
  return r < 0 ? r + P : (r >= P ? r - P : r)
}

/** a * b mod P for a, b < 2^32, exact in doubles: every intermediate stays below 2^53. */
function mulmod (a: number, b: number): number {
  return red(red(a * (b >>> 16)) * 65536 + a * (b & 0xffff))
}

/** x^D mod P, left-to-right square and multiply over the 32 bits of D. */
function cbrt (x: number): number {
  let r = 1
  for (let i = 31; i >= 0; i--) {
    r = mulmod(r, r)
    if ((D >>> i) & 1) r = mulmod(r, x)
  }
  return r
}

function cube (y: number): number {
  return mulmod(mulmod(y, y), y)
}

/** Exposed for tests: the field and its permutation. */
export const field = { P, D, cbrt, cube, mulmod, red }
