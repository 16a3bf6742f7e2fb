import { describe, it, expect, afterAll } from 'vitest'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHash, randomBytes } from 'node:crypto'
import { TempDirs, startEngine, hashOf } from '../helpers/engines.js'
import { createHandlers } from '../../main/api/handlers.js'
import type { CompactionResult } from '../../main/engine/vault-reclaim.js'

const child = fileURLToPath(new URL('../fixtures/import-child.mjs', import.meta.url))
const built = fileURLToPath(new URL('../../dist/main/engine/engine.js', import.meta.url))
const MB = 1024 * 1024
const BIG = 160 * MB

/** Bytes the files under `dir` occupy on disk (allocated blocks, not apparent sizes). */
async function diskUsage (dir: string): Promise<number> {
  let n = 0
  for (const name of await readdir(dir, { recursive: true })) {
    const st = await stat(join(dir, name)).catch(() => null)
    if (st?.isFile()) n += st.blocks * 512
  }
  return n
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

describe('a process killed in the middle of an import', () => {
  const tmp = new TempDirs()
  afterAll(() => tmp.cleanup())

  it.runIf(existsSync(built))('leaves the vault as it was; reopening reclaims the orphaned blobs from disk, keeps every committed file intact, and later imports work', async () => {
    const storage = await tmp.make()
    const src = await tmp.make()
    const file = join(src, 'big.bin')
    // Big enough that RocksDB flushes part of it before the kill (its 64 MB memtable fills):
    // bytes still in the memtable die with the process, flushed ones stay as orphans.
    await writeFile(file, randomBytes(BIG))
    await writeFile(join(src, 'keep.txt'), 'keep')
    await writeFile(join(src, 'photo.bin'), randomBytes(3 * MB + 12345))
    const committed = { '/keep.txt': sha256(await readFile(join(src, 'keep.txt'))), '/photo.bin': sha256(await readFile(join(src, 'photo.bin'))) }

    // A first engine commits two files, so there is something to lose.
    const first = await startEngine(null, storage)
    const firstApi = createHandlers(first)
    await firstApi.importPaths({ paths: [join(src, 'keep.txt')], dest: '/', wait: true })
    await firstApi.importPaths({ paths: [join(src, 'photo.bin')], dest: '/', wait: true })
    const versionBefore = first.vault.drive.version
    const photo = (await first.vault.drive.entry('/photo.bin'))!.value.blob!
    const referencedEnd = photo.blockOffset + photo.blockLength
    await first.close()

    const proc = spawn(process.execPath, [child, storage, file], { stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)))
    let killedAtBytes = 0
    for await (const line of createInterface({ input: proc.stdout })) {
      const msg = JSON.parse(line) as { bytesDone?: number, finished?: boolean }
      if (msg.finished) break
      if ((msg.bytesDone ?? 0) >= 100 * MB) {
        killedAtBytes = msg.bytesDone!
        proc.kill('SIGKILL')
        break
      }
    }
    expect(await exited).toBe('SIGKILL')
    expect(killedAtBytes).toBeGreaterThan(0)
    const diskAfterCrash = await diskUsage(join(storage, 'corestore'))

    const engine = await startEngine(null, storage)
    let c: CompactionResult
    try {
      const api = createHandlers(engine)
      expect(engine.vault.drive.version).toBe(versionBefore)
      const list = await api.listFiles({ path: '/', recursive: true, limit: 100 })
      expect(list.entries.map((e) => e.path)).toEqual(['/keep.txt', '/photo.bin'])

      // The orphaned tail is exactly [end of the last committed blob, blobs.length), and it is gone.
      const blobs = (await engine.vault.drive.getBlobs())!.core
      c = engine.vault.lastCompaction!
      expect(c.skipped).toBeNull()
      expect(c.fromBlock).toBe(referencedEnd)
      expect(c.toBlock).toBe(blobs.length)
      expect(c.blocksCleared).toBe(blobs.length - referencedEnd)
      expect(c.bytesReclaimed).toBeGreaterThanOrEqual(32 * MB)
      expect(c.storageCompacted).toBe(true)
      expect(engine.vault.compactions.bytesReclaimed).toBe(c.bytesReclaimed)
      for (let i = c.fromBlock; i < c.toBlock; i++) expect(await blobs.has(i)).toBe(false)
      for (let i = 0; i < referencedEnd; i++) expect(await blobs.has(i)).toBe(true)

      // Every committed file still reads back byte-for-byte.
      for (const [path, digest] of Object.entries(committed)) expect(await hashOf(engine.vault.drive, path)).toBe(digest)
    } finally {
      await engine.close()
    }
    // The disk space came back: the corestore holds little more than the ~3 MB committed
    // (the orphans were ~100 MB; RocksDB's own files are well under a megabyte here).
    const diskAfterReclaim = await diskUsage(join(storage, 'corestore'))
    expect(diskAfterCrash).toBeGreaterThan(c.bytesReclaimed)
    expect(diskAfterReclaim).toBeLessThan(3 * MB + c.bytesReclaimed / 8)

    // A later import works, and appends after the cleared region (the blobs core is not
    // truncated). That open found nothing to scan or clear: the watermark was current.
    const later = await startEngine(null, storage)
    try {
      expect(later.vault.lastCompaction).toMatchObject({ skipped: null, scannedBlocks: 0, blocksCleared: 0, bytesReclaimed: 0 })
      const api = createHandlers(later)
      const job = await api.importPaths({ paths: [file], dest: '/', wait: true })
      expect(job.state).toBe('done')
      expect((await api.stat({ path: '/big.bin' })).size).toBe(BIG)
      expect((await later.vault.drive.entry('/big.bin'))!.value.blob!.blockOffset).toBe(c.toBlock)
    } finally {
      await later.close()
    }

    // The watermark followed that commit: the next open scans nothing, clears nothing, and every file is intact.
    const again = await startEngine(null, storage)
    try {
      expect(again.vault.lastCompaction).toMatchObject({ skipped: null, scannedBlocks: 0, blocksCleared: 0, bytesReclaimed: 0 })
      for (const [path, digest] of Object.entries(committed)) expect(await hashOf(again.vault.drive, path)).toBe(digest)
      expect(await hashOf(again.vault.drive, '/big.bin')).toBe(sha256(await readFile(file)))
    } finally {
      await again.close()
    }
  })
})
