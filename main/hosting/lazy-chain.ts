/**
 * Starting the embedded chain on demand. The embedded chain (chopsticks running the Asset Hub
 * runtime in-process) holds most of a node's memory, and a user who only uses the vault never
 * needs it: it starts when hosting is first used (the first call that needs it), or when the node
 * opens if this node seeds or sponsors a plan (persisted: hosting_settings, and the settings row
 * written here when a sponsored plan is published).
 *
 * One start at a time: concurrent callers share it. A failed start is reported to its callers as
 * a coded error (CHAIN_ERROR unless it had its own code), the state says 'failed', and the next call starts again.
 * It does not log: it reports its status through `onStatus` and keeps counters.
 */
import type { ChainStatus } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import type { Db } from '../shared/db.js'
import type { ChainService } from '../chain/service.js'
import type { HostingService } from './service.js'

/** What a start opens: the chain client and, unless the node is offline, the hosting service. */
export interface ChainParts {
  chain: ChainService
  hosting: HostingService | null
}

export interface LazyChainOptions {
  endpoint: string
  /** Opens the chain and hosting; on failure it leaves nothing open. */
  open: () => Promise<ChainParts>
  onStatus: (status: ChainStatus) => void
}

export type ChainState = NonNullable<ChainStatus['state']>

/** The settings row (engine settings table) saying this node sponsors a plan: start the chain at open. */
const SPONSORING = 'hosting.sponsoring'

export class LazyChain {
  state: ChainState = 'idle'
  parts: ChainParts | null = null
  /** Why the last start failed (null after a start that worked). */
  lastError: DatdotError | null = null
  readonly counters = { starts: 0, failures: 0 }
  private starting: Promise<ChainParts> | null = null
  private closed = false

  constructor (private readonly opts: LazyChainOptions) {}

  /** The chain and hosting, started now unless running; concurrent calls share one start. */
  async start (): Promise<ChainParts> {
    if (this.parts !== null) return this.parts
    if (this.closed) throw DatdotError.closed('chain')
    if (this.starting === null) this.starting = this.startOnce()
    return await this.starting
  }

  /** Starts without a caller waiting: the outcome shows in `state`, `lastError` and the counters. */
  startInBackground (): void {
    this.start().catch(() => {})
  }

  private async startOnce (): Promise<ChainParts> {
    this.counters.starts++
    this.setState('starting')
    try {
      const parts = await this.opts.open()
      this.parts = parts
      this.lastError = null
      this.state = 'running'
      this.opts.onStatus(this.status())
      return parts
    } catch (err) {
      this.counters.failures++
      this.lastError = err instanceof DatdotError ? err : DatdotError.chain(`The chain could not start: ${(err as Error).message}`, err)
      this.setState('failed')
      throw this.lastError
    } finally {
      this.starting = null
    }
  }

  /** The chain's status: the running chain's own, else what this node is waiting for. */
  status (): ChainStatus {
    if (this.parts !== null) return { ...this.parts.chain.status(), state: 'running' }
    return { connected: false, endpoint: this.opts.endpoint, chainName: null, blockNumber: null, tokenSymbol: null, tokenDecimals: null, address: null, devTokens: this.opts.endpoint === 'embedded', state: this.state }
  }

  /** No start after this; waits for one under way (whose services the node then closes). */
  async close (): Promise<void> {
    this.closed = true
    await this.starting?.catch(() => {})
  }

  private setState (state: ChainState): void {
    this.state = state
    this.opts.onStatus(this.status())
  }
}

/**
 * Whether the node should start its chain when it opens: it seeds, or it sponsors a plan (as
 * last seen on the chain), or it ran its chain before the sponsoring row existed (one start
 * checks, and records the answer).
 */
export function startsAtOpen (db: Db): boolean {
  if (tableExists(db, 'hosting_settings')) {
    const row = db.prepare('SELECT seeding FROM hosting_settings WHERE id = 1').get() as { seeding: number } | undefined
    if (row?.seeding === 1) return true
  }
  const sponsoring = db.prepare('SELECT value FROM settings WHERE name = ?').get(SPONSORING) as { value: string } | undefined
  if (sponsoring !== undefined) return sponsoring.value === '1'
  return chainEverRan(db)
}

/** True once this node's chain service has ever followed a chain (its tables exist): before that, it has no plans. */
export function chainEverRan (db: Db): boolean {
  return tableExists(db, 'chain_snapshots')
}

function tableExists (db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined
}

/** Records whether this node sponsors a plan. */
export function setSponsoring (db: Db, on: boolean): void {
  db.prepare('INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)').run(SPONSORING, on ? '1' : '0')
}

/** After a start: records whether one of this node's plans is still active on the chain. */
export function refreshSponsoring (db: Db, chain: ChainService): void {
  const me = chain.addressHex
  const active = Object.values(chain.market.plans).some((p) => p.sponsor === me && p.status === 'active')
  setSponsoring(db, active)
}
