/** Imports, uploads and exports the engine is running or has just finished (job.progress events). */
import type { Job } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { toasts } from './toasts.svelte.js'
import { hintFor } from './errors.js'

const KEEP_FINISHED = 3
/** A finished job stays in the panel this long (the toast already told the user); failures stay. */
const DONE_LINGER_MS = 10_000

export class JobsStore {
  byId = $state<Record<string, Job>>({})
  /** Finished jobs the user dismissed from the panel. */
  dismissed = $state<Record<string, true>>({})
  readonly list = $derived(Object.values(this.byId).sort((a, b) => b.startedMs - a.startedMs))
  readonly running = $derived(this.list.filter((j) => j.state === 'running'))
  readonly visible = $derived([
    ...this.running,
    ...this.list.filter((j) => j.state !== 'running' && !this.dismissed[j.id]).slice(0, KEEP_FINISHED)
  ])

  #client: Client

  constructor (client: Client) {
    this.#client = client
  }

  /** Loads running jobs and failures (finished ones from before were announced already). */
  async refresh (): Promise<void> {
    const jobs = await this.#client.call('listJobs', {})
    const next: Record<string, Job> = {}
    for (const j of jobs) next[j.id] = j
    const dismissed = { ...this.dismissed }
    for (const j of jobs) if (j.state === 'done' || j.state === 'cancelled') dismissed[j.id] = true
    this.byId = next
    this.dismissed = dismissed
  }

  /** Applies a job.progress event (or a job a call returned); tells the user when one ends. */
  update (job: Job): void {
    const before = this.byId[job.id]
    if (before && before.state !== 'running') return // finished jobs do not come back to life
    this.byId = { ...this.byId, [job.id]: job }
    if (job.state === 'running') return
    if (job.state !== 'failed') setTimeout(() => this.dismiss(job.id), DONE_LINGER_MS)
    if (job.state === 'done') {
      const what = job.filesTotal === 1 ? '1 file' : `${job.filesDone} files`
      const verb = job.kind === 'export' ? 'Exported' : 'Added'
      toasts.success(`${verb} ${what}`, { body: job.label })
    } else if (job.state === 'failed') {
      const code = job.error?.code ?? 'INTERNAL'
      toasts.error(`${job.label}: ${job.error?.message ?? 'failed'}`, { code, hint: hintFor(code as Parameters<typeof hintFor>[0]) })
    }
  }

  dismiss (id: string): void {
    this.dismissed = { ...this.dismissed, [id]: true }
  }

  async cancel (id: string): Promise<void> {
    this.update(await this.#client.call('cancelJob', { id }))
  }
}
