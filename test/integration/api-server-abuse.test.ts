/**
 * The loopback API against callers that misbehave: malformed WebSocket messages and URLs,
 * a client flooding download tickets, uploads that would fill the disk or stall, and a
 * WebSocket that sends thousands of calls and never reads the replies. The daemon must stay
 * up, answer with clear errors, lose nothing and keep its memory bounded.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import WebSocket, { type RawData } from 'ws'
import { TempDirs, startEngine } from '../helpers/engines.js'
import { waitFor } from '../helpers/wait.js'
import type { Engine } from '../../main/engine/engine.js'
import { ApiServer } from '../../main/server/server.js'
import { createHandlers } from '../../main/api/handlers.js'
import { DaemonClient } from '../../main/cli/client.js'

interface Reply { status: number, body: string }

/** A call's reply body: `result` on success, `error` (with its code) on failure. */
interface Body<T> { result: T, error: { code: string, message: string } }
function bodyOf<T = unknown> (r: Reply): Body<T> { return JSON.parse(r.body) as Body<T> }

/** A WebSocket frame's text, whatever form ws hands it in (one Buffer, fragments, an ArrayBuffer). */
function textOf (raw: RawData): string {
  return (Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw)).toString('utf8')
}
interface WsMessage { id?: number | null, event?: string, result?: unknown, error?: { code: string, message: string } }

const MiB = 1024 * 1024
const MAX_IN_FLIGHT = 8
const BODY_IDLE_MS = 400

function readReply (res: IncomingMessage): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
    res.on('error', reject)
  })
}

function http (port: number, opts: { method?: string, path: string, headers?: Record<string, string>, body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => { readReply(res).then(resolve, reject) })
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** A request whose body the test writes by hand (chunked: no Content-Length); `reply` settles with the answer. */
function streaming (port: number, method: string, path: string, headers: Record<string, string>): { req: ClientRequest, reply: Promise<Reply> } {
  const req = request({ host: '127.0.0.1', port, agent: false, method, path, headers })
  const reply = new Promise<Reply>((resolve, reject) => {
    req.on('response', (res) => { readReply(res).then(resolve, reject) })
    req.on('error', reject)
  })
  return { req, reply }
}

/** An authenticated WebSocket that collects every message it receives. */
async function openSocket (port: number, token: string, origin?: string): Promise<{ ws: WebSocket, messages: WsMessage[], next: () => Promise<WsMessage> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, ['datdot.v1', 'token.' + token], { headers: origin ? { Origin: origin } : {} })
  const messages: WsMessage[] = []
  let seen = 0
  ws.on('message', (raw) => { messages.push(JSON.parse(textOf(raw)) as WsMessage) })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  /** The next reply (events skipped), in arrival order. */
  const next = async (): Promise<WsMessage> => {
    const isReply = (m: WsMessage): boolean => m.event === undefined
    await waitFor([ws], () => messages.slice(seen).some(isReply) || ws.readyState !== ws.OPEN, 'a WebSocket reply', 20_000)
    while (seen < messages.length) {
      const m = messages[seen++]
      if (isReply(m)) return m
    }
    throw new Error(`the socket closed instead of replying (readyState ${ws.readyState})`)
  }
  return { ws, messages, next }
}

