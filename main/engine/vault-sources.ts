/**
 * Planning an import of local files and folders into the vault: walks the sources (never
 * following symlinks, skipping special files, names sorted), maps each file to its vault path
 * and refuses a plan that is too large, too deep, or maps two sources to one path.
 */
import { lstat, readdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { LIMITS } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import { entryName, joinDrivePath } from './paths.js'
import type { JobHandle } from './jobs.js'

/** One local file to import: its absolute path, its vault path and the size seen while planning. */
export interface PlannedFile { source: string, target: string, size: number }

/** Folders nested deeper than this below a source are refused. */
export const MAX_DEPTH = 64

/** Plans importing `sources` (absolute paths) into the vault folder `dest`; checks `job` for a cancel. */
export async function scanSources (sources: string[], dest: string, job: Pick<JobHandle, 'check'>): Promise<PlannedFile[]> {
  const plan: PlannedFile[] = []
  const targets = new Set<string>()
  const add = (f: PlannedFile): void => {
    if (plan.length >= LIMITS.importFiles) throw DatdotError.limitReached('files in one import', LIMITS.importFiles)
    if (targets.has(f.target)) throw DatdotError.alreadyExists(`${f.target} (two sources map to the same vault path)`)
    targets.add(f.target)
    plan.push(f)
  }
  for (const src of sources) {
    job.check()
    const st = await lstat(src).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw DatdotError.notFound(src)
      throw DatdotError.from(err)
    })
    const name = entryName(basename(src) || 'root')
    if (st.isFile()) {
      add({ source: src, target: joinDrivePath(dest, name), size: st.size })
    } else if (st.isDirectory()) {
      await walk(src, joinDrivePath(dest, name), add, job, 0)
    } else {
      throw DatdotError.invalidArgument(`Not a regular file or folder: ${src.slice(0, 200)}`)
    }
  }
  return plan
}

async function walk (dir: string, target: string, add: (f: PlannedFile) => void, job: Pick<JobHandle, 'check'>, depth: number): Promise<void> {
  if (depth > MAX_DEPTH) throw DatdotError.limitReached('nested folder levels', MAX_DEPTH)
  job.check()
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw DatdotError.sourceVanished(dir, err)
    throw DatdotError.from(err)
  })
  names.sort()
  for (const name of names) {
    const abs = join(dir, name)
    const st = await lstat(abs).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw DatdotError.sourceVanished(abs, err)
      throw DatdotError.from(err)
    })
    if (st.isSymbolicLink() || !(st.isFile() || st.isDirectory())) continue
    const child = joinDrivePath(target, entryName(name))
    if (st.isDirectory()) await walk(abs, child, add, job, depth + 1)
    else add({ source: abs, target: child, size: st.size })
  }
}
