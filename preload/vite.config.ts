// Builds the preload script into ONE CommonJS file, dist/preload/index.cjs: a sandboxed
// preload cannot load ES modules nor require anything but 'electron' (and a few built-ins),
// so the contract, zod and the error helpers are bundled in and only 'electron' is external.
import { defineConfig } from 'vite'
import { fileURLToPath } from 'node:url'

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  root: here('.'),
  publicDir: false,
  // Library mode does not replace process.env.*; the sandboxed preload's `process` is minimal.
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: here('../dist/preload'),
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: {
      entry: here('./index.ts'),
      formats: ['cjs'],
      fileName: () => 'index.cjs'
    },
    rolldownOptions: {
      external: ['electron']
    }
  }
})
