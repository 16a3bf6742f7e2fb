/**
 * follow.status under a status interval, on a loopback testnet with real corestores: the
 * download's progress is coalesced (at most one status per interval, not one per block), but the
 * block that completes the follow is reported at once, so the UI (and `datdot follow --wait`)
 * learn 'synced' when the last byte is in, not up to an interval later. A later version of the
 * author's drive makes the follow 'syncing' again and its completion is reported at once too.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, nextEvent, startEngine, hashOf } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import type { EventData } from '../../main/shared/contract.js'
import { createHandlers } from '../../main/api/handlers.js'

/** Far longer than the test runs: a status that waits for the interval never comes. */
const INTERVAL_MS = 3_600_000
/** 8 MiB: 128 blobs blocks, so the contents arrive well after the first forced statuses. */
const BIG = randomBytes(8 * 1024 * 1024)
const MORE = randomBytes(2 * 1024 * 1024)

describe('follow.status with a long status interval', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let alice: Engine
  let bob: Engine

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    alice = await startEngine(testnet, await tmp.make())
    await alice.vault.drive.put('/big.bin', BIG)
    bob = await startEngine(testnet, await tmp.make(), { statusIntervalMs: INTERVAL_MS })
  })

  afterAll(async () => {
    await bob?.close()
    await alice?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it("reports 'synced' as soon as the last block is in, with few statuses on the way, and again after the author adds a file", async () => {
    const key = alice.vault.id
    const statuses: Array<EventData<'follow.status'>> = []
    const off = bob.onEvent((name, data) => {
      if (name === 'follow.status' && (data as EventData<'follow.status'>).key === key) statuses.push(data as EventData<'follow.status'>)
    })
    const synced = (version: number): Promise<EventData<'follow.status'>> =>
      nextEvent(bob, 'follow.status', (d) => d.key === key && d.state === 'synced' && d.version === version)
    try {
      const first = synced(alice.vault.drive.version)
      const { link } = await createHandlers(alice).share({ path: '/' })
      await createHandlers(bob).follow({ link })
      const s = await first
      expect(s.blocksHave).toBe(s.blocksTotal)
      const followed = bob.follows.get(key)
      const blobs = followed.drive.blobs!.core
      expect(blobs.contiguousLength).toBe(blobs.length)
      expect(await hashOf(followed.drive, '/big.bin')).toBe(await hashOf(alice.vault.drive, '/big.bin'))
      // 128+ blocks arrived; progress was coalesced into the forced statuses (peers, blobs, the
      // update, the completion), not one status per block.
      expect(statuses.length).toBeLessThan(16)

      // Live: a new file makes the follow sync again; its completion is reported at once too.
      statuses.length = 0
      await alice.vault.drive.put('/more.bin', MORE)
      const again = await synced(alice.vault.drive.version)
      expect(again.blocksHave).toBe(again.blocksTotal)
      expect(await hashOf(followed.drive, '/more.bin')).toBe(await hashOf(alice.vault.drive, '/more.bin'))
      expect(statuses.length).toBeLessThan(16)
    } finally {
      off()
    }
  })
})
