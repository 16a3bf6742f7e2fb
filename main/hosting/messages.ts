/**
 * compact-encoding codecs for the hosting protocol: proof structures (also used to store
 * chunks on disk) and wire messages. Every variable-length field has a limit checked on decode.
 */
import c, { type Encoding, type State } from 'compact-encoding'
import b4a from 'b4a'
import { DatdotError } from '../shared/errors.js'
import { MAX_BLOCK_BYTES, HEADER_BYTES } from './encoding.js'
import { MAX_MANIFEST_BYTES, MAX_ROOT_SIGNATURE_BYTES, type SignedRoot } from '../chain/roots.js'

export const MAX_PROOF_NODES = 64
/** Upper bound on walk steps in one challenge (a commitment is 32 bytes per step). */
export const MAX_WALK_STEPS = 4096
export const MAX_ERROR_CODE_CHARS = 64
export const MAX_ERROR_MESSAGE_CHARS = 1024
export const MAX_ENCODED_BYTES = MAX_BLOCK_BYTES + HEADER_BYTES + 3

export interface TreeNode { index: number, size: number, hash: Buffer }

/** Merkle proof of one block against a tree of `length` blocks. */
export interface MerkleProof {
  index: number
  length: number
  /** Siblings from the leaf up to the full root that contains it. */
  nodes: TreeNode[]
  /** The other full roots of the tree, left to right. */
  roots: TreeNode[]
}

/** What a hoster keeps per block of a contract, and what it shows when challenged. */
export interface StoredChunk {
  index: number
  encoded: Buffer
  encoderSignature: Buffer
  merkle: MerkleProof
}

function bad (what: string): DatdotError {
  return DatdotError.protocolError(what)
}

export function boundedArray<T> (enc: Encoding<T>, max: number, what: string): Encoding<T[]> {
  return {
    preencode (state, arr) {
      if (arr.length > max) throw DatdotError.tooLarge(what, max)
      c.uint.preencode(state, arr.length)
      for (const v of arr) enc.preencode(state, v)
    },
    encode (state, arr) {
      c.uint.encode(state, arr.length)
      for (const v of arr) enc.encode(state, v)
    },
    decode (state) {
      const n = c.uint.decode(state)
      if (n > max) throw bad(`${what}: ${n} items, at most ${max}`)
      const out: T[] = new Array<T>(n)
      for (let i = 0; i < n; i++) out[i] = enc.decode(state)
      return out
    }
  }
}

export function boundedBuffer (max: number, what: string): Encoding<Buffer> {
  return {
    preencode (state, buf) {
      if (buf.byteLength > max) throw DatdotError.tooLarge(what, max)
      c.buffer.preencode(state, buf)
    },
    encode (state, buf) { c.buffer.encode(state, buf) },
    decode (state) {
      const buf = c.buffer.decode(state)
      if (buf === null) return b4a.alloc(0)
      if (buf.byteLength > max) throw bad(`${what} is ${buf.byteLength} bytes, at most ${max}`)
      return buf
    }
  }
}

export function boundedString (max: number, what: string): Encoding<string> {
  return {
    preencode (state, s) { c.string.preencode(state, s.length > max ? s.slice(0, max) : s) },
    encode (state, s) { c.string.encode(state, s.length > max ? s.slice(0, max) : s) },
    decode (state) {
      const s = c.string.decode(state)
      if (s.length > max) throw bad(`${what} over ${max} characters`)
      return s
    }
  }
}

export const treeNode: Encoding<TreeNode> = {
  preencode (state, n) { c.uint.preencode(state, n.index); c.uint.preencode(state, n.size); c.fixed32.preencode(state, n.hash) },
  encode (state, n) { c.uint.encode(state, n.index); c.uint.encode(state, n.size); c.fixed32.encode(state, n.hash) },
  decode (state) { return { index: c.uint.decode(state), size: c.uint.decode(state), hash: c.fixed32.decode(state) } }
}

const nodes = boundedArray(treeNode, MAX_PROOF_NODES, 'merkle proof nodes')

