// Builds the renderer (Svelte 5) into dist/renderer. The same files are loaded by the Electron
// window and served by the daemon at http://127.0.0.1:<port>/, both under a strict CSP
// (renderer/index.html): no inline scripts or styles, so Svelte's CSS goes to .css files.
import { defineConfig } from 'vite'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { fileURLToPath } from 'node:url'

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [svelte({ configFile: false, compilerOptions: { css: 'external' } })],
  build: {
    outDir: here('../dist/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    // data: URLs are allowed for images only; keep every asset a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true
  },
  server: {
    host: '127.0.0.1',
    // `DATDOT_DEV_API=http://127.0.0.1:<port> npx vite --config renderer/vite.config.ts` talks to a running daemon.
    proxy: process.env.DATDOT_DEV_API
      ? { '/api': { target: process.env.DATDOT_DEV_API, ws: true, changeOrigin: false } }
      : undefined
  }
})
