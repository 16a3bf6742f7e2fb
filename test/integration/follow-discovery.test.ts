/**
 * A follow looks for its author at once: it joins the drive's topic (from the key) before it
 * opens the drive's storage, so discovery (DHT lookup, connection: most of the wait for a first
 * byte) runs while the drive opens. The follow still replicates (the cores join the connection
 * once they open) and unfollowing leaves the topic it joined.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, startEngine, until } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'
import { toHex } from '../../main/engine/paths.js'

describe('a follow joins its topic before its drive has opened', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  const engines: Engine[] = []

  beforeAll(async () => { testnet = await loopbackTestnet() })

  afterAll(async () => {
    for (const e of engines.reverse()) await e.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('joins the topic while the drive is still opening, then replicates the file and leaves the topic on unfollow', async () => {
    const alice = await startEngine(testnet, await tmp.make())
    engines.push(alice)
    const src = join(await tmp.make(), 'photo.bin')
    const content = Buffer.alloc(300_000, 7)
    await writeFile(src, content)
    const job = await createHandlers(alice).importPaths({ paths: [src], dest: '/', wait: true })
    expect(job.state).toBe('done')
    const { link } = await createHandlers(alice).share({ path: '/' })
    const id = alice.vault.id

    const bob = await startEngine(testnet, await tmp.make())
    engines.push(bob)
    // Records, for each topic the follow joins, whether its drive had opened by then (the spy
    // only looks: the real join runs).
    const joins: Array<{ topic: string, driveOpened: boolean }> = []
    const network = bob.network
    const realJoin = network.join.bind(network)
    network.join = async (discoveryKey, opts) => {
      joins.push({ topic: toHex(discoveryKey), driveOpened: bob.follows.get(id).drive.opened })
      return await realJoin(discoveryKey, opts)
    }

    await createHandlers(bob).follow({ link })
    const followed = bob.follows.get(id)
    expect(joins).toEqual([{ topic: toHex(followed.drive.discoveryKey), driveOpened: false }])
    expect(followed.discoveryKey.equals(followed.drive.discoveryKey)).toBe(true)

    await until(bob, () => followed.info().state === 'synced')
    const chunks: Buffer[] = []
    for await (const chunk of followed.drive.createReadStream('/photo.bin')) chunks.push(chunk as Buffer)
    expect(Buffer.concat(chunks).equals(await readFile(src))).toBe(true)

    const topic = toHex(followed.discoveryKey)
    expect(bob.network.status().announcing).toBeGreaterThan(0)
    const topicsBefore = bob.network.status().announcing
    await createHandlers(bob).unfollow({ key: id })
    expect(bob.network.status().announcing).toBe(topicsBefore - 1)
    expect(joins.map((j) => j.topic)).toEqual([topic])
  })
})
