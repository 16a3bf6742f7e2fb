import { describe, it, expect, expectTypeOf } from 'vitest'
import { parseArgs, parseGlobalArgs, UsageError, USAGE_EXIT_CODE, type TokenAmount } from '../../main/cli/args.js'
import { DatdotError } from '../../main/shared/errors.js'
import { hostingCommands } from '../../main/cli/hosting-commands.js'
import { chainCommands } from '../../main/cli/chain-commands.js'
import type { CliContext } from '../../main/cli/types.js'

/** The UsageError message `fn` throws (fails the test if it throws anything else or nothing). */
function usageMessage (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return (err as UsageError).message
  }
  throw new Error('expected a UsageError')
}

/** A context whose daemon calls are recorded; usage errors must come before any call. */
function recordingContext (): { ctx: CliContext, calls: string[] } {
  const calls: string[] = []
  const ctx: CliContext = {
    storage: '/nonexistent',
    json: false,
    call: async (method: string) => { calls.push(method); throw new Error(`unexpected call ${method}`) },
    print: () => {},
    warn: () => {},
    interrupted: new Promise(() => {})
  }
  return { ctx, calls }
}

describe('the CLI argument parser', () => {
  it('reads --name value, --name=value, boolean flags and declared short flags, in any order among positionals', () => {
    const p = parseArgs(['a', '--to', '/x', 'b', '--limit=7', '-r', '--wait', 'c'], {
      to: { type: 'string' },
      limit: { type: 'int' },
      recursive: { type: 'boolean', short: 'r' },
      wait: { type: 'boolean' },
      purge: { type: 'boolean' }
    })
    expect(p.positional).toEqual(['a', 'b', 'c'])
    expect(p.flags).toEqual({ to: '/x', limit: 7, recursive: true, wait: true, purge: false })
  })

  it('gives defaults for absent flags and undefined where there is no default', () => {
    const p = parseArgs([], { limit: { type: 'int', default: 50 }, to: { type: 'string' }, region: { type: 'string', default: 'eu' }, price: { type: 'tokens' } })
    expect(p.flags).toEqual({ limit: 50, to: undefined, region: 'eu', price: undefined })
  })

  it('types each flag by its spec, non-optional when it has a default', () => {
    const { flags } = parseArgs([], {
      a: { type: 'int', default: 1 },
      b: { type: 'int' },
      c: { type: 'string' },
      d: { type: 'boolean' },
      e: { type: 'tokens' },
      f: { type: 'number', default: 0.5 }
    })
    expectTypeOf(flags.a).toEqualTypeOf<number>()
    expectTypeOf(flags.b).toEqualTypeOf<number | undefined>()
    expectTypeOf(flags.c).toEqualTypeOf<string | undefined>()
    expectTypeOf(flags.d).toEqualTypeOf<boolean>()
    expectTypeOf(flags.e).toEqualTypeOf<TokenAmount | undefined>()
    expectTypeOf(flags.f).toEqualTypeOf<number>()
    expect(flags.f).toBe(0.5)
  })

  it('treats everything after -- as positional, even things that look like flags', () => {
    const p = parseArgs(['--wait', '--', '--to', '-r', 'x'], { wait: { type: 'boolean' }, to: { type: 'string' } })
    expect(p.flags).toEqual({ wait: true, to: undefined })
    expect(p.positional).toEqual(['--to', '-r', 'x'])
  })

  it('keeps the last value of a repeated flag', () => {
    expect(parseArgs(['--limit', '1', '--limit', '2'], { limit: { type: 'int' } }).flags.limit).toBe(2)
  })

  it('accepts a value that starts with a single dash and lone dashes and negative numbers as positionals', () => {
    expect(parseArgs(['--to', '-x'], { to: { type: 'string' } }).flags.to).toBe('-x')
    expect(parseArgs(['-', '-5'], {}).positional).toEqual(['-', '-5'])
  })

  it('refuses unknown long and short flags with a usage error naming them', () => {
    expect(usageMessage(() => parseArgs(['--bogus'], { wait: { type: 'boolean' } }))).toBe('unknown option --bogus')
    expect(usageMessage(() => parseArgs(['--bogus=1'], {}))).toBe('unknown option --bogus')
    expect(usageMessage(() => parseArgs(['-x'], { recursive: { type: 'boolean', short: 'r' } }))).toBe('unknown option -x')
    expect(usageMessage(() => parseArgs(['-rf'], { recursive: { type: 'boolean', short: 'r' } }))).toBe('unknown option -rf')
  })

  it('refuses a missing value, whether the flag is last or followed by another flag', () => {
    expect(usageMessage(() => parseArgs(['--to'], { to: { type: 'string' } }))).toBe('--to needs a value')
    expect(usageMessage(() => parseArgs(['--to', '--wait'], { to: { type: 'string' }, wait: { type: 'boolean' } }))).toBe('--to needs a value')
  })

  it('accepts an explicitly empty value written as --name=', () => {
    expect(parseArgs(['--region='], { region: { type: 'string' } }).flags.region).toBe('')
  })

  it('refuses a value given to a boolean flag', () => {
    expect(usageMessage(() => parseArgs(['--wait=yes'], { wait: { type: 'boolean' } }))).toBe('--wait takes no value')
  })

  it('takes whole numbers only for int flags and enforces their bounds, naming the range', () => {
    const spec = { limit: { type: 'int', min: 1, max: 1000 } } as const
    expect(parseArgs(['--limit', '1000'], spec).flags.limit).toBe(1000)
    for (const bad of ['0', '1001', 'x', '1.5', '1e3', '-1', '0x10', ' 5', '']) {
      expect(usageMessage(() => parseArgs([`--limit=${bad}`], spec)), bad).toBe('--limit takes a whole number in 1..1000')
    }
    expect(usageMessage(() => parseArgs(['--version', 'x'], { version: { type: 'int', min: 0 } }))).toBe('--version takes a whole number of at least 0')
    expect(usageMessage(() => parseArgs(['--n', '99999999999999999'], { n: { type: 'int' } }))).toBe('--n takes a whole number')
  })

  it('takes non-negative decimals for number flags', () => {
    expect(parseArgs(['--storage-gb', '0.5'], { 'storage-gb': { type: 'number' } }).flags['storage-gb']).toBe(0.5)
    for (const bad of ['1e3', '.5', '5.', '-1', 'abc']) {
      expect(usageMessage(() => parseArgs(['--storage-gb', bad], { 'storage-gb': { type: 'number' } })), bad).toBe('--storage-gb takes a number')
    }
    expect(usageMessage(() => parseArgs(['--x', '2.5'], { x: { type: 'number', max: 2 } }))).toBe('--x takes a number of at most 2')
  })

  it('parses token amounts exactly once the decimals are known, and refuses malformed amounts at once', () => {
    const { flags } = parseArgs(['--price', '1.5'], { price: { type: 'tokens' } })
    expect(flags.price?.text).toBe('1.5')
    expect(flags.price?.planck(12)).toBe(1_500_000_000_000n)
    expect(flags.price?.planck(1)).toBe(15n)
    expect(usageMessage(() => flags.price?.planck(0))).toBe('--price: at most 0 decimals')
    for (const bad of ['-1', '1e3', 'abc', '1.2.3', '100000000000000000000']) {
      expect(usageMessage(() => parseArgs(['--price', bad], { price: { type: 'tokens' } })), bad).toBe(`--price: not an amount: ${bad}`)
    }
  })

  it('makes usage errors DatdotErrors with INVALID_ARGUMENT so other catchers still see a code', () => {
    let caught: unknown
    try { parseArgs(['--nope'], {}) } catch (err) { caught = err }
    expect(caught).toBeInstanceOf(DatdotError)
    expect((caught as DatdotError).code).toBe('INVALID_ARGUMENT')
    expect(USAGE_EXIT_CODE).toBe(2)
  })
})

