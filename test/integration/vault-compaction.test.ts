import { describe, it, expect, afterAll } from 'vitest'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import Corestore from 'corestore'
import Hyperdrive, { type BlobPointer } from 'hyperdrive'
import { TempDirs, startEngine } from '../helpers/engines.js'
import { reclaimOrphanedBlobs } from '../../main/engine/vault-reclaim.js'

interface BlobsApi { core: import('hypercore').default, put (b: Buffer): Promise<BlobPointer> }

/** A writable drive in the vault's namespace of `storage`, as the engine would open it. */
async function openVaultDrive (storage: string): Promise<{ store: Corestore, drive: Hyperdrive, blobs: BlobsApi }> {
  const store = new Corestore(join(storage, 'corestore'))
  const drive = new Hyperdrive(store.namespace('vault'))
  await drive.ready()
  const blobs = (await drive.getBlobs()) as unknown as BlobsApi
  return { store, drive, blobs }
}

const entry = (blob: BlobPointer): { executable: boolean, linkname: null, blob: BlobPointer, metadata: null } => ({ executable: false, linkname: null, blob, metadata: null })

async function present (core: import('hypercore').default, start: number, end: number): Promise<boolean[]> {
  const out: boolean[] = []
  for (let i = start; i < end; i++) out.push(await core.has(i))
  return out
}

describe('reclaiming blobs that no committed entry references', () => {
  const tmp = new TempDirs()
  afterAll(() => tmp.cleanup())

  it('keeps the blobs of an earlier commit that lie past every blob of the latest commit', async () => {
    const storage = await tmp.make()
    const x = randomBytes(200_000)
    const y = randomBytes(300_000)
    const { store, drive, blobs } = await openVaultDrive(storage)
    const px = await blobs.put(x)
    const py = await blobs.put(y)
    const pz = await blobs.put(randomBytes(500_000)) // written, never committed: the orphan
    // Two imports that finished in the other order: the latest commit references the lower blocks.
    await drive.putEntry('/y.bin', entry(py))
    await drive.putEntry('/x.bin', entry(px))
    const length = blobs.core.length
    await drive.close()
    await store.close()

    // No watermark yet (as on the first open after an upgrade): the history is scanned.
    const engine = await startEngine(null, storage)
    try {
      const c = engine.vault.lastCompaction!
      expect(c).toMatchObject({ skipped: null, fromBlock: py.blockOffset + py.blockLength, toBlock: length, blocksCleared: pz.blockLength, bytesReclaimed: 500_000 })
      const core = (await engine.vault.drive.getBlobs())!.core
      expect(await present(core, pz.blockOffset, length)).toEqual(new Array(pz.blockLength).fill(false))
      expect(await present(core, 0, pz.blockOffset)).toEqual(new Array(pz.blockOffset).fill(true))
      expect((await engine.vault.drive.get('/x.bin'))!.equals(x)).toBe(true)
      expect((await engine.vault.drive.get('/y.bin'))!.equals(y)).toBe(true)
    } finally {
      await engine.close()
    }
  })

  it('never compacts a drive it only follows, even one holding blocks no entry references', async () => {
    const writer = await openVaultDrive(await tmp.make())
    const readerStore = new Corestore(join(await tmp.make(), 'corestore'))
    try {
      const committed = await writer.blobs.put(randomBytes(100_000))
      await writer.drive.putEntry('/a.bin', entry(committed))
      await writer.blobs.put(randomBytes(300_000)) // the writer's orphan
      const length = writer.blobs.core.length

      const s1 = writer.store.replicate(true) as NodeJS.ReadWriteStream
      const s2 = readerStore.replicate(false) as NodeJS.ReadWriteStream
      s1.pipe(s2).pipe(s1)
      const reader = new Hyperdrive(readerStore, writer.drive.key)
      await reader.ready()
      await reader.update({ wait: true })
      const readerBlobs = (await reader.getBlobs())!.core
      await readerBlobs.update({ wait: true })
      await (readerBlobs.download({ start: 0, end: length }) as unknown as { done (): Promise<void> }).done()
      expect(await present(readerBlobs, 0, length)).toEqual(new Array(length).fill(true))

      const { result, watermark } = await reclaimOrphanedBlobs(reader, null)
      expect(result.skipped).toBe('not-writable')
      expect(result.blocksCleared).toBe(0)
      expect(watermark).toBeNull()
      expect(await present(readerBlobs, 0, length)).toEqual(new Array(length).fill(true))
      await reader.close()
    } finally {
      await writer.drive.close()
      await writer.store.close()
      await readerStore.close()
    }
  })

  it('with no watermark and more history than it may scan, treats everything written so far as referenced', async () => {
    const { store, drive, blobs } = await openVaultDrive(await tmp.make())
    try {
      const a = await blobs.put(randomBytes(100_000))
      await drive.putEntry('/a.bin', entry(a))
      const b = await blobs.put(randomBytes(100_000))
      await drive.putEntry('/b.bin', entry(b))
      const orphan = await blobs.put(randomBytes(200_000))
      const length = blobs.core.length

      const { result, watermark } = await reclaimOrphanedBlobs(drive, null, { historyScanLimit: 1 })
      expect(result).toMatchObject({ skipped: 'history-too-long', blocksCleared: 0, bytesReclaimed: 0 })
      expect(watermark).toEqual({ dbLength: drive.core.length, blocks: length, bytes: blobs.core.byteLength })
      expect(await present(blobs.core, orphan.blockOffset, length)).toEqual(new Array(orphan.blockLength).fill(true))

      // Within the limit the same history is scanned and only the orphan goes.
      const scanned = await reclaimOrphanedBlobs(drive, null, { historyScanLimit: 10 })
      expect(scanned.result).toMatchObject({ skipped: null, fromBlock: orphan.blockOffset, toBlock: length, blocksCleared: orphan.blockLength })
      expect(await present(blobs.core, 0, length)).toEqual([...new Array<boolean>(orphan.blockOffset).fill(true), ...new Array<boolean>(orphan.blockLength).fill(false)])
    } finally {
      await drive.close()
      await store.close()
    }
  })
})
