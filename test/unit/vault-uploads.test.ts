import { describe, it, expect } from 'vitest'
import { Readable } from 'node:stream'
import { UploadSessions, uploadLabel, type UploadDeps } from '../../main/engine/vault-uploads.js'
import type { StagedFile } from '../../main/engine/vault-blobs.js'
import { Jobs } from '../../main/engine/jobs.js'
import { LIMITS, type Job } from '../../main/shared/contract.js'
import { DatdotError } from '../../main/shared/errors.js'
import { ManualTimers } from '../helpers/manual-timers.js'

/** The blobs core reduced to what sessions use: every write gets the next block range. */
function setup (overrides: Partial<UploadDeps> = {}): { uploads: UploadSessions, jobs: Jobs, timers: ManualTimers, cleared: number[], committed: StagedFile[][], emitted: Job[] } {
  const emitted: Job[] = []
  const jobs = new Jobs({ emit: (j) => { emitted.push(j) } })
  const timers = new ManualTimers()
  const cleared: number[] = []
  const committed: StagedFile[][] = []
  let block = 0
  const uploads = new UploadSessions({
    jobs,
    now: () => 1000,
    idleMs: 60_000,
    timers,
    checkDisk: async () => {},
    writeBlob: async (source) => {
      let bytes = 0
      for await (const chunk of source) bytes += (chunk as Buffer).length
      const blob = { blockOffset: block++, blockLength: 1, byteOffset: 0, byteLength: bytes }
      return { blob, bytes }
    },
    clearBlobs: async (staged) => { for (const f of staged) cleared.push(f.blob.blockOffset) },
    commitStaged: async (staged) => { committed.push(staged); return 7 },
    ...overrides
  })
  return { uploads, jobs, timers, cleared, committed, emitted }
}

const bytes = (s: string): Readable => Readable.from([Buffer.from(s)])

async function codeOf (p: Promise<unknown>): Promise<string | null> {
  try { await p; return null } catch (err) { return (err as DatdotError).code }
}

