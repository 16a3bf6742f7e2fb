/**
 * What every rule of the marketplace works with while one block is applied: the block's
 * deterministic randomness (BlockRng), the per-block context (Ctx: state, block, outcome, rng,
 * caches), and the Reject a record handler throws to refuse a record with a reason.
 */
import { createHash } from 'node:crypto'
import { DatdotError } from '../shared/errors.js'
import type { NetworkParams } from './record-types.js'
import type { BlockInput, BlockOutcome, MarketState, NetworkConfig, Provider, RejectReason } from './market-types.js'

/** Deterministic bytes from a block hash and a purpose (SHA-256 in counter mode). */
export class BlockRng {
  private counter = 0
  constructor (private readonly seed: string) {}
  next64 (): bigint {
    const h = createHash('sha256').update(this.seed).update(':').update(String(this.counter++)).digest()
    return h.readBigUInt64BE(0)
  }

  /** Uniform integer in [0, n) for n >= 1 (rejection sampling, no modulo bias). */
  below (n: bigint): bigint {
    if (n <= 0n) throw DatdotError.internal('BlockRng.below needs n >= 1')
    const max = 1n << 64n
    const limit = max - (max % n)
    for (;;) {
      const x = this.next64()
      if (x < limit) return x % n
    }
  }
}

export interface Ctx {
  state: MarketState
  block: BlockInput
  out: BlockOutcome
  rng: BlockRng
  /** Providers sorted by address, built once per block and dropped when the set changes. */
  sorted: Provider[] | null
  /** Providers whose reputation in a role fell below the floor, dropped from that role after the current record (applyFloorDrops). */
  floorDrops: Array<{ address: string, role: 'hoster' | 'encoder' | 'attestor' }>
}

/** A fresh context for applying `block` to `state`, with an empty outcome. */
export function blockContext (state: MarketState, block: BlockInput): Ctx {
  const out: BlockOutcome = { number: block.number, hash: block.hash, actions: [], notices: [], newChallenges: [], newAssignments: [], penalties: [] }
  return { state, block, out, rng: new BlockRng(block.hash), sorted: null, floorDrops: [] }
}

/** Refuses the current record with a reason (caught per record by apply-action.ts, counted, never fatal). */
export class Reject extends Error {
  constructor (readonly why: RejectReason, readonly detail: string) { super(detail) }
}

export function reject (why: RejectReason, detail: string): never { throw new Reject(why, detail) }

/** The network's parameters (only called once a network record is in force). */
export function params (ctx: Ctx): NetworkParams { return (ctx.state.network as NetworkConfig).params }

/** The epoch of `block` on a network with epochs (`epochBlocks`). */
export function epochOf (p: NetworkParams, block: number): number { return Math.floor(block / (p.epochBlocks as number)) }
