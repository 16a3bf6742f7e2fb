/**
 * The loopback API: the same contract as Electron's IPC, over HTTP and a WebSocket bound to
 * 127.0.0.1, plus the static browser UI.
 *
 * Security:
 * - a random 256-bit token in <storage>/api-token (0600); every API request carries it
 *   (Authorization: Bearer, or the WebSocket subprotocol `token.<hex>`), compared in constant time;
 * - the Host header must name this loopback port (defeats DNS rebinding), and an Origin header,
 *   when present, must be this server's own origin (a foreign page cannot call the API even if
 *   it learned the token);
 * - requests with an Origin are 'web' callers (the browser UI) and may not call methods that
 *   take local paths; requests without one are local programs ('cli');
 * - bodies, messages, sockets and queues are bounded: a body that stalls times out, an upload
 *   stops when it would fill the disk, a WebSocket runs a bounded number of calls and is cut
 *   off when it does not read its replies (main/server/ws-session.ts), and download tickets are
 *   kept per caller so one cannot starve another (main/engine/tickets.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { readFile, writeFile, chmod, stat, rm, mkdir } from 'node:fs/promises'
import { createReadStream } from 'node:fs'
import { join, resolve, sep, extname } from 'node:path'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Engine } from '../engine/engine.js'
import { DatdotError } from '../shared/errors.js'
import { Resource } from '../shared/resource.js'
import { dispatch, dispatchSafe, type AnyHandlers } from '../api/dispatch.js'
import { PROMETHEUS_CONTENT_TYPE, prometheusMetrics } from '../api/prometheus.js'
import { WS_PATH, WS_PROTOCOL, WS_TOKEN_PREFIX } from '../api/preload-api.js'
import { downloadUrl } from '../api/handlers-drives.js'
import { serveDownload } from './download-route.js'
import { decodeUrlPart, meterBody, readBody, requestUrl, sendJson } from './http-body.js'
import { serveSocket, type SocketCounters } from './ws-session.js'
import { RUN_PREFIX, serveAppRoute } from './app-route.js'
import type { PreviewResolver } from './app-response.js'
import { APP_LIMITS } from '../shared/contract-apps.js'

export interface ApiServerOptions {
  engine: Engine
  handlers: AnyHandlers
  storage: string
  host?: string
  /** 0 (default) picks a free port. */
  port?: number
  /** Built renderer (dist/renderer); no UI is served if absent. */
  staticDir?: string
  maxBodyBytes?: number
  maxSockets?: number
  /** Longest wait for the next byte of a request body before it is cut off (default 30 s). */
  bodyIdleMs?: number
  /** Calls one WebSocket may have running at once (default 64). */
  maxInFlightPerSocket?: number
  /** Unsent bytes one WebSocket may queue before it is cut off (default 16 MiB). */
  maxWsBufferedBytes?: number
  /** Running apps' preview capabilities (GET /run/<cap>/...; main/server/app-route.ts). */
  previews?: PreviewResolver
}

export interface DaemonFile { port: number, pid: number, url: string }

const MAX_BODY_BYTES = 1024 * 1024
/** A WebSocket message: the largest call a running app may make (its data writes) and some room. */
const MAX_WS_MESSAGE_BYTES = APP_LIMITS.callBytes + 64 * 1024
const MAX_WS_BUFFERED_BYTES = 16 * 1024 * 1024
const MAX_IN_FLIGHT_PER_SOCKET = 64
const BODY_IDLE_MS = 30_000
/** Room an upload must leave free on the disk (the vault's own margin for imports). */
const UPLOAD_DISK_MARGIN_BYTES = 64 * 1024 * 1024
const TOKEN_FILE = 'api-token'
const DAEMON_FILE = 'daemon.json'

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // The file preview plays audio and video from /api/download/ (download-route.ts).
  "media-src 'self' blob:",
  "font-src 'self'",
  "connect-src 'self'",
  // Apps run in a sandboxed frame served from /run/ (app-route.ts).
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8'
}

export function statusFor (code: string): number {
  switch (code) {
    case 'INVALID_ARGUMENT': case 'INVALID_LINK': case 'INVALID_PATH': case 'NOT_A_FILE': case 'NOT_A_FOLDER':
    case 'SOURCE_CHANGED': case 'SOURCE_VANISHED': case 'PROTOCOL_ERROR': return 400
    case 'UNAUTHORIZED': return 401
    case 'FORBIDDEN': return 403
    case 'NOT_FOUND': case 'UNKNOWN_DRIVE': return 404
    case 'TIMEOUT': return 408
    case 'ALREADY_EXISTS': return 409
    case 'TOO_LARGE': return 413
    case 'LIMIT_REACHED': return 429
    case 'CANCELLED': return 499
    case 'CLOSED': case 'DAEMON_NOT_RUNNING': return 503
    case 'DISK_FULL': return 507
    default: return 500
  }
}

