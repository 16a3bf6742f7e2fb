import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, startEngine, until, hashOf } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import type { Followed } from '../../main/engine/followed.js'
import { createHandlers } from '../../main/api/handlers.js'
import { coreBytesHeld } from '../../main/engine/follow-cache.js'

const KB = 1024
const FILES: Record<string, number> = {
  '/docs/a.bin': 256 * KB,
  '/docs/b.bin': 256 * KB,
  '/docs/c.bin': 256 * KB,
  '/photos/p1.bin': 200 * KB,
  '/photos/p2.bin': 200 * KB,
  '/keep/k.bin': 128 * KB
}
const LIMIT = 300 * KB

/** Whether the follower holds every block of a file's contents. */
async function holds (f: Followed, path: string): Promise<boolean> {
  const e = await f.drive.entry(path)
  const blob = e?.value?.blob
  if (!blob || !f.drive.blobs) return false
  return await f.drive.blobs.core.has(blob.blockOffset, blob.blockOffset + blob.blockLength)
}

/** Whether the follower holds any block of a file's contents. */
async function holdsAny (f: Followed, path: string): Promise<boolean> {
  const e = await f.drive.entry(path)
  const blob = e?.value?.blob
  if (!blob || !f.drive.blobs) return false
  for (let i = blob.blockOffset; i < blob.blockOffset + blob.blockLength; i++) if (await f.drive.blobs.core.has(i)) return true
  return false
}

function blobBytes (f: Followed): number {
  return f.drive.blobs ? coreBytesHeld(f.drive.blobs.core) : 0
}

