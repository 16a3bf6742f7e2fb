/**
 * fetchCode (main/engine/app-files.ts): the preview of an app opened by link starts only once every
 * code file of the version it runs is on this disk. Two corestores on one replication stream: the
 * reader knows the drive's entries but has none of its file contents until fetchCode brings them.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline, type Duplex } from 'node:stream'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { fetchCode } from '../../main/engine/app-files.js'

const dirs: string[] = []
const closers: Array<() => Promise<void>> = []

async function tmpStore (): Promise<Corestore> {
  const dir = await mkdtemp(join(tmpdir(), 'datdot-fetch-code-'))
  dirs.push(dir)
  const store = new Corestore(dir)
  closers.push(async () => { await store.close() })
  return store
}

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
  await Promise.all(dirs.splice(0).map(async (d) => { await rm(d, { recursive: true, force: true }) }))
})

/** An author's drive of three code files and a reader's drive of the same key, replicating. */
async function authorAndReader (): Promise<{ author: Hyperdrive, reader: Hyperdrive, files: Map<string, string> }> {
  const author = new Hyperdrive(await tmpStore())
  const files = new Map([['/manifest.json', '{"name":"x"}'], ['/index.html', '<p>hi</p>'], ['/lib/app.js', 'console.log(1)\n'.repeat(10_000)]])
  const batch = author.batch()
  for (const [path, text] of files) await batch.put(path, Buffer.from(text))
  await batch.flush()
  const readerStore = await tmpStore()
  const authorStream = author.corestore.replicate(true) as Duplex
  pipeline(authorStream, readerStore.replicate(false) as Duplex, authorStream, () => {})
  const reader = new Hyperdrive(readerStore, author.key)
  await reader.ready()
  closers.push(async () => { await reader.close() }, async () => { await author.close() })
  await reader.core.update({ wait: true })
  return { author, reader, files }
}

async function localFiles (view: Hyperdrive): Promise<string[]> {
  const out: string[] = []
  for await (const e of view.list('/')) if (await view.has(e.key)) out.push(e.key)
  return out.sort()
}

describe('fetching an app\'s code before its preview starts', () => {
  it('brings every file of the version to this disk, none of which was here before', async () => {
    const { reader, files } = await authorAndReader()
    const view = reader.checkout(reader.version)
    closers.push(async () => { await view.close() })
    expect(await localFiles(view)).toEqual([])
    await fetchCode(view)
    expect(await localFiles(view)).toEqual([...files.keys()].sort())
    expect((await view.get('/lib/app.js', { wait: false }))?.toString()).toBe(files.get('/lib/app.js'))
  })

  it('fetches the files of the version asked for, not of a later one', async () => {
    const { author, reader } = await authorAndReader()
    const version = reader.version
    await author.put('/later.js', Buffer.from('later'))
    await reader.core.update({ wait: true })
    expect(reader.version).toBeGreaterThan(version)
    const view = reader.checkout(version)
    closers.push(async () => { await view.close() })
    await fetchCode(view)
    expect(await reader.has('/later.js')).toBe(false)
  })
})
