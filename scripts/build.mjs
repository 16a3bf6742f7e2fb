// Builds everything into dist/: the engine, CLI, Electron main and benches (tsc), the `datdot`
// command's bundle of tsc's output (dist/cli/, what bin/datdot.js runs: scripts/bundle-cli.mjs),
// the preload bundle (CommonJS, as sandboxed preloads require) and the renderer (Vite + Svelte).
// Then writes dist/.build-stamp.json (scripts/build-stamp.mjs) so `npm start` can skip the next build.
import { spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { snapshotInputs, writeStamp } from './build-stamp.mjs'
import { bundleCli } from './bundle-cli.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)

function run (cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(`build failed: ${cmd} ${args.join(' ')}`)
    process.exit(r.status ?? 1)
  }
}

const inputs = snapshotInputs()
rmSync(join(root, 'dist'), { recursive: true, force: true })
run(bin('tsc'), ['-p', 'tsconfig.json'])
await bundleCli()
if (existsSync(join(root, 'preload', 'vite.config.ts'))) run(bin('vite'), ['build', '--config', 'preload/vite.config.ts', '--logLevel', 'warn'])
if (existsSync(join(root, 'renderer', 'vite.config.ts'))) run(bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'])
writeStamp(inputs)
