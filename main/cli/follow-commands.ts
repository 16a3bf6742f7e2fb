/**
 * The `datdot` commands on followed drives: follow (everything, selected folders or on demand),
 * unfollow, follows (status and disk use), follow-mode, pin and unpin.
 */
import type { CliCommand } from './types.js'
import { withClient } from './daemon-session.js'
import { formatBytes } from '../shared/errors.js'
import { parseLink } from '../engine/paths.js'
import type { FollowInfo, FollowMode } from '../shared/contract.js'
import { parseArgs, usage } from './args.js'

/** One follow: its state, for an offline one since when and the last version it saw, and whether it is locked (encrypted). */
export function followLine (f: FollowInfo, nowMs = Date.now()): string {
  const state = f.state === 'offline' && f.offlineSinceMs !== null
    ? `offline for ${formatAge(nowMs - f.offlineSinceMs)} (last seen version ${f.version})`
    : `${f.state}  v${f.version}`
  const locked = f.locked === 'needs-key'
    ? '  LOCKED: encrypted, follow its link with the read key (#key=)'
    : f.locked === 'wrong-key' ? '  LOCKED: the read key does not open it' : ''
  return `${JSON.stringify(f.label)}  ${f.link}  ${state}  peers ${f.peers}  blocks ${f.blocksHave}/${f.blocksTotal}  ${diskText(f)}${locked}`
}

/** What a follow downloads and what it holds: mode, bytes on disk against its limit, kept and clearable bytes. */
export function diskText (f: FollowInfo): string {
  const mode = f.mode === 'folders' ? `folders ${f.folders.join(',')}` : f.mode
  const limit = f.cacheLimitBytes === null ? '' : ` (cache limit ${formatBytes(f.cacheLimitBytes)})`
  const pins = f.pins.length > 0 ? `  pinned ${f.pins.join(',')}` : ''
  return `${mode}  ${formatBytes(f.bytesLocal)} on disk${limit}, kept ${formatBytes(f.bytesPinned)}, a clear frees ${formatBytes(f.bytesClearable)}${pins}`
}

