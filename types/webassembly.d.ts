// The part of the WebAssembly JS API that main/hosting/encoding-wasm.ts uses. Node has it as a
// global, but with lib ES2023 and no DOM, neither TypeScript nor @types/node declares it.
declare namespace WebAssembly {
  class Module {
    constructor (bytes: ArrayBufferView | ArrayBuffer)
  }
  class Instance {
    constructor (module: Module, imports?: Record<string, Record<string, unknown>>)
    readonly exports: Record<string, unknown>
  }
  class Memory {
    readonly buffer: ArrayBuffer
    grow (delta: number): number
  }
}