describe('sparse follows: on demand, selected folders, pins and a cache limit, on a loopback testnet', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let alice: Engine
  let bob: Engine
  let bobStorage: string
  let link: string
  const sha = new Map<string, string>()

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    alice = await startEngine(testnet, await tmp.make())
    for (const [path, size] of Object.entries(FILES)) {
      const data = randomBytes(size)
      sha.set(path, createHash('sha256').update(data).digest('hex'))
      await alice.vault.drive.put(path, data)
    }
    link = (await createHandlers(alice).share({ path: '/' })).link
    bobStorage = await tmp.make()
    bob = await startEngine(testnet, bobStorage)
  })

  afterAll(async () => {
    await bob?.close()
    await alice?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('lists every file on demand but holds a file only once it is read', async () => {
    const info = await createHandlers(bob).follow({ link, mode: 'on-demand', cacheLimitBytes: LIMIT })
    expect(info.mode).toBe('on-demand')
    expect(info.cacheLimitBytes).toBe(LIMIT)
    const f = bob.follows.get(info.key)
    await until(bob, () => f.info().version === alice.vault.drive.version && f.info().state === 'synced')
    const list = await createHandlers(bob).listFiles({ drive: info.key, path: '/', recursive: true, limit: 100 })
    expect(list.entries.filter((e) => e.kind === 'file').map((e) => e.path).sort()).toEqual(Object.keys(FILES).sort())
    expect(blobBytes(f)).toBe(0)

    await createHandlers(bob).createDownloadUrl({ drive: info.key, path: '/docs/a.bin' })
    expect(await hashOf(f.drive, '/docs/a.bin')).toBe(sha.get('/docs/a.bin'))
    expect(await holds(f, '/docs/a.bin')).toBe(true)
    for (const path of Object.keys(FILES).filter((p) => p !== '/docs/a.bin')) expect(await holdsAny(f, path), path).toBe(false)
    const [counted] = await createHandlers(bob).listFollows({})
    expect(counted.bytesClearable).toBe(FILES['/docs/a.bin'])
    expect(counted.bytesPinned).toBe(0)
    expect(counted.bytesLocal).toBeGreaterThan(FILES['/docs/a.bin'])
  })

  it('keeps its cache under the limit, least recently read cleared first, and a pinned folder through clears', async () => {
    const key = alice.vault.id
    const f = bob.follows.get(key)
    const pinned = await createHandlers(bob).pinPath({ key, path: '/keep' })
    expect(pinned.pins).toEqual(['/keep'])
    await until(bob, () => holds(f, '/keep/k.bin'))
    for (const path of ['/docs/b.bin', '/docs/c.bin']) {
      await createHandlers(bob).createDownloadUrl({ drive: key, path })
      expect(await hashOf(f.drive, path)).toBe(sha.get(path))
    }
    // Read 768 KiB through a 300 KiB cache: a.bin (oldest) and b.bin are cleared by the engine itself.
    await until(bob, async () => !(await holdsAny(f, '/docs/a.bin')) && !(await holdsAny(f, '/docs/b.bin')))
    expect(await holds(f, '/docs/c.bin')).toBe(true)
    expect(await holds(f, '/keep/k.bin')).toBe(true)
    const [info] = await createHandlers(bob).listFollows({})
    expect(info.bytesPinned).toBe(FILES['/keep/k.bin'])
    expect(info.bytesClearable).toBe(FILES['/docs/c.bin'])
    expect(info.bytesLocal).toBeLessThan(LIMIT + FILES['/keep/k.bin'] + 64 * KB)
    // A cleared file is fetched again when read.
    expect(await hashOf(f.drive, '/docs/a.bin')).toBe(sha.get('/docs/a.bin'))
  })

  it('keeps its mode, pins and limit across a restart', async () => {
    await bob.close()
    bob = await startEngine(testnet, bobStorage)
    const info = bob.follows.get(alice.vault.id).info()
    expect([info.mode, info.pins, info.cacheLimitBytes]).toEqual(['on-demand', ['/keep'], LIMIT])
  })

  it('refuses bad input with a coded error and changes nothing', async () => {
    const h = createHandlers(bob)
    const key = alice.vault.id
    await expect(h.setFollowMode({ key: 'b'.repeat(52), mode: 'all' })).rejects.toMatchObject({ code: 'UNKNOWN_DRIVE' })
    await expect(h.setFollowMode({ key, mode: 'all', folders: ['/docs'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(h.setFollowMode({ key, mode: 'folders', folders: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(h.setFollowMode({ key, mode: 'on-demand', cacheLimitBytes: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(h.pinPath({ key, path: '/../etc' })).rejects.toMatchObject({ code: 'INVALID_PATH' })
    await expect(h.pinPath({ key, path: '/no/such/folder' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(h.unpinPath({ key, path: '/docs' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const info = bob.follows.get(key).info()
    expect([info.mode, info.pins, info.cacheLimitBytes]).toEqual(['on-demand', ['/keep'], LIMIT])
    const other = await startEngine(testnet, await tmp.make())
    try {
      await expect(createHandlers(other).follow({ link, mode: 'all', folders: ['/docs'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
      expect(other.follows.size).toBe(0)
    } finally {
      await other.close()
    }
  })

  it('downloads only the selected folders, keeps getting their updates, and the rest when switched to all', async () => {
    const carol = await startEngine(testnet, await tmp.make())
    try {
      const info = await createHandlers(carol).follow({ link, mode: 'folders', folders: ['/photos'] })
      expect(info.folders).toEqual(['/photos'])
      const f = carol.follows.get(info.key)
      await until(carol, async () => f.info().version === alice.vault.drive.version && f.info().state === 'synced' && await holds(f, '/photos/p2.bin'))
      expect(await holds(f, '/photos/p1.bin')).toBe(true)
      for (const path of ['/docs/a.bin', '/docs/b.bin', '/docs/c.bin', '/keep/k.bin']) expect(await holdsAny(f, path), path).toBe(false)

      await alice.vault.drive.put('/photos/p3.bin', randomBytes(100 * KB))
      await alice.vault.drive.put('/docs/d.bin', randomBytes(100 * KB))
      await until(carol, async () => f.info().version === alice.vault.drive.version && await holds(f, '/photos/p3.bin'))
      expect(await holdsAny(f, '/docs/d.bin')).toBe(false)

      const all = await createHandlers(carol).setFollowMode({ key: info.key, mode: 'all' })
      expect(all.mode).toBe('all')
      const blobsLength = alice.vault.drive.blobs!.core.length
      await until(carol, () => f.drive.blobs!.core.has(0, blobsLength))
      expect(await hashOf(f.drive, '/docs/c.bin')).toBe(sha.get('/docs/c.bin'))
    } finally {
      await carol.close()
    }
  })
})
