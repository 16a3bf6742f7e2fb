import { describe, it, expect } from 'vitest'
import { UsageError } from '../../main/cli/args.js'
import { DatdotError } from '../../main/shared/errors.js'
import { spacesCommands } from '../../main/cli/spaces-commands.js'
import { vaultCommands, linkWithPath } from '../../main/cli/vault-commands.js'
import { defaultSpace, findSpace, matchSpace, parseSpacePath } from '../../main/cli/space-ref.js'
import type { CliContext } from '../../main/cli/types.js'
import type { SpaceInfo } from '../../main/shared/contract.js'

function space (id: string, name: string, visibility: SpaceInfo['visibility'], createdMs: number): SpaceInfo {
  const key = id.repeat(52).slice(0, 52)
  return {
    id, name, visibility, encrypted: visibility !== 'public', key, createdMs, peers: 0, version: 1, files: 2, bytes: 10, restoring: null,
    link: visibility === 'private' ? null : `hyper://${key}${visibility === 'shared' ? '#key=' + 'k'.repeat(52) : ''}`
  }
}

const HOME = space('h', 'Public', 'public', 0)
const PRIVATE = space('p', 'Private', 'private', 1)
const FAMILY = space('f', 'Family', 'shared', 2)
const LATER = space('q', 'Taxes', 'private', 3)

/** A context whose daemon knows `spaces` and records every call; prints and warnings are kept. */
function fakeContext (spaces: SpaceInfo[]): { ctx: CliContext, calls: Array<[string, unknown]>, out: unknown[], err: string[] } {
  const calls: Array<[string, unknown]> = []
  const out: unknown[] = []
  const err: string[] = []
  const ctx = {
    storage: '/nonexistent',
    json: false,
    call: async (method: string, args: unknown) => {
      calls.push([method, args])
      if (method === 'listSpaces') return { spaces, restoringList: false }
      if (method === 'updateSpace') return { ...PRIVATE, visibility: 'shared', link: 'hyper://shared-now' }
      if (method === 'deletePath') return { version: 5, deleted: 1 }
      throw new Error(`unexpected call ${method}`)
    },
    print: (v: unknown) => { out.push(v) },
    warn: (l: string) => { err.push(l) },
    interrupted: new Promise<void>(() => {})
  } as unknown as CliContext
  return { ctx, calls, out, err }
}

describe('how the command line names a space', () => {
  it('splits SPACE:/PATH at the colon before the path, and takes a bare /PATH as the default space', () => {
    expect(parseSpacePath('Photos:/2024/a.jpg', 'x')).toEqual({ space: 'Photos', path: '/2024/a.jpg' })
    expect(parseSpacePath('Archive:', 'x')).toEqual({ space: 'Archive', path: '/' })
    expect(parseSpacePath('Archive:old', 'x')).toEqual({ space: 'Archive', path: '/old' })
    expect(parseSpacePath('At 10:30:/notes', 'x')).toEqual({ space: 'At 10:30', path: '/notes' })
    expect(parseSpacePath('/notes.txt', 'x')).toEqual({ space: undefined, path: '/notes.txt' })
    for (const bad of ['notes.txt', ':/notes.txt', 'a/b:c']) expect(() => parseSpacePath(bad, 'the source')).toThrow(UsageError)
  })

  it('reads a path typed after a shared link\'s read key as the path of that link', () => {
    const key = 'y'.repeat(52)
    expect(linkWithPath(`hyper://${key}#key=${key}/trip/a.txt`)).toBe(`hyper://${key}/trip/a.txt#key=${key}`)
    expect(linkWithPath(`hyper://${key}/trip#key=${key}`)).toBe(`hyper://${key}/trip#key=${key}`)
    expect(linkWithPath(`hyper://${key}/trip`)).toBe(`hyper://${key}/trip`)
  })

  it('finds a space by id, by name in any case or by key, and takes the oldest private space by default', async () => {
    const spaces = [HOME, FAMILY, PRIVATE, LATER]
    expect(matchSpace(spaces, 'f')).toBe(FAMILY)
    expect(matchSpace(spaces, 'fAMILY')).toBe(FAMILY)
    expect(matchSpace(spaces, HOME.key)).toBe(HOME)
    expect(matchSpace(spaces, 'nobody')).toBeNull()
    expect(defaultSpace(spaces)).toBe(PRIVATE)
    const { ctx } = fakeContext(spaces)
    expect(await findSpace(ctx.call, undefined)).toBe(PRIVATE)
    await expect(findSpace(ctx.call, 'Nobody')).rejects.toThrow(/no space named "Nobody": datdot spaces lists them/)
  })

  it('never falls back to a space that is not private when there is no private space', async () => {
    const { ctx } = fakeContext([HOME, FAMILY])
    const err = await findSpace(ctx.call, undefined).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatdotError)
    expect((err as DatdotError).code).toBe('NOT_FOUND')
    expect((err as DatdotError).message).toMatch(/no private space.*--space/)
  })
})

