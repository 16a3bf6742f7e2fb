import { describe, it, expect, afterEach } from 'vitest'
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import wabtInit from 'wabt'
import b4a from 'b4a'
import { encodeChunk, encodeChunks, decodeChunk, MAX_BLOCK_BYTES, MAX_ROUNDS, MAX_ROUNDS_V1, HEADER_BYTES, type ChunkBinding, type ChainVersion } from '../../main/hosting/encoding.js'
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
const words = fc.array(word, { minLength: 1, maxLength: 64 })

function kernelInput (len: number, rounds: number, whitened: number[], keys: number[]): { block: Uint8Array, ks: Uint8Array } {
  const n = Math.ceil(len / 4)
  const ksWords = Array.from({ length: (rounds + 1) * (n + 1) }, (_, i) => keys[(i * 7 + (i >>> 6)) % keys.length])
  const blockWords = Array.from({ length: n }, (_, i) => (whitened[(i * 5 + (i >>> 6)) % whitened.length] ^ ksWords[i]) >>> 0)
  return { block: bytesOf(blockWords, len).slice(), ks: bytesOf(ksWords, 4 * ksWords.length) }
}

const lengthCase = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 4095, 4096, 4097))

const kernelCase = fc.record({
  len: lengthCase,
  version: fc.constantFrom<ChainVersion>(1, 2, 2),
  rounds: fc.integer({ min: 1, max: MAX_ROUNDS }),
  whitened: words,
  keys: words
}).map(({ len, version, rounds: r, whitened, keys }) => {
  const rounds = version === 1 ? Math.min(r, MAX_ROUNDS_V1) : r
  return { len, n: Math.ceil(len / 4), version, rounds, ...kernelInput(len, rounds, whitened, keys) }
})

/** Two blocks of the same length with their own keystreams, for the interleaved v2 kernel. */
const pairCase = fc.record({
  len: lengthCase, rounds: fc.integer({ min: 1, max: MAX_ROUNDS }), wa: words, ka: words, wb: words, kb: words
}).map(({ len, rounds, wa, ka, wb, kb }) => ({ len, n: Math.ceil(len / 4), rounds, a: kernelInput(len, rounds, wa, ka), b: kernelInput(len, rounds, wb, kb) }))

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

  it('encodes and decodes exactly as the JavaScript reference, v2 and v1, edge words and pass-through words included', () => {
    const wasm = wasmKernel()!
    fc.assert(fc.property(kernelCase, ({ len, n, version, rounds, block, ks }) => {
      const js = new Uint8Array(4 * n)
      const wa = new Uint8Array(4 * n)
      encodeJs(block, ks, n, rounds, js, version)
      wasm.encode(block, ks, n, rounds, wa, version)
      expect(b4a.from(wa).equals(b4a.from(js))).toBe(true)
      const back = wasm.decode(wa, ks, n, rounds, version)
      expect(b4a.from(back).equals(b4a.from(decodeJs(js, ks, n, rounds, version)))).toBe(true)
      expect(b4a.from(back.subarray(0, len)).equals(b4a.from(block))).toBe(true)
    }), { numRuns: 300 })
  })

  it('encodes two blocks interleaved exactly as two JavaScript v2 encodes, and each decodes on its own', () => {
    const wasm = wasmKernel()!
    fc.assert(fc.property(pairCase, ({ len, n, rounds, a, b }) => {
      const outs: [Uint8Array, Uint8Array] = [new Uint8Array(4 * n), new Uint8Array(4 * n)]
      wasm.encode2([a.block, b.block], [a.ks, b.ks], n, rounds, outs)
      for (const [i, inp] of [a, b].entries()) {
        const js = new Uint8Array(4 * n)
        encodeJs(inp.block, inp.ks, n, rounds, js, 2)
        expect(b4a.from(outs[i]).equals(b4a.from(js))).toBe(true)
        expect(b4a.from(wasm.decode(outs[i], inp.ks, n, rounds).subarray(0, len)).equals(b4a.from(inp.block))).toBe(true)
      }
    }), { numRuns: 200 })
  })

  it('decodes arbitrary (untrusted) words exactly as the JavaScript reference', () => {
    const wasm = wasmKernel()!
    fc.assert(fc.property(kernelCase, ({ n, version, rounds, block, ks }) => {
      const words = new Uint8Array(4 * n)
      words.set(block)
      expect(b4a.from(wasm.decode(words, ks, n, rounds, version)).equals(b4a.from(decodeJs(words, ks, n, rounds, version)))).toBe(true)
    }), { numRuns: 200 })
  })

  it('encodes a list of blocks (pairs interleaved where lengths match) exactly as encodeChunk one by one', () => {
    const lengths = fc.array(fc.oneof(fc.constantFrom(0, 1, 5, 64, 4096), fc.integer({ min: 0, max: 600 })), { minLength: 0, maxLength: 7 })
    fc.assert(fc.property(lengths, fc.integer({ min: 1, max: MAX_ROUNDS }), fc.nat({ max: 1e9 }), (lens, rounds, index) => {
      const coreKey = randomBytes(32)
      const hosterKey = randomBytes(32)
      // runs of equal lengths, so several pairs go through the interleaved kernel
      const blocks = lens.flatMap((len) => [randomBytes(len), randomBytes(len)]).slice(0, 9)
      const bindings = blocks.map((_, i) => binding(coreKey, hosterKey, index + i))
      const batch = encodeChunks(blocks, bindings, { rounds })
      const batchJs = encodeChunks(blocks, bindings, { rounds, kernel: 'js' })
      blocks.forEach((blk, i) => {
        const one = encodeChunk(blk, bindings[i], { rounds, kernel: 'js' })
        expect(batch[i].equals(one)).toBe(true)
        expect(batchJs[i].equals(one)).toBe(true)
        expect(decodeChunk(batch[i], bindings[i]).equals(blk)).toBe(true)
      })
    }), { numRuns: 25 })
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
