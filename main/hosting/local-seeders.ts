/**
 * The app's local seeders: on a node whose chain is its own embedded local dev chain, a few
 * seeding nodes in this process (devnet-seeder.ts: real DatdotNodes in their own folders under
 * `<storage>/local-seeders/`, on the node's local chain and its DHT, funded from the dev faucet)
 * so a newcomer's vault has hosters without the command line. They close with the node, before its
 * chain. While wanted (a settings row written when they start, removed when the user stops them)
 * they start again when the node's handlers are made (the daemon, the app): a vault they keep
 * online stays online across a restart. It never logs: it emits 'seeders.status' node events.
 */
import { join } from 'node:path'
import type { LocalSeedersState } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import type { ChainService } from '../chain/service.js'
import type { DatdotNode } from './node.js'
import { openSeeder, fundAndSeed, settleAll, type DevnetSeeder } from './devnet-seeder.js'

/** Settings row: how many local seeders this node wants (absent: none). */
const WANTED = 'hosting.localSeeders'
/** Settings row: the chain accounts (0x hex, JSON) of every local seeder this node ran, not counted as other providers. */
const ACCOUNTS = 'hosting.localSeederAccounts'
/** A plan of one replica: a hoster, an encoder and an attestor, none of them its sponsor. */
const PROVIDERS_FOR_ONE_REPLICA = 3

type State = LocalSeedersState['state']

export class LocalSeeders {
  state: State = 'off'
  error: string | null = null
  readonly counters = { starts: 0, failures: 0, resumes: 0 }
  private seeders: DevnetSeeder[] = []
  private readonly seeding = new Set<string>()
  private starting: Promise<void> | null = null
  private lastSent = ''
  private chain: ChainService | null = null
  private readonly onBlock = (): void => { this.emitStatus() }

  constructor (private readonly node: DatdotNode) {}

  /** The seeders' nodes, open or starting. */
  get nodes (): DatdotNode[] { return this.seeders.map((s) => s.node) }

  /** A seeding local seeder's chain and hosting service (its dashboard and ledger), by name; NOT_FOUND otherwise. */
  seederParts (name: string): { chain: ChainService, hosting: NonNullable<DatdotNode['hosting']> } {
    const s = this.seeders.find((x) => x.name === name)
    const chain = s?.node.chain ?? null
    const hosting = s?.node.hosting ?? null
    if (!this.seeding.has(name) || chain === null || hosting === null) throw DatdotError.notFound(`a seeding local seeder named ${name} on this node`)
    return { chain, hosting }
  }

  /** Null when this node can run local seeders, else why not. */
  unavailable (): string | null {
    const o = this.node.options
    if (o.offline === true) return 'this node is offline, and seeders need the network'
    if (this.node.lazyChain === null) return 'this node runs without a chain (--chain off)'
    if (o.chain !== 'embedded') return `this node uses the chain at ${o.chain ?? 'off'}, not its own local one (a devnet has its own seeders: datdot devnet)`
    if (o.embeddedChain?.localChain !== undefined) return 'this node joins the local chain of another node'
    if (o.dht !== undefined) return 'this node was handed its DHT node, which seeders cannot share'
    return null
  }

  status (): LocalSeedersState {
    const chain = this.node.chain
    const market = chain?.market
    const seeders = this.seeders.map((s) => {
      const c = s.node.chain
      const hex = c?.addressHex ?? null
      const slots = hex === null || market === undefined
        ? 0
        : Object.values(market.contracts).reduce((n, k) => n + k.slots.filter((x) => x.hoster === hex && x.state === 'hosting').length, 0)
      return { name: s.name, address: c?.address ?? '', state: this.seeding.has(s.name) ? 'seeding' as const : 'starting' as const, slots, earned: earnedBy(c).toString() }
    })
    const mine = new Set(this.accounts())
    const providers = market === undefined || chain === null || chain.market.network === null ? null : Object.keys(market.providers).filter((k) => k !== chain.addressHex && !mine.has(k)).length
    return { unavailable: this.unavailable(), state: this.state, seeders, providers, providersNeeded: PROVIDERS_FOR_ONE_REPLICA, resumes: this.wanted() > 0, error: this.error }
  }

  /** Starts `count` seeders and resolves when every one seeds; a failure closes those started and throws. */
  async start (count: number): Promise<LocalSeedersState> {
    const why = this.unavailable()
    if (why !== null) throw DatdotError.forbidden(`Local seeders run only on this node's own local dev chain: ${why}`)
    if (this.state !== 'off') throw DatdotError.alreadyRunning(`Local seeders (${this.state}, ${this.seeders.length} seeder${this.seeders.length === 1 ? '' : 's'})`, 'stop them first')
    this.state = 'starting'
    this.error = null
    this.counters.starts++
    this.emitStatus()
    const run = this.startAll(count)
    this.starting = run
    try {
      await run
      this.state = 'running'
    } catch (err) {
      this.counters.failures++
      const e = DatdotError.from(err)
      if ((this.state as State) !== 'stopping') this.error = e.message
      await this.closeSeeders()
      // A start that failed is not wanted again (unless the node is closing: then it resumes next time).
      if (!this.node.closing) this.setWanted(0)
      this.state = 'off'
      throw e
    } finally {
      this.starting = null
      this.emitStatus()
    }
    return this.status()
  }

