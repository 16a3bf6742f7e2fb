import { describe, it, expect, afterAll } from 'vitest'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { TempDirs, startEngine } from '../helpers/engines.js'
import { createHandlers } from '../../main/api/handlers.js'

const child = fileURLToPath(new URL('../fixtures/import-child.mjs', import.meta.url))
const built = fileURLToPath(new URL('../../dist/main/engine/engine.js', import.meta.url))

describe('a process killed in the middle of an import', () => {
  const tmp = new TempDirs()
  afterAll(() => tmp.cleanup())

  it.runIf(existsSync(built))('leaves the vault as it was, and the storage usable', async () => {
    const storage = await tmp.make()
    const src = await tmp.make()
    const file = join(src, 'big.bin')
    await writeFile(file, randomBytes(64 * 1024 * 1024))

    // A first engine writes one file, so there is something to lose.
    const first = await startEngine(null, storage)
    await writeFile(join(src, 'keep.txt'), 'keep')
    await createHandlers(first).importPaths({ paths: [join(src, 'keep.txt')], dest: '/', wait: true })
    const versionBefore = first.vault.drive.version
    await first.close()

    const proc = spawn(process.execPath, [child, storage, file], { stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)))
    let killedAtBytes = 0
    for await (const line of createInterface({ input: proc.stdout })) {
      const msg = JSON.parse(line) as { bytesDone?: number, finished?: boolean }
      if (msg.finished) break
      if ((msg.bytesDone ?? 0) >= 16 * 1024 * 1024) {
        killedAtBytes = msg.bytesDone!
        proc.kill('SIGKILL')
        break
      }
    }
    expect(await exited).toBe('SIGKILL')
    expect(killedAtBytes).toBeGreaterThan(0)

    const engine = await startEngine(null, storage)
    try {
      const api = createHandlers(engine)
      expect(engine.vault.drive.version).toBe(versionBefore)
      const list = await api.listFiles({ path: '/', recursive: true, limit: 100 })
      expect(list.entries.map((e) => e.path)).toEqual(['/keep.txt'])
      expect((await engine.vault.drive.get('/keep.txt'))?.toString()).toBe('keep')
      const job = await api.importPaths({ paths: [file], dest: '/', wait: true })
      expect(job.state).toBe('done')
      expect((await api.stat({ path: '/big.bin' })).size).toBe(64 * 1024 * 1024)
    } finally {
      await engine.close()
    }
  })
})
