/**
 * Proof of storage primitives on real hypercores.
 *
 * - Signed roots: a core's (length, fork, treeHash) signed by its author, captured here and
 *   verified by main/chain/roots.ts (the chain checks them too, and hosting sits above chain).
 * - Merkle proofs of one block against a signed root, built from hypercore's tree nodes and
 *   verified here with hypercore-crypto's leaf/parent/tree hashes.
 * - Storage proofs: encoded chunk + encoder signature + merkle proof, verified in full
 *   (signature, decode, merkle, root signature, deadline).
 * - Challenges: a seed from a block hash, a sequential walk over the encoded chunks whose next
 *   index depends on the content of the previous chunk, and openings drawn after commitment.
 *
 * Every rejection is DatdotError('PROOF_FAILED') with details.reason one of PROOF_FAILURE.
 */
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import type Hypercore from 'hypercore'
import { DatdotError } from '../shared/errors.js'
import { decodeChunk, verifyEncodedChunkSignature, MAX_ROUNDS, ENCODING_VERSION } from './encoding.js'
import { fullRoots, parent, sibling } from './flat.js'
import { verifySignedRoot, ROOT_FAILURE, type SignedRoot } from '../chain/roots.js'
import {
  MAX_PROOF_NODES, MAX_WALK_STEPS,
  type MerkleProof, type StoredChunk, type TreeNode
} from './messages.js'

export type { MerkleProof, StoredChunk, TreeNode } from './messages.js'

/** The reasons a proof is rejected (details.reason of a PROOF_FAILED error). */
export const PROOF_FAILURE = {
  /** WRONG_CORE, BAD_ROOT_SIGNATURE, WRONG_LENGTH: a signed root that does not verify (chain/roots.ts). */
  ...ROOT_FAILURE,
  /** The proof is for another index than the one asked. */
  WRONG_INDEX: 'WRONG_INDEX',
  /** Nodes in the wrong place, missing or extra: a truncated or tampered proof. */
  MALFORMED_PROOF: 'MALFORMED_PROOF',
  /** The hashes do not lead to the signed tree hash: corrupt block, wrong nodes or wrong root. */
  ROOT_MISMATCH: 'ROOT_MISMATCH',
  /** The encoder's signature does not bind this chunk to (core, index, hoster). */
  BAD_ENCODER_SIGNATURE: 'BAD_ENCODER_SIGNATURE',
  /** The encoded chunk does not decode (bad header, length, padding, rounds). */
  BAD_ENCODING: 'BAD_ENCODING',
  /** The hoster does not have the chunk. */
  MISSING_CHUNK: 'MISSING_CHUNK',
  /** The answer came after the deadline. */
  DEADLINE_MISSED: 'DEADLINE_MISSED',
  /** An opened chunk does not hash to what the hoster committed for that walk step. */
  WRONG_COMMITMENT: 'WRONG_COMMITMENT',
  /** The commitment has another number of steps than asked. */
  WRONG_STEP_COUNT: 'WRONG_STEP_COUNT'
} as const
export type ProofFailure = typeof PROOF_FAILURE[keyof typeof PROOF_FAILURE]

function fail (reason: ProofFailure, message: string, details?: Record<string, unknown>): DatdotError {
  return DatdotError.proofFailed(reason, message, details)
}

// ---- signed roots ----

/** Reads the signed root of a core at its current length (the author's or any replica's). */
export async function captureSignedRoot (core: Hypercore): Promise<SignedRoot> {
  await core.ready()
  const length = core.length
  if (length === 0) throw DatdotError.invalidArgument('The core is empty: nothing to host')
  const proof = await core.proof({ upgrade: { start: 0, length } })
  const signature = proof.upgrade?.signature
  if (!signature) throw DatdotError.invalidArgument('The core has no signature for its length')
  const manifest = core.getManifest({ raw: true })
  if (!manifest || !core.key) throw DatdotError.invalidArgument('The core has no manifest')
  return {
    coreKey: b4a.from(core.key),
    manifest: b4a.from(manifest),
    length,
    fork: core.fork,
    treeHash: await core.treeHash(length),
    signature: b4a.from(signature)
  }
}

// ---- merkle proofs ----

/** Builds the merkle proof of block `index` against the tree of the first `length` blocks. */
export async function createMerkleProof (core: Hypercore, index: number, length: number): Promise<MerkleProof> {
  if (!Number.isSafeInteger(index) || index < 0 || index >= length) throw DatdotError.invalidArgument(`index ${index} outside [0, ${length})`)
  const p = await core.proof({ block: { index, nodes: 0 }, upgrade: { start: 0, length } })
  if (!p.block || !p.upgrade) throw DatdotError.internal('hypercore returned a proof without block or upgrade')
  return {
    index,
    length,
    nodes: p.block.nodes.map(copyNode),
    roots: p.upgrade.nodes.map(copyNode)
  }
}

