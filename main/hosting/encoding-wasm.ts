/**
 * Loads the WebAssembly encoding kernel (encoding-kernel.wat, committed as base64 in
 * encoding-kernel.ts) synchronously on first use, in whatever isolate runs the encoding (the
 * main thread, a worker, Electron's main process: each gets its own instance), and wraps it in
 * the same byte interface as the JavaScript reference (encoding-js.ts). If instantiation fails
 * the kernel is null, the failure is counted, and encoding.ts falls back to JavaScript.
 */
import b4a from 'b4a'
import { KERNEL_WASM_BASE64 } from './encoding-kernel.js'
import type { ChainVersion } from './encoding-js.js'

type Kernel = (w: number, ks: number, n: number, rounds: number) => void

interface KernelExports {
  memory: WebAssembly.Memory
  encode: Kernel
  decode: Kernel
  encodeV1: Kernel
  decodeV1: Kernel
  encode2: (wa: number, ksa: number, wb: number, ksb: number, n: number, rounds: number) => void
}

/** Counters of the encoding backend, for status and tests. */
export const encodingKernelStats = {
  /** WebAssembly instantiations that failed (each leaves JavaScript in use). */
  wasmFailures: 0,
  /** Encode or decode calls that ran in JavaScript because WebAssembly was unavailable. */
  jsFallbacks: 0,
  lastError: null as string | null
}

const PAGE = 65536

export class WasmKernel {
  private readonly x: KernelExports

  constructor (x: KernelExports) {
    this.x = x
  }

  /** Same contract as encodeJs: writes the 4n encoded word bytes into `out`. */
  encode (block: Uint8Array, ksBytes: Uint8Array, n: number, rounds: number, out: Uint8Array, version: ChainVersion = 2): void {
    const [ksOff] = this.layout(n, [ksBytes.byteLength])
    const mem = new Uint8Array(this.x.memory.buffer)
    mem.set(block, 0)
    mem.fill(0, block.byteLength, 4 * n)
    mem.set(ksBytes, ksOff)
    if (version === 1) this.x.encodeV1(0, ksOff, n, rounds)
    else this.x.encode(0, ksOff, n, rounds)
    out.set(mem.subarray(0, 4 * n))
  }

  /**
   * v2 encode of two blocks of the same word count n at once, their chains interleaved (one
   * block's cost or a little more for both): the same outputs as two calls of encode.
   */
  encode2 (blocks: [Uint8Array, Uint8Array], ks: [Uint8Array, Uint8Array], n: number, rounds: number, outs: [Uint8Array, Uint8Array]): void {
    const [ksA, wB, ksB] = this.layout(n, [ks[0].byteLength, 4 * n, ks[1].byteLength])
    const mem = new Uint8Array(this.x.memory.buffer)
    mem.set(blocks[0], 0)
    mem.fill(0, blocks[0].byteLength, 4 * n)
    mem.set(blocks[1], wB)
    mem.fill(0, wB + blocks[1].byteLength, wB + 4 * n)
    mem.set(ks[0], ksA)
    mem.set(ks[1], ksB)
    this.x.encode2(0, ksA, wB, ksB, n, rounds)
    outs[0].set(mem.subarray(0, 4 * n))
    outs[1].set(mem.subarray(wB, wB + 4 * n))
  }

  /** Same contract as decodeJs: a fresh copy of the 4n decoded word bytes. */
  decode (encodedWords: Uint8Array, ksBytes: Uint8Array, n: number, rounds: number, version: ChainVersion = 2): Uint8Array {
    const [ksOff] = this.layout(n, [ksBytes.byteLength])
    const mem = new Uint8Array(this.x.memory.buffer)
    mem.set(encodedWords.subarray(0, 4 * n), 0)
    mem.set(ksBytes, ksOff)
    if (version === 1) this.x.decodeV1(0, ksOff, n, rounds)
    else this.x.decode(0, ksOff, n, rounds)
    return mem.slice(0, 4 * n)
  }

  /**
   * Grows the memory for n words at 0 followed by regions of the given byte lengths, each
   * 16-byte aligned; returns the regions' offsets.
   */
  private layout (n: number, regions: number[]): number[] {
    const offsets: number[] = []
    let end = 4 * n
    for (const bytes of regions) {
      const off = (end + 15) & ~15
      offsets.push(off)
      end = off + bytes
    }
    const have = this.x.memory.buffer.byteLength
    if (end > have) this.x.memory.grow(Math.ceil((end - have) / PAGE))
    return offsets
  }
}

let current: WasmKernel | null | undefined

/** The kernel, instantiated on first call; null when WebAssembly is unavailable here. */
export function wasmKernel (): WasmKernel | null {
  if (current === undefined) current = instantiate(b4a.from(KERNEL_WASM_BASE64, 'base64'))
  return current
}

/**
 * (Re)instantiates the kernel from `bytes` (default: the committed module) and returns whether
 * WebAssembly is now in use. Tests pass broken bytes to exercise the fallback.
 */
export function loadWasmKernel (bytes: Uint8Array = b4a.from(KERNEL_WASM_BASE64, 'base64')): boolean {
  current = instantiate(bytes)
  return current !== null
}

function instantiate (bytes: Uint8Array): WasmKernel | null {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {})
    return new WasmKernel(instance.exports as unknown as KernelExports)
  } catch (err) {
    encodingKernelStats.wasmFailures++
    encodingKernelStats.lastError = err instanceof Error ? err.message : String(err)
    return null
  }
}
