/**
 * A plain reader follows the vault of a node that seeds for the hosting network, on a loopback
 * testnet with the embedded chain in the same process (as the app's local seeders run), and
 * syncs it. The seeder's chain starts right after its swarm starts listening; that once made
 * hyperdht's one-off 500 ms check of the seeder's own local address fail and stay failed, after
 * which no reader on the same host ever connected (main/engine/local-addresses.ts).
 */
import { describe, it, expect } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TempDirs, loopbackTestnet, startEngine, until } from '../helpers/engines.js'
import { startHostingChain, startHostingNode } from '../helpers/hosting-node.js'
import { createHandlers } from '../../main/api/handlers.js'
import { driveFor } from '../../main/api/handlers-drives.js'

describe('a plain reader and a seeding node on one host', () => {
  it('a plain reader follows the vault of a seeding node and syncs its files', async () => {
    const tmp = new TempDirs()
    const testnet = await loopbackTestnet()
    const { chain, operator, db } = await startHostingChain(tmp, { chunksPerContract: 10, challengeIntervalBlocks: 8, challengeTimeoutBlocks: 40, performanceAttestors: 1 })
    const seeder = await startHostingNode({ testnet, chain, storage: await tmp.make(), limits: {} })
    await seeder.chain.faucet(10n * 10n ** 12n)
    await seeder.hosting.setSeeding({ on: true, storageBytes: 2 ** 30, bandwidthBps: 1024 * 1024, region: 'eu' })
    const src = join(await tmp.make(), 'a.txt')
    await writeFile(src, 'hello'.repeat(1000))
    await createHandlers(seeder.engine).importPaths({ paths: [src], dest: '/', space: seeder.engine.vault.id, wait: true })
    const { link } = await createHandlers(seeder.engine).share({ path: '/' })

    const reader = await startEngine(testnet, await tmp.make())
    await createHandlers(reader).follow({ link })
    const key = seeder.engine.vault.id
    await until(reader, () => reader.follows.get(key).info().state === 'synced')

    expect(reader.follows.get(key).info().peers).toBe(1)
    expect(seeder.engine.network.status().connections).toBeGreaterThanOrEqual(1)
    const drive = await driveFor(reader, key)
    expect((await drive.get('/a.txt'))?.toString()).toBe('hello'.repeat(1000))

    await reader.close()
    await seeder.hosting.close()
    await seeder.chain.close()
    await seeder.engine.close()
    await operator.close()
    await chain.close()
    db.close()
    await testnet.destroy()
    await tmp.cleanup()
  })
})
