/**
 * Spaces: a vault's several drives, each private (encrypted, no link), shared (encrypted, link
 * with the read key) or public (plain). Real engines on a loopback testnet.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, writeFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { Testnet } from '@hyperswarm/testnet'
import Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import { TempDirs, loopbackTestnet, startEngine, until, hashOf } from '../helpers/engines.js'
import { fetchAll, swarmFor } from '../helpers/blind-peer.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'
import { DatdotError } from '../../main/shared/errors.js'
import { formatLink, keyId } from '../../main/engine/paths.js'
import { phraseFromKey } from '../../main/engine/recovery.js'
import { restoreStorage } from '../../main/engine/restore.js'
import Hyperdrive from 'hyperdrive'
import type { SpaceInfo } from '../../main/shared/contract.js'

async function refusal (p: Promise<unknown>): Promise<DatdotError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(DatdotError)
  return err as DatdotError
}

function named (spaces: SpaceInfo[], name: string): SpaceInfo {
  const s = spaces.find((x) => x.name === name)
  if (s === undefined) throw new Error(`no space ${name}`)
  return s
}

describe('a vault holds spaces with their own keys, links and encryption', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let alice: Engine
  let bob: Engine | null = null
  let src: string

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    alice = await startEngine(testnet, await tmp.make())
    src = await tmp.make()
    await writeFile(join(src, 'holiday.txt'), 'sunny beach, secret-marker-7f3a\n')
    await mkdir(join(src, 'album'))
    await writeFile(join(src, 'album', 'a.jpg'), randomBytes(70_000))
    await writeFile(join(src, 'album', 'b.jpg'), randomBytes(10))
  })

  afterAll(async () => {
    await bob?.close()
    await alice?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('gives a new vault a plain public home space and an encrypted private space with no link', async () => {
    const { spaces, restoringList } = await createHandlers(alice).listSpaces({})
    expect(restoringList).toBe(false)
    expect(spaces.map((s) => [s.id === 'home', s.name, s.visibility, s.encrypted])).toEqual([[true, 'Public', 'public', false], [false, 'Private', 'private', true]])
    const [home, priv] = spaces
    expect(home.key).toBe(alice.vault.id)
    expect(home.link).toBe(formatLink(alice.vault.key))
    expect(priv.link).toBeNull()
    expect(priv.key).not.toBe(home.key)
    const err = await refusal(createHandlers(alice).share({ space: priv.id, path: '/' }))
    expect(err.code).toBe('FORBIDDEN')
    expect(err.message).toMatch(/private/)
  })

  it('creates a shared space whose link carries its read key, and Bob reads it with that link only', async () => {
    const api = createHandlers(alice)
    const family = await api.createSpace({ name: '  Family  ', visibility: 'shared' })
    expect(family.name).toBe('Family')
    expect(family.encrypted).toBe(true)
    expect(family.link).toMatch(/^hyper:\/\/[a-z0-9]+#key=[a-z0-9]+$/)
    const job = await api.importPaths({ space: 'family', paths: [join(src, 'holiday.txt')], dest: '/', wait: true })
    expect(job.state).toBe('done')
    expect((await api.share({ space: family.id, path: '/' })).link).toBe(family.link)
    // A link always opens a whole space: a folder link would silently grant it all.
    expect((await refusal(api.share({ space: family.id, path: '/sub' }))).code).toBe('INVALID_ARGUMENT')

    bob = await startEngine(testnet, await tmp.make())
    const b = bob
    const info = await createHandlers(b).follow({ link: family.link! })
    expect(info.encrypted).toBe(true)
    const followed = b.follows.get(info.key)
    const want = alice.spaces.resolve(family.id).vault.drive.version
    await until(b, () => followed.info().state === 'synced' && followed.info().version === want)
    expect(await hashOf(followed.drive, '/holiday.txt')).toBe(createHash('sha256').update(await readFile(join(src, 'holiday.txt'))).digest('hex'))
  }, 60_000)

  it('does not let a follower of the public space read the private one, even with its key', async () => {
    const b = bob!
    const api = createHandlers(b)
    const home = await api.follow({ link: formatLink(alice.vault.key) })
    expect(home.encrypted).toBe(false)
    const priv = named((await createHandlers(alice).listSpaces({})).spaces, 'Private')
    await createHandlers(alice).importPaths({ space: priv.id, paths: [join(src, 'album')], dest: '/', wait: true })
    const info = await api.follow({ link: formatLink(priv.key) })
    const followed = b.follows.get(info.key)
    await until(b, () => followed.info().locked === 'needs-key')
    expect((await refusal(api.listFiles({ drive: info.key, path: '/', recursive: true, limit: 10 }))).code).toBe('FORBIDDEN')
    await api.unfollow({ key: info.key, purge: true })
  }, 60_000)

  it('checks space names: trimmed, unique in any case, no slashes or control characters, at most 64 characters', async () => {
    const api = createHandlers(alice)
    for (const bad of ['', '   ', 'a/b', 'tab\there', 'rtl\u202Eevil', 'x'.repeat(65)]) {
      expect((await refusal(api.createSpace({ name: bad, visibility: 'private' }))).code, JSON.stringify(bad)).toBe('INVALID_ARGUMENT')
    }
    expect((await refusal(api.createSpace({ name: 'FAMILY', visibility: 'private' }))).code).toBe('ALREADY_EXISTS')
    expect((await refusal(api.updateSpace({ space: 'Private', name: 'family' }))).code).toBe('ALREADY_EXISTS')
    const before = (await api.listSpaces({})).spaces.map((s) => s.name)
    expect(before).toEqual(['Public', 'Private', 'Family'])
  })

  it('renames a space and moves it between private and shared, but never between encrypted and plain', async () => {
    const api = createHandlers(alice)
    const notes = await api.createSpace({ name: 'Notes', visibility: 'private' })
    const renamed = await api.updateSpace({ space: notes.id, name: 'Journal' })
    expect(renamed.name).toBe('Journal')
    expect(renamed.key).toBe(notes.key)
    const shared = await api.updateSpace({ space: 'journal', visibility: 'shared' })
    expect(shared.link).toContain('#key=')
    const back = await api.updateSpace({ space: notes.id, visibility: 'private' })
    expect(back.link).toBeNull()
    expect((await refusal(api.updateSpace({ space: notes.id, visibility: 'public' }))).message).toMatch(/encrypted and stays so/)
    expect((await refusal(api.updateSpace({ space: 'home', visibility: 'private' }))).message).toMatch(/not encrypted/)
    expect((await refusal(api.updateSpace({ space: 'no-such-space', name: 'x' }))).code).toBe('NOT_FOUND')
  })

  it("records a space's first write in the list of spaces before the space's first block, once", async () => {
    const api = createHandlers(alice)
    const s = await api.createSpace({ name: 'Scratch', visibility: 'private' })
    expect(alice.spaces.index.get(s.id)?.written).toBeUndefined()
    const drive = alice.spaces.resolve(s.id).vault.drive
    let lengthAtFirstAppend = -1
    const core = alice.spaces.index.core
    drive.core.once('append', () => { lengthAtFirstAppend = core.length })
    const indexBefore = core.length
    await api.importPaths({ space: s.id, paths: [join(src, 'holiday.txt')], dest: '/', wait: true })
    expect(alice.spaces.index.get(s.id)?.written).toBe(true)
    expect(lengthAtFirstAppend).toBe(indexBefore + 1)
    await api.importPaths({ space: s.id, paths: [join(src, 'album')], dest: '/', wait: true })
    expect(core.length).toBe(indexBefore + 1)
    await api.deleteSpace({ space: s.id, confirm: true })
  })

  it('copies and moves files between spaces as jobs, re-encrypting them, and never overwrites', async () => {
    const api = createHandlers(alice)
    const family = named((await api.listSpaces({})).spaces, 'Family')
    const priv = named((await api.listSpaces({})).spaces, 'Private')
    const copied = await api.transferPath({ from: 'Private', path: '/album', to: 'Family', into: '/photos', move: false, wait: true })
    expect(copied.state).toBe('done')
    expect(copied.filesDone).toBe(2)
    expect(copied.label).toBe('Copy /album to Family')
    const famDrive = alice.spaces.resolve(family.id).vault.drive
    const privDrive = alice.spaces.resolve(priv.id).vault.drive
    expect(await hashOf(famDrive, '/photos/album/a.jpg')).toBe(await hashOf(privDrive, '/album/a.jpg'))
    expect((await refusal(api.transferPath({ from: 'Private', path: '/album', to: 'Family', into: '/photos', move: false, wait: true }))).code).toBe('ALREADY_EXISTS')
    expect((await refusal(api.transferPath({ from: 'Private', path: '/album', to: 'Private', into: '/album/in', move: false, wait: true }))).code).toBe('INVALID_PATH')
    expect((await refusal(api.transferPath({ from: 'Private', path: '/album', to: 'Private', into: '/x', move: true, wait: true }))).code).toBe('INVALID_ARGUMENT')
    expect((await refusal(api.transferPath({ from: 'Private', path: '/nothing', to: 'Family', into: '/', move: false, wait: true }))).code).toBe('NOT_FOUND')

    const moved = await api.transferPath({ from: 'Family', path: '/holiday.txt', to: 'Private', into: '/trips', move: true, wait: true })
    expect(moved.state).toBe('done')
    expect(await famDrive.entry('/holiday.txt')).toBeNull()
    expect((await privDrive.get('/trips/holiday.txt'))?.toString()).toContain('secret-marker-7f3a')
  })

  it('routes a browser upload session to its space, and refuses an upload id it did not give out', async () => {
    const api = createHandlers(alice)
    const { uploadId, job } = await api.beginUpload({ space: 'Journal', dest: '/up' })
    expect(job.label).toBe('Upload to /up in Journal')
    await alice.spaces.uploadFile(uploadId, 'note.txt', Readable.from([Buffer.from('hello')]), 5)
    expect((await api.commitUpload({ uploadId })).state).toBe('done')
    const journal = named((await api.listSpaces({})).spaces, 'Journal')
    expect((await api.stat({ drive: journal.key, path: '/up/note.txt' })).size).toBe(5)
    expect(await alice.vault.drive.entry('/up/note.txt')).toBeNull()
    for (const bad of ['nope', 'home.nope', 'ffffffffffffffff.x', '.x']) {
      expect((await refusal(api.commitUpload({ uploadId: bad }))).code, bad).toBe('NOT_FOUND')
    }
  })

  it('deletes a space: gone from the list, its blocks cleared here, its key no longer served; the home space stays', async () => {
    const api = createHandlers(alice)
    const journal = named((await api.listSpaces({})).spaces, 'Journal')
    const drive = alice.spaces.resolve(journal.id).vault.drive
    const length = drive.core.length
    expect(length).toBeGreaterThan(0)
    expect((await refusal(api.deleteSpace({ space: 'home', confirm: true }))).code).toBe('FORBIDDEN')
    await api.deleteSpace({ space: journal.id, confirm: true })
    expect((await api.listSpaces({})).spaces.map((s) => s.name)).toEqual(['Public', 'Private', 'Family'])
    expect((await refusal(api.listFiles({ drive: journal.key, path: '/', recursive: false, limit: 10 }))).code).toBe('UNKNOWN_DRIVE')
    const store = alice.store.namespace(`datdot/space/${journal.id}`).get({ name: 'db' })
    await store.ready()
    expect(await store.has(0, length)).toBe(false)
    await store.close()
  })

  it('keeps every space, name and key across a restart, and skips a damaged block of the index', async () => {
    const api = createHandlers(alice)
    const before = (await api.listSpaces({})).spaces.map((s) => [s.id, s.name, s.visibility, s.key, s.files])
    await alice.spaces.index.core.append(Buffer.from('not json'))
    await alice.spaces.index.core.append(Buffer.from(JSON.stringify({ v: 1, op: 'put', space: { id: 'x', name: '', visibility: 'nope', createdMs: 0 } })))
    const storage = alice.storage
    await alice.close()
    alice = await startEngine(testnet, storage)
    expect(alice.spaces.index.badBlocks).toBe(2)
    const after = (await createHandlers(alice).listSpaces({})).spaces.map((s) => [s.id, s.name, s.visibility, s.key, s.files])
    expect(after).toEqual(before)
  }, 60_000)

  it('brings every space back on a new machine from the phrase, from a blind backup peer and a follower, while Alice is offline', async () => {
    const api = createHandlers(alice)
    // A space never written (the home space here, and 'Empty') has no block to fetch: the list
    // says so, and its restore ends as soon as the list is here.
    await api.createSpace({ name: 'Empty', visibility: 'private' })
    expect(alice.vault.drive.core.length).toBe(0)
    const { spaces } = await api.listSpaces({})
    // Carol keeps blind copies, as a seeder of a plan does: the index and every space's cores, by key only.
    const carolStore = new Corestore(await tmp.make())
    const carolSwarm: Hyperswarm = swarmFor(testnet, carolStore)
    try {
      const cores = [alice.spaces.index.core]
      for (const v of alice.spaces.all()) {
        cores.push(v.drive.core)
        const blobs = await v.drive.getBlobs()
        if (blobs !== null) cores.push(blobs.core)
      }
      for (const core of cores) {
        const copy = carolStore.get({ key: core.key! })
        await copy.ready()
        carolSwarm.join(copy.discoveryKey!, { server: true, client: true })
        await carolSwarm.flush()
        await fetchAll(copy, core.length)
      }
      const phrase = phraseFromKey(alice.store.primaryKey)
      const expected = new Map<string, string[]>()
      for (const s of spaces) {
        const d = alice.spaces.resolve(s.id).vault.drive
        const files: string[] = []
        for await (const e of d.list('/', { recursive: true })) files.push(`${e.key} ${await hashOf(d, e.key)}`)
        expected.set(s.name, files.sort())
      }
      await alice.close()
      await bob?.close()
      bob = null

      const newMachine = join(await tmp.make(), 'datdot')
      await restoreStorage(newMachine, phrase)
      const restored = await startEngine(testnet, newMachine)
      try {
        await until(restored, () => !restored.spaces.restoring)
        const list = await createHandlers(restored).listSpaces({})
        expect(list.restoringList).toBe(false)
        expect(list.spaces.map((s) => [s.id, s.name, s.visibility, s.key, s.link])).toEqual(spaces.map((s) => [s.id, s.name, s.visibility, s.key, s.link]))
        for (const s of list.spaces) {
          const d: Hyperdrive = restored.spaces.resolve(s.id).vault.drive
          const files: string[] = []
          for await (const e of d.list('/', { recursive: true })) files.push(`${e.key} ${await hashOf(d, e.key)}`)
          expect(files.sort(), s.name).toEqual(expected.get(s.name))
        }
        expect(keyId(restored.spaces.index.key)).toBe(keyId(alice.spaces.index.key))
      } finally {
        await restored.close()
      }
    } finally {
      await carolSwarm.destroy()
      await carolStore.close()
    }
  }, 120_000)
})