describe('the loopback API server against misbehaving callers', () => {
  const tmp = new TempDirs()
  let engine: Engine
  let server: ApiServer
  let storage: string
  let auth: Record<string, string>
  let origin: string
  let freeBytes = 1024 * 1024 * MiB

  beforeAll(async () => {
    storage = await tmp.make()
    engine = await startEngine(null, storage, { freeBytes: async () => freeBytes })
    const staticDir = await tmp.make()
    await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>DatDot</title>')
    server = new ApiServer({
      engine,
      handlers: createHandlers(engine),
      storage,
      staticDir,
      bodyIdleMs: BODY_IDLE_MS,
      maxInFlightPerSocket: MAX_IN_FLIGHT,
      maxWsBufferedBytes: 256 * 1024
    })
    await server.ready()
    auth = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' }
    origin = `http://127.0.0.1:${server.port}`
    // One file to download.
    const { result: up } = bodyOf<{ uploadId: string }>(await call('beginUpload', { dest: '/' }, { ...auth, Origin: origin }))
    expect((await http(server.port, { method: 'PUT', path: `/api/upload/${up.uploadId}?path=hello.txt`, headers: { ...auth, Origin: origin }, body: 'hello' })).status).toBe(200)
    expect((await call('commitUpload', { uploadId: up.uploadId }, { ...auth, Origin: origin })).status).toBe(200)
  })

  afterAll(async () => {
    await server?.close()
    await engine?.close()
    await tmp.cleanup()
  })

  const call = (method: string, args: unknown, headers: Record<string, string> = auth): Promise<Reply> =>
    http(server.port, { method: 'POST', path: `/api/call/${method}`, headers, body: JSON.stringify(args) })

  const vaultPaths = async (): Promise<string[]> =>
    bodyOf<{ entries: Array<{ path: string }> }>(await call('listFiles', { path: '/', recursive: true })).result.entries.map((e) => e.path)

  it('answers WebSocket messages of every wrong shape with a protocol error and keeps serving', async () => {
    const { ws, next } = await openSocket(server.port, server.token)
    const bad = ['null', '42', '"text"', 'true', '[]', '[1,{"id":2}]', '{}', '{"id":"7","method":"getVault"}', '{"id":1.5,"method":"getVault"}', 'not json {']
    for (const text of bad) {
      ws.send(text)
      const reply = await next()
      expect(reply, text).toMatchObject({ id: null, error: { code: 'PROTOCOL_ERROR' } })
    }
    ws.send('{"id":3,"method":42}')
    expect(await next()).toMatchObject({ id: 3, error: { code: 'PROTOCOL_ERROR' } })
    ws.send(Buffer.from([1, 2, 3]), { binary: true })
    expect(await next()).toMatchObject({ id: null, error: { code: 'PROTOCOL_ERROR' } })
    ws.send(JSON.stringify({ id: 4, method: 'getVault', args: {} }))
    expect((await next()).result).toMatchObject({ key: engine.vault.id })
    expect(server.counters.wsProtocolErrors).toBeGreaterThanOrEqual(bad.length + 2)
    ws.close()
  })

  it('answers a URL with malformed percent-encoding with 400 INVALID_ARGUMENT, not 500', async () => {
    for (const path of ['/%E0%A4%A', '/api/call/%E0%A4%A', '/%']) {
      const r = path.startsWith('/api/call/') ? await http(server.port, { method: 'POST', path, headers: auth, body: '{}' }) : await http(server.port, { path })
      expect(r.status, path).toBe(400)
      expect(bodyOf(r).error.code, path).toBe('INVALID_ARGUMENT')
    }
  })

  it('answers a request Node cannot parse with a JSON 400', async () => {
    const socket = connect(server.port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.write('BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n')
    await new Promise((resolve) => socket.once('close', resolve))
    const text = Buffer.concat(chunks).toString()
    expect(text).toMatch(/^HTTP\/1\.1 400 /)
    expect((JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Body<unknown>).error.code).toBe('PROTOCOL_ERROR')
  })

  it('lets another client get a download ticket and download after one client floods createDownloadUrl', async () => {
    const flooder = await openSocket(server.port, server.token, origin)
    const urls: string[] = []
    for (let id = 1; id <= 260; id++) {
      flooder.ws.send(JSON.stringify({ id, method: 'createDownloadUrl', args: { path: '/hello.txt' } }))
      const reply = await flooder.next()
      expect(reply.error, `call ${id}`).toBeUndefined()
      urls.push((reply.result as { url: string }).url)
    }
    // The flooder only pushed out its own oldest tickets; its newest still works.
    expect(engine.downloads.size).toBeLessThanOrEqual(256)
    expect((await http(server.port, { path: urls[0] })).status).toBe(404)
    expect((await http(server.port, { path: urls[259] })).body).toBe('hello')

    // The CLI path (`datdot cat`): a ticket over HTTP, then the download.
    const cli = await DaemonClient.connect(storage)
    const { url } = await cli.call('createDownloadUrl', { path: '/hello.txt' })
    const res = await cli.get(url)
    expect((await readReply(res)).body).toBe('hello')
    cli.close()

    // Another browser tab.
    const other = await openSocket(server.port, server.token, origin)
    other.ws.send(JSON.stringify({ id: 1, method: 'createDownloadUrl', args: { path: '/hello.txt' } }))
    const mine = await other.next()
    expect(mine.error).toBeUndefined()
    expect((await http(server.port, { path: (mine.result as { url: string }).url })).body).toBe('hello')
    flooder.ws.close()
    other.ws.close()
  })

  it('stops a chunked upload that would fill the disk, with DISK_FULL, and commits nothing of it', async () => {
    const { result: up } = bodyOf<{ uploadId: string }>(await call('beginUpload', { dest: '/big' }, { ...auth, Origin: origin }))
    freeBytes = 64 * MiB + 256 * 1024 // the vault keeps 64 MiB free; 256 KiB of room
    try {
      const put = streaming(server.port, 'PUT', `/api/upload/${up.uploadId}?path=huge.bin`, { ...auth, Origin: origin })
      let answered = false
      void put.reply.finally(() => { answered = true })
      const chunk = Buffer.alloc(64 * 1024, 1)
      // Up to 2 MiB, far over the room; the server answers before then.
      for (let i = 0; i < 32 && !answered; i++) {
        if (!put.req.write(chunk)) await new Promise((resolve) => put.req.once('drain', resolve))
      }
      put.req.end()
      const r = await put.reply
      expect(r.status).toBe(507)
      expect(bodyOf(r).error.code).toBe('DISK_FULL')
    } finally {
      freeBytes = 1024 * 1024 * MiB
    }
    // The session is usable again and commits only what arrived whole.
    const small = streaming(server.port, 'PUT', `/api/upload/${up.uploadId}?path=small.txt`, { ...auth, Origin: origin })
    small.req.end('small')
    expect((await small.reply).status).toBe(200)
    expect((await call('commitUpload', { uploadId: up.uploadId }, { ...auth, Origin: origin })).status).toBe(200)
    expect((await vaultPaths()).filter((p) => p.startsWith('/big/'))).toEqual(['/big/small.txt'])
  })

  it('times out an upload that stalls mid-body and rolls it back', async () => {
    const { result: up } = bodyOf<{ uploadId: string }>(await call('beginUpload', { dest: '/stall' }, { ...auth, Origin: origin }))
    const put = streaming(server.port, 'PUT', `/api/upload/${up.uploadId}?path=stalled.bin`, { ...auth, Origin: origin })
    put.req.write(Buffer.alloc(1000, 2)) // then nothing more
    const r = await put.reply
    expect(r.status).toBe(408)
    expect(bodyOf(r).error.code).toBe('TIMEOUT')
    put.req.destroy()
    const ok = streaming(server.port, 'PUT', `/api/upload/${up.uploadId}?path=ok.txt`, { ...auth, Origin: origin })
    ok.req.end('ok')
    expect((await ok.reply).status).toBe(200)
    expect((await call('commitUpload', { uploadId: up.uploadId }, { ...auth, Origin: origin })).status).toBe(200)
    expect((await vaultPaths()).filter((p) => p.startsWith('/stall/'))).toEqual(['/stall/ok.txt'])
  }, 20_000)

  it('times out a call whose body stalls', async () => {
    const post = streaming(server.port, 'POST', '/api/call/getVault', auth)
    post.req.write('{')
    const r = await post.reply
    expect(r.status).toBe(408)
    expect(bodyOf(r).error.code).toBe('TIMEOUT')
    post.req.destroy()
  }, 20_000)

  it('bounds the calls and replies of a WebSocket that sends 20000 calls and never reads', async () => {
    const before = server.counters.wsOverloaded
    const { ws } = await openSocket(server.port, server.token)
    ws.pause() // stop reading: replies pile up on the server side
    const msg = (id: number): string => JSON.stringify({ id, method: 'listFiles', args: { path: '/', recursive: true } })
    for (let id = 1; id <= 20_000; id++) ws.send(msg(id))
    await waitFor([server], () => server.counters.wsOverloaded > before, 'the server to cut off the socket that does not read', 60_000,
      () => `counters ${JSON.stringify(server.counters)}`)
    expect(server.counters.wsInFlightPeak).toBeLessThanOrEqual(MAX_IN_FLIGHT)
    expect(server.counters.wsQueuedPeak).toBeLessThanOrEqual(1024)
    ws.terminate()
    // The daemon still serves everyone else.
    expect((await call('getVault', {})).status).toBe(200)
  }, 90_000)
})