describe('upload sessions of the browser UI', () => {
  it("names an upload's job by its space alone for the top folder, and by folder and space below it", () => {
    const { uploads } = setup({ where: () => ' to Private' })
    expect(uploads.begin('/').job.label).toBe('Upload to Private')
    expect(uploads.begin('/trip').job.label).toBe('Upload to /trip in Private')
    expect(uploadLabel('/', '')).toBe('Upload to /')
  })

  it('commit stages every file under the session folder at once; a file sent twice keeps the last copy and frees the first', async () => {
    const { uploads, cleared, committed } = setup()
    const { uploadId } = uploads.begin('/photos')
    expect(await uploads.file(uploadId, 'a.txt', bytes('one'), 3)).toEqual({ bytes: 3 })
    await uploads.file(uploadId, 'sub/b.txt', bytes('two!'), null)
    await uploads.file(uploadId, 'a.txt', bytes('three'), 5)
    expect(cleared).toEqual([0])
    const job = await uploads.commit(uploadId)
    expect(job).toMatchObject({ state: 'done', version: 7, filesDone: 3 })
    expect(committed).toHaveLength(1)
    expect(committed[0].map((f) => [f.path, f.blob.byteLength, f.metadata.mtimeMs])).toEqual([['/photos/a.txt', 5, 1000], ['/photos/sub/b.txt', 4, 1000]])
    expect(uploads.size).toBe(0)
    expect(await codeOf(uploads.commit(uploadId))).toBe('NOT_FOUND')
  })

  it('drops a session left idle: its job ends cancelled, its blocks are cleared, and it is gone', async () => {
    const { uploads, jobs, timers, cleared } = setup()
    const { uploadId, job } = uploads.begin('/')
    await uploads.file(uploadId, 'a.txt', bytes('abc'), 3)
    expect(timers.durations()).toEqual([60_000])
    timers.fireAll()
    expect(uploads.size).toBe(0)
    expect(cleared).toEqual([0])
    expect(jobs.get(job.id).job).toMatchObject({ state: 'cancelled', error: { code: 'CANCELLED' } })
    expect(await codeOf(uploads.file(uploadId, 'b.txt', bytes('x'), 1))).toBe('NOT_FOUND')
    expect(await codeOf(uploads.abort(uploadId))).toBe('NOT_FOUND')
  })

  it('keeps one idle timer per session, restarted by every file', async () => {
    const { uploads, timers } = setup()
    const { uploadId } = uploads.begin('/')
    await uploads.file(uploadId, 'a.txt', bytes('a'), 1)
    await uploads.file(uploadId, 'b.txt', bytes('b'), 1)
    expect(timers.size).toBe(1)
    await uploads.commit(uploadId)
    expect(timers.size).toBe(0)
  })

  it(`refuses more than ${LIMITS.uploadsOpen} open sessions`, () => {
    const { uploads } = setup()
    for (let i = 0; i < LIMITS.uploadsOpen; i++) uploads.begin('/')
    expect(() => uploads.begin('/')).toThrow(expect.objectContaining({ code: 'LIMIT_REACHED' }) as Error)
  })

  it('takes one file at a time, and will not commit while a file is arriving or when nothing arrived', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    const { uploads } = setup({
      writeBlob: async () => {
        await held
        return { blob: { blockOffset: 0, blockLength: 1, byteOffset: 0, byteLength: 1 }, bytes: 1 }
      }
    })
    const { uploadId } = uploads.begin('/')
    expect(await codeOf(uploads.commit(uploadId))).toBe('INVALID_ARGUMENT')
    const first = uploads.file(uploadId, 'a.txt', bytes('a'), 1)
    expect(await codeOf(uploads.file(uploadId, 'b.txt', bytes('b'), 1))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(uploads.commit(uploadId))).toBe('INVALID_ARGUMENT')
    release()
    await first
    expect((await uploads.commit(uploadId)).state).toBe('done')
  })

  it('refuses a file without a name and a file the disk cannot hold', async () => {
    const { uploads } = setup({ checkDisk: async (n) => { if (n > 10) throw DatdotError.diskFull(n, 10) } })
    const { uploadId } = uploads.begin('/')
    expect(await codeOf(uploads.file(uploadId, '/', bytes('a'), 1))).toBe('INVALID_PATH')
    expect(await codeOf(uploads.file(uploadId, 'big.bin', bytes('a'), 11))).toBe('DISK_FULL')
    expect(await codeOf(uploads.file(uploadId, 'small.bin', bytes('a'), 1))).toBeNull()
  })

  it('a failed commit clears the blocks and fails the job', async () => {
    const { uploads, cleared } = setup({ commitStaged: async () => { throw DatdotError.closed('vault') } })
    const { uploadId } = uploads.begin('/')
    await uploads.file(uploadId, 'a.txt', bytes('a'), 1)
    expect(await codeOf(uploads.commit(uploadId))).toBe('CLOSED')
    expect(cleared).toEqual([0])
  })

  it('dropAll ends every open session and clears what they staged', async () => {
    const { uploads, cleared, timers } = setup()
    const a = uploads.begin('/a')
    const b = uploads.begin('/b')
    await uploads.file(a.uploadId, 'x', bytes('x'), 1)
    await uploads.file(b.uploadId, 'y', bytes('y'), 1)
    await uploads.dropAll(DatdotError.closed('vault'))
    expect(uploads.size).toBe(0)
    expect(timers.size).toBe(0)
    expect(cleared.sort()).toEqual([0, 1])
  })

  it('starts the job with the totals the page announced, so progress counts up to them instead of matching what arrived', async () => {
    const seen: Array<{ bytesDone: number, bytesTotal: number, filesDone: number, filesTotal: number }> = []
    const { uploads, emitted } = setup({
      writeBlob: async (source, job) => {
        let n = 0
        for await (const chunk of source) { n += (chunk as Buffer).length; job.addBytes((chunk as Buffer).length) }
        seen.push({ ...job.job })
        return { blob: { blockOffset: 0, blockLength: 1, byteOffset: 0, byteLength: n }, bytes: n }
      }
    })
    const { uploadId, job } = uploads.begin('/', { files: 2, bytes: 10 })
    expect(job).toMatchObject({ filesTotal: 2, bytesTotal: 10, filesDone: 0, bytesDone: 0 })
    // every event of the job says so, its first one included
    for (const e of emitted) expect([e.filesTotal, e.bytesTotal]).toEqual([2, 10])
    await uploads.file(uploadId, 'a.txt', bytes('four'), 4)
    await uploads.file(uploadId, 'b.txt', bytes('sixsix'), 6)
    expect(seen.map((j) => [j.bytesDone, j.bytesTotal, j.filesDone, j.filesTotal])).toEqual([[4, 10, 0, 2], [10, 10, 1, 2]])
    expect(await uploads.commit(uploadId)).toMatchObject({ state: 'done', filesDone: 2, filesTotal: 2, bytesDone: 10, bytesTotal: 10 })
  })
})
