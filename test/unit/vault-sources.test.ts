import { describe, it, expect, afterAll } from 'vitest'
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scanSources, MAX_DEPTH } from '../../main/engine/vault-sources.js'
import type { DatdotError } from '../../main/shared/errors.js'

const dirs: string[] = []
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })
async function tempDir (): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'datdot-sources-'))
  dirs.push(d)
  return d
}

const running = { check: (): void => {} }

async function codeOf (p: Promise<unknown>): Promise<string | null> {
  try { await p; return null } catch (err) { return (err as DatdotError).code }
}

describe('planning an import of local sources', () => {
  it('maps a file and a folder under the destination, in name order, skipping symlinks', async () => {
    const root = await tempDir()
    await mkdir(join(root, 'album', 'inner'), { recursive: true })
    // Created out of name order, so neither creation order nor its reverse is the name order.
    await writeFile(join(root, 'album', 'b.txt'), 'bb')
    await writeFile(join(root, 'album', 'a.txt'), 'a')
    await writeFile(join(root, 'album', 'inner', 'c.txt'), 'ccc')
    await writeFile(join(root, 'album', 'd.txt'), 'dddd')
    await symlink(join(root, 'album', 'a.txt'), join(root, 'album', 'link.txt'))
    await writeFile(join(root, 'single.txt'), 'single')
    const plan = await scanSources([join(root, 'album'), join(root, 'single.txt')], '/dest', running)
    expect(plan).toEqual([
      { source: join(root, 'album', 'a.txt'), target: '/dest/album/a.txt', size: 1 },
      { source: join(root, 'album', 'b.txt'), target: '/dest/album/b.txt', size: 2 },
      { source: join(root, 'album', 'd.txt'), target: '/dest/album/d.txt', size: 4 },
      { source: join(root, 'album', 'inner', 'c.txt'), target: '/dest/album/inner/c.txt', size: 3 },
      { source: join(root, 'single.txt'), target: '/dest/single.txt', size: 6 }
    ])
  })

  it('refuses two sources that map to the same vault path, and a source that does not exist', async () => {
    const one = await tempDir()
    const two = await tempDir()
    await writeFile(join(one, 'same.txt'), '1')
    await writeFile(join(two, 'same.txt'), '2')
    expect(await codeOf(scanSources([join(one, 'same.txt'), join(two, 'same.txt')], '/', running))).toBe('ALREADY_EXISTS')
    expect(await codeOf(scanSources([join(one, 'missing.txt')], '/', running))).toBe('NOT_FOUND')
  })

  it(`refuses folders nested more than ${MAX_DEPTH} levels below a source`, async () => {
    const root = await tempDir()
    // The source folder is level 0; its deepest folder here is MAX_DEPTH levels below it.
    const deepest = join(root, ...Array.from({ length: MAX_DEPTH + 1 }, () => 'd'))
    await mkdir(deepest, { recursive: true })
    await writeFile(join(deepest, 'f.txt'), 'x')
    const plan = await scanSources([join(root, 'd')], '/', running)
    expect(plan.map((f) => f.target)).toEqual(['/d' + '/d'.repeat(MAX_DEPTH) + '/f.txt'])
    await mkdir(join(deepest, 'one-more'))
    expect(await codeOf(scanSources([join(root, 'd')], '/', running))).toBe('LIMIT_REACHED')
  })

  it('stops at once when the job is cancelled', async () => {
    const root = await tempDir()
    await writeFile(join(root, 'a.txt'), 'a')
    const cancelled = { check: (): void => { throw Object.assign(new Error('cancelled'), { code: 'CANCELLED' }) } }
    expect(await codeOf(scanSources([join(root, 'a.txt')], '/', cancelled))).toBe('CANCELLED')
  })
})
