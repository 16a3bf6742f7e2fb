/**
 * A whole hosting network on one machine (`datdot devnet`): the local chain (the embedded
 * chain's runtime, served on a loopback ws:// port so several daemons share it) with its
 * operator, a loopback Hyperswarm testnet, and N seeders (real DatdotNode engines, each in its
 * own storage folder under the devnet folder, funded with dev tokens and seeding). It writes
 * `devnet.json` in its folder (what `datdot daemon --devnet DIR` reads) and emits events for a
 * status line; it never logs.
 */
import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Testnet } from '@hyperswarm/testnet'
import { DatdotError } from '../shared/errors.js'
import { openDatabase, type Db } from '../shared/db.js'
import type { HostPort } from '../engine/config.js'
import { LocalChain } from '../chain/local-chain.js'
import { ChainService } from '../chain/service.js'
import type { BlockOutcome, MarketState } from '../chain/marketplace.js'
import type { NetworkParams } from '../chain/records.js'
import { openSeeder, fundAndSeed, settleAll, type DevnetSeeder } from './devnet-seeder.js'
import { readDevnetRecord, writeDevnetRecord, removeDevnetRecord, pidAlive, type DevnetRecord } from './devnet-record.js'

export { readDevnetRecord, type DevnetRecord } from './devnet-record.js'

/** A plan needs five providers besides its sponsor: two hosters, two encoders and an attestor per contract. */
export const DEVNET_MIN_SEEDERS = 5
export const DEVNET_MAX_SEEDERS = 16

/**
 * The devnet's marketplace: the app's 4 MiB contracts, but a storage challenge and a performance
 * check per slot every 30 blocks (1.5 minutes at 3 s blocks) so a newcomer sees proofs and
 * payouts within minutes; passes aggregated per attestor over epochs of 30 blocks (payouts once
 * an epoch, 70 blocks after its end at the latest).
 */
export const DEVNET_NETWORK_PARAMS: NetworkParams = { chunksPerContract: 64, challengeIntervalBlocks: 30, challengeTimeoutBlocks: 20, performanceAttestors: 3, epochBlocks: 30 }
export const DEVNET_BLOCK_MS = 3000

export interface DevnetOptions {
  /** Folder for the chain, the operator and one storage folder per seeder. */
  dir: string
  /** Seeders to start (5 to 16). */
  seeders: number
  /** Chain port on 127.0.0.1 (0: any free port). */
  port?: number
  /** Block interval in ms (default DEVNET_BLOCK_MS). */
  blockIntervalMs?: number
  /** Marketplace parameters of a new devnet chain (default DEVNET_NETWORK_PARAMS). */
  networkParams?: NetworkParams
  /** Disk each seeder offers (default 1 GiB) and its bandwidth limit (default 10 MB/s). */
  seederStorageBytes?: number
  seederBandwidthBps?: number
  /** Called as each seeder becomes ready (funded and seeding), while startDevnet still runs. */
  onSeederReady?: (seeder: DevnetSeeder) => void
}

export type { DevnetSeeder } from './devnet-seeder.js'

/**
 * Events: 'proof' ({ seeder, proof: ProofRow }), 'earned'
 * ({ seeder, entry: LedgerEntry }), 'block' (BlockOutcome, from the operator).
 */
export interface Devnet extends EventEmitter {
  readonly dir: string
  readonly chainUrl: string
  readonly bootstrap: HostPort[]
  readonly seeders: DevnetSeeder[]
  readonly operator: ChainService
  readonly market: MarketState
  close: () => Promise<void>
}

/** Devnet folders running in this process (devnet.json's pid cannot tell two of them apart). */
const runningHere = new Set<string>()

class DevnetHandle extends EventEmitter implements Devnet {
  readonly seeders: DevnetSeeder[] = []
  chainUrl = ''
  bootstrap: HostPort[] = []
  operator!: ChainService
  private local: LocalChain | null = null
  private testnet: Testnet | null = null
  private db: Db | null = null
  private closing: Promise<void> | null = null
  private wroteRecord = false

  constructor (readonly dir: string) { super() }

  get market (): MarketState { return this.operator.market }

