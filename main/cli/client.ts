/**
 * A local client of a running daemon: finds it through <storage>/daemon.json and
 * <storage>/api-token, calls methods over HTTP and follows events over the WebSocket.
 * It sends no Origin header, so the daemon treats it as a local program ('cli'). When the
 * event connection drops (the daemon stopped), onLost listeners hear it, so a command waiting
 * for an event fails instead of waiting forever.
 */
import { request } from 'node:http'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import WebSocket from 'ws'
import type { Args, EventData, EventName, MethodName, Result } from '../shared/contract.js'
import { DatdotError, reviveError, type SerializedError } from '../shared/errors.js'
import { readDaemonFile } from '../server/server.js'
import { WS_PATH, WS_PROTOCOL } from '../api/preload-api.js'

export class DaemonClient {
  private ws: WebSocket | null = null
  private readonly listeners = new Set<(name: string, data: unknown) => void>()
  private readonly lostListeners = new Set<(err: DatdotError) => void>()

  private constructor (readonly storage: string, readonly port: number, private readonly token: string) {}

  static async connect (storage: string): Promise<DaemonClient> {
    const daemon = await readDaemonFile(storage)
    const token = (await readFile(join(storage, 'api-token'), 'utf8').catch(() => '')).trim()
    if (!daemon || !token) throw DatdotError.daemonNotRunning(storage)
    const client = new DaemonClient(storage, daemon.port, token)
    try {
      await client.call('getStatus', {})
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') throw DatdotError.daemonNotRunning(storage)
      throw err
    }
    return client
  }

  get baseUrl (): string {
    return `http://127.0.0.1:${this.port}`
  }

  call<M extends MethodName> (method: M, args: Args<M>): Promise<Result<M>> {
    const body = Buffer.from(JSON.stringify(args ?? {}))
    return new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: this.port,
        method: 'POST',
        agent: false,
        path: `/api/call/${encodeURIComponent(method)}`,
        headers: { 'Content-Type': 'application/json', 'Content-Length': body.length, Authorization: `Bearer ${this.token}` }
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          let parsed: { result?: unknown, error?: SerializedError }
          try { parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof parsed } catch {
            reject(DatdotError.internal(`the daemon answered ${res.statusCode} with a body that is not JSON`))
            return
          }
          if (parsed.error) reject(reviveError(parsed.error))
          else resolve(parsed.result as Result<M>)
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  /** GETs a path of the daemon (e.g. a download URL) and returns the response stream. */
  get (path: string): Promise<import('node:http').IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, method: 'GET', agent: false, path, headers: { Authorization: `Bearer ${this.token}` } }, (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            try { reject(reviveError((JSON.parse(Buffer.concat(chunks).toString()) as { error: SerializedError }).error)) } catch { reject(DatdotError.internal(`HTTP ${res.statusCode}`)) }
          })
          return
        }
        resolve(res)
      })
      req.on('error', reject)
      req.end()
    })
  }

  /** Subscribes to daemon events (opens the WebSocket on first use). Resolves once subscribed. */
  async on (listener: <E extends EventName>(name: E, data: EventData<E>) => void): Promise<() => void> {
    this.listeners.add(listener as (name: string, data: unknown) => void)
    if (!this.ws) {
      const ws = new WebSocket(`ws://127.0.0.1:${this.port}${WS_PATH}`, [WS_PROTOCOL], { headers: { Authorization: `Bearer ${this.token}` } })
      this.ws = ws
      ws.on('message', (raw) => {
        let msg: { event?: string, data?: unknown }
        try { msg = JSON.parse((Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw)).toString('utf8')) as typeof msg } catch { return }
        if (typeof msg.event === 'string') for (const l of this.listeners) l(msg.event, msg.data)
      })
      ws.on('close', () => {
        if (this.ws !== ws) return
        this.ws = null
        const err = DatdotError.closed('connection to the daemon')
        for (const l of [...this.lostListeners]) l(err)
      })
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve())
        ws.once('error', reject)
      })
      ws.on('error', () => { /* 'close' follows and tells the onLost listeners */ })
    }
    return () => { this.listeners.delete(listener as (name: string, data: unknown) => void) }
  }

  /** Calls `listener` if the event connection drops before close(); returns the unsubscribe. */
  onLost (listener: (err: DatdotError) => void): () => void {
    this.lostListeners.add(listener)
    return () => { this.lostListeners.delete(listener) }
  }

  close (): void {
    this.ws?.close()
    this.ws = null
  }
}