function copyNode (n: { index: number, size: number, hash: Uint8Array }): TreeNode {
  return { index: n.index, size: n.size, hash: b4a.from(n.hash) }
}

/**
 * Verifies that `block` is block `proof.index` of the tree signed in `root`. Throws PROOF_FAILED
 * with WRONG_LENGTH, MALFORMED_PROOF or ROOT_MISMATCH. Does not verify the root's signature
 * (verifySignedRoot does; verifyStoredChunk calls both).
 */
export function verifyMerkleProof (block: Uint8Array, proof: MerkleProof, root: SignedRoot): void {
  if (proof.length !== root.length) throw fail(PROOF_FAILURE.WRONG_LENGTH, `proof is for length ${proof.length}, the signed root for ${root.length}`)
  if (!Number.isSafeInteger(proof.index) || proof.index < 0 || proof.index >= root.length) {
    throw fail(PROOF_FAILURE.WRONG_INDEX, `index ${proof.index} outside the signed length ${root.length}`)
  }
  if (proof.nodes.length > MAX_PROOF_NODES || proof.roots.length > MAX_PROOF_NODES) throw fail(PROOF_FAILURE.MALFORMED_PROOF, 'too many nodes')
  let cur: TreeNode = { index: 2 * proof.index, size: block.byteLength, hash: hcrypto.data(block) }
  for (const node of proof.nodes) {
    if (node.index !== sibling(cur.index)) throw fail(PROOF_FAILURE.MALFORMED_PROOF, `node ${node.index} is not the sibling of ${cur.index}`)
    if (node.hash?.byteLength !== 32 || !isSize(node.size) || !isSize(cur.size + node.size)) throw fail(PROOF_FAILURE.MALFORMED_PROOF, 'bad node')
    cur = { index: parent(cur.index), size: cur.size + node.size, hash: hcrypto.parent(cur, node) }
  }
  const expected = fullRoots(root.length)
  if (!expected.includes(cur.index)) throw fail(PROOF_FAILURE.MALFORMED_PROOF, `the path ends at node ${cur.index}, not at a full root (truncated proof?)`)
  const roots = [...proof.roots, cur].sort((a, b) => a.index - b.index)
  if (roots.length !== expected.length || roots.some((r, i) => r.index !== expected[i] || r.hash?.byteLength !== 32 || !isSize(r.size))) {
    throw fail(PROOF_FAILURE.MALFORMED_PROOF, `roots ${roots.map((r) => r.index).join(',')} are not the full roots ${expected.join(',')}`)
  }
  if (!b4a.equals(hcrypto.tree(roots), root.treeHash)) throw fail(PROOF_FAILURE.ROOT_MISMATCH, `block ${proof.index} does not lead to the signed tree hash`)
}

/** A byte count hashing can take: a safe non-negative integer. */
function isSize (n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0
}

// ---- stored chunks and storage proofs ----

export interface ChunkSource {
  getChunk (coreKey: Uint8Array, index: number): Promise<StoredChunk | null>
}

export interface ChunkCheck {
  root: SignedRoot
  hosterKey: Uint8Array
  encoderKey: Uint8Array
  /** The index that was asked for; the chunk must be that one. */
  expectedIndex?: number
  /** The rounds the plan fixed; a chunk with other rounds is rejected. */
  rounds?: number
  /**
   * The encoding version (scheme) the plan fixes; a chunk of another version is rejected. Plan
   * records do not carry it: it is the node's ENCODING_VERSION, the default whenever `rounds` is
   * given (a plan check); without `rounds` any version that decodes is accepted.
   */
  version?: number
}

/**
 * Full check of one encoded chunk: encoder signature, decoding, merkle proof against the signed
 * root, the root's signature. Returns the decoded original block.
 */
export function verifyStoredChunk (chunk: StoredChunk, check: ChunkCheck): Buffer {
  const { root, hosterKey, encoderKey } = check
  if (check.expectedIndex !== undefined && chunk.index !== check.expectedIndex) {
    throw fail(PROOF_FAILURE.WRONG_INDEX, `asked for block ${check.expectedIndex}, got ${chunk.index}`)
  }
  if (chunk.merkle.index !== chunk.index) throw fail(PROOF_FAILURE.WRONG_INDEX, `merkle proof is for block ${chunk.merkle.index}, chunk is ${chunk.index}`)
  const binding = { coreKey: root.coreKey, index: chunk.index, hosterKey }
  if (!verifyEncodedChunkSignature(binding, chunk.encoded, chunk.encoderSignature, encoderKey)) {
    throw fail(PROOF_FAILURE.BAD_ENCODER_SIGNATURE, `the encoder did not sign this chunk for this hoster (block ${chunk.index})`)
  }
  const version = check.version ?? (check.rounds !== undefined ? ENCODING_VERSION : undefined)
  if (version !== undefined && chunk.encoded[0] !== version) {
    throw fail(PROOF_FAILURE.BAD_ENCODING, `chunk encoded with scheme version ${chunk.encoded[0]}, the plan says ${version}`)
  }
  if (check.rounds !== undefined && chunk.encoded[1] !== check.rounds) {
    throw fail(PROOF_FAILURE.BAD_ENCODING, `chunk encoded with ${chunk.encoded[1]} rounds, the plan says ${check.rounds}`)
  }
  let block: Buffer
  try {
    block = decodeChunk(chunk.encoded, binding, { maxRounds: MAX_ROUNDS })
  } catch (err) {
    throw fail(PROOF_FAILURE.BAD_ENCODING, (err as Error).message)
  }
  verifyMerkleProof(block, chunk.merkle, root)
  verifySignedRoot(root)
  return block
}

