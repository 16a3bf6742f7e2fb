/**
 * What every hosting role shares: the chain as the roles see it (the marketplace state, this
 * node's account, block events), the limits, the injected clock and timers, and the service's
 * close. Waits started through it end at once, with CLOSED, when the service closes, so a
 * closing node never waits out a fetch or a measurement.
 */
import b4a from 'b4a'
import type Hypercore from 'hypercore'
import { DatdotError } from '../shared/errors.js'
import { withTimeout, type Timers } from '../shared/timeout.js'
import type { ChainService } from '../chain/service.js'
import type { BlockOutcome, Contract, MarketState } from '../chain/marketplace.js'
import { toSignedRoot } from '../chain/roots.js'
import { checkContract, commitDeadlineMs, type ContractView } from './proof.js'
import type { HostingCounters, HostingLimits } from './config.js'
import type { KeyPair, StorageChallenge } from './roles.js'

/** The chain as the hosting roles read it: state, account, and a 'block' event per followed block. */
export interface MarketView {
  readonly market: MarketState
  readonly addressHex: string
  on (event: 'block', fn: (out: BlockOutcome) => void): unknown
  off (event: 'block', fn: (out: BlockOutcome) => void): unknown
}

/** The chain calls the hosting service makes (a ChainService has them all). */
export type HostingChain = MarketView & Pick<ChainService,
'registerProvider' | 'unregisterProvider' | 'publishPlan' | 'updatePlan' | 'unpublish' |
'submitSetupReport' | 'submitStorageReport' | 'submitPerformanceReport' | 'submitEpochReport'>

export interface HostingContextOptions {
  chain: MarketView
  limits: HostingLimits
  counters: HostingCounters
  /** This node's Hyperswarm key pair: the key it registered on chain as a provider. */
  keyPair: KeyPair
  timers: Timers
  now: () => number
}

export class HostingContext {
  readonly chain: MarketView
  readonly limits: HostingLimits
  readonly counters: HostingCounters
  readonly keyPair: KeyPair
  readonly timers: Timers
  readonly now: () => number
  /** Aborted when the service closes: measurements and waits started with it stop at once. */
  private readonly closer = new AbortController()
  /** Pending untilChain waits, resolved when the service closes. */
  private readonly waits = new Set<() => void>()

  constructor (opts: HostingContextOptions) {
    this.chain = opts.chain
    this.limits = opts.limits
    this.counters = opts.counters
    this.keyPair = opts.keyPair
    this.timers = opts.timers
    this.now = opts.now
  }

  get closing (): boolean { return this.closer.signal.aborted }
  get closeSignal (): AbortSignal { return this.closer.signal }
  get me (): string { return this.chain.addressHex }
  get market (): MarketState { return this.chain.market }

  /** Marks the service closing: every wait started through this context ends now. */
  close (): void {
    for (const done of [...this.waits]) done()
    this.closer.abort()
  }

  /** Rejects after `ms` (TIMEOUT), or with CLOSED as soon as the service closes. */
  withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
    if (this.closing) return Promise.reject(DatdotError.closed('hosting service'))
    return withTimeout(p, ms, what, { timers: this.timers, signal: this.closer.signal, closed: 'hosting service' })
  }

  /** Resolves after `ms`; rejects with CLOSED if the service closes first. */
  delay (ms: number): Promise<void> {
    return this.withTimeout(new Promise<void>(() => {}), ms, 'delay').catch((err: DatdotError) => {
      if (err.code !== 'TIMEOUT') throw err
    })
  }

  /**
   * Resolves when `check()` holds, re-checking on every followed block, or after `ms` anyway
   * (a peer may act on a block this node has not followed yet), or when the service closes.
   */
  untilChain (check: () => boolean, ms: number): Promise<void> {
    if (check() || this.closing) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => { this.chain.off('block', onblock); this.timers.clearTimeout(timer); this.waits.delete(done); resolve() }
      const onblock = (): void => { if (check() || this.closing) done() }
      const timer = this.timers.setTimeout(done, ms)
      this.waits.add(done)
      this.chain.on('block', onblock)
    })
  }

  /** The Hyperswarm key a provider registered on chain. NOT_FOUND for an unknown one. */
  providerKey (address: string | null): string {
    const p = address === null ? undefined : this.market.providers[address]
    if (p === undefined) throw DatdotError.notFound(`provider ${address ?? '(none)'}`)
    return p.noiseKeyHex
  }

  /** True when some registered provider uses this Hyperswarm key. */
  isProviderKey (keyHex: string): boolean {
    return Object.values(this.market.providers).some((p) => p.noiseKeyHex === keyHex)
  }

  /** True when one of this node's slots is hosting. */
  hostsAnySlot (): boolean {
    const me = this.me
    return Object.values(this.market.contracts).some((c) => c.slots.some((s) => s.hoster === me && s.state === 'hosting'))
  }

  /**
   * The contract's view: its range and the signed root the chain recorded when the contract was
   * cut (`contract.root`, verified by every interpreter). Never this node's own capture.
   */
  viewOf (contract: Contract): ContractView {
    const view = { contractId: contract.id, root: toSignedRoot(contract.keyHex, contract.root), start: contract.start, end: contract.end }
    checkContract(view)
    return view
  }

  /** The key of a provider as bytes (see providerKey). */
  providerKeyBytes (address: string | null): Buffer {
    return b4a.from(this.providerKey(address), 'hex')
  }

  /**
   * The walk this node, as attestor, asks of the hoster of `contract`'s slot `slot` with `seed`,
   * over a connection that took `connectMs` (docs/protocol.md section 5): regular checks and audits.
   */
  storageChallenge (contract: Contract, slot: number, hosterKey: Uint8Array, seed: Buffer, connectMs: number): StorageChallenge {
    const { limits } = this
    return {
      contract: this.viewOf(contract),
      hosterKey,
      encoderKey: this.providerKeyBytes(contract.slots[slot].encoder),
      rounds: limits.rounds,
      seed,
      steps: limits.walkSteps,
      openings: Math.min(limits.openings, limits.walkSteps),
      deadlineMs: commitDeadlineMs(connectMs, limits.commitBaseMs),
      openTimeoutMs: limits.requestTimeoutMs
    }
  }
}

/** Waits until the local replica knows at least `length` blocks of the core (it may know more). */
export async function reachLength (core: Hypercore, length: number): Promise<void> {
  await core.ready()
  while (core.length < length) {
    const done = core.findingPeers()
    await core.update({ wait: true }).finally(done)
    if (core.length < length) await new Promise<void>((resolve) => core.once('append', () => resolve()))
  }
}
