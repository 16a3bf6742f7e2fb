/**
 * The hosting connection pool: one `datdot/hosting/2` channel (HostingChannel) on every swarm
 * connection, next to corestore replication, keyed by the peer's Hyperswarm key; and
 * `channelTo`, which reaches a provider by the key it registered on chain (joinPeer) and waits
 * for its channel. Which handlers a channel gets, and whether a connection is admitted at all,
 * is the caller's (the service's) choice.
 */
import b4a from 'b4a'
import type Hyperswarm from 'hyperswarm'
import type { SwarmConnection } from 'hyperswarm'
import { DatdotError } from '../shared/errors.js'
import { toHex } from '../engine/paths.js'
import { HostingChannel, type WireHandlers } from './wire.js'
import type { HostingContext } from './context.js'

export interface PeersOptions {
  ctx: HostingContext
  swarm: Pick<Hyperswarm, 'joinPeer' | 'leavePeer'>
  /** The handlers of a new channel. */
  handlers: WireHandlers
  /** False: the connection is destroyed before a channel opens on it. */
  admits: (remoteKeyHex: string) => boolean
  /** Waits until `bytes` more may be sent (the bandwidth limit on replies). */
  replyLimiter?: (bytes: number) => Promise<void>
}

export interface Connected { channel: HostingChannel, connectMs: number }

export class Peers {
  private readonly channels = new Map<string, HostingChannel>()
  private readonly waiters = new Map<string, Array<() => void>>()
  private readonly joined = new Set<string>()

  constructor (private readonly opts: PeersOptions) {}

  /** Channels open now. */
  get size (): number { return this.channels.size }

  /** Opens a hosting channel on a new swarm connection (or drops it when not admitted). */
  attach (conn: SwarmConnection): void {
    const { ctx } = this.opts
    const key = toHex(conn.remotePublicKey)
    if (!this.opts.admits(key)) {
      ctx.counters.refusedConnections++
      conn.destroy()
      return
    }
    let channel: HostingChannel
    try {
      channel = new HostingChannel(conn, this.opts.handlers, {
        requestTimeoutMs: ctx.limits.requestTimeoutMs,
        timers: ctx.timers,
        ...(this.opts.replyLimiter !== undefined ? { replyLimiter: this.opts.replyLimiter } : {})
      })
    } catch {
      return // the connection closed while the channel opened
    }
    ctx.counters.connections++
    this.channels.set(key, channel)
    conn.once('close', () => { if (this.channels.get(key) === channel) this.channels.delete(key) })
    channel.ready().then(() => {
      for (const f of this.waiters.get(key) ?? []) f()
      this.waiters.delete(key)
    }, () => {})
  }

  /** A ready hosting channel to the provider with this Hyperswarm key, and how long it took. */
  async channelTo (noiseKeyHex: string): Promise<Connected> {
    const { ctx } = this.opts
    const t0 = ctx.now()
    const existing = this.channels.get(noiseKeyHex)
    if (existing !== undefined && !existing.closed) {
      await ctx.withTimeout(existing.ready(), ctx.limits.connectTimeoutMs, 'hosting channel')
      return { channel: existing, connectMs: ctx.now() - t0 }
    }
    await this.connect(noiseKeyHex)
    if (ctx.closing) throw DatdotError.closed('hosting service')
    const ch = this.channels.get(noiseKeyHex)
    if (ch === undefined || ch.closed) throw DatdotError.closed('hosting channel')
    return { channel: ch, connectMs: ctx.now() - t0 }
  }

  /** Closes every channel, releases every wait and leaves every peer joined. */
  async close (): Promise<void> {
    for (const ch of this.channels.values()) await ch.close()
    this.channels.clear()
    for (const w of this.waiters.values()) for (const f of w) f()
    this.waiters.clear()
    for (const key of this.joined) this.opts.swarm.leavePeer(b4a.from(key, 'hex'))
    this.joined.clear()
  }

  /** Joins the peer and waits for its channel to be ready (TIMEOUT after connectTimeoutMs). */
  private connect (noiseKeyHex: string): Promise<void> {
    const { ctx } = this.opts
    return new Promise<void>((resolve, reject) => {
      const list = this.waiters.get(noiseKeyHex) ?? []
      const ms = ctx.limits.connectTimeoutMs
      const timer = ctx.timers.setTimeout(() => reject(DatdotError.timeout(`connecting to provider ${noiseKeyHex.slice(0, 8)}`, ms)), ms)
      list.push(() => { ctx.timers.clearTimeout(timer); resolve() })
      this.waiters.set(noiseKeyHex, list)
      this.joined.add(noiseKeyHex)
      this.opts.swarm.joinPeer(b4a.from(noiseKeyHex, 'hex'))
    })
  }
}
