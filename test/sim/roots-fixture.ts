/**
 * Real signed roots for tests, the simulation and the bench: one hypercore in a temporary folder,
 * appended to each requested length in turn and its signed root captured at each (then closed and
 * removed). The marketplace verifies every publish/update root, so fixtures must be genuine.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Hypercore from 'hypercore'
import hypercoreCrypto from 'hypercore-crypto'
import b4a from 'b4a'
import { captureSignedRoot } from '../../main/hosting/proof.js'
import { toRootHex } from '../../main/chain/roots.js'
import { receiptMessage, type SignedRootHex } from '../../main/chain/records.js'

export interface RootFixture {
  keyHex: string
  /** Signed roots at the requested lengths, in the order asked. */
  roots: SignedRootHex[]
}

/** A core with signed roots at `lengths` (ascending). */
export async function createRootFixture (lengths: number[]): Promise<RootFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'datdot-roots-'))
  const core = new Hypercore(dir)
  try {
    await core.ready()
    const roots: SignedRootHex[] = []
    for (const length of lengths) {
      const add: Buffer[] = []
      for (let i = core.length; i < length; i++) add.push(b4a.from(`block ${i}`))
      if (add.length > 0) await core.append(add)
      roots.push(toRootHex(await captureSignedRoot(core)).root)
    }
    return { keyHex: b4a.toString(core.key as Buffer, 'hex'), roots }
  } finally {
    await core.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A provider's ed25519 key pair (its registered noise key), deterministic from a name. */
export function providerKeys (name: string): { publicKeyHex: string, secretKey: Buffer } {
  const seed = hypercoreCrypto.hash(b4a.from(`datdot-test-provider:${name}`))
  const kp = hypercoreCrypto.keyPair(seed)
  return { publicKeyHex: b4a.toString(kp.publicKey, 'hex'), secretKey: kp.secretKey }
}

/** The hoster's receipt for a slot: its signature over receiptMessage (records.ts). */
export function signReceipt (secretKey: Buffer, contractId: number, coreKeyHex: string, rootLength: number, receiptsRootHex: string): string {
  const sig = hypercoreCrypto.sign(b4a.from(receiptMessage(contractId, coreKeyHex, rootLength, receiptsRootHex)), secretKey)
  return b4a.toString(sig, 'hex')
}
