/**
 * How this node behaves as a provider, as a strategy the roles consult at a few points. The app,
 * the daemon and the CLI always use HONEST (no hook at all). Tests inject a cheating behaviour
 * (test/helpers/hosting-faults.ts) to run attacks against the live chain (docs/protocol.md
 * section 7); the production code has no fault flags of its own, only these hook points.
 */
import type { Contract } from '../chain/marketplace.js'
import type { ChunkStore } from './chunk-store.js'
import type { HostingContext } from './context.js'
import type { StoredChunk } from './messages.js'

export interface HostingBehaviour {
  /** A short name for traces ('honest' when absent). */
  readonly name?: string
  /** Accept a new connection from the peer with this Hyperswarm key? Absent: always. */
  admits?: (remoteKeyHex: string, ctx: HostingContext) => boolean
  /** False: the hoster does not announce the drives it seeds (readers cannot find it). */
  readonly announces?: boolean
  /** Runs after the hoster computed a walk's answer and before it sends it. */
  beforeAnswer?: (ctx: HostingContext) => Promise<void>
  /** Changes an encoded chunk before the encoder delivers it (the result must be signed again). */
  tamper?: (chunk: StoredChunk, binding: { coreKey: Uint8Array, hosterKey: Uint8Array }, secretKey: Uint8Array) => StoredChunk
  /** A failure the attestor reports instead of running its check ('NONE' for a storage check: a pass); null or absent: it runs the check. */
  verdict?: (kind: 'storage' | 'performance') => string | null
  /** Runs once for each of this hoster's slots when the slot is hosting. */
  onHosting?: (contract: Contract, slot: number, store: ChunkStore) => Promise<void>
}

/** The behaviour of every real node: no hooks. */
export const HONEST: HostingBehaviour = Object.freeze({ name: 'honest' })