/** Reads the storage folder's API token, creating it (0600) if missing. */
export async function ensureToken (storage: string): Promise<string> {
  await mkdir(storage, { recursive: true, mode: 0o700 })
  const file = join(storage, TOKEN_FILE)
  const existing = await readFile(file, 'utf8').catch(() => null)
  if (existing !== null && /^[0-9a-f]{64}$/.test(existing.trim())) {
    const st = await stat(file)
    if ((st.mode & 0o077) !== 0) await chmod(file, 0o600)
    return existing.trim()
  }
  const token = randomBytes(32).toString('hex')
  await writeFile(file, token + '\n', { mode: 0o600 })
  await chmod(file, 0o600)
  return token
}

export async function readDaemonFile (storage: string): Promise<DaemonFile | null> {
  const raw = await readFile(join(storage, DAEMON_FILE), 'utf8').catch(() => null)
  if (raw === null) return null
  try {
    const d = JSON.parse(raw) as DaemonFile
    if (!Number.isInteger(d.port) || !Number.isInteger(d.pid)) return null
    return d
  } catch {
    return null
  }
}

export class ApiServer extends Resource {
  readonly opts: ApiServerOptions
  token = ''
  port = 0
  private server: Server | null = null
  private wss: WebSocketServer | null = null
  private readonly sockets = new Set<WebSocket>()
  private offEvents: (() => void) | null = null
  private nextSocket = 0
  counters: { requests: number, refused: number, wsConnections: number, wsDropped: number } & SocketCounters = {
    requests: 0, refused: 0, wsConnections: 0, wsDropped: 0, wsOverloaded: 0, wsCallsRefused: 0, wsInFlightPeak: 0, wsQueuedPeak: 0, wsProtocolErrors: 0
  }

  constructor (opts: ApiServerOptions) {
    super()
    this.opts = opts
  }

  get host (): string {
    return this.opts.host ?? '127.0.0.1'
  }

  get origin (): string {
    return `http://${this.host}:${this.port}`
  }

  /** The browser UI's address, with the token in the fragment (never sent to the server). */
  get url (): string {
    return `${this.origin}/#token=${this.token}`
  }

