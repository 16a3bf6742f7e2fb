/**
 * Signed roots: a core's (length, fork, treeHash) signed by its author, verified against the
 * core key through the core's manifest (hypercore's own Verifier, so multisig and compat
 * manifests verify exactly as hypercore does). Here so that the chain (which checks the roots
 * its records carry) and hosting (whose proofs build on them) share one verifier.
 *
 * Also the conversions between their two forms: the hex form carried by chain records and kept
 * in the marketplace state (records.ts `SignedRootHex`), and the byte form `SignedRoot` the
 * proofs work with (main/hosting/proof.ts). Interpreters verify a record's root with
 * `verifyRootHex` before they accept it; hosting parties convert the contract's root with
 * `toSignedRoot`.
 */
import { createRequire } from 'node:module'
import b4a from 'b4a'
import { DatdotError } from '../shared/errors.js'
import type { SignedRootHex } from './records.js'

/** A core's tree root as signed by its author: what a plan records on chain for each core. */
export interface SignedRoot {
  coreKey: Buffer
  /** The core's manifest, hypercore's own encoding; its hash is the core key. */
  manifest: Buffer
  length: number
  fork: number
  treeHash: Buffer
  signature: Buffer
}

export const MAX_MANIFEST_BYTES = 4096
export const MAX_ROOT_SIGNATURE_BYTES = 1024
/** Limit on core lengths we reason about: 2^40 blocks is 64 PiB of 64 KiB blocks. */
export const MAX_TREE_LENGTH = 2 ** 40

/** The reasons a signed root is rejected (part of main/hosting/proof.ts `PROOF_FAILURE`). */
export const ROOT_FAILURE = {
  /** The manifest does not hash to the core key. */
  WRONG_CORE: 'WRONG_CORE',
  /** The author's signature over (treeHash, length, fork) does not verify. */
  BAD_ROOT_SIGNATURE: 'BAD_ROOT_SIGNATURE',
  /** The proof is for a tree of another length than the signed root. */
  WRONG_LENGTH: 'WRONG_LENGTH'
} as const

const require = createRequire(import.meta.url)
/** What hypercore's verifier signs and checks: a tree hash at a length and fork. */
export interface RootBatch {
  length: number
  fork: number
  hash (): Buffer
  signable (ctx: Buffer): Buffer
  signableCompat (legacy: boolean): Buffer
}
interface HypercoreVerifier { verify (batch: RootBatch, signature: Buffer): boolean }
const Verifier = require('hypercore/lib/verifier.js') as {
  decodeManifest (buf: Buffer): unknown
  isValidManifest (key: Buffer, manifest: unknown): boolean
  fromManifest (manifest: unknown): HypercoreVerifier
}
const caps = require('hypercore/lib/caps.js') as {
  treeSignable (manifestHash: Buffer, treeHash: Buffer, length: number, fork: number): Buffer
  treeSignableCompat (hash: Buffer, length: number, fork: number, noHeader: boolean): Buffer
}

/** The batch hypercore signs for a root: (treeHash, length, fork) in its signable encodings. */
export function rootBatch (treeHash: Buffer, length: number, fork: number): RootBatch {
  return {
    length,
    fork,
    hash: () => treeHash,
    signable: (ctx) => caps.treeSignable(ctx, treeHash, length, fork),
    signableCompat: (legacy) => caps.treeSignableCompat(treeHash, length, fork, legacy)
  }
}

function fail (reason: typeof ROOT_FAILURE[keyof typeof ROOT_FAILURE], message: string): DatdotError {
  return DatdotError.proofFailed(reason, message)
}

/** Verifies that the author of `root.coreKey` signed (treeHash, length, fork). Throws PROOF_FAILED. */
export function verifySignedRoot (root: SignedRoot): void {
  if (root.coreKey?.byteLength !== 32 || root.treeHash?.byteLength !== 32) throw fail(ROOT_FAILURE.WRONG_CORE, 'core key and tree hash must be 32 bytes')
  if (root.manifest.byteLength > MAX_MANIFEST_BYTES || root.signature.byteLength > MAX_ROOT_SIGNATURE_BYTES) {
    throw fail(ROOT_FAILURE.BAD_ROOT_SIGNATURE, 'manifest or signature over the size limit')
  }
  if (!Number.isSafeInteger(root.length) || root.length < 1 || root.length > MAX_TREE_LENGTH) {
    throw fail(ROOT_FAILURE.WRONG_LENGTH, `root length ${root.length} out of range`)
  }
  let manifest: unknown
  try {
    manifest = Verifier.decodeManifest(root.manifest)
  } catch {
    throw fail(ROOT_FAILURE.WRONG_CORE, 'the manifest does not decode')
  }
  if (!Verifier.isValidManifest(root.coreKey, manifest)) throw fail(ROOT_FAILURE.WRONG_CORE, 'the manifest does not hash to the core key')
  const batch = rootBatch(root.treeHash, root.length, root.fork)
  let ok = false
  try {
    ok = Verifier.fromManifest(manifest).verify(batch, root.signature)
  } catch {
    ok = false
  }
  if (!ok) throw fail(ROOT_FAILURE.BAD_ROOT_SIGNATURE, 'the author did not sign this root')
}

export function toSignedRoot (keyHex: string, root: SignedRootHex): SignedRoot {
  return {
    coreKey: b4a.from(keyHex, 'hex'),
    manifest: b4a.from(root.manifestHex, 'hex'),
    length: root.length,
    fork: root.fork,
    treeHash: b4a.from(root.treeHashHex, 'hex'),
    signature: b4a.from(root.signatureHex, 'hex')
  }
}

export function toRootHex (root: SignedRoot): { keyHex: string, root: SignedRootHex } {
  return {
    keyHex: b4a.toString(root.coreKey, 'hex'),
    root: {
      manifestHex: b4a.toString(root.manifest, 'hex'),
      length: root.length,
      fork: root.fork,
      treeHashHex: b4a.toString(root.treeHash, 'hex'),
      signatureHex: b4a.toString(root.signature, 'hex')
    }
  }
}

/** null when the author of `keyHex` signed `root`; otherwise why not (a PROOF_FAILED reason and message). */
export function verifyRootHex (keyHex: string, root: SignedRootHex): string | null {
  try {
    verifySignedRoot(toSignedRoot(keyHex, root))
    return null
  } catch (err) {
    if (err instanceof DatdotError && err.code === 'PROOF_FAILED') {
      const reason = err.details?.reason
      return `${typeof reason === 'string' ? reason : 'PROOF_FAILED'}: ${err.message}`
    }
    return `unverifiable root: ${(err as Error).message}`
  }
}
