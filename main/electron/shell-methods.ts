/**
 * The contract methods only the Electron shell implements (exposure ['ipc']): dialogs, drops,
 * opening a file with the system application, the clipboard. They turn a user gesture into
 * local paths in the main process and then call the engine's local-only handlers
 * (importPaths / exportPath) directly: the page never hands the engine a path of its own
 * choosing. Dropped files reach main from preload, not from the page: preload registers the
 * paths of a trusted drop event under a one-time token (drops.ts), and importDropped takes
 * only that token.
 *
 * Electron itself is injected (ShellDeps), so this module does not import 'electron' and is
 * unit-tested with fakes (test/unit/electron-shell-methods.test.ts). main.ts wires the real
 * dialog, clipboard and shell.
 */
import { join, basename } from 'node:path'
import { mkdtemp, readdir, chmod, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import type { Handlers, ParsedArgs, Result, Job } from '../shared/contract.js'
import { DatdotError, reviveError, type SerializedError } from '../shared/errors.js'
import { pickedPaths, pickedFolder, type OpenDialogResult } from './policy.js'
import { DropRegistry } from './drops.js'

export type ShellMethodName = 'pickAndImport' | 'importDropped' | 'exportWithDialog' | 'openFile' | 'copyText'
export type ShellHandlers = Handlers<ShellMethodName>

export interface ShellDeps {
  /** The engine's handlers; only importPaths, exportPath and stat are used here. */
  engine: Partial<Handlers>
  /** Shows an open dialog (files: several files; folder: one folder, may be created). */
  showOpenDialog: (opts: { kind: 'files' | 'folder', title: string, buttonLabel: string }) => Promise<OpenDialogResult>
  writeClipboard: (text: string) => void
  /** shell.openPath: resolves to '' on success or an error message. */
  openPath: (path: string) => Promise<string>
  /** Parent folder for the temporary copies openFile makes (default: the OS temp folder). */
  tempRoot?: string
  /** Where preload's drops are held (default: a new DropRegistry). */
  drops?: DropRegistry
}

function need<M extends 'importPaths' | 'exportPath' | 'stat'> (engine: Partial<Handlers>, name: M): Handlers[M] {
  const h = engine[name]
  if (!h) throw DatdotError.internal(`The engine does not provide ${name}`)
  return h
}

/** A finished job that failed becomes its error again. */
function settled (job: Job): Job {
  if (job.state === 'failed' || job.state === 'cancelled') {
    // reviveError maps an unknown code to INTERNAL.
    throw job.error ? reviveError(job.error as SerializedError) : DatdotError.internal(`${job.label} ${job.state}`)
  }
  return job
}

export interface ShellMethods {
  handlers: ShellHandlers
  /** The paths of trusted drops, registered by preload on IPC_DROP_CHANNEL (see drops.ts). */
  drops: DropRegistry
  /** Removes the temporary copies made by openFile (call when the app quits). */
  cleanup: () => Promise<void>
}

export function createShellMethods (deps: ShellDeps): ShellMethods {
  const tempDirs = new Set<string>()
  const drops = deps.drops ?? new DropRegistry()

  /** Imports into a space (the home space when none is named). */
  async function importPaths (paths: string[], space: string | undefined, dest: string): Promise<Job> {
    const args = space === undefined ? { paths, dest, wait: false } : { space, paths, dest, wait: false }
    return await need(deps.engine, 'importPaths')(args)
  }

  const handlers: ShellHandlers = {
    async pickAndImport (args: ParsedArgs<'pickAndImport'>): Promise<Result<'pickAndImport'>> {
      const result = await deps.showOpenDialog({
        kind: args.kind,
        title: args.kind === 'files' ? 'Add files to your vault' : 'Add a folder to your vault',
        buttonLabel: 'Add'
      })
      const paths = pickedPaths(result)
      if (paths === null) return null
      if (args.kind === 'folder' && paths.length !== 1) throw DatdotError.invalidArgument('Pick one folder')
      return await importPaths(paths, args.space, args.dest)
    },

    async importDropped (args: ParsedArgs<'importDropped'>): Promise<Result<'importDropped'>> {
      return await importPaths(drops.take(args.drop), args.space, args.dest)
    },

    async exportWithDialog (args: ParsedArgs<'exportWithDialog'>): Promise<Result<'exportWithDialog'>> {
      const result = await deps.showOpenDialog({ kind: 'folder', title: 'Export to folder', buttonLabel: 'Export here' })
      const dest = pickedFolder(result)
      if (dest === null) return null
      return await need(deps.engine, 'exportPath')({
        drive: args.drive,
        path: args.path,
        version: args.version,
        dest,
        overwrite: false,
        wait: false
      })
    },

    async openFile (args: ParsedArgs<'openFile'>): Promise<Result<'openFile'>> {
      const entry = await need(deps.engine, 'stat')({ drive: args.drive, path: args.path, version: args.version })
      if (entry.kind !== 'file') throw DatdotError.notAFile(args.path)
      const dir = await mkdtemp(join(deps.tempRoot ?? tmpdir(), 'datdot-open-'))
      tempDirs.add(dir)
      settled(await need(deps.engine, 'exportPath')({
        drive: args.drive,
        path: args.path,
        version: args.version,
        dest: dir,
        overwrite: false,
        wait: true
      }))
      // A file F is exported to dest/basename(F); the folder is fresh, so it holds only that file.
      const names = await readdir(dir)
      if (names.length !== 1) throw DatdotError.internal(`Export of ${args.path} produced ${names.length} files`)
      const file = join(dir, names[0])
      await chmod(file, 0o444).catch(() => {})
      const error = await deps.openPath(file)
      if (error) throw DatdotError.internal(`Could not open ${basename(file)}: ${error}`)
      return { ok: true }
    },

    async copyText (args: ParsedArgs<'copyText'>): Promise<Result<'copyText'>> {
      deps.writeClipboard(args.text)
      return { ok: true }
    }
  }

  async function cleanup (): Promise<void> {
    drops.clear()
    const dirs = [...tempDirs]
    tempDirs.clear()
    await Promise.all(dirs.map(async (d) => await rm(d, { recursive: true, force: true }).catch(() => {})))
  }

  return { handlers, drops, cleanup }
}
