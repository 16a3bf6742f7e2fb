/**
 * The renderer's browser-mode client and pure helpers, under Node (the e2e test drives them
 * in Chromium too): WsClient against an in-process WebSocket server speaking the daemon's
 * wire format, error normalisation for both transports, and display formatting.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import NodeWebSocket, { WebSocketServer, type WebSocket as ServerSocket } from 'ws'
import { WsClient } from '../../renderer/src/lib/ws-client.js'
import type { ConnectionState } from '../../renderer/src/lib/client-types.js'
import { toApiError } from '../../renderer/src/lib/api-error.js'
import { breadcrumbs, formatAmount, formatBytes, joinPath, parentPath, summarizePaths } from '../../renderer/src/lib/format.js'
import { DatdotError } from '../../main/shared/errors.js'

const TOKEN = 'ab'.repeat(32)

/** A stand-in for the daemon's /api/ws: checks the token subprotocol, answers getVault, fails follow. */
class FakeDaemon {
  http: Server
  wss: WebSocketServer
  sockets = new Set<ServerSocket>()
  port = 0

  constructor () {
    this.http = createServer()
    this.wss = new WebSocketServer({
      server: this.http,
      path: '/api/ws',
      handleProtocols: (protocols) => (protocols.has('datdot.v1') ? 'datdot.v1' : false),
      verifyClient: (info: { req: { headers: Record<string, string | string[] | undefined> } }) =>
        String(info.req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).includes('token.' + TOKEN)
    })
    this.wss.on('connection', (ws) => {
      this.sockets.add(ws)
      ws.on('close', () => this.sockets.delete(ws))
      ws.on('message', (raw) => {
        const msg = JSON.parse((Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw)).toString()) as { id: number, method: string, args: Record<string, unknown> }
        if (msg.method === 'getVault') ws.send(JSON.stringify({ id: msg.id, result: { link: 'hyper://x', version: 3 } }))
        else if (msg.method === 'follow') ws.send(JSON.stringify({ id: msg.id, error: { code: 'INVALID_LINK', message: `Not a valid DatDot link: ${String(msg.args.link)}` } }))
        // 'hang' never answers
      })
    })
  }

  async listen (port = 0): Promise<void> {
    this.http.listen(port, '127.0.0.1')
    await once(this.http, 'listening')
    this.port = (this.http.address() as AddressInfo).port
  }

  push (event: string, data: unknown): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ event, data }))
  }

  dropConnections (): void {
    for (const ws of this.sockets) ws.terminate()
  }

  async close (): Promise<void> {
    this.dropConnections()
    this.wss.close()
    this.http.closeAllConnections()
    await new Promise<void>((resolve) => this.http.close(() => resolve()))
  }
}

function nextState (client: WsClient, wanted: ConnectionState): Promise<void> {
  return new Promise((resolve) => {
    let off = (): void => {}
    off = client.onConnection((s) => { if (s === wanted) { queueMicrotask(() => off()); resolve() } })
  })
}

