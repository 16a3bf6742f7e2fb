import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, startEngine, nextEvent, until } from '../helpers/engines.js'
import { hashOf } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'

const BIG_BYTES = 200 * 1024 * 1024

async function writeRandomFile (file: string, bytes: number): Promise<string> {
  const hash = createHash('sha256')
  let left = bytes
  const source = Readable.from((function * () {
    while (left > 0) {
      const n = Math.min(left, 4 * 1024 * 1024)
      left -= n
      const chunk = randomBytes(n)
      hash.update(chunk)
      yield chunk
    }
  })())
  await pipeline(source, createWriteStream(file))
  return hash.digest('hex')
}

describe('a followed vault replicates live between engines on a loopback testnet', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let alice: Engine
  let bob: Engine
  let bobStorage: string
  const expected = new Map<string, string>()

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    const src = await tmp.make()
    const album = join(src, 'album')
    await mkdir(join(album, 'nested', 'deeper'), { recursive: true })
    const files: Array<[string, Buffer | string]> = [
      ['album/readme.txt', 'hello from alice\n'],
      ['album/empty.bin', Buffer.alloc(0)],
      ['album/nested/photo.jpg', randomBytes(300_000)],
      ['album/nested/deeper/notes.md', '# notes\n'.repeat(1000)],
      ['album/unicode-ñame ✓.txt', 'ünïcödé']
    ]
    for (const [rel, data] of files) {
      await writeFile(join(src, rel), data)
      expected.set('/' + rel, createHash('sha256').update(data).digest('hex'))
    }
    expected.set('/album/big.bin', await writeRandomFile(join(album, 'big.bin'), BIG_BYTES))

    alice = await startEngine(testnet, await tmp.make())
    const job = await createHandlers(alice).importPaths({ paths: [album], dest: '/', wait: true })
    expect(job.state).toBe('done')
    expect(job.filesDone).toBe(expected.size)
    bobStorage = await tmp.make()
    bob = await startEngine(testnet, bobStorage)
  })

  afterAll(async () => {
    await bob?.close()
    await alice?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('gives the follower byte-identical files, including a 200 MB one', async () => {
    const link = createHandlers(alice).share({ path: '/' })
    const { link: url } = await link
    const info = await createHandlers(bob).follow({ link: url })
    expect(info.key).toBe(alice.vault.id)
    const followed = bob.follows.get(info.key)
    await until(bob, () => {
      const s = followed.info()
      return s.state === 'synced' && s.version === alice.vault.drive.version
    })
    // 'synced' must mean every block is already local, not fetched on demand by the reads below.
    const aliceBlobs = alice.vault.drive.blobs!.core
    expect(await followed.drive.core.has(0, alice.vault.drive.core.length)).toBe(true)
    expect(await followed.drive.blobs!.core.has(0, aliceBlobs.length)).toBe(true)
    // the byte counter follows hypercore's 'download' events, which can come just after the
    // blocks are readable: wait for it (on the follow's status events), then it must be exact
    const expectedBytes = alice.vault.drive.core.byteLength + aliceBlobs.byteLength
    await until(bob, () => followed.info().bytesDownloaded >= expectedBytes)
    expect(followed.info().bytesDownloaded).toBe(expectedBytes)
    const list = await createHandlers(bob).listFiles({ drive: info.key, path: '/', recursive: true, limit: 1000 })
    expect(list.entries.map((e) => e.path).sort()).toEqual([...expected.keys()].sort())
    for (const [path, sha] of expected) {
      expect(await hashOf(followed.drive, path), path).toBe(sha)
    }
  })

  it('notifies the follower of edits and deletes with the changed paths, and it converges', async () => {
    const updated = nextEvent(bob, 'follow.updated', (d) => d.key === alice.vault.id && d.changes.some((c) => c.path === '/album/readme.txt' && c.type === 'put'))
    const src = await tmp.make()
    await mkdir(join(src, 'album'))
    await writeFile(join(src, 'album', 'readme.txt'), 'edited by alice\n')
    await createHandlers(alice).deletePath({ path: '/album/readme.txt' })
    await createHandlers(alice).importPaths({ paths: [join(src, 'album', 'readme.txt')], dest: '/album', wait: true })
    await createHandlers(alice).deletePath({ path: '/album/nested/photo.jpg' })
    const event = await updated
    expect(event.changes.find((c) => c.path === '/album/readme.txt')?.size).toBe('edited by alice\n'.length)
    const followed = bob.follows.get(alice.vault.id)
    await until(bob, () => followed.info().version === alice.vault.drive.version && followed.info().state === 'synced')
    expect((await followed.drive.get('/album/readme.txt'))?.toString()).toBe('edited by alice\n')
    expect(await followed.drive.entry('/album/nested/photo.jpg')).toBeNull()
    const diff = await createHandlers(bob).diff({ drive: alice.vault.id, from: event.version - 1 })
    expect(diff.to).toBe(followed.info().version)
  })

  it('keeps following after the follower restarts, and catches up on what changed meanwhile', async () => {
    await bob.close()
    const src = await tmp.make()
    await writeFile(join(src, 'while-away.txt'), 'you were offline')
    await createHandlers(alice).importPaths({ paths: [join(src, 'while-away.txt')], dest: '/', wait: true })
    bob = await startEngine(testnet, bobStorage)
    expect(bob.follows.has(alice.vault.id)).toBe(true)
    const followed = bob.follows.get(alice.vault.id)
    await until(bob, () => followed.info().version === alice.vault.drive.version && followed.info().state === 'synced')
    expect((await followed.drive.get('/while-away.txt'))?.toString()).toBe('you were offline')
  })

  it('lets a third peer get the data from the follower while the author is offline', async () => {
    const link = (await createHandlers(alice).share({ path: '/' })).link
    const aliceVersion = alice.vault.drive.version
    const bigSha = expected.get('/album/big.bin')!
    await alice.close()
    const carol = await startEngine(testnet, await tmp.make())
    try {
      const info = await createHandlers(carol).follow({ link })
      const followed = carol.follows.get(info.key)
      await until(carol, () => followed.info().version === aliceVersion && followed.info().state === 'synced')
      expect(await hashOf(followed.drive, '/album/big.bin')).toBe(bigSha)
      expect((await followed.drive.get('/while-away.txt'))?.toString()).toBe('you were offline')

      const blobsKey = followed.drive.blobs!.core.key!
      const metaLength = followed.drive.core.length
      await createHandlers(carol).unfollow({ key: info.key, purge: true })
      expect(carol.follows.has(info.key)).toBe(false)
      const meta = carol.store.get({ key: followed.drive.key })
      const blobs = carol.store.get({ key: blobsKey })
      await meta.ready()
      await blobs.ready()
      // Block 0 (the header) may be fetched again by anyone opening the drive; the rest is gone.
      for (let i = 1; i < metaLength; i++) expect(await meta.has(i), `metadata block ${i}`).toBe(false)
      for (let i = 0; i < blobs.length; i++) expect(await blobs.has(i), `blob block ${i}`).toBe(false)
      expect(blobs.length).toBeGreaterThan(0)
      await meta.close()
      await blobs.close()
      expect(carol.store.closed).toBe(false)
    } finally {
      await carol.close()
    }
  })
})
