import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtemp, mkdir, writeFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, assertBuilt, startTestnet, startDaemon, stop, removeDir, type Testnet, type DaemonProc } from './daemons.js'
import { runNode, type Run } from '../helpers/run-process.js'

function datdot (args: string[]): Promise<Run> {
  return runNode(join(ROOT, 'bin', 'datdot.js'), args, { cwd: ROOT })
}

/** Runs each command and expects its exit code and one line on stderr (plus the usage line for a usage error). */
async function expectFailures (cases: Array<[string[], RegExp, number]>): Promise<void> {
  for (const [args, message, code] of cases) {
    const r = await datdot(args)
    expect(r.code, args.join(' ')).toBe(code)
    expect(r.stderr, args.join(' ')).toMatch(message)
    expect(r.stderr.trim().split('\n').length, args.join(' ')).toBeLessThanOrEqual(2)
    if (code === 2 && args.length > 2) expect(r.stderr, args.join(' ')).toMatch(/\nusage: datdot /)
  }
}

describe('the datdot command line against two running daemons', () => {
  let testnet: Testnet
  let alice: DaemonProc
  let bob: DaemonProc
  let work: string
  let link: string

  beforeAll(async () => {
    assertBuilt()
    work = await mkdtemp(join(tmpdir(), 'datdot-cli-'))
    testnet = await startTestnet()
    alice = await startDaemon(testnet.bootstrap)
    bob = await startDaemon(testnet.bootstrap)
  })

  afterAll(async () => {
    await stop(bob?.child)
    await stop(alice?.child)
    await stop(testnet?.child)
    await removeDir(alice?.storage)
    await removeDir(bob?.storage)
    await removeDir(work)
  })

  it('adds a folder to the public space, shares it, and the follower lists, reads and exports it', async () => {
    await mkdir(join(work, 'trip', 'day1'), { recursive: true })
    await writeFile(join(work, 'trip', 'day1', 'notes.txt'), 'sunny\n')
    await writeFile(join(work, 'trip', 'map.bin'), Buffer.alloc(200_000, 7))
    const add = await datdot(['--storage', alice.storage, 'add', join(work, 'trip'), '--space', 'Public'])
    expect(add.stderr).toBe('')
    expect(add.code).toBe(0)
    expect(add.stdout).toMatch(/^added 2 file\(s\), .* to Public \(public, not encrypted\)/)

    const share = await datdot(['--storage', alice.storage, 'share', '--space', 'public'])
    link = share.stdout.trim()
    expect(link).toMatch(/^hyper:\/\/[a-z0-9]{52}$/)

    const follow = await datdot(['--storage', bob.storage, 'follow', link, '--wait', '--json'])
    expect(follow.code).toBe(0)
    expect(JSON.parse(follow.stdout)).toMatchObject({ state: 'synced', peers: 1 })
    const named = await datdot(['--storage', bob.storage, 'follow-name', link, "Alice's trip"])
    expect(named.code, named.stderr).toBe(0)
    expect((await datdot(['--storage', bob.storage, 'follows'])).stdout).toMatch(/^"Alice's trip" {2}hyper:\/\/[a-z0-9]{52} {2}synced/)

    const ls = await datdot(['--storage', bob.storage, '--json', 'ls', link, '-r'])
    expect((JSON.parse(ls.stdout) as { entries: Array<{ path: string }> }).entries.map((e) => e.path)).toEqual(['/trip/day1/notes.txt', '/trip/map.bin'])

    const cat = await datdot(['--storage', bob.storage, 'cat', `${link}/trip/day1/notes.txt`])
    expect(cat.stdout).toBe('sunny\n')

    const out = join(work, 'out')
    const exp = await datdot(['--storage', bob.storage, 'export', `${link}/trip`, out])
    expect(exp.code).toBe(0)
    expect((await readFile(join(out, 'trip', 'map.bin'))).equals(Buffer.alloc(200_000, 7))).toBe(true)
    const again = await datdot(['--storage', bob.storage, 'export', `${link}/trip`, out])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/Already exists.*\[ALREADY_EXISTS\]/)
  })

  it('reports status and history as JSON', async () => {
    const status = JSON.parse((await datdot(['--storage', bob.storage, 'status', '--json'])).stdout) as { follows: number, network: { connections: number } }
    expect(status.follows).toBe(1)
    expect(status.network.connections).toBeGreaterThan(0)
    const history = JSON.parse((await datdot(['--storage', alice.storage, 'history', '--space', 'Public', '--json'])).stdout) as { items: Array<{ path: string }> }
    expect(history.items.map((h) => h.path).sort()).toEqual(['/trip/day1/notes.txt', '/trip/map.bin'])
  })

  it('adds another daemon to the nodes dashboard with its token read from a file, lists both, and removes it', async () => {
    const added = await datdot(['--storage', alice.storage, 'nodes', 'add', 'Bob box', bob.origin, '--token-file', join(bob.storage, 'api-token')])
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).toMatch(/added node #(\d+): Bob box/)
    const id = /#(\d+)/.exec(added.stdout)![1]
    const listed = await datdot(['--storage', alice.storage, 'nodes', '--json'])
    const o = JSON.parse(listed.stdout) as { nodes: Array<{ name: string, reachable: boolean }>, totals: { reachable: number } }
    expect(o.nodes.map((n) => [n.name, n.reachable])).toEqual([['This node', true], ['Bob box', true]])
    const text = await datdot(['--storage', alice.storage, 'nodes'])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/total: 2 of 2 answering/)
    await expectFailures([
      [['--storage', alice.storage, 'nodes', 'add', 'x', bob.origin], /--token-file/, 2],
      [['--storage', alice.storage, 'nodes', 'add', 'x', bob.origin, '--token-file', join(alice.storage, 'api-token')], /refused the token.*\[INVALID_ARGUMENT\]/, 1],
      [['--storage', alice.storage, 'nodes', 'remove', 'x'], /node's number/, 2]
    ])
    expect((await datdot(['--storage', alice.storage, 'nodes', 'remove', id])).code).toBe(0)
  })

  it('fails with one line and a non-zero exit code on bad input', async () => {
    const cases: Array<[string[], RegExp, number]> = [
      [['--storage', bob.storage, 'follow', 'hyper://not-a-key'], /Not a valid DatDot link.*\[INVALID_LINK\]/, 1],
      [['--storage', alice.storage, 'rm', '/../etc/passwd'], /\[INVALID_PATH\]/, 1],
      [['--storage', alice.storage, 'add', join(work, 'missing')], /Not found.*\[NOT_FOUND\]/, 1],
      [['--storage', alice.storage, 'follow', link], /one of your own spaces/, 1],
      [['--storage', join(work, 'nobody'), 'status'], /No daemon is running.*\[DAEMON_NOT_RUNNING\]/, 1],
      [['--storage', alice.storage, 'ls', '--version', 'x'], /whole number/, 2],
      [['frobnicate'], /unknown command/, 2],
      // Usage errors exit 2 for every command, before any call to the daemon.
      [['--storage', alice.storage, 'ls', '--bogus'], /unknown option --bogus/, 2],
      [['--storage', alice.storage, 'follow', link, '--wait=yes'], /--wait takes no value/, 2],
      [['--storage', alice.storage, 'seed', 'sideways'], /seed takes on or off/, 2],
      [['--storage', alice.storage, 'sponsor', link, '--price', 'lots'], /--price: not an amount/, 2],
      [['--storage', alice.storage, 'unpublish', 'x'], /needs a plan number/, 2],
      [['--storage', alice.storage, 'wallet', '--faucet'], /--faucet needs a value/, 2],
      [['--storage', alice.storage, 'ledger', '--limit', '0'], /--limit takes a whole number in 1\.\.1000/, 2],
      [['--storage'], /--storage needs a folder/, 2]
    ]
    await expectFailures(cases)
  })

  it('fails with one line on an unknown space, a private space\'s link, a folder link and malformed space arguments', async () => {
    await expectFailures([
      [['--storage', alice.storage, 'ls', '--space', 'Nowhere'], /no space named "Nowhere".*datdot spaces.*\[NOT_FOUND\]/, 1],
      [['--storage', alice.storage, 'share', '--space', 'Private'], /Private is private: it has no link.*\[FORBIDDEN\]/, 1],
      [['--storage', alice.storage, 'share', '/trip', '--space', 'Public'], /a link opens a whole space.*\[INVALID_ARGUMENT\]/, 1],
      [['--storage', alice.storage, 'ls', link, '--space', 'Public'], /a hyper:\/\/ link or --space, not both/, 2],
      [['--storage', alice.storage, 'space', 'paint', 'Public'], /space takes create, rename, share, private, delete/, 2],
      [['--storage', alice.storage, 'space', 'create', 'Both', '--shared', '--public'], /one of --private, --shared, --public/, 2],
      [['--storage', alice.storage, 'copy', 'trip', 'Private:'], /the source is SPACE:\/PATH/, 2]
    ])
  })

  it('unfollows and purges the local copy', async () => {
    const r = await datdot(['--storage', bob.storage, 'unfollow', link, '--purge'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const follows: unknown = JSON.parse((await datdot(['--storage', bob.storage, 'follows', '--json'])).stdout)
    expect(follows).toEqual([])
    const ls = await datdot(['--storage', bob.storage, 'ls', link])
    expect(ls.stderr).toMatch(/\[UNKNOWN_DRIVE\]/)
  })

  const asAlice = (...args: string[]): Promise<Run> => datdot(['--storage', alice.storage, ...args])

  it('creates a shared space whose link lets a second daemon read the files added to it', async () => {
    const created = await asAlice('space', 'create', 'Family', '--shared')
    expect(created.code, created.stderr).toBe(0)
    const familyLink = created.stdout.trim().split('\n')[1]
    expect(familyLink).toMatch(/^hyper:\/\/[a-z0-9]{52}#key=[a-z0-9]{52}$/)
    expect(created.stderr).toMatch(/reads every file in it.*cannot be taken back/)

    await writeFile(join(work, 'recipe.txt'), 'flour, water\n')
    const added = await asAlice('add', join(work, 'recipe.txt'), '--space', 'family')
    expect(added.stdout).toMatch(/^added 1 file\(s\), .* to Family \(encrypted, shared by link\)/)

    const rows = (await asAlice('spaces')).stdout.split('\n')
    expect(rows.find((r) => r.includes('Family'))).toMatch(/shared .*whoever has its link reads every file.*1 file, .*#key=/)
    expect(rows.find((r) => r.includes(familyLink))).toContain('Family')
    expect(rows.find((r) => /^\* Private /.test(r))).toMatch(/encrypted; only you can read it.* no link$/)

    const follow = await datdot(['--storage', bob.storage, 'follow', familyLink, '--wait', '--json'])
    expect(follow.code, follow.stderr).toBe(0)
    const cat = await datdot(['--storage', bob.storage, 'cat', `${familyLink}/recipe.txt`])
    expect(cat.stderr).toBe('')
    expect(cat.stdout).toBe('flour, water\n')

  })

  it('adds to the private space by default, and refuses to share it or delete a space without --yes', async () => {
    // Without --space, a file lands in the private space, and says so.
    await writeFile(join(work, 'diary.txt'), 'dear diary\n')
    const plain = await asAlice('add', join(work, 'diary.txt'))
    expect(plain.stdout).toMatch(/to Private \(encrypted\)/)
    expect((await asAlice('cat', '/diary.txt')).stdout).toBe('dear diary\n')
    expect((await asAlice('ls', '--space', 'Public')).stdout).not.toContain('diary')

    const refused = await asAlice('space', 'share', 'Private')
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/reads every file in it.*cannot be taken back.*--yes/)
    const kept = await asAlice('space', 'delete', 'Family')
    expect(kept.code).toBe(2)
    expect(kept.stderr).toMatch(/add --yes/)
    const spaces = JSON.parse((await asAlice('spaces', '--json')).stdout) as { spaces: Array<{ name: string, visibility: string, link: string | null }> }
    expect(spaces.spaces.find((x) => x.name === 'Private')).toMatchObject({ visibility: 'private', link: null })
    expect(spaces.spaces.map((x) => x.name)).toContain('Family')

  })

  it('copies and moves files between spaces, and deletes a space with --yes', async () => {
    const copied = await asAlice('copy', 'Private:/diary.txt', 'Family:/from-private')
    expect(copied.code, copied.stderr).toBe(0)
    expect(copied.stdout).toMatch(/^copied 1 file\(s\)/)
    expect((await asAlice('cat', '/from-private/diary.txt', '--space', 'Family')).stdout).toBe('dear diary\n')
    expect((await asAlice('cat', '/diary.txt')).stdout).toBe('dear diary\n')
    const moved = await asAlice('move', 'Family:/recipe.txt', 'Private:')
    expect(moved.code, moved.stderr).toBe(0)
    expect((await asAlice('ls', '-r', '--space', 'Family', '--json')).stdout).not.toContain('recipe')
    expect((await asAlice('cat', '/recipe.txt')).stdout).toBe('flour, water\n')

    const deleted = await asAlice('space', 'delete', 'Family', '--yes')
    expect(deleted.code, deleted.stderr).toBe(0)
    expect((await asAlice('spaces')).stdout).not.toContain('Family')
  })
})
