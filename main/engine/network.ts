/**
 * Hyperswarm, owned by the engine. Every connection replicates the whole Corestore; topics
 * are the discovery keys of the vault and of every followed drive. The DHT is injected
 * (tests pass a loopback testnet node) or built from bootstrap nodes; with neither, Hyperswarm
 * uses the public DHT.
 *
 * Pausing suspends the swarm (Hyperswarm's own suspend: connections dropped, topics
 * unannounced, nothing accepted or dialled) and resuming resumes it (every topic announced and
 * looked up again). It must not be done with a firewall: Hyperswarm bans, for good, every peer
 * its firewall refuses, so a peer that dialled us while we were paused was never reconnected.
 * A topic is looked up only when joined, on resume and every ~10 minutes; `refresh()` lets a
 * follow that has no peer look its topic up again sooner.
 *
 * A connection that has not read a byte `aliveTimeoutMs` after it opened is dropped, and
 * Hyperswarm dials the peer again. A live peer's secret stream sends its header at once (not
 * through the upload limiter), so silence means the other end never had the connection: on one
 * host or a LAN, hyperdht 6.34 races a local shortcut with a holepunch, and a firewalled peer
 * that aborts the holepunch destroys the stream the shortcut has just opened; the dialler's side
 * stays open and reads nothing, and a follow over it would wait with "1 peer" and no data
 * (test/integration/follow-dead-connection.test.ts; the hosting measurement has its own check).
 *
 * Everything a connection sends waits in one node-wide upload limiter (`upload`, no limit until
 * the hosting service sets the seeder's bandwidth; main/engine/paced-writes.ts).
 */
import Hyperswarm from 'hyperswarm'
import DHT from 'hyperdht'
import type { Discovery, SwarmConnection } from 'hyperswarm'
import type Corestore from 'corestore'
import type { NetworkStatus } from '../shared/contract.js'
import type { HostPort } from './config.js'
import { Resource } from '../shared/resource.js'
import { toHex } from './paths.js'
import { UploadLimiter } from '../shared/upload-limiter.js'
import { paceWrites } from './paced-writes.js'
import { checkLocalAddressesPatiently } from './local-addresses.js'

export interface NetworkOptions {
  store: Corestore
  /** An injected hyperdht instance (tests: testnet.createNode()). Takes precedence over bootstrap. */
  dht?: unknown
  bootstrap?: HostPort[]
  maxPeers?: number
  /** The swarm's Noise key pair (the engine derives it from the Corestore primary key); random when omitted. */
  keyPair?: { publicKey: Buffer, secretKey: Buffer }
  /** Hyperswarm's reconnect backoffs for a dropped peer (ms, four steps); tests shorten them. */
  backoffsMs?: [number, number, number, number]
  /** How long a new connection gets to read its first byte before it is dropped as dead (DEFAULT_ALIVE_TIMEOUT_MS). */
  aliveTimeoutMs?: number
  onStatus: (status: NetworkStatus) => void
  /** The upload limiter every connection's writes wait in (default: a new one, no limit). */
  upload?: UploadLimiter
}

interface Topic { key: Buffer, server: boolean, client: boolean }

/** A live peer's first bytes come within a round trip; this leaves room for a busy machine. */
export const DEFAULT_ALIVE_TIMEOUT_MS = 5_000

export class Network extends Resource {
  swarm: Hyperswarm | null = null
  paused = false
  private readonly opts: NetworkOptions
  private readonly topics = new Map<string, Topic>()
  private readonly waiters = new Set<() => void>()
  /** Pause and resume run one at a time, in the order asked. */
  private pausing: Promise<unknown> = Promise.resolve()
  counters = { connections: 0, disconnections: 0, replicationErrors: 0, refreshes: 0, deadConnections: 0 }
  /** What every connection sends waits here; the hosting service sets its rate while seeding. */
  readonly upload: UploadLimiter

  constructor (opts: NetworkOptions) {
    super()
    this.opts = opts
    this.upload = opts.upload ?? new UploadLimiter()
  }

  protected async _open (): Promise<void> {
    // `backoffs` and `jitter` are Hyperswarm options the shared typings do not list.
    const swarmOpts: NonNullable<ConstructorParameters<typeof Hyperswarm>[0]> & { backoffs?: number[], jitter?: number } = {
      maxPeers: this.opts.maxPeers ?? 64,
      ...(this.opts.keyPair !== undefined ? { keyPair: this.opts.keyPair } : {})
    }
    if (this.opts.backoffsMs) {
      swarmOpts.backoffs = this.opts.backoffsMs
      swarmOpts.jitter = Math.round(this.opts.backoffsMs[0] / 4)
    }
    if (this.opts.dht) swarmOpts.dht = this.opts.dht
    else if (this.opts.bootstrap && this.opts.bootstrap.every((b) => isLoopback(b.host))) {
      // A private loopback network (a local testnet): bind the DHT node to loopback too, so
      // it neither listens on every interface nor announces an address peers cannot reach.
      swarmOpts.dht = new DHT({ ephemeral: true, firewalled: false, bootstrap: this.opts.bootstrap, host: '127.0.0.1' })
    } else if (this.opts.bootstrap) swarmOpts.bootstrap = this.opts.bootstrap
    const swarm = new Hyperswarm(swarmOpts)
    // A busy process must not fail the check of its own local addresses (local-addresses.ts).
    checkLocalAddressesPatiently(swarm.dht)
    this.swarm = swarm
    swarm.on('connection', (conn: SwarmConnection) => this.onConnection(conn))
  }

