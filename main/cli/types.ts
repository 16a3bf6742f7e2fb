/**
 * How a `datdot` sub-command is written. main/cli/index.ts parses global options
 * (--storage, --json, --help), finds the command and runs it. A command parses its own argv
 * with parseArgs (main/cli/args.ts) and returns its exit code; it throws a UsageError for a
 * usage mistake (message plus usage line, exit code 2) or a DatdotError for a one-line error
 * message (exit code 1).
 */
import type { Args, MethodName, Result } from '../shared/contract.js'

export interface CliContext {
  /** Absolute storage folder (from --storage, DATDOT_STORAGE or the OS default). */
  storage: string
  /** --json was given: print machine-readable JSON only. */
  json: boolean
  /** Calls a method on the daemon running for `storage` (throws DAEMON_NOT_RUNNING if none). */
  call: <M extends MethodName>(method: M, args: Args<M>) => Promise<Result<M>>
  /** Writes one line (or a JSON value when json is set) to stdout. */
  print: (value: unknown) => void
  /** Writes one line to stderr. */
  warn: (line: string) => void
  /** Resolves when the user presses Ctrl-C (for long-running commands). */
  interrupted: Promise<void>
}

export interface CliCommand {
  /** One line for `datdot --help`. */
  summary: string
  /** Usage line(s) without the leading `datdot `, e.g. 'chain [--port N]'. */
  usage: string
  /** argv after the command name, with global options removed. */
  run: (argv: string[], ctx: CliContext) => Promise<number>
}