export const merkleProof: Encoding<MerkleProof> = {
  preencode (state, p) { c.uint.preencode(state, p.index); c.uint.preencode(state, p.length); nodes.preencode(state, p.nodes); nodes.preencode(state, p.roots) },
  encode (state, p) { c.uint.encode(state, p.index); c.uint.encode(state, p.length); nodes.encode(state, p.nodes); nodes.encode(state, p.roots) },
  decode (state) { return { index: c.uint.decode(state), length: c.uint.decode(state), nodes: nodes.decode(state), roots: nodes.decode(state) } }
}

const encodedBuffer = boundedBuffer(MAX_ENCODED_BYTES, 'encoded chunk')

export const storedChunk: Encoding<StoredChunk> = {
  preencode (state, ch) { c.uint.preencode(state, ch.index); encodedBuffer.preencode(state, ch.encoded); c.fixed64.preencode(state, ch.encoderSignature); merkleProof.preencode(state, ch.merkle) },
  encode (state, ch) { c.uint.encode(state, ch.index); encodedBuffer.encode(state, ch.encoded); c.fixed64.encode(state, ch.encoderSignature); merkleProof.encode(state, ch.merkle) },
  decode (state) { return { index: c.uint.decode(state), encoded: encodedBuffer.decode(state), encoderSignature: c.fixed64.decode(state), merkle: merkleProof.decode(state) } }
}

const manifestBuffer = boundedBuffer(MAX_MANIFEST_BYTES, 'manifest')
const rootSignature = boundedBuffer(MAX_ROOT_SIGNATURE_BYTES, 'root signature')

export const signedRoot: Encoding<SignedRoot> = {
  preencode (state, r) {
    c.fixed32.preencode(state, r.coreKey); manifestBuffer.preencode(state, r.manifest); c.uint.preencode(state, r.length)
    c.uint.preencode(state, r.fork); c.fixed32.preencode(state, r.treeHash); rootSignature.preencode(state, r.signature)
  },
  encode (state, r) {
    c.fixed32.encode(state, r.coreKey); manifestBuffer.encode(state, r.manifest); c.uint.encode(state, r.length)
    c.uint.encode(state, r.fork); c.fixed32.encode(state, r.treeHash); rootSignature.encode(state, r.signature)
  },
  decode (state) {
    return {
      coreKey: c.fixed32.decode(state),
      manifest: manifestBuffer.decode(state),
      length: c.uint.decode(state),
      fork: c.uint.decode(state),
      treeHash: c.fixed32.decode(state),
      signature: rootSignature.decode(state)
    }
  }
}

// ---- wire messages ----

export interface DeliverMessage { requestId: number, contractId: number, coreKey: Buffer, chunk: StoredChunk }
export interface ReceiptMessage { requestId: number, signature: Buffer }
export interface ChallengeMessage { requestId: number, contractId: number, coreKey: Buffer, seed: Buffer, steps: number }
export interface CommitmentMessage { requestId: number, hashes: Buffer[] }
export interface OpenMessage { requestId: number, contractId: number, coreKey: Buffer, index: number }
export interface ProofMessage { requestId: number, chunk: StoredChunk }
export interface ErrorMessage { requestId: number, code: string, message: string }
/** Attestor -> hoster after the last chunk of a slot: the receipts root it computed from what it relayed. */
export interface SettleMessage { requestId: number, contractId: number, coreKey: Buffer, rootLength: number, receiptsRoot: Buffer }
/** Hoster's answer: its signature over `receiptMessage(contractId, coreKey, rootLength, receiptsRoot)` (chain/records.ts). */
export interface SlotReceiptMessage { requestId: number, signature: Buffer }

/** Auditor -> attestor: the leaves at `positions` of its aggregate part of `epoch` that starts at check `from` (main/hosting/audits.ts). */
export interface LeavesMessage { requestId: number, epoch: number, from: number, positions: number[] }
/** One leaf of an aggregate as the attestor kept it (epoch-leaves.ts), and its merkle path. `kind` 0 storage, 1 performance; the readings are 0 for storage. */
export interface LeafProof {
  position: number
  challengeId: number
  kind: number
  slot: number
  evidence: Buffer
  units: number
  ttfbMs: number
  throughputBps: number
  path: Buffer[]
}
/** The attestor's answer: how many leaves the part's tree has, and the leaves asked for. */
export interface LeafProofsMessage { requestId: number, total: number, leaves: LeafProof[] }

