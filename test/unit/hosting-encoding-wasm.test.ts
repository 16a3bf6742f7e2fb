import { describe, it, expect, afterEach } from 'vitest'
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import wabtInit from 'wabt'
import b4a from 'b4a'
import { encodeChunk, decodeChunk, MAX_BLOCK_BYTES, MAX_ROUNDS, HEADER_BYTES, type ChunkBinding } from '../../main/hosting/encoding.js'
import { encodeJs, decodeJs, field } from '../../main/hosting/encoding-js.js'
import { wasmKernel, loadWasmKernel, encodingKernelStats } from '../../main/hosting/encoding-wasm.js'
import { KERNEL_WASM_BASE64 } from '../../main/hosting/encoding-kernel.js'

const P = field.P
/** Words near the field's edges (pass-through words are >= P) as well as anywhere. */
const word = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.constantFrom(0, 1, 2, P - 2, P - 1, P, P + 1, 0xfffffffe, 0xffffffff),
  fc.integer({ min: P - 64, max: 0xffffffff })
)

function bytesOf (words: number[], byteLength: number): Uint8Array {
  const out = new Uint8Array(4 * words.length)
  const v = new DataView(out.buffer)
  words.forEach((w, i) => v.setUint32(4 * i, w, true))
  return out.subarray(0, byteLength)
}

/**
 * A block of `len` bytes and a keystream for `rounds`, drawn so that the whitened words (block
 * XOR keystream) and the chain keys come from `word`: many are >= P (passed through) or at the
 * field's edges, which random blocks almost never reach (5 in 2^32 per word).
 */
const kernelCase = fc.record({
  len: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 4095, 4096, 4097)),
  rounds: fc.integer({ min: 1, max: MAX_ROUNDS }),
  whitened: fc.array(word, { minLength: 1, maxLength: 64 }),
  keys: fc.array(word, { minLength: 1, maxLength: 64 })
}).map(({ len, rounds, whitened, keys }) => {
  const n = Math.ceil(len / 4)
  const ksWords = Array.from({ length: (rounds + 1) * (n + 1) }, (_, i) => keys[(i * 7 + (i >>> 6)) % keys.length])
  const blockWords = Array.from({ length: n }, (_, i) => (whitened[(i * 5 + (i >>> 6)) % whitened.length] ^ ksWords[i]) >>> 0)
  return { len, n, rounds, block: bytesOf(blockWords, len).slice(), ks: bytesOf(ksWords, 4 * ksWords.length) }
})

function binding (coreKey: Uint8Array, hosterKey: Uint8Array, index: number): ChunkBinding {
  return { coreKey, hosterKey, index }
}

afterEach(() => { loadWasmKernel() })

