/**
 * blocksOf (vault-blobs.ts): whatever the chunks a source yields, a blob is cut into whole
 * blocks of one size (the last may be shorter) holding exactly the source's bytes in order.
 */
import { describe, it, expect } from 'vitest'
import { randomBytes, randomInt } from 'node:crypto'
import { blocksOf } from '../../main/engine/vault-blobs.js'

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
