/**
 * A follow whose first connection to the author is dead on arrival.
 *
 * On one host (and on a LAN) hyperdht 6.34 races two ways to open a connection to a peer whose
 * DHT node is firewalled (every engine on the loopback testnet): the dialler's local shortcut (a
 * ping to the peer's server socket, then the stream) and a holepunch through a relay. When the
 * peer aborts the holepunch before the dialler's first packet came, it destroys the stream the
 * shortcut has just connected to: the peer never sees the connection, the dialler's side is open
 * and reads nothing. Hyperswarm counts that peer as connected and does not dial it again, so a
 * follow over it waited with a peer and no data (the same race made the hosting measurement read
 * honest hosters as NO_DATA: test/integration/measure-dead-connection.test.ts).
 *
 * The test forces that order once, with two injected faults on real parts (two real engines,
 * real Hyperswarm on the loopback testnet): the author aborts the first holepunch it is asked
 * for, and the follower's first local-shortcut ping answers only after that abort. It reaches
 * into hyperdht's internals to do so (private in 6.34).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Testnet } from '@hyperswarm/testnet'
import type Hyperswarm from 'hyperswarm'
import type { SwarmConnection } from 'hyperswarm'
import { TempDirs, loopbackTestnet, startEngine, until } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'
import { abortFirstHolepunch, delayFirstShortcut } from '../helpers/dead-connection.js'

/**
 * Short reconnect backoffs, and a shorter wait for a first byte than the app's 5 s (a live peer's
 * header comes within a round trip), so the test heals in a few seconds even on a loaded machine.
 */
const FAST = { backoffsMs: [200, 400, 800, 1600] as [number, number, number, number], healMs: { min: 200, max: 1000 }, aliveTimeoutMs: 2_500 }

describe('a follow whose first connection to the author is dead', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let alice: Engine
  let bob: Engine | undefined

  beforeAll(async () => {
    testnet = await loopbackTestnet(3)
    alice = await startEngine(testnet, await tmp.make('datdot-dead-alice-'), { network: FAST })
    const src = join(await tmp.make(), 'hello.txt')
    await writeFile(src, 'hello from alice')
    const job = await createHandlers(alice).importPaths({ paths: [src], dest: '/', wait: true })
    expect(job.state).toBe('done')
    await alice.network.swarm?.listen()
  })

  afterAll(async () => {
    await bob?.close()
    await alice?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('drops the connection that reads nothing, dials the author again and syncs', async () => {
    const swarm = alice.network.swarm as Hyperswarm
    // fault 1: alice aborts the first holepunch she is asked for; fault 2: bob's first local-shortcut ping answers only after that
    const fault = abortFirstHolepunch(swarm)
    const aliceSaw: Buffer[] = []
    swarm.on('connection', (conn: SwarmConnection) => { aliceSaw.push(conn.remotePublicKey) })
    const dht = testnet.createNode()
    delayFirstShortcut(dht, fault)
    const follower = await startEngine(null, await tmp.make('datdot-dead-bob-'), { dht, offline: false, network: FAST })
    bob = follower
    const bobConnections: SwarmConnection[] = []
    const firstErrors: Error[] = []
    follower.network.swarm?.on('connection', (conn: SwarmConnection) => {
      if (bobConnections.length === 0) conn.on('error', (err: Error) => { firstErrors.push(err) })
      bobConnections.push(conn)
    })

    const { link } = await createHandlers(alice).share({ path: '/' })
    await createHandlers(follower).follow({ link })
    await until(follower, () => {
      const f = follower.follows.get(alice.vault.id).info()
      return f.state === 'synced' && f.version === alice.vault.drive.version
    })
    const drive = follower.follows.get(alice.vault.id).drive
    expect((await drive.get('/hello.txt'))?.toString()).toBe('hello from alice')

    // the fault happened: bob's first connection opened, alice never saw it, and bob dropped it
    // for its silence (left alone, the stream times out by itself after 10-15 s, with an error)
    expect(fault.punches()).toBeGreaterThanOrEqual(1)
    expect(bobConnections.length).toBeGreaterThanOrEqual(2)
    expect(bobConnections[0].rawBytesRead).toBe(0)
    expect(bobConnections[0].destroyed).toBe(true)
    // (a stall of the whole machine longer than the wait could drop a live one too: at least this one)
    expect(follower.network.counters.deadConnections).toBeGreaterThanOrEqual(1)
    expect(firstErrors).toEqual([])
    // the connection bob synced over is one alice saw
    expect(aliceSaw.some((k) => k.equals(follower.network.swarm?.keyPair.publicKey as Buffer))).toBe(true)
  })
})
