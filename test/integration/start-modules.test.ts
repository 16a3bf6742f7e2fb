/**
 * Light by default, in modules: what the `datdot` command (the daemon included) loads at start
 * leaves out the chain's packages, @polkadot's crypto and wasm among them (a third of the
 * daemon's start when the recovery phrase loaded @polkadot/util-crypto's bip39). They load when
 * hosting is first used (main/hosting/lazy-chain.ts), or the wallet's phrase is first asked for.
 * Each file is imported in a child process (test/fixtures/import-trace.mjs), which lists the
 * packages resolved while it loaded: the sources, and the bundle bin/datdot.js runs
 * (dist/cli/datdot.js, scripts/bundle-cli.mjs: made by `npm run build`).
 */
import { describe, it, expect } from 'vitest'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { runNode } from '../helpers/run-process.js'

const ROOT = join(import.meta.dirname, '..', '..')
const TRACE = join(ROOT, 'test', 'fixtures', 'import-trace.mjs')

/** The packages resolved while `file` (relative to the repository) and its imports loaded. */
async function packagesLoadedBy (file: string): Promise<string[]> {
  const run = await runNode(TRACE, [join(ROOT, file)], { cwd: ROOT })
  expect(run.code, run.stderr).toBe(0)
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as string[]
}

/** A package of the chain: @polkadot's (but the plain word list of the recovery phrase), chopsticks, the runtime's. */
const isChainPackage = (s: string): boolean =>
  (s.startsWith('@polkadot/') && s !== '@polkadot/util-crypto/mnemonic/wordlists/en') || s.startsWith('@acala-network/') || s.startsWith('@substrate/')

describe('the modules the datdot command loads at start', () => {
  it('hold the engine, the API and the server but no package of the chain', async () => {
    const loaded = await packagesLoadedBy('main/cli/index.ts')
    expect(loaded).toEqual(expect.arrayContaining(['hyperswarm', 'hyperdrive', 'better-sqlite3', 'ws', 'zod']))
    expect(loaded.filter(isChainPackage)).toEqual([])
  })

  it('hold no package of the chain in the bundle bin/datdot.js runs either', async () => {
    const bundle = 'dist/cli/datdot.js'
    if (!existsSync(join(ROOT, bundle))) throw new Error(`${bundle} is missing: run \`npm run build\` first`)
    const loaded = await packagesLoadedBy(bundle)
    expect(loaded).toEqual(expect.arrayContaining(['hyperswarm', 'hyperdrive', 'better-sqlite3', 'ws']))
    expect(loaded, 'zod is bundled in').not.toContain('zod')
    expect(loaded.filter(isChainPackage)).toEqual([])
  })

  it('are told apart from the chain client, which loads @polkadot/api', async () => {
    const loaded = await packagesLoadedBy('main/chain/connection.ts')
    expect(loaded).toEqual(expect.arrayContaining(['@polkadot/api', '@polkadot/util-crypto']))
  })
})
