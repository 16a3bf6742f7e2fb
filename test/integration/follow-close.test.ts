/**
 * Closing never waits on the network: a follow that knows of blocks nobody can send any more
 * (the author went away after announcing a new length) closes at once, and so does its engine.
 * The follower's copy is made to know the new length without the blocks by replicating its
 * corestore by hand while its engine is down; then the author leaves and the follower starts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import Corestore from 'corestore'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, startEngine, until } from '../helpers/engines.js'
import { within } from '../helpers/wait.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'

/** Closing takes milliseconds; one that waits on a block from a peer that is gone never ends. */
const CLOSE_MS = 5_000

describe('closing a follower never waits on blocks from a peer that is gone', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let alice: Engine | null = null
  let bob: Engine | null = null

  beforeAll(async () => { testnet = await loopbackTestnet() })

  afterAll(async () => {
    await bob?.close()
    await alice?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  async function addFile (engine: Engine, name: string): Promise<void> {
    const src = join(await tmp.make(), name)
    await writeFile(src, `content of ${name}`.repeat(1000))
    const job = await createHandlers(engine).importPaths({ paths: [src], dest: '/', wait: true })
    expect(job.state).toBe('done')
  }

  it('closes an engine whose follow knows a newer length than the blocks it holds, with the author gone', async () => {
    const author = await startEngine(testnet, await tmp.make())
    bob = author
    await addFile(author, 'first.txt')
    const bobStorage = await tmp.make()
    const follower = await startEngine(testnet, bobStorage)
    alice = follower
    const { link } = await createHandlers(author).share({ path: '/' })
    await createHandlers(follower).follow({ link })
    const key = author.vault.id
    await until(follower, () => follower.follows.get(key).info().version === author.vault.drive.version)
    await follower.close()
    alice = null

    // The author writes on; the follower's store learns the new length but gets none of the new blocks.
    await addFile(author, 'second.txt')
    await addFile(author, 'third.txt')
    const raw = new Corestore(join(bobStorage, 'corestore'))
    const core = raw.get({ key: author.vault.drive.key })
    await core.ready()
    const before = core.length
    const a = raw.replicate(true) as Duplex
    const b = author.store.replicate(false) as Duplex
    a.pipe(b).pipe(a)
    await core.update({ wait: true })
    expect(core.length).toBe(author.vault.drive.core.length)
    expect(core.length).toBeGreaterThan(before)
    expect(await core.has(core.length - 1)).toBe(false)
    const known = core.length
    a.destroy()
    b.destroy()
    await core.close()
    await raw.close()
    await author.close()
    bob = null

    const restarted = await startEngine(testnet, bobStorage)
    alice = restarted
    expect(await restarted.follows.get(key).drive.core.has(known - 1)).toBe(false)
    await within(CLOSE_MS, 'closing the follower', restarted.close())
    alice = null
  }, 60_000)
})
