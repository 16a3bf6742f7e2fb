/**
 * The one argument parser of every `datdot` command. A command declares its flags as typed
 * specs and gets typed values back:
 *
 *   const { positional, flags } = parseArgs(argv, {
 *     limit: { type: 'int', min: 1, max: 1000, default: 100 },   // number
 *     to: { type: 'string' },                                     // string | undefined
 *     recursive: { type: 'boolean', short: 'r' },                 // boolean
 *     price: { type: 'tokens' }                                   // TokenAmount | undefined
 *   })
 *
 * It accepts `--name value`, `--name=value`, boolean `--flag`, declared short flags (`-r`) and
 * `--` (everything after it is positional). An unknown flag, a missing or malformed value, or a
 * value given to a boolean flag throws a UsageError: main/cli/index.ts prints it with the
 * command's usage line and exits with USAGE_EXIT_CODE (2), the same for every command.
 */
import { DatdotError } from '../shared/errors.js'
import { parseTokens } from '../shared/tokens.js'

/** The exit code of every usage error (bad flags, missing arguments), like most CLIs. */
export const USAGE_EXIT_CODE = 2

/** A mistake in how a command was called (not a failure of the command itself). */
export class UsageError extends DatdotError {
  constructor (message: string) {
    super('INVALID_ARGUMENT', message)
    this.name = 'UsageError'
  }
}

export function usage (message: string): UsageError {
  return new UsageError(message)
}

// ---------------------------------------------------------------- token amounts

/**
 * A token amount as typed ("1.5"), checked for its form when parsed. The chain's decimals are
 * often known only later (from the daemon), so the exact planck value comes from `planck`.
 */
export interface TokenAmount {
  readonly text: string
  /** Exact planck for a chain with `decimals` decimals; a UsageError when it has more. */
  planck: (decimals: number) => bigint
}

const MAX_DECIMALS = 40

function tokenAmount (flag: string, text: string): TokenAmount {
  try {
    parseTokens(text, MAX_DECIMALS)
  } catch (err) {
    throw usage(`${flag}: ${(err as Error).message}`)
  }
  return {
    text,
    planck: (decimals) => {
      try {
        return parseTokens(text, decimals)
      } catch (err) {
        throw usage(`${flag}: ${(err as Error).message}`)
      }
    }
  }
}

// ---------------------------------------------------------------- flag specs

export interface BooleanFlag { readonly type: 'boolean', readonly short?: string }
export interface StringFlag { readonly type: 'string', readonly short?: string, readonly default?: string }
/** A whole number (digits only), optionally bounded. */
export interface IntFlag { readonly type: 'int', readonly min?: number, readonly max?: number, readonly default?: number }
/** A non-negative decimal number ("0.5"), optionally bounded. */
export interface NumberFlag { readonly type: 'number', readonly min?: number, readonly max?: number, readonly default?: number }
/** A token amount ("1.5"), exact: see TokenAmount. */
export interface TokensFlag { readonly type: 'tokens' }

export type FlagSpec = BooleanFlag | StringFlag | IntFlag | NumberFlag | TokensFlag
export type FlagSpecs = Readonly<Record<string, FlagSpec>>

export type FlagValue<F extends FlagSpec> =
  F extends BooleanFlag ? boolean
    : F extends StringFlag ? (F extends { default: string } ? string : string | undefined)
      : F extends IntFlag | NumberFlag ? (F extends { default: number } ? number : number | undefined)
        : F extends TokensFlag ? TokenAmount | undefined
          : never

export type FlagValues<S extends FlagSpecs> = { -readonly [K in keyof S]: FlagValue<S[K]> }

export interface ParsedArgs<S extends FlagSpecs> {
  positional: string[]
  flags: FlagValues<S>
}

function range (min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` in ${min}..${max}`
  if (min !== undefined) return ` of at least ${min}`
  if (max !== undefined) return ` of at most ${max}`
  return ''
}