  async start (opts: DevnetOptions): Promise<void> {
    const previous = readDevnetRecord(this.dir)
    this.local = await LocalChain.open({
      dir: join(this.dir, 'chain'),
      port: opts.port ?? 0,
      blockIntervalMs: opts.blockIntervalMs ?? DEVNET_BLOCK_MS,
      networkParams: opts.networkParams ?? DEVNET_NETWORK_PARAMS
    })
    this.chainUrl = this.local.url as string
    mkdirSync(join(this.dir, 'operator'), { recursive: true })
    this.db = openDatabase(join(this.dir, 'operator', 'operator.db'))
    // this process is the network operator of its chain: it follows it and pays verified work
    this.operator = new ChainService({ storage: join(this.dir, 'operator'), endpoint: 'embedded', db: this.db, localChain: this.local, operator: true })
    await this.operator.ready()
    this.operator.on('block', (b: BlockOutcome) => this.emit('block', b))
    const { default: createTestnet } = await import('@hyperswarm/testnet')
    // the same bootstrap port as last time when it is free, so daemons started before still find it
    this.testnet = await createTestnet(3, { host: '127.0.0.1', port: previousPort(previous) }).catch(async () => await createTestnet(3, { host: '127.0.0.1' }))
    this.bootstrap = this.testnet.bootstrap.map((b) => ({ host: b.host, port: b.port }))
    // all at once: opening and registering wait for blocks, not for this process
    const names = Array.from({ length: opts.seeders }, (_, i) => `seeder-${i + 1}`)
    await settleAll(names.map(async (name) => { await this.openSeeder(name) }))
    this.seeders.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name))
    await settleAll(this.seeders.map(async (s) => { await this.fundAndSeed(s, opts) }))
    const record: DevnetRecord = { chain: this.chainUrl, bootstrap: formatBootstrap(this.bootstrap), pid: process.pid, seeders: opts.seeders, startedMs: Date.now() }
    writeDevnetRecord(this.dir, record)
    this.wroteRecord = true
  }

  /** One seeder: a DatdotNode on the devnet's chain and testnet (closed with the devnet once open). */
  private async openSeeder (name: string): Promise<void> {
    this.seeders.push(await openSeeder(name, join(this.dir, name), { chain: this.chainUrl, bootstrap: this.bootstrap }))
  }

  /** Funded by the operator's chain service (one faucet transfer at a time, in nonce order), then seeding. */
  private async fundAndSeed (seeder: DevnetSeeder, opts: DevnetOptions): Promise<void> {
    const name = seeder.name
    await fundAndSeed(seeder, {
      faucet: async (amount, to) => await this.operator.faucet(amount, to),
      storageBytes: opts.seederStorageBytes,
      bandwidthBps: opts.seederBandwidthBps,
      onProof: (proof) => this.emit('proof', { seeder: name, proof }),
      onEarned: (entry) => this.emit('earned', { seeder: name, entry })
    })
    opts.onSeederReady?.(seeder)
  }

  close (): Promise<void> {
    this.closing ??= this.closeAll()
    return this.closing
  }

  private async closeAll (): Promise<void> {
    const errors: unknown[] = []
    const step = async (f: () => Promise<void>): Promise<void> => { try { await f() } catch (err) { errors.push(err) } }
    await Promise.all(this.seeders.map(async (s) => { await step(() => s.node.close()) }))
    if (this.operator !== undefined) await step(() => this.operator.close())
    if (this.local !== null) await step(() => (this.local as LocalChain).close())
    this.db?.close()
    if (this.testnet !== null) await step(() => (this.testnet as Testnet).destroy())
    if (this.wroteRecord) removeDevnetRecord(this.dir)
    runningHere.delete(this.dir)
    if (errors.length > 0) throw DatdotError.from(errors[0])
  }
}

function previousPort (r: DevnetRecord | null): number {
  const m = r === null ? null : /:(\d+)$/.exec(r.bootstrap.split(',')[0])
  return m === null ? 0 : Number(m[1])
}

export function formatBootstrap (b: HostPort[]): string { return b.map((x) => `${x.host}:${x.port}`).join(',') }

/**
 * Starts a devnet in `opts.dir` (created if missing; an existing one is resumed: same chain,
 * same seeder wallets). Refuses a folder whose devnet still runs. On failure everything started
 * is closed again.
 */
export async function startDevnet (opts: DevnetOptions): Promise<Devnet> {
  if (!Number.isSafeInteger(opts.seeders) || opts.seeders < DEVNET_MIN_SEEDERS || opts.seeders > DEVNET_MAX_SEEDERS) {
    throw DatdotError.invalidArgument(`a devnet needs ${DEVNET_MIN_SEEDERS} to ${DEVNET_MAX_SEEDERS} seeders (a plan uses five providers besides its sponsor): ${opts.seeders}`)
  }
  const dir = resolve(opts.dir)
  mkdirSync(dir, { recursive: true })
  const running = readDevnetRecord(dir)
  if (runningHere.has(dir) || (running !== null && running.pid !== process.pid && pidAlive(running.pid))) {
    throw DatdotError.invalidArgument(`a devnet already runs in ${dir}${running === null ? '' : ` (pid ${running.pid}, chain ${running.chain})`}`)
  }
  runningHere.add(dir)
  const devnet = new DevnetHandle(dir)
  try {
    await devnet.start(opts)
  } catch (err) {
    await devnet.close().catch(() => {})
    throw err
  }
  return devnet
}
