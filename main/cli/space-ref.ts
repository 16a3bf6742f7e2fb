/**
 * How the command line names a space: `--space NAME` (a name in any case, an id or a drive key),
 * `SPACE:/PATH` for copy and move, and the default space of the vault commands when none is
 * named: the oldest private space, so that `datdot add FILE` never lands in a space that is not
 * encrypted unless asked (`--space Public`). Also the plain words that say what a visibility means.
 */
import type { CliContext } from './types.js'
import type { SpaceInfo, Visibility } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import { keyId } from '../engine/paths.js'
import { usage } from './args.js'

export type Call = CliContext['call']

/** What each visibility means, in the words the commands print. */
export const MEANING: Record<Visibility, string> = {
  private: 'encrypted; only you can read it',
  shared: 'encrypted; whoever has its link reads every file',
  public: 'not encrypted; anyone with its link reads every file'
}

/** A space and what it is, for "added to ..." lines: `Private (encrypted)`. */
export function spaceLabel (s: Pick<SpaceInfo, 'name' | 'visibility'>): string {
  const what = s.visibility === 'private' ? 'encrypted' : s.visibility === 'shared' ? 'encrypted, shared by link' : 'public, not encrypted'
  return `${s.name} (${what})`
}

/** The warning every command that hands out a link of an encrypted space prints. */
export function linkWarning (name: string): string {
  return `Whoever gets the link of "${name}" reads every file in it, now and later. A link cannot be taken back: making the space private again only stops handing it out.`
}

function sameKey (a: string, b: string): boolean {
  try { return keyId(a) === keyId(b) } catch { return false }
}

/** The space `ref` names among `spaces`: its id, its name (any case) or its drive key; null if none. */
export function matchSpace (spaces: readonly SpaceInfo[], ref: string): SpaceInfo | null {
  const lower = ref.normalize('NFC').trim().toLowerCase()
  return spaces.find((s) => s.id === ref) ??
    spaces.find((s) => s.name.toLowerCase() === lower) ??
    spaces.find((s) => s.key === ref || sameKey(s.key, ref)) ??
    null
}

/** The default space of the vault commands: the oldest private one, or null if there is none. */
export function defaultSpace (spaces: readonly SpaceInfo[]): SpaceInfo | null {
  return spaces.find((s) => s.visibility === 'private') ?? null
}

/**
 * The space a command means: the one `ref` names, else the default space. A clear NOT_FOUND
 * (one line, pointing at `datdot spaces`) when there is no such space.
 */
export async function findSpace (call: Call, ref: string | undefined): Promise<SpaceInfo> {
  const { spaces, restoringList } = await call('listSpaces', {})
  const restoring = restoringList ? ' (the list of spaces is still being restored)' : ''
  if (ref !== undefined) {
    const s = matchSpace(spaces, ref)
    if (s === null) throw new DatdotError('NOT_FOUND', `no space named "${ref.slice(0, 80)}"${restoring}: datdot spaces lists them`)
    return s
  }
  const s = defaultSpace(spaces)
  if (s === null) {
    throw new DatdotError('NOT_FOUND', `you have no private space to use by default${restoring}: name one with --space (datdot spaces lists them) or create one with datdot space create NAME`)
  }
  return s
}

/** A `SPACE:/PATH` argument of copy and move: the space (undefined for a bare /PATH: the default space) and the path. */
export function parseSpacePath (arg: string, what: string): { space: string | undefined, path: string } {
  if (arg.startsWith('/')) return { space: undefined, path: arg }
  // a space name has no slash: the space ends at the last colon before the path's first slash
  const slash = arg.indexOf('/')
  const colon = (slash === -1 ? arg : arg.slice(0, slash)).lastIndexOf(':')
  if (colon <= 0) throw usage(`${what} is SPACE:/PATH (or /PATH in the default space), not ${arg.slice(0, 60)}`)
  const path = arg.slice(colon + 1)
  return { space: arg.slice(0, colon), path: path === '' ? '/' : path.startsWith('/') ? path : '/' + path }
}
