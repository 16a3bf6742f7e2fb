/**
 * DatDot apps (main/engine/apps.ts): apps made from templates, saves and history, forks, the app
 * API scoped to one app, and two users on a loopback testnet, one running the other's app by its
 * link with a data drive of their own and following the first user's shared data. Real engines,
 * every call through the API's dispatch (arguments validated and defaulted as in the product).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, startEngine, until, nextEvent } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'
import { dispatch } from '../../main/api/dispatch.js'
import { DatdotError } from '../../main/shared/errors.js'
import { APP_LIMITS, AppManifest, type AppInfo } from '../../main/shared/contract-apps.js'
import type { Entry } from '../../main/shared/contract.js'
import { formatLink } from '../../main/engine/paths.js'
import { openDatabase } from '../../main/shared/db.js'
import { join } from 'node:path'

/** Small data limits for Alice, so filling an app's data drive is quick (Bob keeps APP_LIMITS). */
const LIMITS = { dataWriteBytes: 64 * 1024, dataDriveBytes: 256 * 1024, appFollows: 1 }

type Call = (name: string, args?: Record<string, unknown>) => Promise<unknown>

function api (engine: Engine): Call {
  const handlers = createHandlers(engine)
  return async (name, args = {}) => await dispatch(handlers, name, args, 'web')
}

async function refusal (p: Promise<unknown>): Promise<DatdotError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(DatdotError)
  return err as DatdotError
}

async function grant (call: Call, app: string, ...permissions: string[]): Promise<void> {
  for (const permission of permissions) await call('setAppPermission', { app, permission, granted: true })
}

async function fileMap (call: Call, app: string, version?: number): Promise<Record<string, string>> {
  const { files } = await call('listAppFiles', { app, ...(version === undefined ? {} : { version }) }) as { files: Entry[] }
  const out: Record<string, string> = {}
  for (const f of files) out[f.path] = (await call('readAppFile', { app, path: f.path, ...(version === undefined ? {} : { version }) }) as { text: string }).text
  return out
}

