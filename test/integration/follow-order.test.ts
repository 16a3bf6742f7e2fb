/**
 * The order a follow downloads a drive's file contents in, on a loopback testnet with real
 * corestores: a drive followed in mode 'all' fetches its blocks from the start of the blobs core
 * on (not from random places), so the first file's first bytes are among the first to arrive and
 * the engine's own read path (as the download route reads) gets them before the file is all
 * here; once every block is in, the follow's counters add up to exactly what both cores hold.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createHash } from 'node:crypto'
import type { Testnet } from '@hyperswarm/testnet'
import type Hyperdrive from 'hyperdrive'
import { TempDirs, loopbackTestnet, nextEvent, startEngine, until } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'
import { driveFor } from '../../main/api/handlers-drives.js'
import { statPath } from '../../main/engine/drive-ops.js'

const BLOCK = 16 * 1024
const BLOCKS = 512 // 8 MiB, one block per write
const PATH = '/big.bin'
/** The first downloaded blocks looked at: from the start, they all lie in the first quarter of the core. */
const FIRST = 16

/** Block i of the file: fixed pseudo-random bytes with i in the first 8. */
function block (i: number): Buffer {
  const out = Buffer.alloc(BLOCK)
  for (let o = 0; o < BLOCK; o += 32) createHash('sha256').update(`order ${o}`).digest().copy(out, o)
  out.writeBigUInt64BE(BigInt(i), 0)
  return out
}

async function writeBig (drive: Hyperdrive): Promise<void> {
  const ws = drive.createWriteStream(PATH)
  for (let i = 0; i < BLOCKS; i++) {
    if (!ws.write(block(i))) await new Promise<void>((resolve) => ws.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject)
    ws.once('close', () => resolve())
    ws.end()
  })
}

/** The first chunk of `path`, read the way the download route reads a file (statPath, one stream). */
async function firstChunk (drive: Hyperdrive, path: string): Promise<Buffer> {
  const entry = await statPath(drive, path)
  const stream = drive.createReadStream(entry.path)
  try {
    for await (const chunk of stream) return chunk as Buffer
  } finally {
    stream.destroy()
  }
  throw new Error(`${path} is empty`)
}

describe('the order a followed drive downloads in, on a loopback testnet', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let alice: Engine
  let bob: Engine

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    alice = await startEngine(testnet, await tmp.make())
    await writeBig(alice.vault.drive)
    bob = await startEngine(testnet, await tmp.make())
  })

  afterAll(async () => {
    await bob?.close()
    await alice?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('downloads a followed file from its start, reads its first bytes before it is all here, and counts every byte exactly once', async () => {
    const version = alice.vault.drive.version
    const link = (await createHandlers(alice).share({ path: '/' })).link
    const key = alice.vault.id
    // The first status that says 'synced' at A's version, as the UI gets it.
    const syncedP = nextEvent(bob, 'follow.status', (s) => s.key === key && s.state === 'synced' && s.version === version)
    const info = await createHandlers(bob).follow({ link })
    expect(info.key).toBe(key)
    expect(info.mode).toBe('all')
    const f = bob.follows.get(info.key)

    // Every blobs block in the order it arrives (the blobs core is known once the header is here;
    // blocks arrive from the network later, so none is missed).
    const blobs = await f.drive.getBlobs()
    if (!blobs) throw new Error('no blobs core')
    const order: number[] = []
    blobs.core.on('download', (index: number) => { order.push(index) })

    await until(bob, () => f.drive.version >= version)
    const chunk = await firstChunk(await driveFor(bob, info.key), PATH)
    const heldAtFirstChunk = order.length
    expect(chunk.subarray(0, BLOCK)).toEqual(block(0).subarray(0, chunk.length))
    expect(heldAtFirstChunk).toBeLessThan(BLOCKS)

    const synced = await syncedP
    expect(synced.blocksTotal).toBe(synced.blocksHave)
    // Hypercore marks blocks held before it emits their 'download' (it flushes in between), so the
    // first 'synced' status can come a few blocks before the last count; the counts then settle.
    await until(bob, () => order.length >= blobs.core.length && f.info().bytesDownloaded >= f.drive.core.byteLength + blobs.core.byteLength)
    // From the start: the first blocks to arrive all lie in the first quarter of the core (a
    // download from random places would scatter them over all of it).
    const first = order.slice(0, FIRST)
    expect(first.filter((i) => i >= BLOCKS / 4)).toEqual([])
    // Every block once, and the counters exactly what both cores hold.
    expect(blobs.core.contiguousLength).toBe(blobs.core.length)
    expect(blobs.core.byteLength).toBe(BLOCK * BLOCKS)
    expect(order.length).toBe(blobs.core.length)
    expect(new Set(order).size).toBe(blobs.core.length)
    const s = f.info()
    expect(s.state).toBe('synced')
    expect(s.blocksHave).toBe(f.drive.core.length + blobs.core.length)
    expect(s.blocksTotal).toBe(s.blocksHave)
    expect(s.bytesDownloaded).toBe(f.drive.core.byteLength + blobs.core.byteLength)
  })
})
