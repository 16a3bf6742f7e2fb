/**
 * One seeder of a hosting network on one machine: a real DatdotNode in its own storage folder,
 * funded from the dev faucet and seeding. Shared by `datdot devnet` (devnet.ts: seeders on the
 * devnet's served chain) and the app's local seeders (local-seeders.ts: seeders on the node's own
 * embedded chain, in this process). Emits nothing itself: callers pass listeners.
 */
import type { HostPort } from '../engine/config.js'
import type { LedgerEntry } from '../shared/contract.js'
import { EARNING_REASONS } from '../ledger/ledger.js'
import { DatdotError } from '../shared/errors.js'
import type { ChainService } from '../chain/service.js'
import type { ProofRow } from './config.js'
import { DatdotNode, type NodeOptions } from './node.js'

export const TOKEN = 10n ** 12n

export interface DevnetSeeder { name: string, storage: string, node: DatdotNode }

export interface SeederChain {
  /** A ws:// URL (a served local chain), or the local chain of this process to join. */
  chain: string | NonNullable<NonNullable<NodeOptions['embeddedChain']>['localChain']>
  bootstrap?: HostPort[]
}

/** Opens a seeder's node on the chain and DHT given (its chain starts at open). Leaves nothing open when it fails. */
export async function openSeeder (name: string, storage: string, on: SeederChain): Promise<DevnetSeeder> {
  const chain = typeof on.chain === 'string'
    ? { chain: on.chain }
    : { chain: 'embedded', chainStart: 'eager' as const, embeddedChain: { localChain: on.chain, operator: false } }
  const node = new DatdotNode({ storage, bootstrap: on.bootstrap, ...chain })
  try {
    await node.ready()
  } catch (err) {
    await node.close().catch(() => {})
    throw err
  }
  return { name, storage, node }
}

export interface SeedOptions {
  /** Sends dev tokens to an address (one faucet transfer at a time: the caller's chain service queues them in nonce order). */
  faucet: (amountPlanck: bigint, to: string) => Promise<unknown>
  storageBytes?: number
  bandwidthBps?: number
  onProof?: (proof: ProofRow) => void
  onEarned?: (entry: LedgerEntry) => void
}

/** Funds a seeder from the dev faucet unless it has tokens from an earlier run, and turns seeding on. */
export async function fundAndSeed (seeder: DevnetSeeder, opts: SeedOptions): Promise<void> {
  const { name, node } = seeder
  const chain = node.chain as ChainService
  const hosting = node.hosting
  if (hosting === null) throw DatdotError.internal(`${name} started without hosting`)
  if (opts.onProof !== undefined) hosting.on('proof', opts.onProof)
  const onEarned = opts.onEarned
  if (onEarned !== undefined) {
    chain.on('ledger-entry', (entry: LedgerEntry) => {
      if (entry.account === chain.address && (EARNING_REASONS as readonly string[]).includes(entry.reason) && BigInt(entry.amount) > 0n) onEarned(entry)
    })
  }
  const { free } = await chain.wallet()
  if (BigInt(free) < 10n * TOKEN) await opts.faucet(100n * TOKEN, chain.address)
  await hosting.setSeeding({ on: true, storageBytes: opts.storageBytes ?? 2 ** 30, bandwidthBps: opts.bandwidthBps ?? 10_000_000, region: 'devnet' })
}

/** Waits for every promise; then throws the first failure, if any (none is left running behind a throw). */
export async function settleAll (ps: Array<Promise<void>>): Promise<void> {
  const failed = (await Promise.allSettled(ps)).find((r) => r.status === 'rejected')
  if (failed !== undefined) throw (failed).reason
}
