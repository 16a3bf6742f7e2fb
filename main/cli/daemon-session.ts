/**
 * What the `datdot` commands that talk to the daemon share: a connection for the length of one
 * command (withClient), and waiting for a job (import, export, copy) with progress on a terminal.
 */
import type { CliContext } from './types.js'
import { DaemonClient } from './client.js'
import { DatdotError, formatBytes } from '../shared/errors.js'
import type { Job } from '../shared/contract.js'

/** Waits for a job to end, printing progress to stderr when it is a terminal. */
export async function waitJob (ctx: CliContext, client: DaemonClient, start: () => Promise<Job>): Promise<Job> {
  let id: string | null = null
  let resolveDone!: (j: Job) => void
  let rejectDone!: (err: Error) => void
  const done = new Promise<Job>((resolve, reject) => { resolveDone = resolve; rejectDone = reject })
  done.catch(() => {}) // awaited below only while the job runs
  const offLost = client.onLost((err) => rejectDone(err))
  const early: Job[] = []
  const off = await client.on((name, data) => {
    if (name !== 'job.progress') return
    const job = data as Job
    if (id === null) { early.push(job); return }
    if (job.id !== id) return
    if (process.stderr.isTTY && job.state === 'running' && job.bytesTotal > 0) {
      process.stderr.write(`\r${job.label}: ${formatBytes(job.bytesDone)} / ${formatBytes(job.bytesTotal)} (${job.filesDone}/${job.filesTotal} files)  `)
    }
    if (job.state !== 'running') resolveDone(job)
  })
  try {
    const job = await start()
    id = job.id
    if (job.state !== 'running') return job
    for (const j of early) if (j.id === id && j.state !== 'running') return j
    const latest = (await client.call('listJobs', {})).find((j) => j.id === id)
    if (latest && latest.state !== 'running') return latest
    return await done
  } finally {
    off()
    offLost()
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K')
  }
}

export function jobResult (job: Job): Job {
  if (job.state === 'done') return job
  const e = job.error
  throw new DatdotError((e?.code ?? 'INTERNAL') as DatdotError['code'], e?.message ?? `job ${job.state}`)
}

/** Connects to the daemon of ctx.storage, runs `fn`, always closes; exit code 0 on success. */
export async function withClient (ctx: CliContext, fn: (client: DaemonClient) => Promise<void>): Promise<number> {
  const client = await DaemonClient.connect(ctx.storage)
  try {
    await fn(client)
  } finally {
    client.close()
  }
  return 0
}
