/**
 * Every error the engine throws on purpose is a DatdotError with a stable code.
 * Codes cross the API boundary (IPC, WebSocket, CLI exit messages), so they are
 * part of the contract: add new ones, never rename.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'INVALID_LINK',
  'INVALID_PATH',
  'NOT_FOUND',
  'UNKNOWN_DRIVE',
  'ALREADY_EXISTS',
  'NOT_A_FILE',
  'NOT_A_FOLDER',
  'DISK_FULL',
  'SOURCE_CHANGED',
  'SOURCE_VANISHED',
  'TOO_LARGE',
  'LIMIT_REACHED',
  'CANCELLED',
  'CLOSED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'DAEMON_NOT_RUNNING',
  'CORRUPT',
  'CHAIN_ERROR',
  'LEDGER_INVARIANT',
  'INTERNAL',
  'PROOF_FAILED',
  'TIMEOUT',
  'PROTOCOL_ERROR',
  'INSUFFICIENT_FUNDS',
  'UNREACHABLE'
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export class DatdotError extends Error {
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor (code: ErrorCode, message: string, details?: Record<string, unknown>, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'DatdotError'
    this.code = code
    this.details = details
  }

  toJSON (): SerializedError {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) }
  }

  static invalidArgument (message: string, details?: Record<string, unknown>): DatdotError {
    return new DatdotError('INVALID_ARGUMENT', message, details)
  }

  static invalidLink (input: string, why: string): DatdotError {
    return new DatdotError('INVALID_LINK', `Not a valid DatDot link (${why}): ${preview(input)}`, { input: preview(input) })
  }

  static invalidPath (input: string, why: string): DatdotError {
    return new DatdotError('INVALID_PATH', `Invalid path (${why}): ${preview(input)}`, { input: preview(input) })
  }

  static notFound (what: string): DatdotError {
    return new DatdotError('NOT_FOUND', `Not found: ${preview(what)}`)
  }

  /** Following a link to a drive already followed (under the name or label given). */
  static alreadyFollowed (label: string): DatdotError {
    return new DatdotError('ALREADY_EXISTS', `You already follow this drive, as "${preview(label)}"`, { label })
  }

  static unknownDrive (key: string): DatdotError {
    return new DatdotError('UNKNOWN_DRIVE', `Unknown drive: ${preview(key)} (follow it first)`)
  }

  /** A name that is taken (a folder in its parent, an app among the apps): `message` says which, and what to do. */
  static nameTaken (message: string, details?: Record<string, unknown>): DatdotError {
    return new DatdotError('ALREADY_EXISTS', message, details)
  }

  static alreadyExists (what: string): DatdotError {
    return new DatdotError('ALREADY_EXISTS', `Already exists: ${preview(what)}`)
  }

  /** Something that runs once per node is running already; `hint` says how to start it again. */
  static alreadyRunning (what: string, hint: string): DatdotError {
    return new DatdotError('ALREADY_EXISTS', `${what} already run on this node: ${hint}`)
  }

  static notAFile (path: string): DatdotError {
    return new DatdotError('NOT_A_FILE', `Not a file: ${preview(path)}`)
  }

  static notAFolder (path: string): DatdotError {
    return new DatdotError('NOT_A_FOLDER', `Not a folder: ${preview(path)}`)
  }

  static diskFull (neededBytes: number, freeBytes: number): DatdotError {
    return new DatdotError('DISK_FULL',
      `Not enough disk space: need ${formatBytes(neededBytes)}, ${formatBytes(freeBytes)} free`,
      { neededBytes, freeBytes })
  }

  static sourceVanished (path: string, cause?: unknown): DatdotError {
    return new DatdotError('SOURCE_VANISHED', `Source file disappeared during import: ${preview(path)}`, undefined, cause)
  }

  static sourceChanged (path: string): DatdotError {
    return new DatdotError('SOURCE_CHANGED', `Source file changed size during import: ${preview(path)}`)
  }

  static tooLarge (what: string, limit: number): DatdotError {
    return new DatdotError('TOO_LARGE', `${what} is over the limit of ${limit}`, { limit })
  }

  static limitReached (what: string, limit: number): DatdotError {
    return new DatdotError('LIMIT_REACHED', `Limit reached: at most ${limit} ${what}`, { limit })
  }

  static cancelled (what = 'operation'): DatdotError {
    return new DatdotError('CANCELLED', `Cancelled: ${what}`)
  }

  static closed (what = 'engine'): DatdotError {
    return new DatdotError('CLOSED', `The ${what} is closed`)
  }

  static unauthorized (): DatdotError {
    return new DatdotError('UNAUTHORIZED', 'Missing or wrong API token')
  }

  /**
   * A followed drive that cannot be read: it is encrypted and was followed without its read key
   * ('needs-key'), or the read key in its link does not open it ('wrong-key'). Never shows the key.
   */
  static encryptedDrive (drive: string, reason: 'needs-key' | 'wrong-key'): DatdotError {
    const why = reason === 'needs-key'
      ? 'this drive is encrypted: the link needs its read key (hyper://KEY#key=READKEY); follow the link with its key'
      : 'the read key in the link does not open this drive (a wrong key, or the drive is not encrypted)'
    return new DatdotError('FORBIDDEN', `Cannot read drive ${preview(drive)}: ${why}`, { drive: preview(drive), reason })
  }

  static forbidden (why: string): DatdotError {
    return new DatdotError('FORBIDDEN', `Forbidden: ${why}`)
  }

  static daemonNotRunning (storage: string): DatdotError {
    return new DatdotError('DAEMON_NOT_RUNNING', `No daemon is running for ${storage} (start one with: datdot daemon --storage ${storage})`)
  }

  static corrupt (what: string, cause?: unknown): DatdotError {
    return new DatdotError('CORRUPT', `Corrupt data: ${what}`, undefined, cause)
  }

  /** The chain refused a transaction this account cannot pay for (Substrate's 1010 "payment" refusal). */
  static insufficientFunds (details?: Record<string, unknown>, cause?: unknown): DatdotError {
    return new DatdotError('INSUFFICIENT_FUNDS', 'Your wallet has no tokens to pay the transaction fee. On a local dev chain get dev tokens ("Get dev tokens" on the Hosting page, or datdot wallet --faucet 10); on another chain send tokens to this node\'s address.', { why: 'insufficient-funds', ...details }, cause)
  }

  static chain (message: string, cause?: unknown): DatdotError {
    return new DatdotError('CHAIN_ERROR', message, undefined, cause)
  }

  /**
   * The configured network is not the one this chain holds: details.why is 'wrong-chain' (another
   * genesis), 'no-network-record' (the given block holds no valid network record) or
   * 'other-network' (this node already follows a network record of another block).
   */
  static wrongNetwork (why: 'wrong-chain' | 'no-network-record' | 'other-network', message: string, details?: Record<string, unknown>): DatdotError {
    return new DatdotError('CHAIN_ERROR', message, { ...details, why })
  }

  static ledgerInvariant (message: string, details?: Record<string, unknown>): DatdotError {
    return new DatdotError('LEDGER_INVARIANT', `Ledger invariant violated: ${message}`, details)
  }

  /** A storage proof, encoding or merkle proof did not verify; details.reason says which check failed. */
  static proofFailed (reason: string, message: string, details?: Record<string, unknown>): DatdotError {
    return new DatdotError('PROOF_FAILED', `Proof failed (${reason}): ${message}`, { ...details, reason })
  }

  static timeout (what: string, timeoutMs: number): DatdotError {
    return new DatdotError('TIMEOUT', `Timed out after ${timeoutMs} ms: ${what}`, { timeoutMs })
  }

  /** A peer broke the wire protocol (oversized, malformed or unexpected message). */
  static protocolError (message: string, details?: Record<string, unknown>): DatdotError {
    return new DatdotError('PROTOCOL_ERROR', `Protocol error: ${message}`, details)
  }

  /** Another daemon (the several-nodes dashboard) did not answer: refused, no route, or no answer in time. */
  static unreachable (what: string, why: string, cause?: unknown): DatdotError {
    return new DatdotError('UNREACHABLE', `${preview(what)} is not reachable: ${why}`, undefined, cause)
  }

  static internal (message: string, cause?: unknown): DatdotError {
    return new DatdotError('INTERNAL', message, undefined, cause)
  }

  /** Turns anything thrown into a DatdotError; unknown errors become INTERNAL, ENOSPC becomes DISK_FULL. */
  static from (err: unknown): DatdotError {
    if (err instanceof DatdotError) return err
    const e = err as { code?: unknown, message?: string } | undefined
    if (e?.code === 'ENOSPC') return new DatdotError('DISK_FULL', 'The disk is full', undefined, err)
    const message = e?.message ?? String(err)
    return new DatdotError('INTERNAL', message, undefined, err)
  }
}

export interface SerializedError {
  code: ErrorCode
  message: string
  details?: Record<string, unknown>
}

export function isErrorCode (code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)
}

/** Rebuilds a DatdotError on the client side of the API. */
export function reviveError (e: SerializedError): DatdotError {
  return new DatdotError(isErrorCode(e.code) ? e.code : 'INTERNAL', e.message, e.details)
}

function preview (s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters (to escape them) is the point
  const clean = String(s).replace(/[\u0000-\u001f\u007f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'))
  return clean.length > 120 ? clean.slice(0, 117) + '...' : clean
}

export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}
