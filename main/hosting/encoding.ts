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
 *
 * The chain runs in WebAssembly (encoding-kernel.wat, loaded by encoding-wasm.ts) wherever this
 * module runs; encoding-js.ts is the JavaScript reference it must match byte for byte, used only
 * when WebAssembly cannot be instantiated (counted in encodingKernelStats) or when asked for.
 */
import { createCipheriv } from 'node:crypto'
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import { DatdotError } from '../shared/errors.js'
import { encodeJs, decodeJs, field } from './encoding-js.js'
import { wasmKernel, encodingKernelStats, type WasmKernel } from './encoding-wasm.js'

export { encodingKernelStats, loadWasmKernel } from './encoding-wasm.js'

export const ENCODING_SCHEME = 'cube-cbc-v1'
export const ENCODING_VERSION = 1
/** Rounds of the CBC cube-root chain; each multiplies encode and decode cost. See docs/protocol.md. */
export const DEFAULT_ROUNDS = 2
export const MAX_ROUNDS = 16
/** Largest block we encode. Hyperdrive writes 64 KiB blocks; anything far larger is refused. */
export const MAX_BLOCK_BYTES = 1024 * 1024
export const HEADER_BYTES = 6

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

/** Which kernel runs: WebAssembly (default, when it instantiates) or the JavaScript reference. */
export type EncodingKernel = 'wasm' | 'js'

export interface EncodeOptions {
  rounds?: number
  kernel?: EncodingKernel
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
  const ks = keystream(binding, rounds, n)
  const wasm = pickWasm(opts.kernel)
  if (wasm) wasm.encode(block, ks, n, rounds, out.subarray(HEADER_BYTES))
  else encodeJs(block, ks, n, rounds, out.subarray(HEADER_BYTES))
  return out
}

/** Inverse of encodeChunk. Throws CORRUPT on a malformed chunk. */
export function decodeChunk (encoded: Uint8Array, binding: ChunkBinding, opts: { maxRounds?: number, kernel?: EncodingKernel } = {}): Buffer {
  checkBinding(binding)
  const { rounds, byteLength, n } = parseHeader(encoded, opts.maxRounds ?? MAX_ROUNDS)
  if (n === 0) return b4a.alloc(0)
  const ks = keystream(binding, rounds, n)
  const wasm = pickWasm(opts.kernel)
  const body = encoded.subarray(HEADER_BYTES)
  const words = wasm ? wasm.decode(body, ks, n, rounds) : decodeJs(body, ks, n, rounds)
  for (let b = byteLength; b < 4 * n; b++) {
    if (words[b] !== 0) throw DatdotError.corrupt('encoded chunk has non-zero padding')
  }
  return Buffer.from(words.buffer, words.byteOffset, byteLength)
}

function pickWasm (kernel: EncodingKernel | undefined): WasmKernel | null {
  if (kernel === 'js') return null
  const wasm = wasmKernel()
  if (!wasm) encodingKernelStats.jsFallbacks++
  return wasm
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
 * Keystream bytes (little-endian u32 words): [0, n) whitening, then per round r one IV word and
 * n chain words at (r + 1) * (n + 1). chacha20 keyed by BLAKE2b(domain, core key, index, hoster key).
 */
function keystream (binding: ChunkBinding, rounds: number, n: number): Buffer {
  const idx = b4a.alloc(8)
  idx.writeBigUInt64LE(BigInt(binding.index))
  const key = hcrypto.hash([DOMAIN_KEY, binding.coreKey, idx, binding.hosterKey])
  const cipher = createCipheriv('chacha20', key, b4a.alloc(16))
  return cipher.update(b4a.alloc(4 * (rounds + 1) * (n + 1)))
}

/** Exposed for tests: the field and its permutation (JavaScript reference). */
export { field }
