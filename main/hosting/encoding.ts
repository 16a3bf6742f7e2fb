/**
 * Unique per-hoster encoding of hypercore blocks ("replica encoding"), scheme `cube-cbc-v2`
 * (v1 chunks still decode).
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
 *   strictly sequential inside a block; decoding word j needs only y_j and its chain
 *   neighbour, so it is parallel and much cheaper.
 * - v2 (the default): odd rounds run the chain from word n - 1 down to 0 (IV at that end), so
 *   round r + 1 cannot start before round r has finished: rounds do not pipeline, and a
 *   cheater's latency per block is R times one round's. v1 ran every round forward.
 * - Words whose whitened value is >= p (probability 5 / 2^32 each) are passed through
 *   unchanged; every cube-root output is < p, so the decoder tells them apart.
 *
 * Layout of an encoded chunk: [version u8 = 2 (1)][rounds u8][original byteLength u32 LE][words].
 *
 * The chain runs in WebAssembly (encoding-kernel.wat, loaded by encoding-wasm.ts) wherever this
 * module runs; encoding-js.ts is the JavaScript reference it must match byte for byte, used only
 * when WebAssembly cannot be instantiated (counted in encodingKernelStats) or when asked for.
 */
import { createCipheriv } from 'node:crypto'
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import { DatdotError } from '../shared/errors.js'
import { encodeJs, decodeJs, field, type ChainVersion } from './encoding-js.js'
import { wasmKernel, encodingKernelStats, type WasmKernel } from './encoding-wasm.js'

export { encodingKernelStats, loadWasmKernel } from './encoding-wasm.js'
export type { ChainVersion } from './encoding-js.js'

export const ENCODING_SCHEME = 'cube-cbc-v2'
/** The version this node encodes, and expects of the chunks of a plan (ChunkCheck in proof.ts). */
export const ENCODING_VERSION: ChainVersion = 2
/** Rounds of the CBC cube-root chain; each adds one round's latency for a cheater. See docs/protocol.md section 5. */
export const DEFAULT_ROUNDS = 16
/** Most rounds a v2 chunk may claim (the header's u8 allows 255). */
export const MAX_ROUNDS = 32
/** Most rounds a v1 chunk may claim (its limit when v1 was current). */
export const MAX_ROUNDS_V1 = 16
/** Largest block we encode. Hyperdrive writes 64 KiB blocks; anything far larger is refused. */
export const MAX_BLOCK_BYTES = 1024 * 1024
export const HEADER_BYTES = 6

/** Per version: the keystream's and the encoder signature's domain strings, the round limit. */
const SCHEMES: Record<ChainVersion, { key: Buffer, sign: Buffer, maxRounds: number }> = {
  1: { key: b4a.from('datdot/encoding/cube-cbc-v1/key'), sign: b4a.from('datdot/encoding/cube-cbc-v1/signed-chunk'), maxRounds: MAX_ROUNDS_V1 },
  2: { key: b4a.from('datdot/encoding/cube-cbc-v2/key'), sign: b4a.from('datdot/encoding/cube-cbc-v2/signed-chunk'), maxRounds: MAX_ROUNDS }
}

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
  /** The chain layout; default ENCODING_VERSION (2). Version 1 only for tests and the bench. */
  version?: ChainVersion
}

/** A block ready for the kernel: its framed output (header written) and its keystream. */
interface Prepared { out: Buffer, n: number, ks: Buffer | null }

function prepare (block: Uint8Array, binding: ChunkBinding, rounds: number, version: ChainVersion): Prepared {
  checkBinding(binding)
  if (block.byteLength > MAX_BLOCK_BYTES) throw DatdotError.tooLarge('Block', MAX_BLOCK_BYTES)
  const n = Math.ceil(block.byteLength / 4)
  const out = b4a.alloc(HEADER_BYTES + 4 * n)
  out[0] = version
  out[1] = rounds
  out.writeUInt32LE(block.byteLength, 2)
  return { out, n, ks: n === 0 ? null : keystream(binding, rounds, n, version) }
}