  private async startAll (count: number): Promise<void> {
    const { chain } = await (this.node.lazyChain as NonNullable<DatdotNode['lazyChain']>).start()
    const local = chain.local
    if (local === null || !chain.status().devTokens) throw DatdotError.forbidden('Local seeders run only on a local chain with the dev faucet')
    this.node.closeFirst({ close: async () => { await this.stop(false) } })
    this.setWanted(count)
    this.chain = chain
    chain.on('block', this.onBlock)
    const names = Array.from({ length: count }, (_, i) => `seeder-${i + 1}`)
    const bootstrap = this.node.options.bootstrap
    // all at once: opening and registering wait for blocks, not for this process
    await settleAll(names.map(async (name) => {
      const seeder = await openSeeder(name, join(this.node.storage, 'local-seeders', name), { chain: local, bootstrap })
      this.seeders.push(seeder)
      this.remember(seeder.node.chain?.addressHex)
      this.seeders.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name))
      if (this.state === 'stopping') throw DatdotError.cancelled('starting local seeders')
      this.emitStatus()
    }))
    await settleAll(this.seeders.map(async (s) => {
      await fundAndSeed(s, { faucet: async (amount, to) => await chain.faucet(amount, to), onEarned: () => { this.emitStatus() } })
      this.seeding.add(s.name)
      this.emitStatus()
    }))
  }

  /**
   * Stops the seeders (one starting is stopped too: its start fails as cancelled). `byUser`: they
   * are not wanted any more; false when the node closes (they start again with it).
   */
  async stop (byUser = true): Promise<LocalSeedersState> {
    if (byUser) this.setWanted(0)
    if (this.state === 'off') return this.status()
    this.state = 'stopping'
    this.emitStatus()
    await this.closeSeeders()
    await this.starting?.catch(() => {})
    await this.closeSeeders()
    this.state = 'off'
    this.emitStatus()
    return this.status()
  }

  /** Starts the wanted seeders again (after a restart) without a caller waiting; a failure shows in `error`. */
  resume (): void {
    const count = this.wanted()
    if (count === 0 || this.state !== 'off' || this.unavailable() !== null) return
    this.counters.resumes++
    this.start(count).catch(() => {})
  }

  private async closeSeeders (): Promise<void> {
    const open = this.seeders
    this.seeders = []
    this.seeding.clear()
    this.chain?.off('block', this.onBlock)
    await Promise.all(open.map(async (s) => { await s.node.close().catch(() => {}) }))
  }

  private accounts (): string[] {
    const row = this.node.db.prepare('SELECT value FROM settings WHERE name = ?').get(ACCOUNTS) as { value: string } | undefined
    try {
      const list: unknown = JSON.parse(row?.value ?? '[]')
      return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []
    } catch { return [] }
  }

  private remember (hex: string | undefined): void {
    const known = this.accounts()
    if (hex === undefined || known.includes(hex)) return
    this.node.db.prepare('INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)').run(ACCOUNTS, JSON.stringify([...known, hex]))
  }

  private wanted (): number {
    const row = this.node.db.prepare('SELECT value FROM settings WHERE name = ?').get(WANTED) as { value: string } | undefined
    return row === undefined ? 0 : Number(row.value) || 0
  }

  private setWanted (count: number): void {
    if (count === 0) this.node.db.prepare('DELETE FROM settings WHERE name = ?').run(WANTED)
    else this.node.db.prepare('INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)').run(WANTED, String(count))
  }

  /** Sends the status when it changed since the last one sent (blocks come every few seconds). */
  private emitStatus (): void {
    if (this.node.closed) return
    const s = this.status()
    const text = JSON.stringify(s)
    if (text === this.lastSent) return
    this.lastSent = text
    this.node.emitEvent('seeders.status', s)
  }
}

/** What a seeder earned for its work, from its own ledger (kept across restarts). */
function earnedBy (chain: ChainService | null): bigint {
  if (chain === null || !chain.opened) return 0n
  return chain.ledger.earnings({ fromMs: 0, toMs: Date.now() + 1, account: chain.address }).reduce((n, r) => n + BigInt(r.amount), 0n)
}

const perNode = new WeakMap<DatdotNode, LocalSeeders>()

/** The local seeders of a node (one per node). */
export function localSeedersOf (node: DatdotNode): LocalSeeders {
  let s = perNode.get(node)
  if (s === undefined) {
    s = new LocalSeeders(node)
    perNode.set(node, s)
  }
  return s
}