export interface StorageProof {
  coreKey: Buffer
  chunk: StoredChunk
}

/** Hoster side: the stored chunk for (core, index), or PROOF_FAILED MISSING_CHUNK. */
export async function createStorageProof (source: ChunkSource, coreKey: Uint8Array, index: number): Promise<StorageProof> {
  const chunk = await source.getChunk(coreKey, index)
  if (chunk === null) throw fail(PROOF_FAILURE.MISSING_CHUNK, `no chunk ${index} of ${b4a.toString(coreKey, 'hex').slice(0, 16)}`, { index })
  return { coreKey: b4a.from(coreKey), chunk }
}

export interface Timing {
  sentAtMs: number
  receivedAtMs: number
  deadlineMs: number
}

/** Throws PROOF_FAILED DEADLINE_MISSED when the answer took longer than the deadline. */
export function checkDeadline (t: Timing): void {
  const elapsedMs = t.receivedAtMs - t.sentAtMs
  if (elapsedMs > t.deadlineMs) throw fail(PROOF_FAILURE.DEADLINE_MISSED, `answered in ${elapsedMs} ms, deadline ${t.deadlineMs} ms`, { elapsedMs, deadlineMs: t.deadlineMs })
}

/** Attestor side: deadline, core, index, encoder signature, decoding, merkle proof, root signature. */
export function verifyStorageProof (proof: StorageProof, check: ChunkCheck & Timing): Buffer {
  checkDeadline(check)
  if (!b4a.equals(proof.coreKey, check.root.coreKey)) throw fail(PROOF_FAILURE.WRONG_CORE, 'proof is for another core')
  return verifyStoredChunk(proof.chunk, check)
}

// ---- challenges ----

/** The P2P view of a contract: a fixed range of blocks of one core, and its signed root. */
export interface ContractView {
  contractId: number
  root: SignedRoot
  /** First block of the contract. */
  start: number
  /** One past the last block; end - start <= MAX_CONTRACT_BLOCKS, end <= root.length. */
  end: number
}

export const MAX_CONTRACT_BLOCKS = 4096
/** Default walk length K, openings m and commitment deadline base: see docs/protocol.md, section 5. */
export const DEFAULT_WALK_STEPS = 1024
export const DEFAULT_OPENINGS = 8
export const DEFAULT_COMMIT_BASE_MS = 2000

/** Commitment deadline for a hoster whose round trip was measured at `rttMs` on connect. */
export function commitDeadlineMs (rttMs: number, baseMs = DEFAULT_COMMIT_BASE_MS): number {
  if (!Number.isFinite(rttMs) || rttMs < 0) throw DatdotError.invalidArgument('rttMs must be a non-negative number')
  return baseMs + 2 * Math.ceil(rttMs)
}

const DOMAIN_SEED = b4a.from('datdot/challenge/v1/seed')
const DOMAIN_WALK = b4a.from('datdot/challenge/v1/walk')
const DOMAIN_STEP = b4a.from('datdot/challenge/v1/step')
const DOMAIN_OPEN = b4a.from('datdot/challenge/v1/open')
const DOMAIN_COMMIT = b4a.from('datdot/challenge/v1/commitment')

function u64 (n: number): Buffer {
  const b = b4a.alloc(8)
  b.writeBigUInt64LE(BigInt(n))
  return b
}

/** First 48 bits of a hash as a number: uniform enough for `mod count` with count <= 2^20. */
function hashToNumber (h: Uint8Array): number {
  return h[0] + h[1] * 2 ** 8 + h[2] * 2 ** 16 + h[3] * 2 ** 24 + h[4] * 2 ** 32 + h[5] * 2 ** 40
}

export function checkContract (contract: ContractView): void {
  const { start, end, root } = contract
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start || end > root.length) {
    throw DatdotError.invalidArgument(`contract range [${start}, ${end}) is not inside [0, ${root.length})`)
  }
  if (end - start > MAX_CONTRACT_BLOCKS) throw DatdotError.tooLarge('Contract block count', MAX_CONTRACT_BLOCKS)
}

