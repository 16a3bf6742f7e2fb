/**
 * blocksOf (vault-blobs.ts): whatever the chunks a source yields, a blob is cut into whole
 * blocks of one size (the last may be shorter) holding exactly the source's bytes in order.
 * fileBatches: a local file read into batches of such blocks through two reused buffers.
 */
import { describe, it, expect, afterAll } from 'vitest'
import { randomBytes, randomInt } from 'node:crypto'
import { open, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { blocksOf, fileBatches } from '../../main/engine/vault-blobs.js'
import { TempDirs } from '../helpers/engines.js'

async function collect (chunks: Buffer[], size: number): Promise<Buffer[]> {
  const out: Buffer[] = []
  for await (const b of blocksOf((async function * () { yield * chunks })(), size)) out.push(Buffer.from(b))
  return out
}

describe('cutting a source into blobs blocks', () => {
  it('yields whole blocks of the same bytes for chunks of any size, the last one shorter', async () => {
    const data = randomBytes(1000 + 64 * 7)
    const chunks: Buffer[] = []
    for (let off = 0; off < data.length;) {
      const n = Math.min(randomInt(0, 200), data.length - off)
      chunks.push(data.subarray(off, off + n))
      off += n
    }
    chunks.splice(3, 0, Buffer.alloc(0), data.subarray(0, 0))
    const blocks = await collect(chunks, 64)
    expect(Buffer.concat(blocks).equals(data)).toBe(true)
    for (const b of blocks.slice(0, -1)) expect(b.length).toBe(64)
    expect(blocks.at(-1)!.length).toBe(data.length % 64 === 0 ? 64 : data.length % 64)
  })

  it('passes aligned chunks on as views and yields nothing for an empty source', async () => {
    const data = randomBytes(256)
    const views: Buffer[] = []
    for await (const b of blocksOf((async function * () { yield data })(), 64)) views.push(b)
    expect(views.map((v) => v.buffer === data.buffer)).toEqual([true, true, true, true])
    expect(await collect([], 64)).toEqual([])
    expect(await collect([Buffer.alloc(0)], 64)).toEqual([])
  })

  it('joins a tail shorter than a block with the next chunk', async () => {
    const blocks = await collect([Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('ij')], 4)
    expect(blocks.map((b) => b.toString())).toEqual(['abcd', 'efgh', 'ij'])
  })
})

describe('reading a local file into batches of blocks (fileBatches)', () => {
  const tmp = new TempDirs()
  afterAll(async () => { await tmp.cleanup() })

  async function batchesOfFile (data: Buffer, size: number, block: number, perBatch: number): Promise<{ batches: Buffer[][], copies: Buffer[][], buffers: Set<ArrayBufferLike> }> {
    const file = join(await tmp.make(), 'f.bin')
    await writeFile(file, data)
    const fh = await open(file, 'r')
    const batches: Buffer[][] = []
    const copies: Buffer[][] = []
    const buffers = new Set<ArrayBufferLike>()
    try {
      for await (const batch of fileBatches(fh, size, block, perBatch)) {
        batches.push(batch)
        copies.push(batch.map((b) => Buffer.from(b)))
        for (const b of batch) buffers.add(b.buffer)
      }
    } finally {
      await fh.close()
    }
    return { batches, copies, buffers }
  }

  it('yields the file as whole blocks, a batch at a time, read into the same two buffers throughout', async () => {
    const data = randomBytes(64 * 4 * 5 + 100)
    const { copies, buffers } = await batchesOfFile(data, data.length, 64, 4)
    expect(Buffer.concat(copies.flat()).equals(data)).toBe(true)
    expect(copies.length).toBe(6)
    for (const batch of copies) expect(batch.length).toBeLessThanOrEqual(4)
    for (const b of copies.flat().slice(0, -1)) expect(b.length).toBe(64)
    expect(copies.flat().at(-1)!.length).toBe(100 % 64)
    // Six batches, two buffers: each batch was read into a buffer the consumer had finished with.
    expect(buffers.size).toBe(2)
  })

  it('adds a one-byte batch when the file holds more than planned, stops short when it holds less, and yields nothing for an empty file', async () => {
    const data = randomBytes(1000)
    const longer = await batchesOfFile(data, 900, 64, 4)
    expect(Buffer.concat(longer.copies.flat()).equals(Buffer.concat([data.subarray(0, 900), data.subarray(900, 901)]))).toBe(true)
    expect(longer.copies.at(-1)!.map((b) => b.length)).toEqual([1])
    const shorter = await batchesOfFile(data, 1200, 64, 4)
    expect(Buffer.concat(shorter.copies.flat()).equals(data)).toBe(true)
    const empty = await batchesOfFile(Buffer.alloc(0), 0, 64, 4)
    expect(empty.batches).toEqual([])
  })
})
