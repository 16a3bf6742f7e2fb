/**
 * The `datdot` commands on the files of the vault's spaces and of followed drives: add, ls, cat,
 * export, rm, mv, share, history, and copy/move between spaces. Each takes `--space NAME`; without
 * it, the default space (space-ref.ts: the oldest private one), and the commands that write say
 * which space they wrote. Reads also take a hyper:// link instead of a space.
 */
import { resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { CliCommand } from './types.js'
import type { Entry, SpaceInfo } from '../shared/contract.js'
import { DatdotError, formatBytes } from '../shared/errors.js'
import { parseLink } from '../engine/paths.js'
import { parseArgs, usage } from './args.js'
import { jobResult, waitJob, withClient } from './daemon-session.js'
import { findSpace, parseSpacePath, spaceLabel, type Call } from './space-ref.js'

const SPACE = { space: { type: 'string' } } as const

function line (e: Entry): string {
  const size = e.kind === 'folder' ? '-' : formatBytes(e.size)
  const when = e.mtimeMs ? new Date(e.mtimeMs).toISOString().slice(0, 16).replace('T', ' ') : ''
  return `${e.kind === 'folder' ? 'd' : '-'} ${size.padStart(10)}  ${when.padEnd(16)}  ${e.path}${e.kind === 'folder' ? '/' : ''}`
}

interface Target { drive: string, path: string, space: SpaceInfo | null }

/** Refuses a hyper:// link together with --space (a usage error, before any call). */
function checkTarget (arg: string | undefined, space: string | undefined): void {
  if (space !== undefined && arg !== undefined && /^hyper:\/\//i.test(arg)) throw usage('give a hyper:// link or --space, not both')
}

/**
 * A link with a path typed after it: a shared space's link ends with `#key=...`, so `$LINK/a.txt`
 * puts the path after the key; it is read as `hyper://KEY/a.txt#key=...`.
 */
export function linkWithPath (arg: string): string {
  const m = /^(hyper:\/\/[^/#]+)(#key=[^/]*)(\/.*)$/i.exec(arg)
  return m === null ? arg : m[1] + m[3] + m[2]
}

/** What a read names: `hyper://key/path` (a followed drive or one of yours), else a path in a space. */
async function readTarget (call: Call, arg: string | undefined, space: string | undefined): Promise<Target> {
  if (arg !== undefined && /^hyper:\/\//i.test(arg)) {
    const l = parseLink(linkWithPath(arg))
    return { drive: l.id, path: l.path, space: null }
  }
  const s = await findSpace(call, space)
  return { drive: s.key, path: arg ?? '/', space: s }
}

function callOf (client: { call: Call }): Call {
  return async (method, args) => await client.call(method, args)
}

const add: CliCommand = {
  summary: 'Import files and folders into a space (default: your private space).',
  usage: 'add PATH... [--to /FOLDER] [--space NAME]',
  async run (argv, ctx) {
    const p = parseArgs(argv, { to: { type: 'string', default: '/' }, ...SPACE })
    if (p.positional.length === 0) throw usage('add needs at least one PATH')
    return withClient(ctx, async (client) => {
      const s = await findSpace(callOf(client), p.flags.space)
      const job = jobResult(await waitJob(ctx, client, () => client.call('importPaths', { space: s.id, paths: p.positional.map((x) => resolve(x)), dest: p.flags.to })))
      ctx.print(ctx.json ? job : `added ${job.filesDone} file(s), ${formatBytes(job.bytesDone)} to ${spaceLabel(s)}; version ${job.version}`)
    })
  }
}

/** Entries asked per listFiles call while `ls` pages through a folder. */
const LS_PAGE = 1000

const ls: CliCommand = {
  summary: 'List a space of your vault, or a followed drive by its link (every entry, a page at a time; --limit N stops after N).',
  usage: 'ls [hyper://KEY][/PATH] [-r] [--limit N] [--version N] [--space NAME]',
  async run (argv, ctx) {
    const p = parseArgs(argv, { recursive: { type: 'boolean', short: 'r' }, limit: { type: 'int', min: 1 }, version: { type: 'int', min: 0 }, ...SPACE })
    checkTarget(p.positional[0], p.flags.space)
    const t = await readTarget(ctx.call, p.positional[0], p.flags.space)
    const max = p.flags.limit ?? Number.MAX_SAFE_INTEGER
    const kept: Entry[] = []
    // Later pages read the version the first page read, so a listing is one consistent snapshot.
    let version = p.flags.version
    let cursor: string | undefined
    let shown = 0
    let more = false
    do {
      const r = await ctx.call('listFiles', { drive: t.drive, path: t.path, recursive: p.flags.recursive, version, limit: Math.min(LS_PAGE, max - shown), cursor })
      version = r.version
      for (const e of r.entries) { if (ctx.json) kept.push(e); else ctx.print(line(e)) }
      shown += r.entries.length
      cursor = r.next ?? undefined
      more = cursor !== undefined
    } while (more && shown < max)
    if (ctx.json) { ctx.print({ entries: kept, version, truncated: more }); return 0 }
    if (more) ctx.warn(`(${shown} entries shown; --limit ${max} reached)`)
    if (shown === 0 && t.space !== null) ctx.warn(`(nothing here in ${spaceLabel(t.space)}; datdot spaces lists your spaces)`)
    return 0
  }
}

const cat: CliCommand = {
  summary: 'Write a file of a space or of a followed drive to stdout.',
  usage: 'cat [hyper://KEY]/PATH [--version N] [--space NAME]',
  async run (argv, ctx) {
    const p = parseArgs(argv, { version: { type: 'int', min: 0 }, ...SPACE })
    if (!p.positional[0]) throw usage('cat needs a PATH or LINK/PATH')
    checkTarget(p.positional[0], p.flags.space)
    return withClient(ctx, async (client) => {
      const t = await readTarget(callOf(client), p.positional[0], p.flags.space)
      const { url } = await client.call('createDownloadUrl', { drive: t.drive, path: t.path, version: p.flags.version })
      await pipeline(await client.get(url), process.stdout, { end: false })
    })
  }
}

const exportCmd: CliCommand = {
  summary: 'Copy a file or folder of a space or of a followed drive into a local folder.',
  usage: 'export [hyper://KEY][/PATH] DEST [--overwrite] [--version N] [--space NAME]',
  async run (argv, ctx) {
    const p = parseArgs(argv, { overwrite: { type: 'boolean' }, version: { type: 'int', min: 0 }, ...SPACE })
    if (p.positional.length !== 2) throw usage('export needs a source and a DEST folder')
    checkTarget(p.positional[0], p.flags.space)
    const dest = resolve(p.positional[1])
    return withClient(ctx, async (client) => {
      const t = await readTarget(callOf(client), p.positional[0], p.flags.space)
      const job = jobResult(await waitJob(ctx, client, () => client.call('exportPath', {
        drive: t.drive, path: t.path, dest, overwrite: p.flags.overwrite, version: p.flags.version
      })))
      ctx.print(ctx.json ? job : `exported ${job.filesDone} file(s), ${formatBytes(job.bytesDone)} to ${dest}`)
    })
  }
}

const rm: CliCommand = {
  summary: 'Delete a file or folder from a space.',
  usage: 'rm PATH [--space NAME]',
  async run (argv, ctx) {
    const p = parseArgs(argv, SPACE)
    if (p.positional.length !== 1) throw usage('rm needs one PATH')
    const s = await findSpace(ctx.call, p.flags.space)
    const r = await ctx.call('deletePath', { space: s.id, path: p.positional[0] })
    ctx.print(ctx.json ? r : `deleted ${r.deleted} file(s) from ${spaceLabel(s)}; version ${r.version}`)
    return 0
  }
}

const mv: CliCommand = {
  summary: 'Rename or move a file or folder inside a space (between spaces: datdot move).',
  usage: 'mv FROM TO [--overwrite] [--space NAME]',
  async run (argv, ctx) {
    const p = parseArgs(argv, { overwrite: { type: 'boolean' }, ...SPACE })
    if (p.positional.length !== 2) throw usage('mv needs FROM and TO')
    const s = await findSpace(ctx.call, p.flags.space)
    const r = await ctx.call('movePath', { space: s.id, from: p.positional[0], to: p.positional[1], overwrite: p.flags.overwrite })
    ctx.print(ctx.json ? r : `moved ${r.moved} file(s) in ${spaceLabel(s)}; version ${r.version}`)
    return 0
  }
}

const share: CliCommand = {
  summary: 'Print the hyper:// link of a shared or public space (a link opens the whole space; a private space has none: datdot space share).',
  usage: 'share [--space NAME]',
  async run (argv, ctx) {
    const p = parseArgs(argv, SPACE)
    if (p.positional.length > 1) throw usage('share takes at most one PATH')
    const s = await findSpace(ctx.call, p.flags.space)
    if (s.visibility === 'private' && (p.positional[0] ?? '/') === '/') {
      throw DatdotError.forbidden(`${s.name} is private: it has no link. datdot space share "${s.name}" gives it one (whoever has the link reads every file in it)`)
    }
    const r = await ctx.call('share', { space: s.id, path: p.positional[0] ?? '/' })
    ctx.print(ctx.json ? r : r.link)
    return 0
  }
}

const history: CliCommand = {
  summary: 'Version history of a space or of a followed drive, newest first.',
  usage: 'history [hyper://KEY] [--limit N] [--space NAME]',
  async run (argv, ctx) {
    const p = parseArgs(argv, { limit: { type: 'int', min: 1, default: 50 }, ...SPACE })
    checkTarget(p.positional[0], p.flags.space)
    const t = await readTarget(ctx.call, p.positional[0], p.flags.space)
    const r = await ctx.call('history', { drive: t.drive, limit: p.flags.limit })
    if (ctx.json) ctx.print(r)
    else for (const h of r.items) ctx.print(`v${h.version}  ${h.type === 'put' ? '+' : '-'} ${h.path}${h.size !== null ? '  ' + formatBytes(h.size) : ''}`)
    return 0
  }
}

function transfer (move: boolean): CliCommand {
  const name = move ? 'move' : 'copy'
  return {
    summary: move
      ? 'Move a file or folder into a folder of another space (copied, then deleted from its space; all-or-nothing).'
      : 'Copy a file or folder into a folder of another space (all-or-nothing; never overwrites).',
    usage: `${name} SPACE:/PATH SPACE:[/FOLDER]`,
    async run (argv, ctx) {
      const p = parseArgs(argv, {})
      if (p.positional.length !== 2) throw usage(`${name} needs a SPACE:/PATH and a SPACE:/FOLDER to put it in`)
      const src = parseSpacePath(p.positional[0], 'the source')
      const dst = parseSpacePath(p.positional[1], 'the destination')
      const from = await findSpace(ctx.call, src.space)
      const to = await findSpace(ctx.call, dst.space)
      const job = jobResult(await ctx.call('transferPath', { from: from.id, path: src.path, to: to.id, into: dst.path, move, wait: true }))
      ctx.print(ctx.json ? job : `${move ? 'moved' : 'copied'} ${job.filesDone} file(s), ${formatBytes(job.bytesDone)} from ${from.name}:${src.path} into ${to.name}:${dst.path} ${spaceLabel(to).slice(to.name.length + 1)}; version ${job.version}`)
      return 0
    }
  }
}

export const vaultCommands: Record<string, CliCommand> = {
  add, ls, cat, export: exportCmd, rm, mv, share, history, copy: transfer(false), move: transfer(true)
}