/** Seed of a challenge: every interpreter recomputes it from the block hash the chain drew it from. */
export function challengeSeed (blockHash: Uint8Array, contractId: number, hosterKey: Uint8Array): Buffer {
  return hcrypto.hash([DOMAIN_SEED, blockHash, u64(contractId), hosterKey])
}

/** Hash of walk step `step`: binds the seed, the step and the full encoded chunk. */
export function walkStepHash (seed: Uint8Array, step: number, encoded: Uint8Array): Buffer {
  return hcrypto.hash([DOMAIN_STEP, seed, u64(step), encoded])
}

/** The block index visited at step 0. */
export function walkStart (contract: ContractView, seed: Uint8Array): number {
  return contract.start + hashToNumber(hcrypto.hash([DOMAIN_WALK, seed])) % (contract.end - contract.start)
}

/** The block index visited after a step whose hash is `stepHash`. */
export function walkNext (contract: ContractView, stepHash: Uint8Array): number {
  return contract.start + hashToNumber(stepHash) % (contract.end - contract.start)
}

/** The indexes a commitment claims were visited (step k is derived from the hash of step k - 1). */
export function walkIndexes (contract: ContractView, seed: Uint8Array, hashes: Uint8Array[]): number[] {
  const out: number[] = new Array<number>(hashes.length)
  for (let k = 0; k < hashes.length; k++) out[k] = k === 0 ? walkStart(contract, seed) : walkNext(contract, hashes[k - 1])
  return out
}

export interface Walk { hashes: Buffer[], indexes: number[] }

/**
 * Hoster side: the sequential walk. Each step reads the encoded chunk at the current index,
 * hashes it with the seed and the step number, and the hash picks the next index, so the walk
 * cannot be computed without each chunk in turn.
 */
export async function computeWalk (source: ChunkSource, contract: ContractView, seed: Uint8Array, steps: number): Promise<Walk> {
  checkContract(contract)
  if (!Number.isSafeInteger(steps) || steps < 1 || steps > MAX_WALK_STEPS) throw DatdotError.invalidArgument(`steps must be 1 to ${MAX_WALK_STEPS}`)
  const hashes: Buffer[] = []
  const indexes: number[] = []
  let index = walkStart(contract, seed)
  for (let k = 0; k < steps; k++) {
    const chunk = await source.getChunk(contract.root.coreKey, index)
    if (chunk === null) throw fail(PROOF_FAILURE.MISSING_CHUNK, `no chunk ${index} (walk step ${k})`, { index, step: k })
    const h = walkStepHash(seed, k, chunk.encoded)
    hashes.push(h)
    indexes.push(index)
    index = walkNext(contract, h)
  }
  return { hashes, indexes }
}

export function commitmentHash (seed: Uint8Array, hashes: Uint8Array[]): Buffer {
  return hcrypto.hash([DOMAIN_COMMIT, seed, ...hashes])
}

/**
 * The walk steps the attestor opens: drawn from the attestor's nonce, chosen after the
 * commitment so the hoster cannot grind it. Distinct, at most `steps`.
 */
export function openingSteps (seed: Uint8Array, commitment: Uint8Array, nonce: Uint8Array, steps: number, count: number): number[] {
  const want = Math.min(count, steps)
  const out: number[] = []
  for (let i = 0; out.length < want && i < 64 * want + 64; i++) {
    const s = hashToNumber(hcrypto.hash([DOMAIN_OPEN, seed, commitment, nonce, u64(i)])) % steps
    if (!out.includes(s)) out.push(s)
  }
  return out
}

export interface OpeningCheck extends Omit<ChunkCheck, 'root' | 'expectedIndex'>, Timing {
  contract: ContractView
  seed: Uint8Array
  hashes: Uint8Array[]
  step: number
}

/** Attestor side: an opened step is the chunk the walk visited, it verifies, and it hashes to the commitment. */
export function verifyOpening (chunk: StoredChunk, check: OpeningCheck): Buffer {
  const { contract, seed, hashes, step } = check
  if (step < 0 || step >= hashes.length) throw DatdotError.invalidArgument(`step ${step} outside the commitment`)
  const expectedIndex = step === 0 ? walkStart(contract, seed) : walkNext(contract, hashes[step - 1])
  const block = verifyStorageProof({ coreKey: contract.root.coreKey, chunk }, { ...check, root: contract.root, expectedIndex })
  if (!b4a.equals(walkStepHash(seed, step, chunk.encoded), hashes[step])) {
    throw fail(PROOF_FAILURE.WRONG_COMMITMENT, `block ${chunk.index} does not hash to the commitment of step ${step}`, { step })
  }
  return block
}