  protected async _open (): Promise<void> {
    this.token = await ensureToken(this.opts.storage)
    const server = createServer((req, res) => { this.onRequest(req, res).catch((err) => this.fail(res, err)) })
    server.maxHeadersCount = 64
    server.headersTimeout = 20_000
    // No limit on a whole request (uploads may be large); a body that stalls is cut off by
    // meterBody after bodyIdleMs instead.
    server.requestTimeout = 0
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket))
    this.server = server
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_WS_MESSAGE_BYTES,
      handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false)
    })
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.opts.port ?? 0, this.host, () => { server.off('error', reject); resolve() })
    })
    const addr = server.address()
    this.port = typeof addr === 'object' && addr ? addr.port : 0
    this.offEvents = this.opts.engine.onEvent((name, data) => this.broadcast(JSON.stringify({ event: name, data })))
    const daemon: DaemonFile = { port: this.port, pid: process.pid, url: this.origin + '/' }
    await writeFile(join(this.opts.storage, DAEMON_FILE), JSON.stringify(daemon) + '\n', { mode: 0o600 })
  }

  protected async _close (): Promise<void> {
    this.offEvents?.()
    this.offEvents = null
    for (const ws of this.sockets) ws.terminate()
    this.wss?.close()
    const server = this.server
    if (server) {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    const current = await readDaemonFile(this.opts.storage)
    if (current && current.pid === process.pid && current.port === this.port) {
      await rm(join(this.opts.storage, DAEMON_FILE), { force: true })
    }
  }

  /**
   * Serves another node from now on (an in-app restore replaced the node, main/server/node-host.ts):
   * calls, uploads, downloads and event broadcasts go to `engine` and `handlers`; open WebSockets
   * stay connected and their next call reaches the new node.
   */
  /** App previews of the node served now (main/engine/apps.ts), following useNode. */
  private readonly enginePreviews: PreviewResolver = (cap) => this.opts.engine.apps.preview(cap)

  useNode (engine: Engine, handlers: AnyHandlers): void {
    this.opts.engine = engine
    this.opts.handlers = handlers
    if (this.offEvents === null) return
    this.offEvents()
    this.offEvents = engine.onEvent((name, data) => this.broadcast(JSON.stringify({ event: name, data })))
  }

  // ---------------------------------------------------------------- checks

  private hostAllowed (req: IncomingMessage): boolean {
    const host = req.headers.host
    return host === `127.0.0.1:${this.port}` || host === `localhost:${this.port}` || (this.host !== '127.0.0.1' && host === `${this.host}:${this.port}`)
  }

  /** 'cli' without an Origin, 'web' with our own Origin, null for a foreign Origin. */
  private callerKind (req: IncomingMessage): 'cli' | 'web' | null {
    const origin = req.headers.origin
    if (origin === undefined) return 'cli'
    if (origin === `http://127.0.0.1:${this.port}` || origin === `http://localhost:${this.port}`) return 'web'
    return null
  }

  private tokenMatches (candidate: string | undefined): boolean {
    if (!candidate) return false
    const a = Buffer.from(candidate)
    const b = Buffer.from(this.token)
    return a.length === b.length && timingSafeEqual(a, b)
  }

  private bearer (req: IncomingMessage): string | undefined {
    const h = req.headers.authorization
    return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined
  }

  // ---------------------------------------------------------------- HTTP

  private async onRequest (req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests++
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'no-referrer')
    res.setHeader('X-Frame-Options', 'DENY')
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
    if (!this.hostAllowed(req)) throw DatdotError.forbidden('unexpected Host header')
    const url = requestUrl(req.url, this.origin)
    if (url.pathname.startsWith(RUN_PREFIX)) return serveAppRoute(this.opts.previews ?? this.enginePreviews, req, res, url.pathname)
    const caller = this.callerKind(req)
    if (caller === null) throw DatdotError.forbidden('cross-origin requests are not allowed')
    const path = url.pathname

    if (path.startsWith('/api/download/') && req.method === 'GET') {
      return serveDownload(this.opts.engine, path.slice('/api/download/'.length), req, res, url.searchParams.get('inline') === '1')
    }
    if (path.startsWith('/api/')) {
      if (!this.tokenMatches(this.bearer(req))) throw DatdotError.unauthorized()
      if (path.startsWith('/api/call/') && req.method === 'POST') {
        const method = decodeUrlPart(path.slice('/api/call/'.length))
        const body = await readBody(req, this.opts.maxBodyBytes ?? MAX_BODY_BYTES, this.opts.bodyIdleMs ?? BODY_IDLE_MS)
        let args: unknown
        try { args = body.length ? JSON.parse(body.toString('utf8')) : {} } catch { throw DatdotError.invalidArgument('the request body is not JSON') }
        const outcome = await dispatchSafe(this.handlersFor(`http:${caller}`), method, args, caller)
        if (outcome.ok) return sendJson(res, 200, { result: outcome.result ?? null })
        return sendJson(res, statusFor(outcome.error.code), { error: outcome.error })
      }
      if (path === '/api/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
        const handlers = this.handlersFor(`http:${caller}`)
        const text = await prometheusMetrics(async (method, args) => await dispatch(handlers, method, args, caller) as never, Date.now)
        res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' })
        res.end(req.method === 'HEAD' ? undefined : text)
        return
      }
      if (path.startsWith('/api/upload/') && req.method === 'PUT') {
        const uploadId = path.slice('/api/upload/'.length)
        const rel = url.searchParams.get('path')
        if (rel === null) throw DatdotError.invalidArgument('missing ?path=')
        const len = req.headers['content-length']
        const declared = len !== undefined && /^\d+$/.test(len) ? Number(len) : null
        return this.upload(uploadId, rel, req, res, declared)
      }
      throw DatdotError.notFound(path)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw DatdotError.forbidden('method not allowed')
    return this.serveStatic(path, res)
  }

  /**
   * Streams one file of an upload session. The free space is checked as bytes arrive (a
   * chunked body declares no length up front), and a body that goes over it or stalls fails
   * the vault's write, which drops the partial file: nothing of it is committed.
   */
  private async upload (uploadId: string, rel: string, req: IncomingMessage, res: ServerResponse, declared: number | null): Promise<void> {
    const engine = this.opts.engine
    const free = await engine.freeBytes(this.opts.storage)
    const budget = free - UPLOAD_DISK_MARGIN_BYTES
    const body = meterBody(req, {
      maxBytes: declared === null ? budget : Math.min(budget, declared),
      idleMs: this.opts.bodyIdleMs ?? BODY_IDLE_MS,
      overBudget: (bytes) => bytes > budget
        ? DatdotError.diskFull(bytes + UPLOAD_DISK_MARGIN_BYTES, free)
        : DatdotError.sourceChanged(`upload ${rel} (longer than its Content-Length)`)
    })
    try {
      const r = await engine.spaces.uploadFile(uploadId, rel, body, declared)
      sendJson(res, 200, { ok: true, bytes: r.bytes })
    } finally {
      body.destroy()
    }
  }

  private async serveStatic (path: string, res: ServerResponse): Promise<void> {
    const dir = this.opts.staticDir
    if (!dir) throw DatdotError.notFound('the UI is not built (run npm run build)')
    const rel = path === '/' ? 'index.html' : decodeUrlPart(path).replace(/^\/+/, '')
    const root = resolve(dir)
    const file = resolve(root, rel)
    if (!file.startsWith(root + sep)) throw DatdotError.forbidden('path outside the UI folder')
    const st = await stat(file).catch(() => null)
    if (!st || !st.isFile()) throw DatdotError.notFound(path)
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': String(st.size),
      'Content-Security-Policy': CSP,
      'Cache-Control': rel === 'index.html' ? 'no-store' : 'max-age=3600'
    })
    createReadStream(file).pipe(res)
  }

  private fail (res: ServerResponse, err: unknown): void {
    const e = DatdotError.from(err)
    if (e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN') this.counters.refused++
    if (res.headersSent) { res.destroy(); return }
    // A body left unread (refused early, cut off mid-way): answer, then close the connection.
    if (!res.req.complete) res.setHeader('Connection', 'close')
    sendJson(res, statusFor(e.code), { error: e.toJSON() })
  }

  /** A request Node's parser refused (bad method, bad header...): a JSON 400 like every other refusal. */
  private onClientError (err: NodeJS.ErrnoException, socket: Socket): void {
    this.counters.refused++
    // As Node's own handler: no answer on a dead socket or over a response already begun.
    const current = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
    if (!socket.writable || err.code === 'ECONNRESET' || current?.headersSent === true) { socket.destroy(); return }
    const text = JSON.stringify({ error: DatdotError.protocolError('the request is not valid HTTP').toJSON() })
    socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`)
  }

  /**
   * The handlers as one caller sees them: its download tickets are its own (`owner`), so a
   * caller that floods createDownloadUrl only evicts its own unused tickets.
   */
  private handlersFor (owner: string): AnyHandlers {
    const engine = this.opts.engine
    if (!this.opts.handlers.createDownloadUrl) return this.opts.handlers
    return { ...this.opts.handlers, createDownloadUrl: async (args) => await downloadUrl(engine, args, owner) }
  }

  // ---------------------------------------------------------------- WebSocket

  private onUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, why: string): void => {
      this.counters.refused++
      socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    const url = new URL(req.url ?? '/', this.origin)
    if (url.pathname !== WS_PATH) return refuse(404, 'Not Found')
    if (!this.hostAllowed(req)) return refuse(403, 'Forbidden')
    const caller = this.callerKind(req)
    if (caller === null) return refuse(403, 'Forbidden')
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim())
    const fromProtocol = protocols.find((p) => p.startsWith(WS_TOKEN_PREFIX))?.slice(WS_TOKEN_PREFIX.length)
    if (!this.tokenMatches(fromProtocol ?? this.bearer(req))) return refuse(401, 'Unauthorized')
    if (this.sockets.size >= (this.opts.maxSockets ?? 64)) return refuse(503, 'Too Many Connections')
    this.wss!.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, caller))
  }

  private onSocket (ws: WebSocket, caller: 'cli' | 'web'): void {
    this.counters.wsConnections++
    this.sockets.add(ws)
    // 'socket-closed' lets a watcher (a test) re-check the counters when a socket goes.
    ws.on('close', () => { this.sockets.delete(ws); this.emit('socket-closed') })
    ws.on('error', () => ws.terminate())
    // The handlers are looked up per call: useNode may replace them while the socket is open.
    const owner = `ws:${++this.nextSocket}`
    let mine = { of: this.opts.handlers, handlers: this.handlersFor(owner) }
    const handlers = (): AnyHandlers => {
      if (mine.of !== this.opts.handlers) mine = { of: this.opts.handlers, handlers: this.handlersFor(owner) }
      return mine.handlers
    }
    serveSocket(ws, (method, args) => dispatchSafe(handlers(), method, args, caller), {
      maxInFlight: this.opts.maxInFlightPerSocket ?? MAX_IN_FLIGHT_PER_SOCKET,
      maxBufferedBytes: this.opts.maxWsBufferedBytes ?? MAX_WS_BUFFERED_BYTES
    }, this.counters)
  }

  private broadcast (text: string): void {
    for (const ws of this.sockets) {
      if (ws.readyState !== ws.OPEN) continue
      if (ws.bufferedAmount > (this.opts.maxWsBufferedBytes ?? MAX_WS_BUFFERED_BYTES)) {
        this.counters.wsDropped++
        ws.terminate()
        continue
      }
      ws.send(text)
    }
  }
}