function convert (flag: string, spec: Exclude<FlagSpec, BooleanFlag>, text: string): string | number | TokenAmount {
  switch (spec.type) {
    case 'string':
      return text
    case 'tokens':
      return tokenAmount(flag, text)
    case 'int':
    case 'number': {
      const form = spec.type === 'int' ? /^\d{1,16}$/ : /^\d{1,16}(\.\d{1,16})?$/
      const n = Number(text)
      const ok = form.test(text) && Number.isFinite(n) && (spec.type === 'number' || Number.isSafeInteger(n)) &&
        (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max)
      if (!ok) throw usage(`${flag} takes a ${spec.type === 'int' ? 'whole number' : 'number'}${range(spec.min, spec.max)}`)
      return n
    }
  }
}

/**
 * Parses a command's argv (global options already removed) against its flag specs. Flags may
 * come before, between or after positional arguments; a repeated flag keeps its last value.
 */
export function parseArgs<const S extends FlagSpecs> (argv: readonly string[], specs: S): ParsedArgs<S> {
  const positional: string[] = []
  const values: Record<string, unknown> = {}
  const shorts = new Map<string, string>()
  for (const [name, spec] of Object.entries(specs)) {
    if ((spec.type === 'boolean' || spec.type === 'string') && spec.short !== undefined) shorts.set(spec.short, name)
  }
  const set = (name: string, flag: string, inline: string | undefined, next: () => string | undefined): void => {
    const spec = specs[name]
    if (spec === undefined) throw usage(`unknown option ${preview(flag)}`)
    if (spec.type === 'boolean') {
      if (inline !== undefined) throw usage(`${flag} takes no value`)
      values[name] = true
      return
    }
    const v = inline ?? next()
    if (v === undefined || (inline === undefined && v.startsWith('--'))) throw usage(`${flag} needs a value`)
    values[name] = convert(flag, spec, v)
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = (): string | undefined => argv[++i]
    if (a === '--') { positional.push(...argv.slice(i + 1)); break }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      const name = eq === -1 ? a.slice(2) : a.slice(2, eq)
      set(name, `--${name}`, eq === -1 ? undefined : a.slice(eq + 1), next)
    } else if (/^-[A-Za-z]/.test(a)) {
      const name = a.length === 2 ? shorts.get(a.slice(1)) : undefined
      if (name === undefined) throw usage(`unknown option ${preview(a)}`)
      set(name, a, undefined, next)
    } else {
      positional.push(a)
    }
  }
  const flags: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(specs)) {
    flags[name] = values[name] ?? (spec.type === 'boolean' ? false : spec.type === 'tokens' ? undefined : spec.default)
  }
  return { positional, flags: flags as FlagValues<S> }
}

function preview (s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '…' : s
}

// ---------------------------------------------------------------- global options

export interface GlobalArgs {
  storage: string | undefined
  json: boolean
  help: boolean
  /** --version before the command name: print the app version. */
  version: boolean
  /** The command name and its own arguments. */
  rest: string[]
}

/**
 * Takes the options every command accepts out of argv: `--storage DIR` and `--json`, `--help`
 * and `-h` anywhere before a `--`, and `--version` before the command name (after it, it is the
 * command's own flag, e.g. `ls --version N`).
 */
export function parseGlobalArgs (argv: readonly string[]): GlobalArgs {
  const g: GlobalArgs = { storage: undefined, json: false, help: false, version: false, rest: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') { g.rest.push(...argv.slice(i)); break }
    if (a === '--storage' || a.startsWith('--storage=')) {
      const v = a === '--storage' ? argv[++i] : a.slice('--storage='.length)
      if (v === undefined || v === '' || (a === '--storage' && v.startsWith('--'))) throw usage('--storage needs a folder')
      g.storage = v
    } else if (a === '--json') g.json = true
    else if (a === '--help' || a === '-h') g.help = true
    else if (a === '--version' && g.rest.length === 0) g.version = true
    else g.rest.push(a)
  }
  return g
}
