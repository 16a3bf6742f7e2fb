/**
 * The main process's register of dropped paths (main/electron/drops.ts): what preload may
 * register, one-time tokens, expiry and the bound on held drops.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DropRegistry } from '../../main/electron/drops.js'

let dir = ''
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'datdot-drops-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

const token = (n: number): string => n.toString(16).padStart(2, '0').repeat(16)

async function codeOf (p: Promise<unknown> | (() => unknown)): Promise<string | null> {
  try { await (typeof p === 'function' ? p() : p); return null } catch (err) { return (err as { code: string }).code }
}

describe('DropRegistry', () => {
  it('hands out the paths of a drop once, without duplicates', async () => {
    const file = join(dir, 'a.txt')
    await writeFile(file, 'a')
    await mkdir(join(dir, 'folder'))
    const drops = new DropRegistry()
    await drops.register({ drop: token(1), paths: [file, join(dir, 'folder'), file] })
    expect(drops.take(token(1))).toEqual([file, join(dir, 'folder')])
    expect(await codeOf(() => drops.take(token(1)))).toBe('NOT_FOUND')
  })

  it('refuses malformed tokens, a token used twice, relative or missing paths and empty drops, holding nothing', async () => {
    const file = join(dir, 'a.txt')
    await writeFile(file, 'a')
    const drops = new DropRegistry()
    expect(await codeOf(drops.register({ drop: 'short', paths: [file] }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(drops.register({ drop: token(1), paths: [] }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(drops.register({ drop: token(1), paths: ['relative.txt'] }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(drops.register({ drop: token(1), paths: [file + '\0x'] }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(drops.register({ drop: token(1), paths: [file, join(dir, 'gone.txt')] }))).toBe('NOT_FOUND')
    expect(await codeOf(drops.register(null))).toBe('INVALID_ARGUMENT')
    expect(drops.size).toBe(0)
    await drops.register({ drop: token(1), paths: [file] })
    expect(await codeOf(drops.register({ drop: token(1), paths: [file] }))).toBe('ALREADY_EXISTS')
    expect(await codeOf(() => drops.take('../../etc/passwd'))).toBe('NOT_FOUND')
  })

  it('forgets drops that were not imported in time, and holds at most `max` drops', async () => {
    const file = join(dir, 'a.txt')
    await writeFile(file, 'a')
    let now = 1000
    const drops = new DropRegistry({ ttlMs: 100, max: 2, now: () => now })
    await drops.register({ drop: token(1), paths: [file] })
    now += 101
    expect(await codeOf(() => drops.take(token(1)))).toBe('NOT_FOUND')
    await drops.register({ drop: token(2), paths: [file] })
    await drops.register({ drop: token(3), paths: [file] })
    await drops.register({ drop: token(4), paths: [file] })
    expect(drops.size).toBe(2)
    expect(await codeOf(() => drops.take(token(2)))).toBe('NOT_FOUND')
    expect(drops.take(token(4))).toEqual([file])
  })
})