function formatAge (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${Math.round(s / 3600)} h`
}


const MODE_FLAGS = {
  sparse: { type: 'boolean' },
  folders: { type: 'string' },
  'cache-limit': { type: 'string' }
} as const

const SIZE = /^(\d{1,16})\s*(B|KiB|MiB|GiB|TiB|K|M|G|T)?$/i
const UNIT: Record<string, number> = { b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tib: 1024 ** 4 }

/** A cache limit as typed: bytes, a binary size ('500MiB', '2G'), or 'none'. */
export function parseSize (text: string): number | null {
  if (text.toLowerCase() === 'none') return null
  const m = SIZE.exec(text.trim())
  const n = m === null ? NaN : Number(m[1]) * UNIT[(m[2] ?? 'b').toLowerCase()]
  if (!Number.isSafeInteger(n)) throw usage(`--cache-limit takes bytes, a size like 500MiB or 2G, or none (got ${text})`)
  return n
}

function modeOf (mode: FollowMode, flags: { folders?: string, 'cache-limit'?: string, sparse: boolean }): { mode: FollowMode, folders?: string[], cacheLimitBytes?: number | null } {
  if (flags.sparse && flags.folders !== undefined) throw usage('--sparse and --folders are two different modes: give one')
  const folders = flags.folders?.split(',').map((f) => f.trim()).filter((f) => f !== '')
  const limit = flags['cache-limit']
  return { mode, ...(folders ? { folders } : {}), ...(limit !== undefined ? { cacheLimitBytes: parseSize(limit) } : {}) }
}

/** The key a LINK or KEY argument names. */
function keyOf (arg: string): string {
  return parseLink(arg).id
}

export const followCommands: Record<string, CliCommand> = {
  follow: {
    summary: 'Follow a hyper:// link: replicate it and get its updates (everything, --folders only those, --sparse on demand). --wait waits until synced.',
    usage: 'follow LINK [--name NAME] [--sparse | --folders /a,/b] [--cache-limit BYTES|none] [--wait]',
    async run (argv, ctx) {
      const p = parseArgs(argv, { wait: { type: 'boolean' }, name: { type: 'string' }, ...MODE_FLAGS })
      if (p.positional.length !== 1) throw usage('follow needs one LINK')
      const modeArgs = modeOf(p.flags.sparse ? 'on-demand' : p.flags.folders !== undefined ? 'folders' : 'all', p.flags)
      return withClient(ctx, async (client) => {
        let synced: ((f: FollowInfo) => void) | null = null
        let lost: ((err: Error) => void) | null = null
        const syncedP = new Promise<FollowInfo>((resolve, reject) => { synced = resolve; lost = reject })
        syncedP.catch(() => {}) // awaited below only while not yet synced
        const offLost = client.onLost((err) => lost!(err))
        let key: string | null = null
        const off = p.flags.wait
          ? await client.on((name, data) => {
            if (name === 'follow.status' && key !== null && (data as FollowInfo).key === key && (data as FollowInfo).state === 'synced') synced!(data as FollowInfo)
          })
          : () => {}
        try {
          let info = await client.call('follow', { link: p.positional[0], ...modeArgs })
          key = info.key
          if (p.flags.name !== undefined) info = await client.call('renameFollow', { key, name: p.flags.name })
          if (p.flags.wait && info.state !== 'synced') {
            const again = (await client.call('listFollows', {})).find((f) => f.key === key)
            info = again && again.state === 'synced' ? again : await syncedP
          }
          ctx.print(ctx.json ? info : followLine(info))
        } finally { off(); offLost() }
      })
    }
  },
  unfollow: {
    summary: 'Stop following a drive; --purge also deletes its local copy.',
    usage: 'unfollow LINK|KEY [--purge]',
    async run (argv, ctx) {
      const p = parseArgs(argv, { purge: { type: 'boolean' } })
      if (p.positional.length !== 1) throw usage('unfollow needs one LINK or KEY')
      const key = parseLink(p.positional[0]).id
      return withClient(ctx, async (client) => {
        await client.call('unfollow', { key, purge: p.flags.purge })
        ctx.print(ctx.json ? { ok: true } : `unfollowed ${key}`)
      })
    }
  },
  follows: {
    summary: 'List followed drives with their status.',
    usage: 'follows',
    async run (argv, ctx) {
      parseArgs(argv, {})
      return withClient(ctx, async (client) => {
        const list = await client.call('listFollows', {})
        if (ctx.json) ctx.print(list)
        else if (list.length === 0) ctx.print('(not following anything)')
        else for (const f of list) ctx.print(followLine(f))
      })
    }
  },
  'follow-name': {
    summary: 'Name a followed drive (an empty NAME goes back to the label made from its key).',
    usage: 'follow-name LINK|KEY NAME',
    async run (argv, ctx) {
      const p = parseArgs(argv, {})
      if (p.positional.length !== 2) throw usage('follow-name needs a LINK or KEY and a NAME (quote a name with spaces)')
      const info = await ctx.call('renameFollow', { key: keyOf(p.positional[0]), name: p.positional[1] })
      ctx.print(ctx.json ? info : followLine(info))
      return 0
    }
  },
  'follow-mode': {
    summary: 'Change what a followed drive downloads: all, on-demand, or folders (with --folders); --cache-limit sets its cache limit.',
    usage: 'follow-mode LINK|KEY all|on-demand|folders [--folders /a,/b] [--cache-limit BYTES|none]',
    async run (argv, ctx) {
      const p = parseArgs(argv, MODE_FLAGS)
      const [target, mode] = p.positional
      if (p.positional.length !== 2 || !['all', 'on-demand', 'folders'].includes(mode)) throw usage('follow-mode needs a LINK or KEY and all, on-demand or folders')
      const args = modeOf(mode as FollowMode, { ...p.flags, sparse: false })
      return withClient(ctx, async (client) => {
        const info = await client.call('setFollowMode', { key: keyOf(target), ...args })
        ctx.print(ctx.json ? info : followLine(info))
      })
    }
  },
  pin: {
    summary: 'Pin a folder or file of a followed drive: download it now and keep it through cache clears.',
    usage: 'pin LINK|KEY PATH',
    async run (argv, ctx) {
      const p = parseArgs(argv, {})
      if (p.positional.length !== 2) throw usage('pin needs a LINK or KEY and a PATH')
      return withClient(ctx, async (client) => {
        const info = await client.call('pinPath', { key: keyOf(p.positional[0]), path: p.positional[1] })
        ctx.print(ctx.json ? info : followLine(info))
      })
    }
  },
  unpin: {
    summary: 'Unpin a folder or file of a followed drive: its contents become cache, cleared first when over the limit.',
    usage: 'unpin LINK|KEY PATH',
    async run (argv, ctx) {
      const p = parseArgs(argv, {})
      if (p.positional.length !== 2) throw usage('unpin needs a LINK or KEY and a PATH')
      return withClient(ctx, async (client) => {
        const info = await client.call('unpinPath', { key: keyOf(p.positional[0]), path: p.positional[1] })
        ctx.print(ctx.json ? info : followLine(info))
      })
    }
  }
}
