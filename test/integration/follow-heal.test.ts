/**
 * A follow heals itself: after a pause/resume on either side or both, a restart of the author,
 * or a lost connection, the follower reconnects and gets what the author added meanwhile, on its
 * own. While it has no peer it says so ('offline', since when, at which version) and never
 * claims to be synced. Two engines on a loopback testnet; waits on events only.
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, startEngine, until } from '../helpers/engines.js'
import { waitFor, within } from '../helpers/wait.js'
import type { Engine } from '../../main/engine/engine.js'
import type { FollowInfo } from '../../main/shared/contract.js'
import { createHandlers } from '../../main/api/handlers.js'

/** Each case must converge well within this (a failure names what it waited for). */
const CASE_MS = 15_000
/** Closing takes milliseconds; a close that waits on the DHT takes seconds. */
const CLOSE_MS = 2_500
/** Short reconnect backoffs and heal lookups, so a dropped peer is tried again quickly. */
const FAST = { backoffsMs: [200, 400, 800, 1600] as [number, number, number, number], healMs: { min: 200, max: 1000 } }

describe('a follow reconnects and converges by itself after an interruption', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let alice: Engine
  let bob: Engine
  let aliceStorage: string
  let statuses: FollowInfo[] = []
  let stopRecording: () => void = () => {}
  let files = 0

  async function startAlice (): Promise<Engine> {
    return await startEngine(testnet, aliceStorage, { network: FAST })
  }

  /** Resolves once `check` holds, re-checked on every bob event; fails after CASE_MS saying what it waited for. */
  async function bobUntil (what: string, check: () => boolean): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const f = bob.follows.list()[0]
        reject(new Error(`timed out waiting for ${what}; bob's follow: ${JSON.stringify(f)}; network: ${JSON.stringify(bob.network.status())}; alice at v${alice.vault.drive.version}`))
      }, CASE_MS)
    })
    try {
      await Promise.race([until(bob, check), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  function followed (): FollowInfo {
    return bob.follows.get(alice.vault.id).info()
  }

  async function aliceAddsAFile (): Promise<string> {
    const name = `file-${++files}.txt`
    const src = join(await tmp.make(), name)
    await writeFile(src, `content of ${name}`)
    const job = await createHandlers(alice).importPaths({ paths: [src], dest: '/', wait: true })
    expect(job.state).toBe('done')
    return name
  }

  async function bobGets (name: string): Promise<void> {
    await bobUntil(`bob to be synced at alice's version with /${name}`, () => {
      const s = followed()
      return s.state === 'synced' && s.version === alice.vault.drive.version
    })
    const drive = bob.follows.get(alice.vault.id).drive
    expect((await drive.get('/' + name))?.toString()).toBe(`content of ${name}`)
  }

  /** Bob's follow says it has no peer, since when, and the last version it saw. */
  async function bobIsOffline (lastSeen: number): Promise<FollowInfo> {
    await bobUntil('bob\'s follow to be offline', () => followed().state === 'offline')
    const s = followed()
    expect(s.peers).toBe(0)
    expect(s.version).toBe(lastSeen)
    expect(s.offlineSinceMs).not.toBeNull()
    expect(s.offlineSinceMs!).toBeLessThanOrEqual(Date.now())
    return s
  }

  beforeAll(async () => {
    testnet = await loopbackTestnet()
  })

  afterAll(async () => {
    await testnet?.destroy()
    await tmp.cleanup()
  })

  // Every case starts from a fresh pair, bob synced with alice, so one case cannot spoil the next.
  beforeEach(async () => {
    aliceStorage = await tmp.make()
    alice = await startAlice()
    const first = await aliceAddsAFile()
    bob = await startEngine(testnet, await tmp.make(), { network: FAST })
    const { link } = await createHandlers(alice).share({ path: '/' })
    await createHandlers(bob).follow({ link })
    await bobGets(first)
    statuses = []
    stopRecording = bob.onEvent((name, data) => {
      if (name === 'follow.status') statuses.push(data as FollowInfo)
    })
  })

  afterEach(async () => {
    stopRecording()
    await bob?.close()
    await alice?.close()
    // Honest status: never 'synced' without a peer, never offline without saying since when.
    for (const s of statuses) {
      if (s.peers === 0) expect(s.state, JSON.stringify(s)).not.toBe('synced')
      if (s.state === 'offline') expect(s.offlineSinceMs, JSON.stringify(s)).not.toBeNull()
      else expect(s.offlineSinceMs, JSON.stringify(s)).toBeNull()
    }
  })

  it('gets a new file after the follower pauses and resumes its network', async () => {
    const version = alice.vault.drive.version
    await bob.network.setPaused(true)
    await bobIsOffline(version)
    await bob.network.setPaused(false)
    await bobGets(await aliceAddsAFile())
  })

  it('gets a new file after the author pauses and resumes its network', async () => {
    const version = alice.vault.drive.version
    await alice.network.setPaused(true)
    await bobIsOffline(version)
    // Bob dials alice again while she is paused and is refused (a firewall-based pause banned him for good here).
    const dials = (bob.network.swarm as unknown as { stats: { connects: { client: { attempted: number, closed: number } } } }).stats.connects.client
    const attempted = dials.attempted
    await waitFor([bob.network.swarm!], () => dials.attempted > attempted && dials.closed === dials.attempted, 'bob to dial the paused alice and be refused', CASE_MS)
    await alice.network.setPaused(false)
    await bobGets(await aliceAddsAFile())
  })

  it('gets a new file after both pause and resume their network', async () => {
    await bob.network.setPaused(true)
    const version = alice.vault.drive.version
    await alice.network.setPaused(true)
    await bobIsOffline(version)
    await bob.network.setPaused(false)
    await alice.network.setPaused(false)
    await bobGets(await aliceAddsAFile())
  })

  it('gets a new file after the author restarts on the same storage', async () => {
    const id = alice.vault.id
    const version = alice.vault.drive.version
    await alice.close()
    await bobIsOffline(version)
    alice = await startAlice()
    expect(alice.vault.id).toBe(id)
    await bobGets(await aliceAddsAFile())
  })

  it('finds the restarted author once the follower\'s DHT node comes back', async () => {
    const version = alice.vault.drive.version
    const dht = bob.network.swarm!.dht as { suspend (): Promise<void>, resume (): Promise<void> }
    const bobKey = bob.network.swarm!.keyPair.publicKey.toString('hex')
    await dht.suspend()
    await bobIsOffline(version)
    await alice.close()
    alice = await startAlice()
    const name = await aliceAddsAFile()
    // The new alice finds bob's announce, cannot reach him, and gives up on him: bob must find her.
    const swarm = alice.network.swarm!
    const dials = (swarm as unknown as { stats: { connects: { client: { attempted: number, closed: number } } } }).stats.connects.client
    await waitFor([swarm], () => dials.attempted > 0 && dials.closed === dials.attempted && !swarm.peers.has(bobKey), 'alice to give up dialling bob', CASE_MS)
    await dht.resume()
    await bobGets(name)
  })

  it('closes promptly while its network is paused, and reopens unpaused', async () => {
    await bob.network.setPaused(true)
    await alice.network.setPaused(true)
    // A paused node has nothing left to tell the DHT: closing must not wait out its request timeouts (~4 s).
    await within(CLOSE_MS, 'the paused bob to close', bob.close())
    await within(CLOSE_MS, 'the paused alice to close', alice.close())
    alice = await startAlice()
    expect(alice.network.status().paused).toBe(false)
  })

  it('reconverges after the connection between them is destroyed, again and again', async () => {
    // More drops in a row than Hyperswarm retries a peer it found by lookup (it gives up after
    // the fourth short-lived connection): the follow itself must look the author up again.
    for (let i = 0; i < 6; i++) {
      let wentOffline = false
      const off = bob.onEvent((name, data) => {
        if (name === 'follow.status' && (data as FollowInfo).state === 'offline') wentOffline = true
      })
      expect(bob.network.swarm!.connections.size).toBeGreaterThan(0)
      for (const conn of bob.network.swarm!.connections) conn.destroy()
      await bobUntil(`bob's follow to go offline after drop ${i + 1}`, () => wentOffline).finally(off)
      await bobGets(await aliceAddsAFile())
    }
  })
})