function encodeOptions (opts: EncodeOptions): { rounds: number, version: ChainVersion } {
  const version = opts.version ?? ENCODING_VERSION
  if (version !== 1 && version !== 2) throw DatdotError.invalidArgument('version must be 1 or 2')
  const rounds = opts.rounds ?? DEFAULT_ROUNDS
  checkRounds(rounds, SCHEMES[version].maxRounds)
  return { rounds, version }
}

/** Encodes one block for one hoster. Cost: see bench/encoding.ts. */
export function encodeChunk (block: Uint8Array, binding: ChunkBinding, opts: EncodeOptions = {}): Buffer {
  const { rounds, version } = encodeOptions(opts)
  const { out, n, ks } = prepare(block, binding, rounds, version)
  if (ks === null) return out
  const wasm = pickWasm(opts.kernel)
  if (wasm) wasm.encode(block, ks, n, rounds, out.subarray(HEADER_BYTES), version)
  else encodeJs(block, ks, n, rounds, out.subarray(HEADER_BYTES), version)
  return out
}

/**
 * Encodes several blocks (bindings[i] for blocks[i]); the same chunks as encodeChunk one by one.
 * Consecutive v2 blocks of the same length go through the WebAssembly kernel in pairs, their
 * chains interleaved, so two blocks cost about one (docs/protocol.md section 5): the encoder's
 * throughput, which a cheater re-encoding the blocks of one walk in sequence does not get.
 */
export function encodeChunks (blocks: Uint8Array[], bindings: ChunkBinding[], opts: EncodeOptions = {}): Buffer[] {
  if (blocks.length !== bindings.length) throw DatdotError.invalidArgument('one binding per block')
  const { rounds, version } = encodeOptions(opts)
  const prepared = blocks.map((block, i) => prepare(block, bindings[i], rounds, version))
  const wasm = pickWasm(opts.kernel)
  for (let i = 0; i < blocks.length; i++) {
    const a = prepared[i]
    const b = prepared[i + 1] as Prepared | undefined
    if (a.ks === null) continue
    if (wasm !== null && version === 2 && b !== undefined && b.ks !== null && b.n === a.n) {
      wasm.encode2([blocks[i], blocks[i + 1]], [a.ks, b.ks], a.n, rounds, [a.out.subarray(HEADER_BYTES), b.out.subarray(HEADER_BYTES)])
      i++
    } else if (wasm !== null) {
      wasm.encode(blocks[i], a.ks, a.n, rounds, a.out.subarray(HEADER_BYTES), version)
    } else {
      encodeJs(blocks[i], a.ks, a.n, rounds, a.out.subarray(HEADER_BYTES), version)
    }
  }
  return prepared.map((p) => p.out)
}

