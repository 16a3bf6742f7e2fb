/**
 * Errors as the renderer shows them: `{ code, message }`, whatever transport threw them.
 * Over the WebSocket they arrive revived (reviveError); through Electron's contextBridge only
 * an Error's message survives, so preload writes "CODE: message" and this reads it back.
 * Pure (no state, no DOM), so it is unit-tested under Node.
 */
import { ERROR_CODES, type ErrorCode } from '../../../main/shared/errors.js'

export interface ApiError {
  code: ErrorCode
  message: string
}

const CODE_IN_TEXT = new RegExp(`\\b(${ERROR_CODES.join('|')})\\b[:\\]]?\\s*`)

export function toApiError (err: unknown): ApiError {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown, message?: unknown }
    // Without a message, what String() would say: the object's own toString, or its [object Tag].
    const message = typeof e.message === 'string' ? e.message : (err as { toString (): string }).toString()
    if (typeof e.code === 'string' && (ERROR_CODES as readonly string[]).includes(e.code)) {
      return { code: e.code as ErrorCode, message }
    }
    // Electron's ipcRenderer.invoke wraps errors as "Error invoking remote method 'x': Error: CODE: message".
    const stripped = message.replace(/^Error invoking remote method '[^']*': /, '').replace(/^\w*Error: /, '')
    const m = CODE_IN_TEXT.exec(stripped)
    if (m && m.index === 0) return { code: m[1] as ErrorCode, message: stripped.slice(m[0].length) || stripped }
    return { code: 'INTERNAL', message: stripped }
  }
  return { code: 'INTERNAL', message: String(err) }
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  INVALID_LINK: 'Check the link: it looks like hyper://… followed by 52 letters and digits.',
  DISK_FULL: 'Free some disk space, then try again.',
  CLOSED: 'The engine is not reachable; DatDot reconnects on its own.',
  UNAUTHORIZED: 'Open the address printed by `datdot daemon` again (it carries the access token).',
  DAEMON_NOT_RUNNING: 'Start it with `datdot daemon`.',
  ALREADY_EXISTS: 'Pick another name.',
  CHAIN_ERROR: 'The hosting network is not reachable.',
  INSUFFICIENT_FUNDS: 'On a local dev chain: "Get dev tokens" on the Hosting page.'
}

export function hintFor (code: ErrorCode): string | undefined {
  return HINTS[code]
}

/** What a malformed link is called in a form: what a link looks like, not the engine's key encodings. */
export const BAD_LINK_TEXT = 'That is not a DatDot link. A link starts with hyper:// followed by 52 letters and digits: ask for it again, and paste all of it.'

/** A failure as a form shows it under a link field: INVALID_LINK in plain words, anything else as the engine said it. */
export function linkFieldMessage (err: unknown): string {
  const e = toApiError(err)
  return e.code === 'INVALID_LINK' ? BAD_LINK_TEXT : e.message
}