/** Most positions one `leaves` request asks for. */
export const MAX_AUDIT_POSITIONS = 16
/** Most nodes in a leaf's merkle path (a tree of up to 2^32 leaves). */
export const MAX_LEAF_PATH = 32

type Fields<T> = { [K in keyof T]: Encoding<T[K]> }

/** A struct codec from an ordered field list. */
export function struct<T extends object> (fields: Fields<T>): Encoding<T> {
  const entries = Object.entries(fields) as Array<[keyof T, Encoding<unknown>]>
  return {
    preencode (state: State, v: T) { for (const [k, e] of entries) e.preencode(state, v[k]) },
    encode (state: State, v: T) { for (const [k, e] of entries) e.encode(state, v[k]) },
    decode (state: State) {
      const out = {} as Record<keyof T, unknown>
      for (const [k, e] of entries) out[k] = e.decode(state)
      return out as T
    }
  }
}

export const deliverMessage = struct<DeliverMessage>({ requestId: c.uint, contractId: c.uint, coreKey: c.fixed32, chunk: storedChunk })
export const receiptMessage = struct<ReceiptMessage>({ requestId: c.uint, signature: c.fixed64 })
export const challengeMessage = struct<ChallengeMessage>({ requestId: c.uint, contractId: c.uint, coreKey: c.fixed32, seed: c.fixed32, steps: c.uint })
export const commitmentMessage = struct<CommitmentMessage>({ requestId: c.uint, hashes: boundedArray(c.fixed32, MAX_WALK_STEPS, 'commitment hashes') })
export const openMessage = struct<OpenMessage>({ requestId: c.uint, contractId: c.uint, coreKey: c.fixed32, index: c.uint })
export const proofMessage = struct<ProofMessage>({ requestId: c.uint, chunk: storedChunk })
export const settleMessage = struct<SettleMessage>({ requestId: c.uint, contractId: c.uint, coreKey: c.fixed32, rootLength: c.uint, receiptsRoot: c.fixed32 })
export const slotReceiptMessage = struct<SlotReceiptMessage>({ requestId: c.uint, signature: c.fixed64 })
export const leavesMessage = struct<LeavesMessage>({ requestId: c.uint, epoch: c.uint, from: c.uint, positions: boundedArray(c.uint, MAX_AUDIT_POSITIONS, 'leaf positions') })
export const leafProof = struct<LeafProof>({
  position: c.uint,
  challengeId: c.uint,
  kind: c.uint,
  slot: c.uint,
  evidence: c.fixed32,
  units: c.uint,
  ttfbMs: c.uint,
  throughputBps: c.uint,
  path: boundedArray(c.fixed32, MAX_LEAF_PATH, 'leaf path')
})
export const leafProofsMessage = struct<LeafProofsMessage>({ requestId: c.uint, total: c.uint, leaves: boundedArray(leafProof, MAX_AUDIT_POSITIONS, 'leaf proofs') })
export const errorMessage = struct<ErrorMessage>({
  requestId: c.uint,
  code: boundedString(MAX_ERROR_CODE_CHARS, 'error code'),
  message: boundedString(MAX_ERROR_MESSAGE_CHARS, 'error message')
})

/** Decodes a whole buffer; trailing bytes or any decoding failure is a protocol error. */
export function decodeExact<T> (enc: Encoding<T>, buf: Uint8Array, what: string): T {
  const state = c.state(0, buf.byteLength, Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength))
  let value: T
  try {
    value = enc.decode(state)
  } catch (err) {
    if (err instanceof DatdotError) throw err
    throw DatdotError.protocolError(`malformed ${what}: ${(err as Error).message}`)
  }
  if (state.start !== state.end) throw DatdotError.protocolError(`malformed ${what}: ${state.end - state.start} trailing bytes`)
  return value
}