  protected async _close (): Promise<void> {
    // Writes still waiting for the limit go now: closing must not wait out the limit.
    this.upload.close()
    await this.pausing
    if (this.swarm) {
      // Paused, the swarm has unannounced everything already and its DHT node is suspended: a
      // graceful close would wait out requests that can no longer be sent (about 4 s).
      if (this.paused) await (this.swarm.dht as { destroy (opts: { force: boolean }): Promise<void> }).destroy({ force: true })
      await this.swarm.destroy()
    }
    for (const w of this.waiters) w()
  }

  private onConnection (conn: SwarmConnection): void {
    this.counters.connections++
    paceWrites(conn, this.upload)
    const alive = setTimeout(() => {
      if (conn.rawBytesRead > 0 || conn.destroyed) return
      this.counters.deadConnections++
      conn.destroy()
    }, this.opts.aliveTimeoutMs ?? DEFAULT_ALIVE_TIMEOUT_MS)
    conn.on('error', () => { this.counters.replicationErrors++ })
    conn.on('close', () => {
      clearTimeout(alive)
      this.counters.disconnections++
      this.publish()
    })
    this.opts.store.replicate(conn)
    this.publish()
  }

  status (): NetworkStatus {
    return {
      paused: this.paused,
      connections: this.swarm ? this.swarm.connections.size : 0,
      announcing: [...this.topics.values()].filter((t) => t.server).length
    }
  }

  private publish (): void {
    this.opts.onStatus(this.status())
    for (const w of this.waiters) w()
  }

  /**
   * Joins a topic (idempotent). Does not wait for the DHT: on the public network the first
   * announce can take seconds, and nobody should wait for it to follow a link or open the app.
   * `flushed` resolves once the first announce/lookup is done (for tests and the CLI).
   */
  async join (discoveryKey: Buffer, opts: { server: boolean, client: boolean }): Promise<{ flushed: Promise<void> }> {
    const id = toHex(discoveryKey)
    this.topics.set(id, { key: discoveryKey, ...opts })
    if (!this.swarm) return { flushed: Promise.resolve() }
    // While paused the swarm is suspended: the topic is joined suspended and announced on resume.
    const discovery = this.swarm.join(discoveryKey, opts)
    this.publish()
    const flushed = this.paused ? Promise.resolve() : discovery.flushed().catch(() => {})
    return { flushed }
  }

  async leave (discoveryKey: Buffer): Promise<void> {
    const id = toHex(discoveryKey)
    if (!this.topics.delete(id)) return
    if (this.swarm) await this.swarm.leave(discoveryKey)
    this.publish()
  }

  /**
   * Announces and looks a joined topic up again now, so peers that appeared since the last lookup
   * (or that Hyperswarm stopped retrying) are found. A no-op while paused or closing.
   */
  async refresh (discoveryKey: Buffer): Promise<void> {
    if (!this.swarm || this.paused || this.closing || !this.topics.has(toHex(discoveryKey))) return
    const discovery = (this.swarm as unknown as { status (topic: Buffer): Discovery | null }).status(discoveryKey)
    if (discovery === null) return
    this.counters.refreshes++
    await discovery.refresh()
  }

  async setPaused (paused: boolean): Promise<NetworkStatus> {
    const run = this.pausing.then(() => this.applyPaused(paused))
    this.pausing = run.catch(() => {})
    return await run
  }

  private async applyPaused (paused: boolean): Promise<NetworkStatus> {
    const swarm = this.swarm
    if (paused === this.paused || !swarm || this.closing) return this.status()
    this.paused = paused
    if (paused) await swarm.suspend()
    else await swarm.resume()
    this.publish()
    if (!paused) this.emit('resumed')
    return this.status()
  }

  /** Waits until the connection count satisfies `predicate` (for tests and the CLI; no polling). */
  async waitFor (predicate: (s: NetworkStatus) => boolean, signal?: AbortSignal): Promise<NetworkStatus> {
    while (!predicate(this.status())) {
      if (this.closing) throw new Error('network closed')
      if (signal?.aborted) throw signal.reason
      await new Promise<void>((resolve) => {
        const done = (): void => { this.waiters.delete(done); resolve() }
        this.waiters.add(done)
        signal?.addEventListener('abort', done, { once: true })
      })
    }
    return this.status()
  }
}

export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
