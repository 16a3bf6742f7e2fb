/**
 * A DatDot node: the engine plus, when a chain is configured, the chain client (with its ledger)
 * and the hosting service. The engine sits below chain and hosting and knows nothing of them;
 * this subclass opens them after the engine's own services (and closes them before), loading
 * their modules only when a chain is used; the embedded chain starts when hosting is first used
 * (lazy-chain.ts). The daemon and the Electron shell run this class.
 */
import { join } from 'node:path'
import Hyperswarm from 'hyperswarm'
import DHT from 'hyperdht'
import type { EventData } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import { Engine, type EngineOptions } from '../engine/engine.js'
import type { ChainService, ChainServiceOptions } from '../chain/service.js'
import type { HostingService, HostingServiceOptions } from './service.js'
import { ownDrivesOf } from './own.js'
import { LazyChain, startsAtOpen, refreshSponsoring, type ChainParts } from './lazy-chain.js'
import { proofForPeople } from './proof-view.js'
import type { ProofRow } from './config.js'

export interface NodeOptions extends EngineOptions {
  /** Chain endpoint: 'off' (default), 'embedded', or a ws:// URL. Used by the chain service. */
  chain?: string
  /**
   * When the embedded chain starts: 'lazy' (default: when hosting is first used, or at open when
   * this node seeds or sponsors a plan; lazy-chain.ts) or 'eager' (at open). A ws:// endpoint
   * always connects at open: it is cheap and the user asked for it.
   */
  chainStart?: 'lazy' | 'eager'
  /**
   * The embedded chain's settings, passed to the chain service: an already open local chain of
   * this process to join (local seeders join their node's; `operator: false` then), or the
   * block interval and network parameters of a new one (tests).
   */
  embeddedChain?: Pick<ChainServiceOptions, 'localChain' | 'operator' | 'blockIntervalMs' | 'networkParams'>
  /** The network to follow on that chain, `<genesis hash>@<record block>` (chain/network-ref.ts): following starts at its record's block. */
  chainNetwork?: string
}

export class DatdotNode extends Engine {
  declare readonly options: NodeOptions
  /** The chain client and ledger (null with chain 'off', and until the embedded chain starts). */
  chain: ChainService | null = null
  /** Seeding, encoding and attesting for the hosting network (null with chain 'off' or offline, and until the chain starts). */
  hosting: HostingService | null = null
  /** The on-demand start of the chain (null with chain 'off'). */
  lazyChain: LazyChain | null = null

  constructor (opts: NodeOptions) {
    super(opts)
  }

  protected override async _open (): Promise<void> {
    await super._open()
    const endpoint = this.options.chain ?? 'off'
    if (endpoint === 'off') return
    const lazy = new LazyChain({
      endpoint,
      open: async () => await this.openChain(endpoint),
      onStatus: (s) => { this.emitEvent('chain.status', s) }
    })
    this.lazyChain = lazy
    // A ws:// endpoint or an eager start: at open, and a failure fails the open (as before).
    if (endpoint !== 'embedded' || this.options.chainStart === 'eager') await lazy.start()
    // A node that seeds or sponsors: started now without holding up the vault; a failure is kept
    // in its status and the next call that needs the chain starts again.
    else if (startsAtOpen(this.db)) lazy.startInBackground()
  }

  /** Closes `service` with this node, before every service open now (local seeders: before the chain they share). */
  closeFirst (service: { close (): Promise<void> }): void {
    if (this.closing) throw DatdotError.closed('engine')
    this.services.unshift(service)
  }

  protected override async _close (): Promise<void> {
    await this.lazyChain?.close()
    await super._close()
  }

  /** Starts the chain client (with its ledger) and the hosting service; loaded only when used. Leaves nothing open when it fails. */
  private async openChain (endpoint: string): Promise<ChainParts> {
    if (this.closing) throw DatdotError.closed('engine')
    const { ChainService } = await import('../chain/service.js')
    const network = this.options.chainNetwork === undefined ? undefined : (await import('../chain/network-ref.js')).parseNetworkRef(this.options.chainNetwork)
    const chain = new ChainService({ ...this.options.embeddedChain, storage: this.storage, endpoint, db: this.db, now: this.now, primaryKey: this.store.primaryKey, network })
    chain.on('status', (s: EventData<'chain.status'>) => this.emitEvent('chain.status', { ...s, state: this.lazyChain?.state ?? 'running' }))
    chain.on('ledger-entry', (e: EventData<'ledger.entry'>) => this.emitEvent('ledger.entry', e))
    let hosting: HostingService | null = null
    try {
      await chain.ready()
      if (!this.options.offline) hosting = await this.openHosting(chain)
    } catch (err) {
      await chain.close().catch(() => {})
      throw err
    }
    refreshSponsoring(this.db, chain)
    this.services.unshift(chain)
    if (hosting !== null) this.services.unshift(hosting)
    this.chain = chain
    this.hosting = hosting
    return { chain, hosting }
  }

  private async openHosting (chain: ChainService): Promise<HostingService> {
    const { HostingService } = await import('./service.js')
    const hosting = new HostingService({ ...hostingDepsOf(this), chain, storageDir: join(this.storage, 'hosting'), now: this.now })
    hosting.on('status', (s: EventData<'hosting.status'>) => this.emitEvent('hosting.status', s))
    hosting.on('proof', (p: ProofRow) => this.emitEvent('hosting.proof', proofForPeople(p, (hex) => chain.formatAddress(hex))))
    hosting.on('alert', (a: EventData<'hosting.alert'>) => this.emitEvent('hosting.alert', a))
    await hosting.ready()
    return hosting
  }
}

/** What the hosting service takes from an engine: its database, corestore, swarm and upload limiter, own drives (the vault's spaces) and a measurement swarm on its DHT. */
export function hostingDepsOf (engine: Engine): Pick<HostingServiceOptions, 'db' | 'corestore' | 'swarm' | 'upload' | 'own' | 'createMeasureSwarm' | 'networkPaused'> {
  const swarm = engine.network?.swarm
  if (swarm === null || swarm === undefined) throw DatdotError.invalidArgument('hosting needs the network (the engine is offline)')
  return { db: engine.db, corestore: engine.store, swarm, upload: engine.network.upload, own: ownDrivesOf(engine.spaces), createMeasureSwarm: measureSwarmFactory(engine.options), networkPaused: () => engine.network?.paused ?? false }
}

/**
 * The single-use swarm of one performance measurement: on the engine's bootstrap; a loopback
 * bootstrap (the test network, `datdot testnet`) gets a loopback DHT node. An injected DHT has no
 * bootstrap to share: such an engine's tests pass their own createMeasureSwarm.
 */
export function measureSwarmFactory (options: EngineOptions): HostingServiceOptions['createMeasureSwarm'] {
  return (keyPair) => {
    const bootstrap = options.bootstrap
    if (options.dht !== undefined) throw DatdotError.invalidArgument('an injected DHT needs createMeasureSwarm for performance measurements')
    if (bootstrap !== undefined && bootstrap.every((b) => b.host === '127.0.0.1' || b.host === 'localhost')) {
      return new Hyperswarm({ keyPair, dht: new DHT({ ephemeral: true, firewalled: false, bootstrap, host: '127.0.0.1' }) })
    }
    return new Hyperswarm(bootstrap === undefined ? { keyPair } : { keyPair, bootstrap })
  }
}
