/**
 * The browser-mode API client: one WebSocket to the daemon's /api/ws, speaking
 * `{ id, method, args }` -> `{ id, result } | { id, error: { code, message } }`, receiving
 * `{ event, data }` pushes, and reconnecting with exponential backoff when the socket closes.
 * Calls made while disconnected wait (up to connectWaitMs) for the next connection.
 */
import type { Args, EventName, MethodName, Result } from '../../../main/shared/contract.js'
import type { WsServerMessage } from '../../../main/api/preload-api.js'
import { DatdotError, reviveError } from '../../../main/shared/errors.js'
import type { BrowserClient, ConnectionState, Listener } from './client-types.js'

export const WS_PATH = '/api/ws'
const WS_PROTOCOL = 'datdot.v1'
const WS_TOKEN_PREFIX = 'token.'

interface Pending {
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

export interface WsOptions {
  url: string
  token: string | null
  /** Injected for tests; the browser's WebSocket by default. */
  WebSocketImpl?: typeof WebSocket
  /** How long a call waits for the connection before failing with CLOSED. */
  connectWaitMs?: number
  minBackoffMs?: number
  maxBackoffMs?: number
}

/** The browser-mode client: one WebSocket, reconnecting with exponential backoff. */
export class WsClient implements BrowserClient {
  readonly kind = 'browser' as const
  readonly token: string | null
  state: ConnectionState = 'connecting'

  #opts: Required<Omit<WsOptions, 'token'>>
  #ws: WebSocket | null = null
  #nextId = 1
  #pending = new Map<number, Pending>()
  #listeners = new Map<string, Set<(data: unknown) => void>>()
  #connListeners = new Set<(state: ConnectionState) => void>()
  #waiters = new Set<() => void>()
  #backoff: number
  #timer: ReturnType<typeof setTimeout> | null = null
  #closed = false

  constructor (opts: WsOptions) {
    this.token = opts.token
    this.#opts = {
      url: opts.url,
      WebSocketImpl: opts.WebSocketImpl ?? WebSocket,
      connectWaitMs: opts.connectWaitMs ?? 15_000,
      minBackoffMs: opts.minBackoffMs ?? 250,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000
    }
    this.#backoff = this.#opts.minBackoffMs
    this.#connect()
  }

  #setState (state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    for (const l of this.#connListeners) l(state)
  }

  #connect (): void {
    if (this.#closed) return
    this.#setState('connecting')
    const protocols = this.token ? [WS_PROTOCOL, WS_TOKEN_PREFIX + this.token] : [WS_PROTOCOL]
    let ws: WebSocket
    try {
      ws = new this.#opts.WebSocketImpl(this.#opts.url, protocols)
    } catch {
      this.#scheduleReconnect()
      return
    }
    this.#ws = ws
    ws.onopen = () => {
      this.#backoff = this.#opts.minBackoffMs
      this.#setState('open')
      for (const w of this.#waiters) w()
      this.#waiters.clear()
    }
    ws.onmessage = (ev: MessageEvent) => { this.#onMessage(ev.data) }
    ws.onclose = () => {
      if (this.#ws !== ws) return
      this.#ws = null
      const err = DatdotError.closed('connection to the engine')
      for (const p of this.#pending.values()) p.reject(err)
      this.#pending.clear()
      this.#setState('closed')
      this.#scheduleReconnect()
    }
    ws.onerror = () => { /* onclose follows and handles it */ }
  }

  #scheduleReconnect (): void {
    if (this.#closed || this.#timer !== null) return
    const delay = this.#backoff
    this.#backoff = Math.min(this.#backoff * 2, this.#opts.maxBackoffMs)
    this.#timer = setTimeout(() => { this.#timer = null; this.#connect() }, delay)
  }

  #onMessage (raw: unknown): void {
    if (typeof raw !== 'string') return
    let msg: WsServerMessage
    try {
      msg = JSON.parse(raw) as WsServerMessage
    } catch {
      return
    }
    if ('event' in msg) {
      const set = this.#listeners.get(msg.event)
      if (set) for (const l of [...set]) l(msg.data)
      return
    }
    const p = this.#pending.get(msg.id)
    if (!p) return
    this.#pending.delete(msg.id)
    if ('error' in msg) p.reject(reviveError(msg.error as Parameters<typeof reviveError>[0]))
    else p.resolve(msg.result)
  }

  async #ready (): Promise<WebSocket> {
    if (this.#closed) throw DatdotError.closed('client')
    if (this.state === 'open' && this.#ws) return this.#ws
    await new Promise<void>((resolve, reject) => {
      const done = (): void => { clearTimeout(t); resolve() }
      const t = setTimeout(() => {
        this.#waiters.delete(done)
        reject(DatdotError.closed('connection to the engine'))
      }, this.#opts.connectWaitMs)
      this.#waiters.add(done)
    })
    if (!this.#ws) throw DatdotError.closed('connection to the engine')
    return this.#ws
  }

  call = async <M extends MethodName>(method: M, args: Args<M>): Promise<Result<M>> => {
    const ws = await this.#ready()
    const id = this.#nextId++
    return await new Promise<Result<M>>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      ws.send(JSON.stringify({ id, method, args }))
    })
  }

  on = <E extends EventName>(event: E, listener: Listener<E>): (() => void) => {
    let set = this.#listeners.get(event)
    if (!set) { set = new Set(); this.#listeners.set(event, set) }
    const l = listener as (data: unknown) => void
    set.add(l)
    return () => { set.delete(l) }
  }

  onConnection = (listener: (state: ConnectionState) => void): (() => void) => {
    this.#connListeners.add(listener)
    listener(this.state)
    return () => { this.#connListeners.delete(listener) }
  }

  close = (): void => {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#ws?.close()
  }
}