/** Inverse of encodeChunk, for either version. Throws CORRUPT on a malformed chunk. */
export function decodeChunk (encoded: Uint8Array, binding: ChunkBinding, opts: { maxRounds?: number, kernel?: EncodingKernel } = {}): Buffer {
  checkBinding(binding)
  const { version, rounds, byteLength, n } = parseHeader(encoded, opts.maxRounds ?? MAX_ROUNDS)
  if (n === 0) return b4a.alloc(0)
  const ks = keystream(binding, rounds, n, version)
  const wasm = pickWasm(opts.kernel)
  const body = encoded.subarray(HEADER_BYTES)
  const words = wasm ? wasm.decode(body, ks, n, rounds, version) : decodeJs(body, ks, n, rounds, version)
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

/** The exact bytes an encoder signs for one encoded chunk of the given version (its domain string). */
export function encodedChunkSignable (binding: ChunkBinding, encodedHash: Uint8Array, version: ChainVersion = ENCODING_VERSION): Buffer {
  checkBinding(binding)
  if (encodedHash.byteLength !== 32) throw DatdotError.invalidArgument('encodedHash must be 32 bytes')
  const idx = b4a.alloc(8)
  idx.writeBigUInt64LE(BigInt(binding.index))
  return b4a.concat([SCHEMES[version].sign, binding.coreKey, idx, binding.hosterKey, encodedHash])
}

/** The version byte of a chunk as a signing domain: 1 for v1 chunks, else the current one. */
function signingVersion (encoded: Uint8Array): ChainVersion {
  return encoded[0] === 1 ? 1 : ENCODING_VERSION
}

/** Encoder side: ed25519 signature binding (core key, index, hoster key, encoded hash). */
export function signEncodedChunk (binding: ChunkBinding, encoded: Uint8Array, secretKey: Uint8Array): Buffer {
  return hcrypto.sign(encodedChunkSignable(binding, encodedChunkHash(encoded), signingVersion(encoded)), secretKey)
}

export function verifyEncodedChunkSignature (binding: ChunkBinding, encoded: Uint8Array, signature: Uint8Array, encoderKey: Uint8Array): boolean {
  if (signature.byteLength !== 64 || encoderKey.byteLength !== 32) return false
  return hcrypto.verify(encodedChunkSignable(binding, encodedChunkHash(encoded), signingVersion(encoded)), signature, encoderKey)
}

/** The header's fields; version 1 and 2 each with their own round limit (and maxRounds if lower). */
export function parseHeader (encoded: Uint8Array, maxRounds: number = MAX_ROUNDS): { version: ChainVersion, rounds: number, byteLength: number, n: number } {
  if (encoded.byteLength < HEADER_BYTES) throw DatdotError.corrupt('encoded chunk is shorter than its header')
  const version = encoded[0]
  if (version !== 1 && version !== 2) throw DatdotError.corrupt(`unknown encoding version ${version}`)
  const limit = Math.min(maxRounds, SCHEMES[version].maxRounds)
  const rounds = encoded[1]
  if (rounds < 1 || rounds > limit) throw DatdotError.corrupt(`encoded chunk (v${version}) has ${rounds} rounds (allowed 1 to ${limit})`)
  const byteLength = (encoded[2] | (encoded[3] << 8) | (encoded[4] << 16)) + encoded[5] * 2 ** 24
  if (byteLength > MAX_BLOCK_BYTES) throw DatdotError.corrupt('encoded chunk claims a block over the size limit')
  const n = Math.ceil(byteLength / 4)
  if (encoded.byteLength !== HEADER_BYTES + 4 * n) throw DatdotError.corrupt('encoded chunk length does not match its header')
  return { version, rounds, byteLength, n }
}

function checkRounds (rounds: number, max: number): void {
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > max) {
    throw DatdotError.invalidArgument(`rounds must be an integer from 1 to ${max}`)
  }
}

function checkBinding (b: ChunkBinding): void {
  if (b.coreKey?.byteLength !== 32) throw DatdotError.invalidArgument('coreKey must be 32 bytes')
  if (b.hosterKey?.byteLength !== 32) throw DatdotError.invalidArgument('hosterKey must be 32 bytes')
  if (!Number.isSafeInteger(b.index) || b.index < 0) throw DatdotError.invalidArgument('index must be a non-negative integer')
}

/**
 * Keystream bytes (little-endian u32 words): [0, n) whitening, then per round r one IV word and
 * n chain words at (r + 1) * (n + 1). chacha20 keyed by BLAKE2b(domain of the version, core key,
 * index, hoster key).
 */
function keystream (binding: ChunkBinding, rounds: number, n: number, version: ChainVersion): Buffer {
  const idx = b4a.alloc(8)
  idx.writeBigUInt64LE(BigInt(binding.index))
  const key = hcrypto.hash([SCHEMES[version].key, binding.coreKey, idx, binding.hosterKey])
  const cipher = createCipheriv('chacha20', key, b4a.alloc(16))
  return cipher.update(b4a.alloc(4 * (rounds + 1) * (n + 1)))
}

/** Exposed for tests: the field and its permutation (JavaScript reference). */
export { field }
