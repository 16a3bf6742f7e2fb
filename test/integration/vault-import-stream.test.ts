/**
 * The streamed import of local files (vault-blobs.ts): several MiB arrive byte-identical in
 * 64 KiB blocks with exact progress totals, in an encrypted space too, and a cancel mid-file
 * clears the blocks already written at once (not only at the next open).
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { TempDirs, startEngine } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import type { Vault } from '../../main/engine/vault.js'
import type { Job } from '../../main/shared/contract.js'
import { BLOB_BLOCK_BYTES } from '../../main/engine/vault-blobs.js'

const MiB = 1024 * 1024

async function readAll (vault: Vault, path: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of vault.drive.createReadStream(path)) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

describe('importing big local files', () => {
  const tmp = new TempDirs()
  let engine: Engine
  let src: string

  beforeEach(async () => {
    engine = await startEngine(null, await tmp.make())
    src = await tmp.make()
  })

  afterEach(async () => {
    await engine.close()
    await tmp.cleanup()
  })

  /** Every job.progress event of jobs of this kind, in order. */
  function progressOf (kind: Job['kind']): { events: Job[], off: () => void } {
    const events: Job[] = []
    const off = engine.onEvent((name, data) => {
      const job = data as Job
      if (name === 'job.progress' && job.kind === kind) events.push({ ...job })
    })
    return { events, off }
  }

  it('imports a folder of several MiB into an encrypted space byte-identical, in 64 KiB blocks, with exact progress totals', async () => {
    const vault = engine.spaces.resolve('Private').vault
    expect(vault.readKey).not.toBeNull()
    const files = new Map<string, Buffer>([
      ['big.bin', randomBytes(5 * MiB + 12345)],
      ['small.txt', Buffer.from('a small file\n')],
      ['empty.bin', Buffer.alloc(0)]
    ])
    await mkdir(join(src, 'data'))
    for (const [name, data] of files) await writeFile(join(src, 'data', name), data)
    const total = [...files.values()].reduce((n, b) => n + b.length, 0)

    const progress = progressOf('import')
    const job = await vault.importPaths([join(src, 'data')], '/').done
    progress.off()

    expect(job.state).toBe('done')
    expect(job).toMatchObject({ bytesDone: total, bytesTotal: total, filesDone: 3, filesTotal: 3 })
    let last = 0
    for (const p of progress.events) {
      expect(p.bytesDone).toBeGreaterThanOrEqual(last)
      expect(p.bytesDone).toBeLessThanOrEqual(total)
      if (p.filesTotal > 0) expect(p.bytesTotal).toBe(total)
      last = p.bytesDone
    }
    for (const [name, data] of files) expect((await readAll(vault, `/data/${name}`)).equals(data)).toBe(true)

    const big = (await vault.drive.entry('/data/big.bin'))!.value.blob!
    expect(big.byteLength).toBe(5 * MiB + 12345)
    expect(big.blockLength).toBe(Math.ceil((5 * MiB + 12345) / BLOB_BLOCK_BYTES))
    const blobs = (await vault.drive.getBlobs())!
    expect((await blobs.core.get(big.blockOffset))!.length).toBe(BLOB_BLOCK_BYTES)
    expect((await blobs.core.get(big.blockOffset + big.blockLength - 1))!.length).toBe((5 * MiB + 12345) % BLOB_BLOCK_BYTES)
  })

  it('clears the blocks of a file cancelled half-way at once, and lists nothing of it', async () => {
    const vault = engine.vault
    await writeFile(join(src, 'kept.txt'), 'kept')
    expect((await vault.importPaths([join(src, 'kept.txt')], '/').done).state).toBe('done')
    await writeFile(join(src, 'large.bin'), randomBytes(24 * MiB))
    const blobs = (await vault.drive.getBlobs())!
    const before = blobs.core.length

    let cancelledAt = -1
    const off = engine.onEvent((name, data) => {
      const job = data as Job
      if (name !== 'job.progress' || job.kind !== 'import' || job.state !== 'running' || job.bytesDone === 0 || cancelledAt !== -1) return
      cancelledAt = job.bytesDone
      engine.jobs.get(job.id).cancel()
    })
    const job = await vault.importPaths([join(src, 'large.bin')], '/').done
    off()

    expect(job.state).toBe('cancelled')
    expect(job.error?.code).toBe('CANCELLED')
    expect(cancelledAt).toBeGreaterThan(0)
    expect(cancelledAt).toBeLessThan(24 * MiB)
    expect(blobs.core.length).toBeGreaterThan(before)
    for (let i = before; i < blobs.core.length; i++) expect(await blobs.core.has(i)).toBe(false)
    const listed: string[] = []
    for await (const e of vault.drive.list('/', { recursive: true })) listed.push(e.key)
    expect(listed).toEqual(['/kept.txt'])
    expect((await readAll(vault, '/kept.txt')).toString()).toBe('kept')
  })
})
