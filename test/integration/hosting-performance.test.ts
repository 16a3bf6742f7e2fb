import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pipeline } from 'node:stream'
import type { Duplex } from 'node:stream'
import createTestnet, { type Testnet } from '@hyperswarm/testnet'
import Hyperswarm, { type SwarmConnection } from 'hyperswarm'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import hcrypto from 'hypercore-crypto'
import b4a from 'b4a'
import { measurePerformance, gradePerformance, performanceRange } from '../../main/hosting/performance.js'
import type { Timers } from '../../main/shared/timeout.js'

const BLOCKS = 96
const BLOCK_BYTES = 64 * 1024

describe('proof of performance against a real hoster over loopback', () => {
  let testnet: Testnet
  const dirs: string[] = []
  let hosterStore: Corestore
  let hosterSwarm: Hyperswarm
  let coreKey: Buffer
  const connectedKeys: Buffer[] = []

  async function tmp (): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'datdot-perf-'))
    dirs.push(d)
    return d
  }

  beforeAll(async () => {
    testnet = await createTestnet(3, { host: '127.0.0.1' })
    // Alice writes, the hoster replicates everything, Alice goes away
    const alice = new Corestore(await tmp())
    const core = alice.get({ name: 'blobs' })
    await core.ready()
    for (let i = 0; i < BLOCKS; i++) await core.append(randomBytes(BLOCK_BYTES))
    coreKey = core.key!
    hosterStore = new Corestore(await tmp())
    const s1 = alice.replicate(true) as Duplex
    const s2 = hosterStore.replicate(false) as Duplex
    pipeline(s1, s2, s1, () => {})
    const replica: Hypercore = hosterStore.get({ key: coreKey })
    await replica.ready()
    await replica.download({ start: 0, end: BLOCKS }).done()
    await alice.close()

    hosterSwarm = new Hyperswarm({ dht: testnet.createNode() })
    hosterSwarm.on('connection', (conn: SwarmConnection) => {
      connectedKeys.push(conn.remotePublicKey)
      hosterStore.replicate(conn)
    })
    await hosterSwarm.listen()
  })

  afterAll(async () => {
    await hosterSwarm?.destroy()
    await hosterStore?.close()
    await testnet?.destroy()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('measures reachability, time to first block and throughput from three single-use identities, and grades the medians', async () => {
    const seed = randomBytes(32)
    const samples = []
    for (let attestor = 0; attestor < 3; attestor++) {
      const range = performanceRange(seed, attestor, BLOCKS, 32)
      const s = await measurePerformance({
        createSwarm: (keyPair) => new Hyperswarm({ dht: testnet.createNode(), keyPair }),
        storageDir: await tmp(),
        hosterKey: hosterSwarm.keyPair.publicKey,
        coreKey,
        range,
        connectTimeoutMs: 20_000,
        readTimeoutMs: 20_000
      })
      expect(s.reachable).toBe(true)
      expect(s.connectMs).toBeGreaterThan(0)
      expect(s.ttfbMs).toBeGreaterThan(0)
      expect(s.throughputBytesPerSec).toBeGreaterThan(0)
      expect(s.bytes).toBe(32 * BLOCK_BYTES)
      samples.push(s)
    }
    // every measurement came from a different, fresh identity, and the hoster saw exactly those
    const keys = samples.map((s) => b4a.toString(s.publicKey, 'hex'))
    expect(new Set(keys).size).toBe(3)
    for (const k of keys) expect(connectedKeys.some((c) => b4a.toString(c, 'hex') === k)).toBe(true)
    const grade = gradePerformance(samples)
    expect(grade.status).toBe('graded')
    expect(grade.reachableFraction).toBe(1)
    expect(grade.grade).toBeGreaterThan(0)
    console.log('loopback performance:', samples.map((s) => ({
      connectMs: Math.round(s.connectMs!), ttfbMs: Math.round(s.ttfbMs!), MiBps: +(s.throughputBytesPerSec! / 1024 / 1024).toFixed(1)
    })), 'grade', grade.grade)
  })

  it('reports an offline hoster as unreachable when the connect timeout fires (injected timer, no waiting)', async () => {
    const fired: Array<() => void> = []
    const timers: Timers = { setTimeout: (fn) => { fired.push(fn); queueMicrotask(fn); return fired.length }, clearTimeout: () => {} }
    const s = await measurePerformance({
      createSwarm: (keyPair) => new Hyperswarm({ dht: testnet.createNode(), keyPair }),
      storageDir: await tmp(),
      hosterKey: hcrypto.keyPair().publicKey,
      coreKey,
      range: { start: 0, end: 4 },
      timers
    })
    expect(fired.length).toBe(1)
    expect(s.reachable).toBe(false)
    expect(s.ttfbMs).toBeNull()
    expect(gradePerformance([s, s, s]).grade).toBe(0)
  })

  it('stops a measurement at once with CLOSED when its node closes, instead of waiting out the connect timeout', async () => {
    const controller = new AbortController()
    let swarmMade!: () => void
    const made = new Promise<void>((resolve) => { swarmMade = resolve })
    const p = measurePerformance({
      createSwarm: (keyPair) => { swarmMade(); return new Hyperswarm({ dht: testnet.createNode(), keyPair }) },
      storageDir: await tmp(),
      hosterKey: hcrypto.keyPair().publicKey,
      coreKey,
      range: { start: 0, end: 4 },
      connectTimeoutMs: 600_000,
      signal: controller.signal
    })
    await made
    controller.abort()
    await expect(p).rejects.toMatchObject({ code: 'CLOSED' })
  })
})
