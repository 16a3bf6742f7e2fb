/**
 * API handlers that read a drive: the vault or a followed drive, named by `drive`
 * (listFiles, stat, history, diff, exportPath, createDownloadUrl). Arguments arrive validated
 * and defaulted; paths and keys are validated by the engine, which throws coded DatdotErrors.
 */
import type Hyperdrive from 'hyperdrive'
import type { Handlers, Job } from '../shared/contract.js'
import type { Engine } from '../engine/engine.js'
import { DatdotError } from '../shared/errors.js'
import { keyId } from '../engine/paths.js'
import { withFolderTotals } from '../engine/folder-totals.js'
import { at, diffOf, exportTo, historyOf, statPath, withView } from '../engine/drive-ops.js'
import { listFolder } from '../engine/drive-list.js'

export type DriveHandlers = Pick<Handlers, 'listFiles' | 'stat' | 'history' | 'diff' | 'exportPath' | 'createDownloadUrl'>

/**
 * The drive a request names: the home space when `drive` is absent, one of the vault's spaces
 * by its key (or id or name), else a followed drive. A followed encrypted drive that its key does not open (none, or a wrong one)
 * is refused with FORBIDDEN saying why, before anything reads it.
 */
export async function driveFor (engine: Engine, drive: string | undefined): Promise<Hyperdrive> {
  engine.assertOpen()
  if (drive === undefined) return engine.vault.drive
  const own = engine.spaces.byKey(drive)
  if (own !== null) return own.vault.drive
  let id: string
  try { id = keyId(drive) } catch {
    try { return engine.spaces.resolve(drive).vault.drive } catch { throw DatdotError.unknownDrive(drive) }
  }
  const followed = engine.follows.get(id)
  await followed.assertReadable()
  return followed.drive
}

/** The job as started, or (with `wait`) as it ended; a job that failed throws its error. */
export async function waitIf (wait: boolean, started: { job: Job, done: Promise<Job> }): Promise<Job> {
  if (!wait) return started.job
  const job = await started.done
  if (job.state !== 'done' && job.error) throw new DatdotError(job.error.code as DatdotError['code'], job.error.message, job.error.details)
  return job
}

export function createDriveHandlers (engine: Engine): DriveHandlers {
  return {
    async listFiles ({ drive, path, version, recursive, limit, cursor }) {
      const d = await driveFor(engine, drive)
      return withView(d, version, async (view) => {
        const listed = await listFolder(view, path, { recursive, limit, cursor })
        // Folder sizes and dates, when the metadata is all here (a read never waits on peers).
        const local = d.core.contiguousLength >= d.core.length
        const entries = !recursive && local ? await withFolderTotals(view, listed.entries) : listed.entries
        return { ...listed, entries, version: view.version }
      })
    },
    async stat ({ drive, path, version }) {
      return withView(await driveFor(engine, drive), version, (view) => statPath(view, path))
    },
    async history ({ drive, limit, beforeVersion }) {
      const d = await driveFor(engine, drive)
      return { items: await historyOf(d, { limit, beforeVersion }), version: d.version }
    },
    async diff ({ drive, from, to }) {
      const d = await driveFor(engine, drive)
      const target = to ?? d.version
      if (target > d.version) throw DatdotError.notFound(`version ${target}`)
      const r = await diffOf(d, from, target)
      return { ...r, from, to: target }
    },
    async exportPath ({ drive, path, version, dest, overwrite, wait }) {
      const d = await driveFor(engine, drive)
      engine.follows.noteRead(drive, path)
      const view = at(d, version)
      const handle = engine.jobs.create('export', `Export ${path}`)
      const done = engine.jobs.run(handle, async (job) => {
        try {
          await exportTo(view, job, { path, dest, overwrite, freeBytes: engine.freeBytes })
        } finally {
          if (view !== d) await view.close()
        }
        return null
      })
      return waitIf(wait, { job: { ...handle.job }, done })
    },
    async createDownloadUrl (args) { return await downloadUrl(engine, args) }
  }
}

/**
 * A download URL for a file of a drive at one version (NOT_A_FILE for a folder): one plain
 * download, or the ranged requests of a media player (main/engine/tickets.ts). `owner` keys the
 * ticket to one caller (the server passes its caller), so a caller that floods this only evicts
 * its own unused tickets.
 */
export async function downloadUrl (engine: Engine, args: { drive?: string, path: string, version?: number }, owner?: string): Promise<{ url: string }> {
  const d = await driveFor(engine, args.drive)
  // The ticket names the version the file was found at: every range of a media file reads the same bytes.
  const { entry, version } = await withView(d, args.version, async (view) => ({ entry: await statPath(view, args.path), version: view.version }))
  if (entry.kind !== 'file') throw DatdotError.notAFile(entry.path)
  engine.follows.noteRead(args.drive, entry.path)
  const ticket = engine.downloads.create({ drive: args.drive, path: entry.path, version }, owner)
  return { url: `/api/download/${ticket}` }
}
