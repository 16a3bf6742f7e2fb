/**
 * `datdot spaces` (list the vault's spaces) and `datdot space create|rename|share|private|delete`
 * (main/engine/spaces.ts through the daemon's API). Handing out a link of an encrypted space and
 * deleting a space need --yes; without it they are usage errors (exit 2) saying what would happen.
 */
import type { CliCommand, CliContext } from './types.js'
import type { SpaceInfo, Visibility } from '../shared/contract.js'
import { formatBytes } from '../shared/errors.js'
import { parseArgs, usage } from './args.js'
import { MEANING, defaultSpace, findSpace, linkWarning, spaceLabel } from './space-ref.js'

/** One row of `datdot spaces`; `mark` flags the default space. */
export function spaceRow (s: SpaceInfo, nameWidth: number, mark: boolean): string {
  const files = `${s.files} file${s.files === 1 ? '' : 's'}, ${formatBytes(s.bytes)}`
  const restoring = s.restoring === null ? '' : `  restoring: ${s.restoring.blocksHere}/${s.restoring.blocksKnown} blocks`
  return `${mark ? '*' : ' '} ${s.name.padEnd(nameWidth)}  ${s.visibility.padEnd(7)}  ${`(${MEANING[s.visibility]})`.padEnd(56)}  ${files.padEnd(20)}  ${s.link ?? 'no link'}${restoring}`
}

const list: CliCommand = {
  summary: 'List the spaces of your vault: each is private, shared or public, with its link (a private one has none).',
  usage: 'spaces',
  async run (argv, ctx) {
    if (parseArgs(argv, {}).positional.length > 0) throw usage('spaces takes no arguments')
    const r = await ctx.call('listSpaces', {})
    const def = defaultSpace(r.spaces)
    if (ctx.json) { ctx.print({ ...r, default: def?.id ?? null }); return 0 }
    const width = Math.max(4, ...r.spaces.map((s) => s.name.length))
    for (const s of r.spaces) ctx.print(spaceRow(s, width, s.id === def?.id))
    if (def !== null) ctx.print(`* the default space of add, ls, cat, rm, mv, export, history and share (another: --space NAME)`)
    if (r.restoringList) ctx.warn('(the list of spaces is still being restored: more may come)')
    return 0
  }
}

function visibilityFlag (flags: { private: boolean, shared: boolean, public: boolean }): Visibility {
  const chosen = (['private', 'shared', 'public'] as const).filter((v) => flags[v])
  if (chosen.length > 1) throw usage('give one of --private, --shared, --public')
  return chosen[0] ?? 'private'
}

/** Prints a space after a change: its label, and its link if it has one (stdout: scripts read it). */
function printSpace (ctx: CliContext, s: SpaceInfo, what: string): void {
  if (ctx.json) { ctx.print(s); return }
  ctx.print(`${what} ${spaceLabel(s)}`)
  if (s.link !== null) ctx.print(s.link)
}

async function create (args: string[], ctx: CliContext): Promise<void> {
  const p = parseArgs(args, { private: { type: 'boolean' }, shared: { type: 'boolean' }, public: { type: 'boolean' } })
  if (p.positional.length !== 1) throw usage('space create needs one NAME (quote a name with spaces)')
  const visibility = visibilityFlag(p.flags)
  const s = await ctx.call('createSpace', { name: p.positional[0], visibility })
  printSpace(ctx, s, 'created')
  if (visibility === 'shared' && !ctx.json) ctx.warn(linkWarning(s.name))
}

async function rename (args: string[], ctx: CliContext): Promise<void> {
  const p = parseArgs(args, {})
  if (p.positional.length !== 2) throw usage('space rename needs SPACE and NEWNAME')
  const s = await findSpace(ctx.call, p.positional[0])
  const r = await ctx.call('updateSpace', { space: s.id, name: p.positional[1] })
  if (ctx.json) ctx.print(r)
  else ctx.print(`renamed ${s.name} to ${r.name}`)
}

async function share (args: string[], ctx: CliContext): Promise<void> {
  const p = parseArgs(args, { yes: { type: 'boolean' } })
  if (p.positional.length !== 1) throw usage('space share needs one SPACE')
  const s = await findSpace(ctx.call, p.positional[0])
  if (s.visibility !== 'private') { printSpace(ctx, s, s.visibility === 'public' ? 'already public:' : 'already shared:'); return }
  if (!p.flags.yes) throw usage(`${linkWarning(s.name)} Add --yes to share it`)
  const r = await ctx.call('updateSpace', { space: s.id, visibility: 'shared' })
  printSpace(ctx, r, 'shared')
  if (!ctx.json) ctx.warn(linkWarning(r.name))
}

async function makePrivate (args: string[], ctx: CliContext): Promise<void> {
  const p = parseArgs(args, {})
  if (p.positional.length !== 1) throw usage('space private needs one SPACE')
  const s = await findSpace(ctx.call, p.positional[0])
  const r = await ctx.call('updateSpace', { space: s.id, visibility: 'private' })
  if (ctx.json) ctx.print(r)
  else ctx.print(`${r.name} is private: encrypted, and no link is handed out`)
  if (s.visibility === 'shared' && !ctx.json) {
    ctx.warn(`Its link is no longer handed out, but whoever already has it can still read "${r.name}": for files they must not read, create a new private space and move them there.`)
  }
}

async function remove (args: string[], ctx: CliContext): Promise<void> {
  const p = parseArgs(args, { yes: { type: 'boolean' } })
  if (p.positional.length !== 1) throw usage('space delete needs one SPACE')
  if (!p.flags.yes) throw usage('deleting a space deletes every file in it from this disk (copies its followers made stay with them): add --yes')
  const s = await findSpace(ctx.call, p.positional[0])
  await ctx.call('deleteSpace', { space: s.id, confirm: true })
  ctx.print(ctx.json ? { ok: true } : `deleted ${s.name} and its ${s.files} file(s), ${formatBytes(s.bytes)}`)
}

const SUBCOMMANDS: Record<string, (args: string[], ctx: CliContext) => Promise<void>> = {
  create, rename, share, private: makePrivate, delete: remove
}

const space: CliCommand = {
  summary: 'Create, rename, share (--yes: whoever gets the link reads every file), make private or delete (--yes) a space.',
  usage: 'space create NAME [--private|--shared|--public] | rename SPACE NEWNAME | share SPACE [--yes] | private SPACE | delete SPACE --yes',
  async run (argv, ctx) {
    const [sub, ...rest] = argv
    const fn = sub !== undefined && Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined
    if (fn === undefined) throw usage(`space takes ${Object.keys(SUBCOMMANDS).join(', ')}`)
    await fn(rest, ctx)
    return 0
  }
}

export const spacesCommands: Record<string, CliCommand> = { spaces: list, space }
