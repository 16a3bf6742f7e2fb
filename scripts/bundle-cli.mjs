// Bundles the `datdot` command (the daemon included) into dist/cli/ after tsc: ONE module for
// the CLI, the engine, the API and the server, with zod (an ES module package of ~95 files)
// bundled in and every other package left to node_modules (the native ones and the CommonJS
// hypercore stack load as they are). Node 20's ES module loader costs about 1 ms of CPU per
// module, and the daemon's start was mostly that: ~240 of its ~520 modules were ours and zod's.
// What is imported with import() at first use (the chain client and the embedded chain, the
// hosting service, the wallet, the devnet) stays in chunks of its own, loaded when first used as
// before. The input is tsc's output, so the bundle is the type-checked code. bin/datdot.js runs
// dist/cli/datdot.js.
import { build } from 'vite'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export async function bundleCli () {
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    publicDir: false,
    ssr: { target: 'node', noExternal: ['zod'] },
    build: {
      ssr: join(root, 'dist', 'main', 'cli', 'index.js'),
      outDir: join(root, 'dist', 'cli'),
      emptyOutDir: true,
      target: 'node20',
      minify: false,
      sourcemap: true,
      // Every chunk next to datdot.js, one folder under dist/ as tsc's dist/main/*.js are: the
      // daemon finds the browser UI at ../renderer/ from its own module (main/daemon.ts).
      rolldownOptions: { output: { format: 'es', entryFileNames: 'datdot.js', chunkFileNames: '[name]-[hash].js' } }
    }
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleCli()
