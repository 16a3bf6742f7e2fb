/**
 * Loads the WebAssembly encoding kernel (encoding-kernel.wat, committed as base64 in
 * encoding-kernel.ts) synchronously on first use, in whatever isolate runs the encoding (the
 * main thread, a worker, Electron's main process: each gets its own instance), and wraps it in
 * the same byte interface as the JavaScript reference (encoding-js.ts). If instantiation fails
 * the kernel is null, the failure is counted, and encoding.ts falls back to JavaScript.
 */
import b4a from 'b4a'
import { KERNEL_WASM_BASE64 } from './encoding-kernel.js'

interface KernelExports {
  memory: WebAssembly.Memory
  encode: (w: number, ks: number, n: number, rounds: number) => void
  decode: (w: number, ks: number, n: number, rounds: number) => void
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
  encode (block: Uint8Array, ksBytes: Uint8Array, n: number, rounds: number, out: Uint8Array): void {
    const ksOff = this.layout(n, ksBytes.byteLength)
    const mem = new Uint8Array(this.x.memory.buffer)
    mem.set(block, 0)
    mem.fill(0, block.byteLength, 4 * n)
    mem.set(ksBytes, ksOff)
    this.x.encode(0, ksOff, n, rounds)
    out.set(mem.subarray(0, 4 * n))
  }

  /** Same contract as decodeJs: a fresh copy of the 4n decoded word bytes. */
  decode (encodedWords: Uint8Array, ksBytes: Uint8Array, n: number, rounds: number): Uint8Array {
    const ksOff = this.layout(n, ksBytes.byteLength)
    const mem = new Uint8Array(this.x.memory.buffer)
    mem.set(encodedWords.subarray(0, 4 * n), 0)
    mem.set(ksBytes, ksOff)
    this.x.decode(0, ksOff, n, rounds)
    return mem.slice(0, 4 * n)
  }

  /** Grows the memory for n words and the keystream; returns the keystream's offset. */
  private layout (n: number, ksByteLength: number): number {
    const ksOff = (4 * n + 15) & ~15
    const need = ksOff + ksByteLength
    const have = this.x.memory.buffer.byteLength
    if (need > have) this.x.memory.grow(Math.ceil((need - have) / PAGE))
    return ksOff
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
