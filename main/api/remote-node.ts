/**
 * Calls another DatDot daemon's HTTP API (POST /api/call/<method>, Bearer token) for the
 * several-nodes dashboard. The other node is not trusted: its answer is read up to a size limit,
 * must be JSON of the API's shape and is validated with the method's result schema; anything else
 * is a PROTOCOL_ERROR, no answer in time is a TIMEOUT, a refused connection is UNREACHABLE, and an
 * error it sends back keeps its code with its message cut short.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { z } from 'zod'
import { methods, type MethodName, type Result } from '../shared/contract.js'
import { NODE_LIMITS } from '../shared/contract-nodes.js'
import { DatdotError, reviveError, type SerializedError } from '../shared/errors.js'
import { formatIssues } from './dispatch.js'

/** Calls one method of a node; what the dashboard needs, whether the node is this one or another. */
export type NodeCaller = <M extends MethodName>(method: M, args: Record<string, unknown>) => Promise<Result<M>>

/** The canonical form of a node's URL (scheme, host, port), or INVALID_ARGUMENT saying what is wrong. */
export function normaliseNodeUrl (input: string): string {
  let url: URL
  try {
    url = new URL(input.trim())
  } catch {
    throw DatdotError.invalidArgument('The node URL is not a URL: write it as http://host:port (the address its daemon prints)')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw DatdotError.invalidArgument('The node URL must start with http:// or https://')
  if (url.username !== '' || url.password !== '') throw DatdotError.invalidArgument('The node URL must not carry a user name or password: the token goes in its own field')
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw DatdotError.invalidArgument('The node URL is only http://host:port, without a path, query or #fragment')
  }
  return url.origin
}

export interface RemoteCallOptions {
  timeoutMs: number
}

/** A NodeCaller for the daemon at `origin` (from normaliseNodeUrl) holding `token`. */
export function remoteCaller (origin: string, token: string, opts: RemoteCallOptions): NodeCaller {
  return async (method, args) => {
    const body = await post(origin, `/api/call/${encodeURIComponent(method)}`, token, Buffer.from(JSON.stringify(args)), opts.timeoutMs)
    return parseAnswer(origin, method, body)
  }
}

function parseAnswer<M extends MethodName> (origin: string, method: M, body: { status: number, text: string }): Result<M> {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.text)
  } catch {
    throw DatdotError.protocolError(`${origin} answered ${method} with something that is not JSON (HTTP ${body.status}): is it a DatDot daemon?`)
  }
  if (typeof parsed !== 'object' || parsed === null) throw DatdotError.protocolError(`${origin} answered ${method} with ${typeof parsed}, not DatDot's answer`)
  const answer = parsed as { result?: unknown, error?: unknown }
  if (answer.error !== undefined) {
    const e = answer.error as { code?: unknown, message?: unknown }
    if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || typeof e.message !== 'string') {
      throw DatdotError.protocolError(`${origin} answered ${method} with a malformed error`)
    }
    const err = reviveError({ code: e.code as SerializedError['code'], message: cut(e.message) })
    if (err.code === 'UNAUTHORIZED') throw DatdotError.invalidArgument(`${origin} refused the token: copy it again from that node (its Nodes page, or its api-token file)`)
    throw err
  }
  const schema = methods[method].result as z.ZodType
  const result = schema.safeParse(answer.result)
  if (!result.success) throw DatdotError.protocolError(`${origin} answered ${method} with an unexpected shape (another DatDot version?): ${formatIssues(result.error)}`)
  return result.data as Result<M>
}

function post (origin: string, path: string, token: string, body: Buffer, timeoutMs: number): Promise<{ status: number, text: string }> {
  const url = new URL(path, origin)
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    let settled = false
    const done = (err: Error | null, value?: { status: number, text: string }): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (err) reject(err)
      else resolve(value as { status: number, text: string })
    }
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, Authorization: `Bearer ${token}` }
    }, (res) => { readLimited(res, origin).then((text) => done(null, { status: res.statusCode ?? 0, text }), (err: Error) => done(err)) })
    const timer = setTimeout(() => {
      done(DatdotError.timeout(`${origin} (${path.slice('/api/call/'.length)})`, timeoutMs))
      req.destroy()
    }, timeoutMs)
    req.on('error', (err: NodeJS.ErrnoException) => {
      done(DatdotError.unreachable(origin, err.code === 'ECONNREFUSED' ? 'nothing listens there (is its daemon running?)' : (err.code ?? err.message), err))
    })
    req.end(body)
  })
}

function readLimited (res: IncomingMessage, origin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let bytes = 0
    res.on('data', (c: Buffer) => {
      bytes += c.length
      if (bytes > NODE_LIMITS.answerBytes) {
        res.destroy()
        reject(DatdotError.protocolError(`${origin} sent an answer over ${NODE_LIMITS.answerBytes} bytes`))
        return
      }
      chunks.push(c)
    })
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    res.on('error', reject)
  })
}

function cut (s: string): string {
  return s.length > 300 ? s.slice(0, 297) + '...' : s
}