describe('the global options of every command', () => {
  it('takes --storage, --json and --help out of argv wherever they are and keeps the rest in order', () => {
    const g = parseGlobalArgs(['ls', '--storage', '/tmp/a', 'hyper://x', '--json', '-r', '-h'])
    expect(g).toEqual({ storage: '/tmp/a', json: true, help: true, version: false, rest: ['ls', 'hyper://x', '-r'] })
    expect(parseGlobalArgs(['--storage=/tmp/b', 'status']).storage).toBe('/tmp/b')
  })

  it('reads --version before the command name as the app version and after it as the command flag', () => {
    expect(parseGlobalArgs(['--version']).version).toBe(true)
    const g = parseGlobalArgs(['ls', '--version', '3'])
    expect(g.version).toBe(false)
    expect(g.rest).toEqual(['ls', '--version', '3'])
  })

  it('leaves everything after -- to the command', () => {
    const g = parseGlobalArgs(['rm', '--', '--json'])
    expect(g.json).toBe(false)
    expect(g.rest).toEqual(['rm', '--', '--json'])
  })

  it('refuses --storage without a folder', () => {
    for (const argv of [['--storage'], ['--storage='], ['--storage', '--json', 'status']]) {
      expect(usageMessage(() => parseGlobalArgs(argv)), argv.join(' ')).toBe('--storage needs a folder')
    }
  })
})

