#!/usr/bin/env node
// The `datdot` command. The CLI is TypeScript compiled to dist/ by `npm run build`, which also
// bundles it into dist/cli/datdot.js (one module instead of ~240: scripts/bundle-cli.mjs).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/cli/datdot.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('datdot: not built yet; run `npm run build` first\n')
  process.exit(1)
}
const { main } = await import(entry.href)
const code = await main(process.argv.slice(2))
process.exitCode = code
