/**
 * Fills a drive with many small files fast, for the big-folder bench (bench/list.ts) and the
 * paging tests: puts go through hyperdrive batches of `batchSize` (one flush each), not one
 * commit per file.
 */
import type Hyperdrive from 'hyperdrive'

/** Names 'f000001.txt'…: zero-padded so stored (byte) order is numeric order. */
export function fileName (i: number, width = 6): string {
  return 'f' + String(i).padStart(width, '0') + '.txt'
}

/** Writes `count` one-line files named by fileName() into `folder`; returns the drive's version after. */
export async function putMany (drive: Hyperdrive, folder: string, count: number, opts: { batchSize?: number, from?: number, onBatch?: (done: number) => void } = {}): Promise<number> {
  const size = opts.batchSize ?? 5000
  const from = opts.from ?? 0
  const prefix = folder === '/' ? '/' : folder + '/'
  for (let start = from; start < from + count; start += size) {
    const batch = drive.batch()
    const end = Math.min(from + count, start + size)
    for (let i = start; i < end; i++) await batch.put(prefix + fileName(i), Buffer.from(`file ${i}\n`), { metadata: { mtimeMs: 1_700_000_000_000 + i } })
    await batch.flush()
    opts.onBatch?.(end - from)
  }
  return drive.version
}
