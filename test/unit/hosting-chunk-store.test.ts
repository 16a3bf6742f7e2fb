/**
 * The hoster's chunk stores (main/hosting/chunk-store.ts): put, get and delete in memory and on
 * disk, survival across a reopen, limits, and damage on disk (garbage, truncated, empty or
 * misplaced files) reported as CORRUPT for that chunk alone, with nothing else lost.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { mkdtemp, rm, readdir, readFile, writeFile, truncate, mkdir, rename } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { MemoryChunkStore, FileChunkStore, type ChunkStore } from '../../main/hosting/chunk-store.js'
import type { StoredChunk } from '../../main/hosting/messages.js'
import { DatdotError } from '../../main/shared/errors.js'

const KEY = Buffer.alloc(32, 0xab)
const OTHER_KEY = Buffer.alloc(32, 0xcd)

function chunk (index: number, size = 100): StoredChunk {
  return {
    index,
    encoded: randomBytes(size),
    encoderSignature: randomBytes(64),
    merkle: { index, length: index + 1, nodes: [{ index: 2 * index + 2, size: 7, hash: randomBytes(32) }], roots: [] }
  }
}

/** The same chunk; big buffers compared with equals (toEqual goes byte by byte, slowly). */
function expectSame (got: StoredChunk | null, want: StoredChunk): void {
  expect(got).not.toBeNull()
  expect(got!.encoded.equals(want.encoded)).toBe(true)
  expect({ ...got!, encoded: null }).toEqual({ ...want, encoded: null })
}

async function codeOf (p: Promise<unknown>): Promise<string> {
  try { await p } catch (err) {
    expect(err).toBeInstanceOf(DatdotError)
    return (err as DatdotError).code
  }
  return 'resolved'
}

/** The behaviour both stores share. */
function sharedBehaviour (make: (opts?: { maxChunks?: number }) => ChunkStore): void {
  it('gives back what was put, byte for byte, and null for a chunk never put', async () => {
    const store = make()
    const a = chunk(0, 1)
    const b = chunk(5, 70_000)
    await store.putChunk(KEY, a)
    await store.putChunk(KEY, b)
    expect(await store.getChunk(KEY, 0)).toEqual(a)
    expectSame(await store.getChunk(KEY, 5), b)
    expect(await store.getChunk(KEY, 1)).toBeNull()
    expect(await store.getChunk(OTHER_KEY, 0)).toBeNull()
  })

  it('keeps the same index of two cores apart', async () => {
    const store = make()
    const mine = chunk(3)
    const theirs = chunk(3)
    await store.putChunk(KEY, mine)
    await store.putChunk(OTHER_KEY, theirs)
    expect((await store.getChunk(KEY, 3))!.encoded.equals(mine.encoded)).toBe(true)
    expect((await store.getChunk(OTHER_KEY, 3))!.encoded.equals(theirs.encoded)).toBe(true)
    expect(await store.deleteChunk(KEY, 3)).toBe(true)
    expect(await store.getChunk(OTHER_KEY, 3)).not.toBeNull()
  })

  it('replaces a chunk put again at the same index', async () => {
    const store = make()
    await store.putChunk(KEY, chunk(2))
    const newer = chunk(2, 33)
    await store.putChunk(KEY, newer)
    expect(await store.getChunk(KEY, 2)).toEqual(newer)
  })

  it('does not change what it stored when the caller later changes the chunk it passed in', async () => {
    const store = make()
    const c = chunk(4)
    const copy = structuredClone(c)
    await store.putChunk(KEY, c)
    c.encoded[0] ^= 0xff
    c.merkle.nodes[0].hash[0] ^= 0xff
    c.merkle.nodes.push({ index: 99, size: 1, hash: randomBytes(32) })
    const back = (await store.getChunk(KEY, 4))!
    expect(back.encoded.equals(copy.encoded)).toBe(true)
    expect(back.merkle.nodes).toHaveLength(1)
    expect(back.merkle.nodes[0].hash.equals(Buffer.from(copy.merkle.nodes[0].hash))).toBe(true)
  })

  it('deletes a chunk once: true the first time, false after, and the chunk is gone', async () => {
    const store = make()
    await store.putChunk(KEY, chunk(1))
    expect(await store.deleteChunk(KEY, 1)).toBe(true)
    expect(await store.deleteChunk(KEY, 1)).toBe(false)
    expect(await store.getChunk(KEY, 1)).toBeNull()
    expect(await store.deleteChunk(KEY, 77)).toBe(false)
  })

  it('refuses a new chunk over the limit, but takes a replacement and takes new chunks again after a delete', async () => {
    const store = make({ maxChunks: 2 })
    await store.putChunk(KEY, chunk(0))
    await store.putChunk(OTHER_KEY, chunk(0))
    expect(await codeOf(store.putChunk(KEY, chunk(1)))).toBe('LIMIT_REACHED')
    expect(await store.getChunk(KEY, 1)).toBeNull()
    await store.putChunk(KEY, chunk(0))
    expect(await store.deleteChunk(OTHER_KEY, 0)).toBe(true)
    await store.putChunk(KEY, chunk(1))
    expect(await store.getChunk(KEY, 1)).not.toBeNull()
  })

  it('refuses a core key that is not 32 bytes with INVALID_ARGUMENT on every call', async () => {
    const store = make()
    for (const key of [Buffer.alloc(31), Buffer.alloc(33), Buffer.alloc(0)]) {
      expect(await codeOf(store.putChunk(key, chunk(0)))).toBe('INVALID_ARGUMENT')
      expect(await codeOf(store.getChunk(key, 0))).toBe('INVALID_ARGUMENT')
      expect(await codeOf(store.deleteChunk(key, 0))).toBe('INVALID_ARGUMENT')
    }
  })

  it('refuses a chunk that cannot be encoded (short signature or hash, negative index) with INVALID_ARGUMENT, keeping the old one', async () => {
    const store = make()
    const good = chunk(6)
    await store.putChunk(KEY, good)
    expect(await codeOf(store.putChunk(KEY, { ...chunk(6), encoderSignature: randomBytes(63) }))).toBe('INVALID_ARGUMENT')
    const badNode = chunk(6)
    badNode.merkle.nodes[0].hash = randomBytes(31)
    expect(await codeOf(store.putChunk(KEY, badNode))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(store.putChunk(KEY, chunk(-1)))).toBe('INVALID_ARGUMENT')
    expect(await store.getChunk(KEY, 6)).toEqual(good)
  })
}

