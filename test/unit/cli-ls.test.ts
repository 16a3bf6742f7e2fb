/**
 * `datdot ls` pages through a folder: every entry of a folder far larger than one page, each
 * later page read at the version of the first (one consistent snapshot), and --limit stops early
 * and says so. The daemon is a fake that serves pages from a list, as listFiles does.
 */
import { describe, it, expect } from 'vitest'
import { vaultCommands } from '../../main/cli/vault-commands.js'
import type { CliContext } from '../../main/cli/types.js'
import type { Entry } from '../../main/shared/contract.js'

const KEY = 'b'.repeat(52)
const LINK = `hyper://${KEY}/big`

function entry (i: number): Entry {
  return { path: `/big/f${String(i).padStart(6, '0')}.txt`, name: `f${String(i).padStart(6, '0')}.txt`, type: 'file', size: i, mtimeMs: null, version: 1 } as unknown as Entry
}

interface ListArgs { limit: number, cursor?: string, version?: number }

/** A daemon holding `count` entries at version 7; pages of at most `limit`, the cursor is the next index. */
function pagedDaemon (count: number, json = false): { ctx: CliContext, calls: ListArgs[], out: unknown[], err: string[] } {
  const calls: ListArgs[] = []
  const out: unknown[] = []
  const err: string[] = []
  const ctx = {
    storage: '/nonexistent',
    json,
    call: async (method: string, args: ListArgs) => {
      if (method !== 'listFiles') throw new Error(`unexpected call ${method}`)
      calls.push(args)
      const from = args.cursor === undefined ? 0 : Number(args.cursor)
      const to = Math.min(count, from + args.limit)
      const next = to < count ? String(to) : null
      return { entries: Array.from({ length: to - from }, (_x, k) => entry(from + k)), version: 7, truncated: next !== null, next, total: next === null && from === 0 ? count : null }
    },
    print: (v: unknown) => { out.push(v) },
    warn: (l: string) => { err.push(l) },
    interrupted: new Promise<void>(() => {})
  } as unknown as CliContext
  return { ctx, calls, out, err }
}

describe('datdot ls on a folder larger than a page', () => {
  it('prints every entry once, in order, asking each later page at the first page\'s version', async () => {
    const { ctx, calls, out, err } = pagedDaemon(2_500)
    await vaultCommands.ls.run([LINK], ctx)
    expect(out).toHaveLength(2_500)
    expect(String(out[0])).toContain('f000000.txt')
    expect(String(out[2_499])).toContain('f002499.txt')
    expect(calls.map((c) => [c.cursor, c.version])).toEqual([[undefined, undefined], ['1000', 7], ['2000', 7]])
    expect(err).toEqual([])
  })

  it('stops after --limit entries and says the limit was reached', async () => {
    const { ctx, calls, out, err } = pagedDaemon(2_500)
    await vaultCommands.ls.run([LINK, '--limit', '1500'], ctx)
    expect(out).toHaveLength(1_500)
    expect(calls.map((c) => c.limit)).toEqual([1000, 500])
    expect(err.join('\n')).toMatch(/1500 entries shown; --limit 1500 reached/)
  })

  it('gives one JSON object with every entry, the version and whether more remain', async () => {
    const { ctx, out } = pagedDaemon(1_200, true)
    await vaultCommands.ls.run([LINK], ctx)
    expect(out).toHaveLength(1)
    const r = out[0] as { entries: Entry[], version: number, truncated: boolean }
    expect(r.entries.map((e) => e.name)).toEqual(Array.from({ length: 1_200 }, (_x, i) => entry(i).name))
    expect(r).toMatchObject({ version: 7, truncated: false })
  })

  it('refuses a limit that is not a positive whole number before calling the daemon', async () => {
    for (const bad of ['0', '-3', 'x']) {
      const { ctx, calls } = pagedDaemon(10)
      await expect(vaultCommands.ls.run([LINK, '--limit', bad], ctx)).rejects.toThrow(/limit/)
      expect(calls).toEqual([])
    }
  })
})
