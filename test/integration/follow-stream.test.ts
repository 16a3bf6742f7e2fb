/**
 * Streaming reads of a followed drive, on a loopback testnet with real corestores: a follower
 * in on-demand mode reads a 200 MB file with `datdot cat` (the CLI, from the sources, against
 * the follower's API server) and gets its first bytes long before the file is here; a range
 * from the middle comes without fetching the file from its start; an open range (a media
 * player that seeks) streams the same way through the download URL the UI's preview uses.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { request, type IncomingMessage } from 'node:http'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import type { Testnet } from '@hyperswarm/testnet'
import type Hyperdrive from 'hyperdrive'
import { TempDirs, loopbackTestnet, startEngine, until } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import type { Followed } from '../../main/engine/followed.js'
import { createHandlers } from '../../main/api/handlers.js'
import { ApiServer } from '../../main/server/server.js'
import { blocksHeld } from '../../main/engine/follow-cache.js'

const BLOCK = 64 * 1024
const BLOCKS = 3200 // 200 MiB
const SIZE = BLOCK * BLOCKS
const PATH = '/films/big.bin'
/** Runs the `datdot` command line from the sources. */
const CLI_CHILD = join(import.meta.dirname, '..', 'fixtures', 'cli-child.mjs')

/** 64 KiB of fixed pseudo-random bytes; block i of the file is it with i in its first 8 bytes. */
const BASE = (() => {
  const out = Buffer.alloc(BLOCK)
  for (let i = 0; i < BLOCK; i += 32) createHash('sha256').update(`datdot ${i}`).digest().copy(out, i)
  return out
})()

function block (i: number): Buffer {
  const b = Buffer.from(BASE)
  b.writeBigUInt64BE(BigInt(i), 0)
  return b
}

/** The file's bytes [start, start + length). */
function expected (start: number, length: number): Buffer {
  const parts: Buffer[] = []
  for (let i = Math.floor(start / BLOCK); i * BLOCK < start + length; i++) parts.push(block(i))
  const from = start - Math.floor(start / BLOCK) * BLOCK
  return Buffer.concat(parts).subarray(from, from + length)
}

/** Writes the 200 MiB file block by block (one 64 KiB write is one block), minding backpressure. */
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

function get (port: number, path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, method: 'GET', path, headers }, resolve)
    req.on('error', reject)
    req.end()
  })
}

describe('streamed reads of a followed drive, on a loopback testnet', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let alice: Engine
  let bob: Engine
  let server: ApiServer
  let f: Followed
  let key: string
  let bobStorage: string
  let range: { blockOffset: number, blockLength: number }

  /** Blocks of the big file the follower holds in [from, from + length) of the file's blocks. */
  const held = (from = 0, length = BLOCKS): number => blocksHeld(f.drive.blobs!.core, range.blockOffset + from, length)

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    alice = await startEngine(testnet, await tmp.make())
    await writeBig(alice.vault.drive)
    const link = (await createHandlers(alice).share({ path: '/' })).link
    bobStorage = await tmp.make()
    bob = await startEngine(testnet, bobStorage)
    server = new ApiServer({ engine: bob, handlers: createHandlers(bob), storage: bobStorage })
    await server.ready()
    const info = await createHandlers(bob).follow({ link, mode: 'on-demand' })
    key = info.key
    f = bob.follows.get(key)
    await until(bob, () => f.info().version === alice.vault.drive.version && f.info().state === 'synced' && f.drive.blobs !== null)
    const blob = (await f.drive.entry(PATH))?.value?.blob
    if (!blob) throw new Error('no blob for the big file')
    range = blob
    expect(range.blockLength).toBe(BLOCKS)
  }, 240_000)

  afterAll(async () => {
    await server?.close()
    await bob?.close()
    await alice?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('reads a range from the middle with the right bytes, fetching none of the file before it', async () => {
    expect(held()).toBe(0)
    const { url } = await createHandlers(bob).createDownloadUrl({ drive: key, path: PATH })
    const start = 100 * 1024 * 1024 + 12_345
    const length = 1024 * 1024
    const res = await get(server.port, url, { Range: `bytes=${start}-${start + length - 1}` })
    expect(res.statusCode).toBe(206)
    const chunks: Buffer[] = []
    for await (const c of res) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    expect(body.length).toBe(length)
    expect(body.equals(expected(start, length))).toBe(true)
    const firstBlock = Math.floor(start / BLOCK)
    expect(held(0, firstBlock)).toBe(0)
    expect(held()).toBeLessThanOrEqual(Math.ceil(length / BLOCK) + 1)
  }, 120_000)

  it('`datdot cat` writes the first bytes of the file before 1% of its blocks is here', async () => {
    const before = held() // the blocks the range read of the test above fetched
    const child = spawn(process.execPath, [CLI_CHILD, 'cat', `hyper://${key}${PATH}`, '--storage', bobStorage], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
    let heldAtFirst = -1
    const chunks: Buffer[] = []
    let got = 0
    try {
      for await (const c of child.stdout) {
        if (heldAtFirst < 0) heldAtFirst = held() - before
        chunks.push(c as Buffer)
        got += (c as Buffer).length
        if (got >= 4 * 1024 * 1024) break // enough: the rest would only fill the disk
      }
    } finally {
      child.kill()
      await exited
    }
    expect(heldAtFirst, stderr).toBeGreaterThanOrEqual(0)
    expect(heldAtFirst).toBeLessThan(BLOCKS / 100)
    const body = Buffer.concat(chunks)
    expect(body.length).toBeGreaterThanOrEqual(4 * 1024 * 1024)
    expect(body.equals(expected(0, body.length))).toBe(true)
  }, 120_000)

  it('streams an open range from three quarters in (a player that seeks): the first bytes before 1% of the blocks is here', async () => {
    const from = BLOCKS * 3 / 4
    expect(held(from, BLOCKS / 4)).toBe(0)
    const { url } = await createHandlers(bob).createDownloadUrl({ drive: key, path: PATH })
    const start = from * BLOCK + 777
    const res = await get(server.port, url, { Range: `bytes=${start}-` })
    expect(res.statusCode).toBe(206)
    expect(res.headers['content-range']).toBe(`bytes ${start}-${SIZE - 1}/${SIZE}`)
    let heldAtFirst = -1
    let got = 0
    const chunks: Buffer[] = []
    for await (const c of res) {
      if (heldAtFirst < 0) heldAtFirst = held(from, BLOCKS / 4)
      chunks.push(c as Buffer)
      got += (c as Buffer).length
      if (got >= 2 * 1024 * 1024) break // a reader that quits: the server stops the read
    }
    expect(heldAtFirst).toBeGreaterThanOrEqual(0)
    expect(heldAtFirst).toBeLessThan(BLOCKS / 100)
    const body = Buffer.concat(chunks)
    expect(body.equals(expected(start, body.length))).toBe(true)
  }, 120_000)
})
