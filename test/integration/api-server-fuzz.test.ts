/**
 * Property-based fuzzing of the loopback API (fast-check): arbitrary JSON values, random
 * strings and near-miss call shapes at an authenticated WebSocket, and arbitrary methods,
 * paths, headers and bodies at the HTTP API. Every answer must be a well-formed reply (a
 * known error code with the matching HTTP status, never INTERNAL or 500), and the daemon must
 * still answer a normal call afterwards. Run counts are bounded so this takes seconds.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { request } from 'node:http'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import WebSocket from 'ws'
import { TempDirs, startEngine } from '../helpers/engines.js'
import { waitFor } from '../helpers/wait.js'
import type { Engine } from '../../main/engine/engine.js'
import { ApiServer, statusFor } from '../../main/server/server.js'
import { createHandlers } from '../../main/api/handlers.js'
import { isErrorCode } from '../../main/shared/errors.js'

interface Reply { status: number, body: string }
interface WsMessage { id?: unknown, event?: string, result?: unknown, error?: { code?: unknown, message?: unknown } }

/** Read-only methods the fuzzer may name correctly: a call to one may succeed. */
const READ_ONLY = ['getVault', 'getStatus', 'listFiles', 'stat', 'listJobs', 'listFollows']

function http (port: number, opts: { method: string, path: string, headers: Record<string, string>, body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, method: opts.method, path: opts.path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** The message as a JSON object, or null when it is not one. */
function parsedObject (text: string): { id?: unknown, method?: unknown } | null {
  let v: unknown
  try { v = JSON.parse(text) } catch { return null }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : null
}

function expectWellFormedError (error: WsMessage['error'], context: string): void {
  expect(isErrorCode(error?.code), `${context}: error code ${String(error?.code)}`).toBe(true)
  expect(error?.code, context).not.toBe('INTERNAL')
  expect(typeof error?.message, context).toBe('string')
}

describe('the loopback API under fuzzing', () => {
  const tmp = new TempDirs()
  let engine: Engine
  let server: ApiServer
  let token: string

  beforeAll(async () => {
    const storage = await tmp.make()
    engine = await startEngine(null, storage)
    const staticDir = await tmp.make()
    await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>DatDot</title>')
    server = new ApiServer({ engine, handlers: createHandlers(engine), storage, staticDir, bodyIdleMs: 2000 })
    await server.ready()
    token = server.token
  })

  afterAll(async () => {
    await server?.close()
    await engine?.close()
    await tmp.cleanup()
  })

  it('answers every WebSocket message, whatever its shape, with one well-formed reply and keeps serving', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws`, ['datdot.v1', 'token.' + token])
    const replies: WsMessage[] = []
    ws.on('message', (raw: Buffer) => {
      const m = JSON.parse(raw.toString()) as WsMessage
      if (m.event === undefined) replies.push(m)
    })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const nextReply = async (): Promise<WsMessage> => {
      await waitFor([ws], () => replies.length > 0 || ws.readyState !== ws.OPEN, 'a WebSocket reply', 10_000)
      expect(ws.readyState, 'the socket stays open').toBe(ws.OPEN)
      return replies.shift()!
    }

    const message = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc.record({
        id: fc.oneof(fc.integer(), fc.jsonValue()),
        method: fc.oneof(fc.constantFrom(...READ_ONLY), fc.string({ maxLength: 30 }), fc.jsonValue()),
        args: fc.jsonValue()
      }, { requiredKeys: [] }).map((o) => JSON.stringify(o))
    )
    await fc.assert(fc.asyncProperty(message, async (text) => {
      ws.send(text)
      const reply = await nextReply()
      const sent = parsedObject(text)
      const hasId = sent !== null && Number.isSafeInteger(sent.id)
      const callable = hasId && typeof sent.method === 'string'
      expect(reply.id, text).toBe(hasId ? sent.id : null)
      if (reply.error === undefined) {
        // Only a call of a real read-only method may succeed.
        expect(callable && READ_ONLY.includes(sent.method as string), text).toBe(true)
      } else {
        expectWellFormedError(reply.error, text)
      }
    }), { numRuns: 1000 })

    ws.send(JSON.stringify({ id: 1, method: 'getVault', args: {} }))
    expect((await nextReply()).result).toMatchObject({ key: engine.vault.id })
    ws.close()
  })

  it('answers arbitrary HTTP methods, paths, headers and bodies with well-formed replies and keeps serving', async () => {
    const own = `http://127.0.0.1:${server.port}`
    const pathChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c))
    const request = fc.record({
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      path: fc.tuple(
        fc.constantFrom('/', '/api/', '/api/call/', '/api/upload/', '/api/download/', '/api/ws', '/%', '/api/call/%E0%A4%A'),
        fc.string({ unit: pathChar, maxLength: 40 })
      ).map(([prefix, rest]) => prefix + rest),
      authorized: fc.boolean(),
      origin: fc.constantFrom(undefined, own, 'http://evil.example', 'null'),
      body: fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v) ?? ''), fc.string({ maxLength: 200 }))
    })
    await fc.assert(fc.asyncProperty(request, async (r) => {
      const headers: Record<string, string> = {}
      if (r.authorized) headers.Authorization = `Bearer ${token}`
      if (r.origin !== undefined) headers.Origin = r.origin
      const withBody = r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH'
      const reply = await http(server.port, { method: r.method, path: r.path, headers, body: withBody ? r.body : undefined })
      const context = `${r.method} ${r.path} -> ${reply.status} ${reply.body.slice(0, 200)}`
      expect(reply.status, context).not.toBe(500)
      if (reply.status < 400) {
        // Only the static UI answers without the token.
        expect(r.method === 'GET' || r.method === 'HEAD', context).toBe(true)
        expect(r.path.startsWith('/api/'), context).toBe(false)
        return
      }
      if (r.method === 'HEAD') return // no body
      const { error } = JSON.parse(reply.body) as { error: WsMessage['error'] }
      expectWellFormedError(error, context)
      expect(reply.status, context).toBe(statusFor(error!.code as string))
    }), { numRuns: 500 })

    const ok = await http(server.port, { method: 'POST', path: '/api/call/getVault', headers: { Authorization: `Bearer ${token}` }, body: '{}' })
    expect(ok.status).toBe(200)
    expect((JSON.parse(ok.body) as { result: { key: string } }).result.key).toBe(engine.vault.id)
  })
})
