/**
 * `datdot restore` as a user runs it: the CLI from the sources in a child process, the phrase on
 * stdin. It creates the folder with the phrase's key, refuses a phrase on the command line, a
 * wrong phrase (writing nothing) and a folder that is not empty.
 */
import { describe, it, expect, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TempDirs, startEngine } from '../helpers/engines.js'
import { runNode, type Run } from '../helpers/run-process.js'
import { phraseFromKey } from '../../main/engine/recovery.js'

const CHILD = join(import.meta.dirname, '..', 'fixtures', 'cli-child.mjs')

function datdot (args: string[], stdin: string): Promise<Run> {
  return runNode(CHILD, args, { stdin })
}

describe('datdot restore', () => {
  const tmp = new TempDirs()
  afterAll(async () => { await tmp.cleanup() })

  it('creates a storage folder from the phrase on stdin, with the vault of that phrase', async () => {
    const original = await startEngine(null, await tmp.make())
    const phrase = phraseFromKey(original.store.primaryKey)
    const vaultId = original.vault.id
    await original.close()
    const dir = join(await tmp.make(), 'restored')
    const run = await datdot(['restore', '--storage', dir], phrase + '\n')
    expect(run.stderr).not.toContain(phrase.split(' ').slice(0, 2).join(' '))
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`vault hyper://${vaultId}`)
    const engine = await startEngine(null, dir)
    try {
      expect(engine.vault.id).toBe(vaultId)
      expect(engine.vault.restoring).toBe(true)
    } finally {
      await engine.close()
    }
  })

  it('refuses a phrase given on the command line, a wrong phrase and a folder that is not empty', async () => {
    const phrase = phraseFromKey(randomBytes(32))
    const dir = join(await tmp.make(), 'new')
    const argv = await datdot(['restore', '--storage', dir, ...phrase.split(' ')], '')
    expect(argv.code).toBe(2)
    expect(argv.stderr).toMatch(/read from stdin, never from the command line/)
    const words = phrase.split(' ')
    const wrong = await datdot(['restore', '--storage', dir], words.slice(0, 23).join(' '))
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/24 words; this one has 23 \[INVALID_ARGUMENT\]/)
    expect(existsSync(dir)).toBe(false)
    const full = await tmp.make()
    await writeFile(join(full, 'notes.txt'), 'keep')
    const busy = await datdot(['restore', '--storage', full], phrase)
    expect(busy.code).toBe(1)
    expect(busy.stderr).toMatch(/is not empty/)
    expect(await readdir(full)).toEqual(['notes.txt'])
  })
})