describe('the hosting and chain commands on bad arguments', () => {
  const cases: Array<[string, () => Promise<number>, RegExp]> = []
  const { ctx, calls } = recordingContext()
  cases.push(
    ['seed sideways', async () => await hostingCommands.seed.run(['sideways'], ctx), /seed takes on or off/],
    ['seed on --storage-gb lots', async () => await hostingCommands.seed.run(['on', '--storage-gb', 'lots'], ctx), /--storage-gb takes a number/],
    ['seed on --storage-mb 5', async () => await hostingCommands.seed.run(['on', '--storage-mb', '5'], ctx), /unknown option --storage-mb/],
    ['sponsor', async () => await hostingCommands.sponsor.run(['--price', '1'], ctx), /needs a hyper:\/\/ link/],
    ['sponsor LINK', async () => await hostingCommands.sponsor.run(['hyper://k'], ctx), /needs --price/],
    ['sponsor LINK --price abc', async () => await hostingCommands.sponsor.run(['hyper://k', '--price', 'abc'], ctx), /--price: not an amount/],
    ['sponsor LINK --replicas 9', async () => await hostingCommands.sponsor.run(['hyper://k', '--price', '1', '--replicas', '9'], ctx), /--replicas takes a whole number in 1\.\.8/],
    ['unpublish x', async () => await hostingCommands.unpublish.run(['x'], ctx), /needs a plan number/],
    ['unpublish 1e2', async () => await hostingCommands.unpublish.run(['1e2'], ctx), /needs a plan number/],
    ['jobs --all', async () => await hostingCommands.jobs.run(['--all'], ctx), /unknown option --all/],
    ['proofs --limit 0', async () => await hostingCommands.proofs.run(['--limit', '0'], ctx), /--limit takes a whole number in 1\.\.1000/],
    ['wallet --faucet', async () => await chainCommands.wallet.run(['--faucet'], ctx), /--faucet needs a value/],
    ['wallet --faucet 1.2.3', async () => await chainCommands.wallet.run(['--faucet', '1.2.3'], ctx), /--faucet: not an amount/],
    ['ledger --limit 0', async () => await chainCommands.ledger.run(['--limit', '0'], ctx), /1\.\.1000/],
    ['chain --port 70000', async () => await chainCommands.chain.run(['--port', '70000'], ctx), /--port takes a whole number in 0\.\.65535/]
  )

  it('throw usage errors (exit code 2) before they call the daemon', async () => {
    for (const [name, run, message] of cases) {
      const err = await run().then(() => null, (e: unknown) => e)
      expect(err, name).toBeInstanceOf(UsageError)
      expect((err as Error).message, name).toMatch(message)
    }
    expect(calls).toEqual([])
  })
})