describe('MemoryChunkStore', () => {
  sharedBehaviour((opts) => new MemoryChunkStore(opts))

  it('counts what it holds', async () => {
    const store = new MemoryChunkStore()
    expect(store.size).toBe(0)
    await store.putChunk(KEY, chunk(0))
    await store.putChunk(KEY, chunk(0))
    await store.putChunk(KEY, chunk(1))
    expect(store.size).toBe(2)
    await store.deleteChunk(KEY, 0)
    expect(store.size).toBe(1)
  })

  it('defaults to a limit of 2^20 chunks', () => {
    expect(new MemoryChunkStore().maxChunks).toBe(1024 * 1024)
  })
})

describe('FileChunkStore', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'datdot-chunk-store-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  const fileOf = (index: number, key = KEY): string => join(dir, key.toString('hex'), `${index}.chunk`)

  sharedBehaviour((opts) => new FileChunkStore(dir, opts))

  it('writes one file per chunk under <core key hex>/<index>.chunk and leaves no temp file behind', async () => {
    const store = new FileChunkStore(dir)
    for (let i = 0; i < 5; i++) await store.putChunk(KEY, chunk(i))
    await store.putChunk(KEY, chunk(2))
    expect((await readdir(dir)).sort()).toEqual([KEY.toString('hex')])
    expect((await readdir(join(dir, KEY.toString('hex')))).sort()).toEqual(['0.chunk', '1.chunk', '2.chunk', '3.chunk', '4.chunk'])
  })

  it('takes concurrent writes of the same and different chunks without mixing them up', async () => {
    const store = new FileChunkStore(dir)
    const chunks = Array.from({ length: 12 }, (_, i) => chunk(i % 4, 500 + i))
    await Promise.all(chunks.map((c) => store.putChunk(KEY, c)))
    for (let i = 0; i < 4; i++) {
      const back = (await store.getChunk(KEY, i))!
      expect(chunks.some((c) => c.index === i && c.encoded.equals(back.encoded))).toBe(true)
    }
    expect(await readdir(join(dir, KEY.toString('hex')))).toHaveLength(4)
  })

  it('gives every chunk back after a restart (a new store on the same folder)', async () => {
    const first = new FileChunkStore(dir)
    const chunks = [chunk(0, 1), chunk(1, 4096), chunk(9, 65536)]
    for (const c of chunks) await first.putChunk(KEY, c)
    await first.putChunk(OTHER_KEY, chunk(0))
    await first.deleteChunk(KEY, 1)
    const second = new FileChunkStore(dir)
    expect(await second.getChunk(KEY, 0)).toEqual(chunks[0])
    expect(await second.getChunk(KEY, 1)).toBeNull()
    expectSame(await second.getChunk(KEY, 9), chunks[2])
    expect(await second.getChunk(OTHER_KEY, 0)).not.toBeNull()
    expect(await second.deleteChunk(KEY, 9)).toBe(true)
    expect(await new FileChunkStore(dir).getChunk(KEY, 9)).toBeNull()
  })

  it('refuses an index that is negative, fractional, unsafe or not a number, so it cannot name a file outside the folder', async () => {
    const store = new FileChunkStore(dir)
    for (const index of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
      expect(await codeOf(store.getChunk(KEY, index))).toBe('INVALID_ARGUMENT')
      expect(await codeOf(store.deleteChunk(KEY, index))).toBe('INVALID_ARGUMENT')
      expect(await codeOf(store.putChunk(KEY, { ...chunk(0), index }))).toBe('INVALID_ARGUMENT')
    }
    expect(await readdir(dir)).toEqual([])
  })

  describe('damage on disk', () => {
    let store: FileChunkStore
    const kept: StoredChunk[] = []

    beforeEach(async () => {
      store = new FileChunkStore(dir)
      kept.length = 0
      for (let i = 0; i < 4; i++) {
        kept.push(chunk(i, 300))
        await store.putChunk(KEY, kept[i])
      }
    })

    /** Every chunk but the `damaged` ones still reads back intact, from this store and from a reopened one. */
    async function othersIntact (...damaged: number[]): Promise<void> {
      for (const s of [store, new FileChunkStore(dir)]) {
        for (const c of kept) if (!damaged.includes(c.index)) expect(await s.getChunk(KEY, c.index)).toEqual(c)
      }
    }

    /** getChunk's error for a damaged chunk: CORRUPT, naming the chunk. */
    async function corruption (index: number): Promise<DatdotError> {
      const err = await store.getChunk(KEY, index).then(() => null, (e: unknown) => e)
      expect(err).toBeInstanceOf(DatdotError)
      expect((err as DatdotError).code).toBe('CORRUPT')
      expect((err as DatdotError).message).toContain(`stored chunk ${index}`)
      return err as DatdotError
    }

    it('reports a file of garbage as CORRUPT for that chunk alone', async () => {
      await writeFile(fileOf(2), randomBytes(200))
      await corruption(2)
      await othersIntact(2)
    })

    it('reports a truncated file (a torn write) as CORRUPT, at every length', async () => {
      const whole = await readFile(fileOf(1))
      for (let len = 0; len < whole.byteLength; len += 17) {
        await writeFile(fileOf(1), whole.subarray(0, len))
        await corruption(1)
      }
      await othersIntact(1)
    })

    it('reports an empty file and a file with bytes after the chunk as CORRUPT', async () => {
      await truncate(fileOf(0), 0)
      await corruption(0)
      await writeFile(fileOf(3), Buffer.concat([await readFile(fileOf(3)), Buffer.from([0])]))
      await corruption(3)
      await othersIntact(0, 3)
    })

    it('reports a file that holds another block than its name says as CORRUPT, not as that block', async () => {
      await rename(fileOf(3), fileOf(7))
      const e = await corruption(7)
      expect(e.message).toContain('holds block 3')
      expect(await store.getChunk(KEY, 3)).toBeNull()
    })

    it('keeps the cause of a corrupt chunk for the log', async () => {
      await writeFile(fileOf(2), Buffer.from([1]))
      const e = await corruption(2)
      expect((e.cause as DatdotError).code).toBe('PROTOCOL_ERROR')
    })

    it('repairs a corrupt chunk when it is put again, and can delete one', async () => {
      await writeFile(fileOf(2), randomBytes(50))
      await corruption(2)
      await store.putChunk(KEY, kept[2])
      expect(await store.getChunk(KEY, 2)).toEqual(kept[2])
      await writeFile(fileOf(1), randomBytes(50))
      expect(await store.deleteChunk(KEY, 1)).toBe(true)
      expect(await store.getChunk(KEY, 1)).toBeNull()
      await othersIntact(1)
    })

    it('ignores a temp file left by a write that crashed before its rename', async () => {
      await writeFile(`${fileOf(2)}.999.0.tmp`, randomBytes(10))
      expect(await store.getChunk(KEY, 2)).toEqual(kept[2])
      await othersIntact()
    })

    it('fails a write it cannot finish with a DatdotError, keeps what was there and leaves no temp file', async () => {
      // a non-empty folder where chunk 5's file should go: the rename cannot replace it
      await mkdir(join(fileOf(5), 'x'), { recursive: true })
      const err = await store.putChunk(KEY, chunk(5)).then(() => null, (e: unknown) => e)
      expect(err).toBeInstanceOf(DatdotError)
      expect((await readdir(join(dir, KEY.toString('hex')))).filter((f) => f.endsWith('.tmp'))).toEqual([])
      expect(await codeOf(store.getChunk(KEY, 5))).not.toBe('resolved')
      await othersIntact()
    })
  })

  it('counts the limit per store lifetime: a reopened store starts from zero, overwrites and deletes adjust it', async () => {
    const first = new FileChunkStore(dir, { maxChunks: 1 })
    await first.putChunk(KEY, chunk(0))
    expect(await codeOf(first.putChunk(KEY, chunk(1)))).toBe('LIMIT_REACHED')
    const second = new FileChunkStore(dir, { maxChunks: 1 })
    await second.putChunk(KEY, chunk(0)) // an overwrite: not counted
    await second.putChunk(KEY, chunk(1))
    expect(await codeOf(second.putChunk(KEY, chunk(2)))).toBe('LIMIT_REACHED')
    expect(await second.deleteChunk(KEY, 0)).toBe(true)
    await second.putChunk(KEY, chunk(2))
    expect(await second.getChunk(KEY, 2)).not.toBeNull()
  })
})
