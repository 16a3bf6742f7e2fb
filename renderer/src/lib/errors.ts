/**
 * The one place where the renderer turns a failure into something the user sees.
 *
 * Errors from the engine arrive as `{ code, message }` (over the WebSocket, revived with
 * reviveError; through Electron's IPC, as whatever preload rethrows). `toApiError` normalises
 * anything thrown into `{ code, message }`; `handleError` shows it as a toast, with a hint for
 * the codes where the user can do something about it.
 */
import { toasts } from './toasts.svelte.js'
import { hintFor, linkFieldMessage, toApiError, type ApiError } from './api-error.js'

export { hintFor, linkFieldMessage, toApiError, type ApiError }

/** Shows an error to the user. Returns the normalised error, for callers that also show it inline. */
export function handleError (err: unknown, context?: string): ApiError {
  const e = toApiError(err)
  if (e.code === 'CANCELLED') {
    toasts.info(context ? `${context}: cancelled` : 'Cancelled')
    return e
  }
  toasts.error(context ? `${context}: ${e.message}` : e.message, { code: e.code, hint: hintFor(e.code) })
  return e
}

/** Runs an action and reports its failure; resolves to undefined if it failed. */
export async function attempt<T> (action: () => Promise<T>, context?: string): Promise<T | undefined> {
  try {
    return await action()
  } catch (err) {
    handleError(err, context)
    return undefined
  }
}