describe('the space commands', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['space', [], /space takes create, rename, share, private, delete/],
    ['space', ['toString'], /space takes/],
    ['space', ['create'], /needs one NAME/],
    ['space', ['create', 'A', '--shared', '--public'], /one of --private, --shared, --public/],
    ['space', ['rename', 'A'], /needs SPACE and NEWNAME/],
    ['space', ['delete', 'Family'], /add --yes/],
    ['spaces', ['extra'], /takes no arguments/],
    ['copy', ['Private:/a'], /needs a SPACE:\/PATH and a SPACE:\/FOLDER/],
    ['move', ['a.txt', 'Family:'], /the source is SPACE:\/PATH/],
    ['ls', ['hyper://x', '--space', 'Family'], /link or --space, not both/],
    ['rm', ['--space'], /--space needs a value/]
  ]
  it('throw usage errors (exit code 2) before they call the daemon', async () => {
    const all = { ...spacesCommands, ...vaultCommands }
    for (const [name, argv, message] of cases) {
      const { ctx, calls } = fakeContext([HOME, PRIVATE, FAMILY])
      const err = await all[name].run(argv, ctx).catch((e: unknown) => e)
      expect(err, `${name} ${argv.join(' ')}`).toBeInstanceOf(UsageError)
      expect((err as Error).message, `${name} ${argv.join(' ')}`).toMatch(message)
      expect(calls, `${name} ${argv.join(' ')}`).toEqual([])
    }
  })

  it('refuses to give a private space a link without --yes, saying that a link cannot be taken back', async () => {
    const { ctx, calls } = fakeContext([HOME, PRIVATE])
    const err = await spacesCommands.space.run(['share', 'private'], ctx).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UsageError)
    expect((err as Error).message).toMatch(/reads every file in it.*cannot be taken back.*--yes/)
    expect(calls.map(([m]) => m)).toEqual(['listSpaces'])
  })

  it('shares a private space with --yes, printing the link and the warning', async () => {
    const { ctx, calls, out, err } = fakeContext([HOME, PRIVATE])
    expect(await spacesCommands.space.run(['share', 'Private', '--yes'], ctx)).toBe(0)
    expect(calls[1]).toEqual(['updateSpace', { space: 'p', visibility: 'shared' }])
    expect(out).toContain('hyper://shared-now')
    expect(err.join('\n')).toMatch(/cannot be taken back/)
  })

  it('writes to the oldest private space when no --space is given, and says so', async () => {
    const { ctx, calls, out } = fakeContext([HOME, FAMILY, PRIVATE, LATER])
    await vaultCommands.rm.run(['/old.txt'], ctx)
    expect(calls[1]).toEqual(['deletePath', { space: 'p', path: '/old.txt' }])
    expect(out).toEqual(['deleted 1 file(s) from Private (encrypted); version 5'])
  })

  it('lists each space with what its visibility means, its link or "no link", and marks the default', async () => {
    const { ctx, out } = fakeContext([HOME, PRIVATE, FAMILY])
    await spacesCommands.spaces.run([], ctx)
    const rows = out as string[]
    expect(rows[0]).toMatch(/^ {2}Public +public +\(not encrypted; anyone with its link reads every file\) +2 files, .* hyper:\/\/h+$/)
    expect(rows[1]).toMatch(/^\* Private +private +\(encrypted; only you can read it\) +2 files, .* no link$/)
    expect(rows[2]).toMatch(/^ {2}Family +shared +\(encrypted; whoever has its link reads every file\) .*#key=k+$/)
    expect(rows[3]).toMatch(/^\* the default space/)
  })
})
