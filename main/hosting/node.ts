/**
 * A DatDot node: the engine plus, when a chain is configured, the chain client (with its ledger)
 * and the hosting service. The engine sits below chain and hosting and knows nothing of them;
 * this subclass opens them after the engine's own services (and closes them before), loading
 * their modules only when a chain is used. The daemon and the Electron shell run this class.
 */
import { join } from 'node:path'
import type { EventData } from '../shared/contract.js'
import { Engine, type EngineOptions } from '../engine/engine.js'
import type { ChainService } from '../chain/service.js'
import type { HostingService } from './service.js'

export interface NodeOptions extends EngineOptions {
  /** Chain endpoint: 'off' (default), 'embedded', or a ws:// URL. Used by the chain service. */
  chain?: string
}

export class DatdotNode extends Engine {
  declare readonly options: NodeOptions
  /** The chain client and ledger (null with chain 'off'). */
  chain: ChainService | null = null
  /** Seeding, encoding and attesting for the hosting network (null with chain 'off' or offline). */
  hosting: HostingService | null = null

  constructor (opts: NodeOptions) {
    super(opts)
  }

  protected override async _open (): Promise<void> {
    await super._open()
    const endpoint = this.options.chain ?? 'off'
    if (endpoint !== 'off') await this.openChain(endpoint)
  }

  /** Starts the chain client (with its ledger) and the hosting service; loaded only when used. */
  private async openChain (endpoint: string): Promise<void> {
    const { ChainService } = await import('../chain/service.js')
    const chain = new ChainService({ storage: this.storage, endpoint, db: this.db, now: this.now })
    chain.on('status', (s: EventData<'chain.status'>) => this.emitEvent('chain.status', s))
    chain.on('ledger-entry', (e: EventData<'ledger.entry'>) => this.emitEvent('ledger.entry', e))
    await chain.ready()
    this.services.unshift(chain)
    this.chain = chain

    if (this.options.offline) return
    const { HostingService } = await import('./service.js')
    const hosting = new HostingService({ engine: this, chain, storageDir: join(this.storage, 'hosting'), now: this.now })
    hosting.on('status', (s: EventData<'hosting.status'>) => this.emitEvent('hosting.status', s))
    hosting.on('proof', (p: EventData<'hosting.proof'>) => this.emitEvent('hosting.proof', p))
    await hosting.ready()
    this.services.unshift(hosting)
    this.hosting = hosting
  }
}
