/**
 * Signed roots between their two forms: the hex form carried by chain records and kept in the
 * marketplace state (records.ts `SignedRootHex`), and the byte form the proofs work with
 * (main/hosting/proof.ts `SignedRoot`). Interpreters verify a record's root with `verifyRootHex`
 * before they accept it; hosting parties convert the contract's root with `toSignedRoot`.
 */
import b4a from 'b4a'
import { DatdotError } from '../shared/errors.js'
import { verifySignedRoot, type SignedRoot } from '../hosting/proof.js'
import type { SignedRootHex } from './records.js'

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
