/**
 * One place where a call from outside (IPC, WebSocket, HTTP) meets a handler:
 * the method name is checked against the contract and the caller's exposure, the
 * arguments are validated and defaulted with the method's schema, and errors come
 * back as { code, message } whatever was thrown.
 */
import { z } from 'zod'
import { methods, isMethodName, isExposed, type Exposure, type Handlers } from '../shared/contract.js'
import { DatdotError, type SerializedError } from '../shared/errors.js'

export type AnyHandlers = Partial<Handlers>

export type CallOutcome = { ok: true, result: unknown } | { ok: false, error: SerializedError }

export async function dispatch (handlers: AnyHandlers, name: unknown, rawArgs: unknown, exposure: Exposure): Promise<unknown> {
  if (!isMethodName(name)) throw DatdotError.invalidArgument(`Unknown method: ${String(name).slice(0, 64)}`)
  if (!isExposed(name, exposure)) throw DatdotError.forbidden(`${name} cannot be called over ${exposure}`)
  const handler = handlers[name] as ((args: unknown) => Promise<unknown>) | undefined
  if (!handler) throw DatdotError.forbidden(`${name} is not available here`)
  const schema = methods[name].args as z.ZodType
  const parsed = schema.safeParse(rawArgs ?? {})
  if (!parsed.success) {
    throw DatdotError.invalidArgument(`Invalid arguments for ${name}: ${formatIssues(parsed.error)}`)
  }
  return await handler(parsed.data)
}

/** Like dispatch, but never throws: the outcome is ready to be sent over a wire. */
export async function dispatchSafe (handlers: AnyHandlers, name: unknown, rawArgs: unknown, exposure: Exposure): Promise<CallOutcome> {
  try {
    return { ok: true, result: await dispatch(handlers, name, rawArgs, exposure) }
  } catch (err) {
    return { ok: false, error: DatdotError.from(err).toJSON() }
  }
}

export function formatIssues (error: z.ZodError): string {
  return error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join('.') : '(arguments)'}: ${i.message}`).join('; ')
}