describe('the renderer WebSocket client', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c()
  })

  async function setup (token: string | null = TOKEN, connectWaitMs = 5_000): Promise<{ daemon: FakeDaemon, client: WsClient }> {
    const daemon = new FakeDaemon()
    await daemon.listen()
    cleanup.push(() => daemon.close())
    const client = new WsClient({
      url: `ws://127.0.0.1:${daemon.port}/api/ws`,
      token,
      WebSocketImpl: NodeWebSocket as unknown as typeof WebSocket,
      minBackoffMs: 10,
      maxBackoffMs: 50,
      connectWaitMs
    })
    cleanup.push(() => client.close())
    return { daemon, client }
  }

  it('resolves calls with results and rejects engine errors with their code and message', async () => {
    const { client } = await setup()
    await expect(client.call('getVault', {})).resolves.toEqual({ link: 'hyper://x', version: 3 })
    const err = await client.call('follow', { link: 'nope' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatdotError)
    expect(toApiError(err)).toEqual({ code: 'INVALID_LINK', message: 'Not a valid DatDot link: nope' })
  })

  it('delivers pushed events to subscribers until they unsubscribe', async () => {
    const { daemon, client } = await setup()
    await client.call('getVault', {})
    const got: unknown[] = []
    const off = client.on('follow.removed', (d) => { got.push(d) })
    const arrived = new Promise<void>((resolve) => client.on('follow.removed', () => resolve()))
    daemon.push('follow.removed', { key: 'k1' })
    await arrived
    off()
    const second = new Promise<void>((resolve) => client.on('follow.removed', () => resolve()))
    daemon.push('follow.removed', { key: 'k2' })
    await second
    expect(got).toEqual([{ key: 'k1' }])
  })

  it('rejects a pending call with CLOSED when the connection drops, then reconnects on its own', async () => {
    const { daemon, client } = await setup()
    await client.call('getVault', {})
    const pending = client.call('listJobs', {}).catch((e: unknown) => e)
    const closed = nextState(client, 'closed')
    const reopened = closed.then(() => nextState(client, 'open'))
    daemon.dropConnections()
    expect(toApiError(await pending).code).toBe('CLOSED')
    await reopened
    await expect(client.call('getVault', {})).resolves.toMatchObject({ version: 3 })
  })

  it('holds calls made while the engine is away and sends them once it is back', async () => {
    const { daemon, client } = await setup()
    await client.call('getVault', {})
    const port = daemon.port
    const closed = nextState(client, 'closed')
    await daemon.close()
    await closed
    const call = client.call('getVault', {})
    const again = new FakeDaemon()
    await again.listen(port)
    cleanup.push(() => again.close())
    await expect(call).resolves.toMatchObject({ link: 'hyper://x' })
  })

  it('never gets connected without the right token', async () => {
    const { client } = await setup('cd'.repeat(32), 500)
    const err = await client.call('getVault', {}).catch((e: unknown) => e)
    expect(toApiError(err).code).toBe('CLOSED')
    expect(client.state).not.toBe('open')
  })
})

describe('renderer error and display helpers', () => {
  it('reads the code of an error that crossed the Electron bridge as "CODE: message"', () => {
    expect(toApiError(new Error('INVALID_PATH: Invalid path (empty): '))).toEqual({ code: 'INVALID_PATH', message: 'Invalid path (empty): ' })
    expect(toApiError(new Error("Error invoking remote method 'datdot:follow': Error: DISK_FULL: The disk is full"))).toEqual({ code: 'DISK_FULL', message: 'The disk is full' })
    expect(toApiError(new Error('something broke'))).toEqual({ code: 'INTERNAL', message: 'something broke' })
    expect(toApiError('plain')).toEqual({ code: 'INTERNAL', message: 'plain' })
  })

  it('formats sizes, amounts, paths and change summaries for people', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(300_000)).toBe('293 KiB')
    expect(formatBytes(1.5 * 2 ** 20)).toBe('1.5 MiB')
    expect(formatBytes(10 * 2 ** 30)).toBe('10 GiB')
    expect(formatBytes(2 ** 30)).toBe('1 GiB')
    expect(formatBytes(1023.9 * 2 ** 10)).toBe('1 MiB')
    expect(formatBytes(2048 * 2 ** 30)).toBe('2 TiB')
    expect(formatAmount('12345', 3, 'DOT')).toBe('12.345 DOT')
    expect(formatAmount('-5', 2)).toBe('-0.05')
    expect(formatAmount('1000', 3)).toBe('1')
    expect(joinPath('/', 'a.txt')).toBe('/a.txt')
    expect(joinPath('/docs', 'a.txt')).toBe('/docs/a.txt')
    expect(parentPath('/docs/a.txt')).toBe('/docs')
    expect(parentPath('/a.txt')).toBe('/')
    expect(breadcrumbs('/a/b', 'Vault')).toEqual([{ name: 'Vault', path: '/' }, { name: 'a', path: '/a' }, { name: 'b', path: '/a/b' }])
    expect(summarizePaths(['/a', '/b', '/c', '/d', '/e'])).toBe('a, b, c and 2 more')
  })
})