describe('DatDot apps: code drives, data drives and the app API', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let alice: Engine
  let bob: Engine | null = null
  let a: Call
  let notes: AppInfo

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    alice = await startEngine(testnet, await tmp.make(), { appLimits: LIMITS })
    a = api(alice)
  })

  afterAll(async () => {
    await bob?.close()
    await alice?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('makes a working app with a valid manifest from every template, asking only for the permissions it uses', async () => {
    const wanted = { blank: [], notes: ['vault'], gallery: ['vault'], social: ['vault', 'p2p'] }
    for (const [template, permissions] of Object.entries(wanted)) {
      const app = await a('createApp', { name: `My ${template}`, template }) as AppInfo
      expect(app.own).toBe(true)
      expect(app.manifestError).toBeNull()
      expect(app.manifest).toEqual(AppManifest.parse({ name: `My ${template}`, description: app.manifest?.description, permissions }))
      expect(app.link).toMatch(/#key=/)
      const files = await fileMap(a, app.id)
      expect(Object.keys(files)).toEqual(expect.arrayContaining(['/index.html', '/app.js', '/style.css', '/manifest.json']))
      expect(files['/index.html']).toContain('<script src="app.js"></script>')
      // every call the app makes needs a permission its manifest asks for
      const calls = [...files['/app.js'].matchAll(/datdot\.(\w+)\./g)].map((m) => m[1])
      for (const ns of calls) expect(permissions).toContain(ns === 'vault' ? 'vault' : ns)
      if (template === 'notes') notes = app
    }
    const { apps } = await a('listApps') as { apps: AppInfo[] }
    expect(apps.map((x) => x.name)).toEqual(['My social', 'My gallery', 'My notes', 'My blank'])
  }, 60_000)

  it('lists app data spaces in the Vault, labelled with their app, but never the apps\' code spaces', async () => {
    await grant(a, notes.id, 'vault')
    await a('appDataWrite', { app: notes.id, path: '/notes/1.json', data: '{"title":"hi"}' })
    const { spaces } = await a('listSpaces') as { spaces: Array<{ id: string, kind?: string, appName?: string, key: string }> }
    const data = spaces.filter((s) => s.kind === 'app-data')
    expect(data.map((s) => s.appName)).toEqual(['My notes'])
    const { apps } = await a('listApps') as { apps: AppInfo[] }
    for (const app of apps) expect(spaces.some((s) => s.key === app.key)).toBe(false)
    expect((await a('listApps') as { apps: AppInfo[] }).apps.find((x) => x.id === notes.id)?.dataSpace).toBe(data[0].id)
  })

  it('saves a batch of edits as exactly one new version, and a batch with one bad path or oversized file writes nothing', async () => {
    const before = await a('appHistory', { app: notes.id }) as Array<{ version: number }>
    const { version } = await a('saveAppFiles', { app: notes.id, files: [{ path: '/app.js', text: 'console.log(1)\n' }, { path: '/lib/util.js', text: 'export {}\n' }], deleted: ['/style.css'] }) as { version: number }
    const after = await a('appHistory', { app: notes.id }) as Array<{ version: number, path: string }>
    expect(after.length).toBe(before.length + 1)
    expect(after[0]).toMatchObject({ version, path: '/' })
    expect(after.slice(1)).toEqual(before)
    const files = await fileMap(a, notes.id)
    expect(files['/app.js']).toBe('console.log(1)\n')
    expect(files['/lib/util.js']).toBe('export {}\n')
    expect(files['/style.css']).toBeUndefined()

    const bad = await refusal(a('saveAppFiles', { app: notes.id, files: [{ path: '/ok.js', text: 'x' }, { path: '/../escape.js', text: 'y' }] }))
    expect(bad.code).toBe('INVALID_PATH')
    const big = await refusal(a('saveAppFiles', { app: notes.id, files: [{ path: '/ok.js', text: 'x' }, { path: '/big.txt', text: 'z'.repeat(APP_LIMITS.codeFileBytes + 1) }] }))
    expect(big.code).toBe('TOO_LARGE')
    expect(await fileMap(a, notes.id)).toEqual(files)
    expect(alice.apps.get(notes.id).drive.version).toBe(version)
    expect(await a('appHistory', { app: notes.id })).toEqual(after)
  })

  it('keeps every saved version in the history and reverts to one as a new version, deleting files added since', async () => {
    const history = await a('appHistory', { app: notes.id }) as Array<{ version: number }>
    expect(history.length).toBeGreaterThan(1)
    const first = history[history.length - 1].version
    const original = await fileMap(a, notes.id, first)
    expect(original['/style.css']).toBeDefined()
    const current = alice.apps.get(notes.id).drive.version
    const { version } = await a('revertApp', { app: notes.id, version: first }) as { version: number }
    expect(version).toBeGreaterThan(current)
    expect(await fileMap(a, notes.id)).toEqual(original)
    expect((await a('appHistory', { app: notes.id }) as unknown[]).length).toBe(history.length + 1)
    // a version inside a save is not one to read or revert to
    expect((await refusal(a('revertApp', { app: notes.id, version: first - 1 }))).code).toBe('NOT_FOUND')
    expect((await refusal(a('listAppFiles', { app: notes.id, version: first - 1 }))).code).toBe('NOT_FOUND')
  })

  it('forks an app into a new own app at its current version, recording where it came from', async () => {
    const copy = await a('forkApp', { app: notes.id, name: 'Notes copy' }) as AppInfo
    expect(copy.own).toBe(true)
    expect(copy.key).not.toBe(notes.key)
    expect(copy.forkedFrom).toBe(notes.link)
    expect(copy.manifest?.name).toBe('Notes copy')
    const [src, dst] = [await fileMap(a, notes.id), await fileMap(a, copy.id)]
    expect({ ...dst, '/manifest.json': '' }).toEqual({ ...src, '/manifest.json': '' })
    // the copy has its own data: nothing of the original's
    await grant(a, copy.id, 'vault')
    expect(await a('appDataList', { app: copy.id, path: '/notes' })).toEqual([])
  })

  it("scopes the data API to the app's own data drive: no escape, no other app's data, limits and permissions enforced", async () => {
    const esc = await refusal(a('appDataRead', { app: notes.id, path: '/../../etc/passwd' }))
    expect(esc.code).toBe('INVALID_PATH')
    const read = await a('appDataRead', { app: notes.id, path: '/notes/1.json' }) as { data: string }
    expect(read.data).toBe('{"title":"hi"}')
    const gallery = (await a('listApps') as { apps: AppInfo[] }).apps.find((x) => x.name === 'My gallery') as AppInfo
    await grant(a, gallery.id, 'vault')
    expect(await a('appDataList', { app: gallery.id })).toEqual([])
    expect((await refusal(a('appDataRead', { app: gallery.id, path: '/notes/1.json' }))).code).toBe('NOT_FOUND')
    const blank = (await a('listApps') as { apps: AppInfo[] }).apps.find((x) => x.name === 'My blank') as AppInfo
    expect((await refusal(a('appDataWrite', { app: blank.id, path: '/x', data: 'x' }))).code).toBe('FORBIDDEN')

    const tooBig = await refusal(a('appDataWrite', { app: gallery.id, path: '/big.bin', encoding: 'base64', data: Buffer.alloc(LIMITS.dataWriteBytes + 3).toString('base64') }))
    expect(tooBig.code).toBe('TOO_LARGE')
    expect((await refusal(a('appDataWrite', { app: gallery.id, path: '/x.bin', encoding: 'base64', data: 'not base64!' }))).code).toBe('INVALID_ARGUMENT')
    const chunk = Buffer.alloc(LIMITS.dataWriteBytes).toString('base64')
    const full = Math.floor(LIMITS.dataDriveBytes / LIMITS.dataWriteBytes)
    for (let i = 0; i < full; i++) await a('appDataWrite', { app: gallery.id, path: `/fill/${i}.bin`, encoding: 'base64', data: chunk })
    const over = await refusal(a('appDataWrite', { app: gallery.id, path: '/one-more.txt', data: 'x' }))
    expect(over.code).toBe('TOO_LARGE')
    expect((await a('appDataList', { app: gallery.id, path: '/' }) as Entry[]).map((e) => e.name)).toEqual(['fill'])
    // overwriting a file in place stays within the limit
    await a('appDataWrite', { app: gallery.id, path: '/fill/0.bin', data: 'small now' })
    await a('appDataDelete', { app: gallery.id, path: '/fill' })
  }, 60_000)

  it('serves a preview capability that reads files at a version and null for a missing one, until stopped', async () => {
    const history = await a('appHistory', { app: notes.id }) as Array<{ version: number }>
    const first = history[history.length - 1].version
    const { cap, entry } = await a('startAppPreview', { app: notes.id, version: first }) as { cap: string, entry: string }
    expect(cap).toMatch(/^[0-9a-f]{64}$/)
    expect(entry).toBe('/index.html')
    const source = alice.apps.preview(cap)
    expect(source?.version).toBe(first)
    expect(source?.appKey).toBe(notes.key)
    expect((await source?.read('/app.js'))?.toString()).toContain('datdot.vault.list')
    expect(await source?.read('/lib/util.js')).toBeNull()
    expect(await source?.read('/../manifest.json')).toBeNull()
    const live = await a('startAppPreview', { app: notes.id }) as { cap: string }
    await a('saveAppFiles', { app: notes.id, files: [{ path: '/app.js', text: 'console.log("live")\n' }] })
    expect((await alice.apps.preview(live.cap)?.read('/app.js'))?.toString()).toBe('console.log("live")\n')
    await a('stopAppPreview', { cap })
    expect(alice.apps.preview(cap)).toBeNull()
    expect(alice.apps.preview('f'.repeat(64))).toBeNull()
  })

  it("lets a second user run the app by its link with their own data, and follow the first user's shared data to read a post", async () => {
    const social = (await a('listApps') as { apps: AppInfo[] }).apps.find((x) => x.name === 'My social') as AppInfo
    await grant(a, social.id, 'vault', 'p2p')
    await a('appDataWrite', { app: social.id, path: '/posts/1000.json', data: JSON.stringify({ text: 'hello from alice', time: 1000 }) })
    const { link: aliceData } = await a('appDataLink', { app: social.id }) as { link: string }
    expect(aliceData).toMatch(/#key=/)

    bob = await startEngine(testnet, await tmp.make())
    const b = api(bob)
    const opened = await b('openAppLink', { link: social.link }) as AppInfo
    expect(opened.own).toBe(false)
    const bobEngine = bob
    await until(bobEngine, () => bobEngine.apps.get(opened.id).drive.version >= alice.apps.get(social.id).drive.version)
    expect(await fileMap(b, opened.id)).toEqual(await fileMap(a, social.id))
    expect((await refusal(b('saveAppFiles', { app: opened.id, files: [{ path: '/x.js', text: '' }] }))).code).toBe('FORBIDDEN')

    await grant(b, opened.id, 'vault', 'p2p')
    const dataChanged = nextEvent(bob, 'app.data.changed', (d) => d.app === opened.id)
    await b('appDataWrite', { app: opened.id, path: '/posts/2000.json', data: JSON.stringify({ text: 'hello from bob', time: 2000 }) })
    await dataChanged
    expect((await b('appDataList', { app: opened.id, path: '/posts' }) as Entry[]).map((e) => e.name)).toEqual(['2000.json'])

    const { key } = await b('appFollow', { app: opened.id, link: aliceData }) as { key: string }
    await until(bobEngine, async () => (await b('appFollowedList', { app: opened.id, key, path: '/posts' }) as Entry[]).length === 1)
    const post = await b('appFollowedRead', { app: opened.id, key, path: '/posts/1000.json' }) as { data: string }
    expect((JSON.parse(post.data) as { text: string }).text).toBe('hello from alice')

    const changed = nextEvent(bobEngine, 'app.followed.changed', (d) => d.app === opened.id && d.key === key)
    await a('appDataWrite', { app: social.id, path: '/posts/3000.json', data: JSON.stringify({ text: 'again', time: 3000 }) })
    await changed

    // a key the app did not follow is refused, even one this node follows for another app
    const other = (await b('openAppLink', { link: notes.link }) as AppInfo)
    expect((await refusal(b('appFollowedList', { app: opened.id, key: other.key }))).code).toBe('FORBIDDEN')
    expect((await refusal(b('appFollowedRead', { app: opened.id, key: bobEngine.vault.id, path: '/x' }))).code).toBe('FORBIDDEN')

    // its preview starts once every file of the version it runs is on Bob's disk (the frame never waits for a peer)
    await until(bobEngine, () => bobEngine.apps.get(other.id).drive.version >= alice.apps.get(notes.id).drive.version)
    const run = await b('startAppPreview', { app: other.id }) as { cap: string }
    const source = bobEngine.apps.preview(run.cap)
    const view = bobEngine.apps.get(other.id).drive.checkout(source?.version as number)
    const local: string[] = []
    for await (const e of view.list('/')) if (await view.has(e.key)) local.push(e.key)
    await view.close()
    expect(local.sort()).toEqual(Object.keys(await fileMap(a, notes.id)).sort())

    // Alice's app follows Bob's data back; one more than her limit of follows per app is refused, and so is her own space
    const { link: bobData } = await b('appDataLink', { app: opened.id }) as { link: string }
    expect((await refusal(a('appFollow', { app: social.id, link: aliceData }))).code).toBe('INVALID_ARGUMENT')
    await a('appFollow', { app: social.id, link: bobData })
    expect((await refusal(a('appFollow', { app: social.id, link: formatLink(bobEngine.vault.key) }))).code).toBe('LIMIT_REACHED')
  }, 120_000)

  it('keeps apps, opened apps, grants and follows across a restart', async () => {
    if (bob === null) throw new Error('needs the previous test')
    const b = api(bob)
    const before = (await b('listApps') as { apps: AppInfo[] }).apps.map((x) => [x.id, x.own, x.granted, x.dataSpace])
    const opened = (await b('listApps') as { apps: AppInfo[] }).apps.find((x) => x.name === 'My social') as AppInfo
    const storage = bob.storage
    await bob.close()
    bob = await startEngine(testnet, storage)
    const b2 = api(bob)
    expect((await b2('listApps') as { apps: AppInfo[] }).apps.map((x) => [x.id, x.own, x.granted, x.dataSpace])).toEqual(before)
    const follows = bob.apps.store.follows(opened.id)
    expect(follows.length).toBe(1)
    const bobEngine = bob
    await until(bobEngine, async () => (await b2('appFollowedList', { app: opened.id, key: follows[0], path: '/posts' }) as Entry[]).length === 2)
  }, 120_000)

  it('re-opens an app opened by link from its data space in the list of spaces, as a restore on a new machine must', async () => {
    if (bob === null) throw new Error('needs the previous test')
    const opened = (await api(bob)('listApps') as { apps: AppInfo[] }).apps.find((x) => x.name === 'My social') as AppInfo
    const storage = bob.storage
    await bob.close()
    // what a restore has: the list of spaces (with the app-data space) but none of this machine's database rows
    const db = openDatabase(join(storage, 'datdot.db'))
    db.prepare('DELETE FROM app_opened').run()
    db.prepare('DELETE FROM follows WHERE key = ?').run(opened.key)
    db.close()
    bob = await startEngine(testnet, storage)
    const again = (await api(bob)('listApps') as { apps: AppInfo[] }).apps.find((x) => x.key === opened.key)
    expect(again).toMatchObject({ id: opened.id, own: false, link: opened.link, dataSpace: opened.dataSpace })
    expect(bob.follows.has(opened.key)).toBe(true)
  }, 60_000)

  it('removes an own app and an opened one; their data spaces stay in the vault unless asked', async () => {
    if (bob === null) throw new Error('needs the previous test')
    const b = api(bob)
    const opened = (await b('listApps') as { apps: AppInfo[] }).apps.find((x) => x.name === 'My social') as AppInfo
    await b('removeApp', { app: opened.id, keepData: false, confirm: true })
    expect((await b('listApps') as { apps: AppInfo[] }).apps.some((x) => x.id === opened.id)).toBe(false)
    expect((await b('listSpaces') as { spaces: Array<{ kind?: string }> }).spaces.some((s) => s.kind === 'app-data')).toBe(false)
    await a('removeApp', { app: notes.id, confirm: true })
    expect((await refusal(a('listAppFiles', { app: notes.id }))).code).toBe('NOT_FOUND')
    const { spaces } = await a('listSpaces') as { spaces: Array<{ kind?: string, appName?: string }> }
    expect(spaces.filter((s) => s.kind === 'app-data').map((s) => s.appName)).toContain('My notes')
  }, 60_000)

  it('refuses a second app of a name already in the list, whatever its case and spaces, with the reason; a copy not named takes the next free name', async () => {
    const before = (await a('listApps') as { apps: AppInfo[] }).apps
    const gallery = before.find((x) => x.name === 'My gallery') as AppInfo
    const taken = await refusal(a('createApp', { name: ' my GALLERY ', template: 'blank' }))
    expect(taken.code).toBe('ALREADY_EXISTS')
    expect(taken.message).toBe('An app named "My gallery" is already in your list: choose another name')
    expect((await refusal(a('forkApp', { app: gallery.id, name: 'notes copy' }))).message).toMatch(/An app named "Notes copy" is already in your list/)
    expect((await a('listApps') as { apps: AppInfo[] }).apps).toHaveLength(before.length)
    const first = await a('forkApp', { app: gallery.id }) as AppInfo
    const second = await a('forkApp', { app: gallery.id }) as AppInfo
    expect([first.name, second.name]).toEqual(['My gallery copy', 'My gallery copy 2'])
  }, 60_000)
})
