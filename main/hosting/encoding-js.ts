/**
 * The cube-cbc kernels (v1 and v2) in plain JavaScript: the reference (oracle) the WebAssembly
 * kernel (encoding-kernel.wat) must match byte for byte, and the fallback when WebAssembly cannot
 * be instantiated. Works on bytes in and out (words are little-endian u32); encoding.ts frames
 * them. The field: p = 2^32 - 5, cube root x^D with D = (2p - 1) / 3 (docs/protocol.md section 2).
 *
 * v1: every round chains j = 0 .. n - 1 (y_{-1} = the round's IV). v2: even rounds the same, odd
 * rounds chain j = n - 1 down to 0 (y_n = the round's IV), so round r + 1 starts from the word
 * round r finished with and rounds cannot run as a pipeline (docs/protocol.md section 5).
 */
const P = 4294967291 // 2^32 - 5, prime, P % 3 === 2
const D = 2863311527 // (2P - 1) / 3: the inverse of 3 modulo P - 1

/** The chain layouts: 1 = cube-cbc-v1 (all rounds forward), 2 = cube-cbc-v2 (direction alternates). */
export type ChainVersion = 1 | 2

/** Whether round r runs its chain from the last word to the first. */
export function reversedRound (version: ChainVersion, r: number): boolean {
  return version === 2 && (r & 1) === 1
}

/** Encodes `block` (zero-padded to n words) with the keystream bytes into `out` (4n bytes). */
export function encodeJs (block: Uint8Array, ksBytes: Uint8Array, n: number, rounds: number, out: Uint8Array, version: ChainVersion = 2): void {
  const words = blockWords(block, n)
  const ks = toWords(ksBytes)
  for (let j = 0; j < n; j++) words[j] = (words[j] ^ ks[j]) >>> 0
  for (let r = 0; r < rounds; r++) {
    const base = (r + 1) * (n + 1)
    const rev = reversedRound(version, r)
    let prev = red(ks[base])
    for (let i = 0; i < n; i++) {
      const j = rev ? n - 1 - i : i
      const x = words[j]
      let y: number
      if (x >= P) y = x
      else y = cbrt(red(x + ks[base + 1 + j] + prev))
      words[j] = y
      prev = y >= P ? y - P : y
    }
  }
  const ov = new DataView(out.buffer, out.byteOffset, 4 * n)
  for (let j = 0; j < n; j++) ov.setUint32(4 * j, words[j], true)
}

/** Inverse of encodeJs: the 4n bytes of whitened-back words (padding included). */
export function decodeJs (encodedWords: Uint8Array, ksBytes: Uint8Array, n: number, rounds: number, version: ChainVersion = 2): Uint8Array {
  const words = toWords(encodedWords.subarray(0, 4 * n))
  const ks = toWords(ksBytes)
  for (let r = rounds - 1; r >= 0; r--) {
    const base = (r + 1) * (n + 1)
    const rev = reversedRound(version, r)
    // visit words against the chain's direction, so the neighbour word j depends on is still
    // this round's output when word j is decoded (j - 1 forward, j + 1 reversed)
    for (let i = 0; i < n; i++) {
      const j = rev ? i : n - 1 - i
      const y = words[j]
      if (y >= P) continue
      const before = rev ? (j === n - 1 ? ks[base] : words[j + 1]) : (j === 0 ? ks[base] : words[j - 1])
      const prev = before >= P ? before - P : before
      const k = ks[base + 1 + j]
      let v = cube(y) - (k >= P ? k - P : k) - prev
      if (v < 0) v += P
      if (v < 0) v += P
      words[j] = v
    }
  }
  const out = new Uint8Array(4 * n)
  const ov = new DataView(out.buffer)
  for (let j = 0; j < n; j++) ov.setUint32(4 * j, (words[j] ^ ks[j]) >>> 0, true)
  return out
}

/** The block's little-endian words, zero-padded to n. */
function blockWords (block: Uint8Array, n: number): Uint32Array {
  const words = new Uint32Array(n)
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength)
  const full = Math.floor(block.byteLength / 4)
  for (let j = 0; j < full; j++) words[j] = view.getUint32(4 * j, true)
  if (full < n) {
    let w = 0
    for (let b = 4 * full, s = 0; b < block.byteLength; b++, s += 8) w += block[b] * 2 ** s
    words[full] = w
  }
  return words
}

function toWords (bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(bytes.byteLength >>> 2)
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < words.length; i++) words[i] = v.getUint32(4 * i, true)
  return words
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
