import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, startEngine, until, hashOf } from '../helpers/engines.js'
import { startHostingChain, startHostingNode, type HostingNode } from '../helpers/hosting-node.js'
import type { Engine } from '../../main/engine/engine.js'
import type { LocalChain } from '../../main/chain/local-chain.js'
import type { ChainService } from '../../main/chain/service.js'
import type { Db } from '../../main/shared/db.js'
import { MIN_BURST } from '../../main/shared/upload-limiter.js'
import { createHandlers } from '../../main/api/handlers.js'
import { createDashboardHandler } from '../../main/api/handlers-dashboard.js'

const KiB = 1024
const LIMIT = 256 * KiB
const SIZE = 1024 * KiB
const TOKEN = 10n ** 12n

describe('the seeder\'s bandwidth setting is the node\'s upload limit', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let chain: LocalChain
  let operator: ChainService
  let db: Db
  let seeder: HostingNode

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    const started = await startHostingChain(tmp, { chunksPerContract: 10, challengeIntervalBlocks: 8, challengeTimeoutBlocks: 40, performanceAttestors: 1 })
    chain = started.chain
    operator = started.operator
    db = started.db
    seeder = await startHostingNode({ testnet, chain, storage: await tmp.make(), limits: {} })
    await seeder.chain.faucet(10n * TOKEN)
  }, 120_000)

  afterAll(async () => {
    await seeder?.hosting.close()
    await seeder?.chain.close()
    await seeder?.engine.close()
    await operator?.close()
    await chain?.close()
    db?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  }, 60_000)

  it('sets the limit from the seeding settings, live, lifts it when seeding stops and keeps it on a bad setting', async () => {
    const upload = seeder.engine.network.upload
    expect(upload.bytesPerSec).toBe(0)
    await seeder.hosting.setSeeding({ on: true, storageBytes: 2 ** 30, bandwidthBps: 4 * LIMIT, region: 'eu' })
    expect(upload.bytesPerSec).toBe(4 * LIMIT)
    await seeder.hosting.setSeeding({ on: false })
    expect(upload.bytesPerSec).toBe(0)
    await seeder.hosting.setSeeding({ on: true, bandwidthBps: LIMIT })
    expect(upload.bytesPerSec).toBe(LIMIT)
    await expect(seeder.hosting.setSeeding({ on: true, bandwidthBps: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(upload.bytesPerSec).toBe(LIMIT)
  }, 60_000)

  it('shows the limit and the achieved upload on the dashboard', async () => {
    const dashboard = await createDashboardHandler(seeder.hosting)({ fromMs: 0, toMs: Date.now() + 1000 })
    const stats = seeder.engine.network.upload.stats()
    expect(dashboard.upload.limitBps).toBe(LIMIT)
    expect(dashboard.upload.rateBps).toBeGreaterThanOrEqual(0)
    expect(dashboard.upload.sentBytes).toBeLessThanOrEqual(stats.sentBytes)
    expect(dashboard.upload.throttledMs).toBeLessThanOrEqual(stats.throttledMs)
  })

  it('lifts the limit when the hosting service closes', async () => {
    await seeder.hosting.close()
    expect(seeder.engine.network.upload.bytesPerSec).toBe(0)
  })
})

describe('the upload limit covers hypercore replication to readers, on a loopback testnet', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let seeder: Engine
  let reader: Engine

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    seeder = await startEngine(testnet, await tmp.make())
  })

  afterAll(async () => {
    await reader?.close()
    await seeder?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('keeps a reader\'s download within the limit the seeder set', async () => {
    const data = randomBytes(SIZE)
    await seeder.vault.drive.put('/big.bin', data)
    const { link } = await createHandlers(seeder).share({ path: '/' })
    // What the hosting service does while seeding (tested above).
    seeder.network.upload.setRate(LIMIT)
    reader = await startEngine(testnet, await tmp.make())
    const info = await createHandlers(reader).follow({ link, mode: 'on-demand' })
    const followed = reader.follows.get(info.key)
    await until(reader, () => followed.info().version === seeder.vault.drive.version && followed.info().state === 'synced')

    const upload = seeder.network.upload
    const before = upload.stats()
    const t0 = Date.now()
    expect(await hashOf(followed.drive, '/big.bin')).toBe(createHash('sha256').update(data).digest('hex'))
    const ms = Date.now() - t0
    const after = upload.stats()
    const sent = after.sentBytes - before.sentBytes
    // Every block went through the limiter, and no more than the bucket allows in that time.
    expect(sent).toBeGreaterThanOrEqual(SIZE)
    expect(sent).toBeLessThanOrEqual(MIN_BURST + LIMIT * ms / 1000)
    // Seen from the reader: the file cannot have come faster than the limit (less one burst).
    expect(ms).toBeGreaterThanOrEqual((SIZE - MIN_BURST) * 1000 / LIMIT)
    expect(after.throttledMs - before.throttledMs).toBeGreaterThan(0)
    expect(after.rateBps).toBeGreaterThan(0)
    expect(after.rateBps).toBeLessThanOrEqual(LIMIT + MIN_BURST)
  }, 60_000)
})
