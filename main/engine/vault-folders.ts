/**
 * New folders (the file manager's "New folder"). A Hyperdrive has no folders of its own: a folder
 * is there while a file is under it. A new, empty folder therefore holds one empty marker file,
 * FOLDER_MARKER (main/shared/contract-vault.ts), which the app's listings do not show; it goes
 * with the folder when the folder is moved or deleted.
 *
 * The name is one folder name, checked here with a message a person can act on: not empty, not
 * '.' or '..', no '/', at most LIMITS.segmentBytes bytes, no control characters (paths.ts), and
 * no file or folder of that name in the parent already.
 */
import { DatdotError } from '../shared/errors.js'
import { FOLDER_MARKER, LIMITS } from '../shared/contract.js'
import { drivePath } from './paths.js'
import { filesAt } from './drive-ops.js'
import type { Vault } from './vault.js'

const encoder = new TextEncoder()

/** Checks a new folder's name; returns it in NFC (the form DatDot writes). */
export function folderName (input: string): string {
  const name = input.normalize('NFC')
  if (name.trim() === '') throw DatdotError.invalidArgument('A folder needs a name', { field: 'name' })
  if (name === '.' || name === '..') throw DatdotError.invalidArgument(`"${name}" cannot be a folder name: it means the folder itself or the one above`, { field: 'name' })
  if (name.includes('/')) throw DatdotError.invalidArgument('A folder name cannot contain "/" (it separates folders in a path)', { field: 'name' })
  if (name.includes('\\')) throw DatdotError.invalidArgument('A folder name cannot contain "\\"', { field: 'name' })
  if (encoder.encode(name).length > LIMITS.segmentBytes) throw DatdotError.invalidArgument(`That name is too long: a folder name is at most ${LIMITS.segmentBytes} bytes (this one has ${encoder.encode(name).length}; accented letters take 2, emoji 4)`, { field: 'name' })
  if (name !== name.trim()) throw DatdotError.invalidArgument('A folder name cannot start or end with a space', { field: 'name' })
  if (name === FOLDER_MARKER) throw DatdotError.invalidArgument(`"${FOLDER_MARKER}" is the name DatDot keeps empty folders with`, { field: 'name' })
  // control and bidirectional characters, as for every path
  drivePath('/' + name)
  return name
}

/** Creates the folder `name` in `parent` of a space; ALREADY_EXISTS when a file or folder has that name. */
export async function createFolder (vault: Vault, parent: string, name: string): Promise<{ version: number, path: string }> {
  const folder = folderName(name)
  const under = drivePath(parent)
  const path = under === '/' ? `/${folder}` : `${under}/${folder}`
  drivePath(path)
  if (under !== '/' && await vault.drive.entry(under) !== null) throw DatdotError.invalidPath(under, 'a file, not a folder')
  if ((await filesAt(vault.drive, path, 1)).files.length > 0) {
    throw DatdotError.nameTaken(`"${folder}" already exists in ${under === '/' ? 'this space' : under}: choose another name`, { path })
  }
  const version = await vault.writeBatch([{ path: `${path}/${FOLDER_MARKER}`, data: Buffer.alloc(0) }])
  return { version, path }
}