describe('the WebAssembly encoding kernel', () => {
  it('is the committed module: reassembling encoding-kernel.wat with wabt gives the same bytes', async () => {
    const wabt = await wabtInit()
    const mod = wabt.parseWat('encoding-kernel.wat', readFileSync(new URL('../../main/hosting/encoding-kernel.wat', import.meta.url), 'utf8'))
    const bytes = b4a.from(mod.toBinary({ log: false, write_debug_names: false }).buffer)
    mod.destroy()
    expect(bytes.toString('base64')).toBe(KERNEL_WASM_BASE64)
  })

  it('instantiates here, so encoders, attestors and hosters run it', () => {
    expect(wasmKernel()).not.toBeNull()
  })

  it('encodes and decodes exactly as the JavaScript reference, edge words and pass-through words included', () => {
    const wasm = wasmKernel()!
    fc.assert(fc.property(kernelCase, ({ len, n, rounds, block, ks }) => {
      const js = new Uint8Array(4 * n)
      const wa = new Uint8Array(4 * n)
      encodeJs(block, ks, n, rounds, js)
      wasm.encode(block, ks, n, rounds, wa)
      expect(b4a.from(wa).equals(b4a.from(js))).toBe(true)
      const back = wasm.decode(wa, ks, n, rounds)
      expect(b4a.from(back).equals(b4a.from(decodeJs(js, ks, n, rounds)))).toBe(true)
      expect(b4a.from(back.subarray(0, len)).equals(b4a.from(block))).toBe(true)
    }), { numRuns: 300 })
  })

  it('decodes arbitrary (untrusted) words exactly as the JavaScript reference', () => {
    const wasm = wasmKernel()!
    fc.assert(fc.property(kernelCase, ({ n, rounds, block, ks }) => {
      const words = new Uint8Array(4 * n)
      words.set(block)
      expect(b4a.from(wasm.decode(words, ks, n, rounds)).equals(b4a.from(decodeJs(words, ks, n, rounds)))).toBe(true)
    }), { numRuns: 200 })
  })

  it('gives byte-identical chunks through encodeChunk for random blocks, keys, indexes and rounds', () => {
    const lengths = fc.oneof(fc.integer({ min: 0, max: 2048 }), fc.constantFrom(0, 1, 2, 3, 4, 5, 65535, 65536, 65537))
    fc.assert(fc.property(lengths, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 4 }), (len, coreKey, hosterKey, index, rounds) => {
        const block = randomBytes(len)
        const b = binding(coreKey, hosterKey, index)
        const wa = encodeChunk(block, b, { rounds })
        expect(wa.equals(encodeChunk(block, b, { rounds, kernel: 'js' }))).toBe(true)
        expect(decodeChunk(wa, b).equals(block)).toBe(true)
        expect(decodeChunk(wa, b, { kernel: 'js' }).equals(block)).toBe(true)
      }), { numRuns: 60 })
  })

  it('handles the largest block, growing its memory, identically to the reference', () => {
    const block = randomBytes(MAX_BLOCK_BYTES)
    const b = binding(randomBytes(32), randomBytes(32), 3)
    const wa = encodeChunk(block, b, { rounds: 1 })
    expect(wa.equals(encodeChunk(block, b, { rounds: 1, kernel: 'js' }))).toBe(true)
    expect(decodeChunk(wa, b).equals(block)).toBe(true)
  })

  it('rejects a chunk with non-zero padding as CORRUPT, as the reference does', () => {
    const b = binding(randomBytes(32), randomBytes(32), 9)
    const enc = encodeChunk(randomBytes(5), b)
    // re-encode a word with padding set: encode 8 bytes, then claim 5
    const eight = encodeChunk(Buffer.from([1, 2, 3, 4, 5, 6, 0, 0]), b)
    eight.writeUInt32LE(5, 2)
    expect(enc.byteLength).toBe(HEADER_BYTES + 8)
    expect(() => decodeChunk(eight, b)).toThrow(expect.objectContaining({ code: 'CORRUPT' }))
    expect(() => decodeChunk(eight, b, { kernel: 'js' })).toThrow(expect.objectContaining({ code: 'CORRUPT' }))
  })

  it('falls back to JavaScript, counted, when WebAssembly cannot be instantiated', () => {
    const failures = encodingKernelStats.wasmFailures
    const fallbacks = encodingKernelStats.jsFallbacks
    expect(loadWasmKernel(b4a.from('not a wasm module'))).toBe(false)
    expect(encodingKernelStats.wasmFailures).toBe(failures + 1)
    const block = randomBytes(1001)
    const b = binding(randomBytes(32), randomBytes(32), 1)
    const enc = encodeChunk(block, b)
    expect(decodeChunk(enc, b).equals(block)).toBe(true)
    expect(encodingKernelStats.jsFallbacks).toBe(fallbacks + 2)
    expect(loadWasmKernel()).toBe(true)
    expect(encodeChunk(block, b).equals(enc)).toBe(true)
    expect(encodingKernelStats.jsFallbacks).toBe(fallbacks + 2)
  })
})
