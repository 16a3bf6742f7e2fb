/**
 * Encoder side: read a verified original block from a (replicated) hypercore, encode it for one
 * hoster, sign it, attach its merkle proof against the plan's signed root.
 */
import type Hypercore from 'hypercore'
import { DatdotError } from '../shared/errors.js'
import { encodeChunk, signEncodedChunk, DEFAULT_ROUNDS } from './encoding.js'
import { createMerkleProof, verifyMerkleProof, checkContract, type ContractView } from './proof.js'
import type { StoredChunk } from './messages.js'

export interface EncoderKeyPair { publicKey: Uint8Array, secretKey: Uint8Array }

export interface EncodeBlockOptions {
  rounds?: number
  /** Passed to core.get: how long to wait for a block from peers. */
  timeoutMs?: number
}

/** Encodes block `index` of the contract's core for `hosterKey`; the block is checked against the signed root first. */
export async function encodeBlockForHoster (
  core: Hypercore, contract: ContractView, index: number, hosterKey: Uint8Array, encoder: EncoderKeyPair, opts: EncodeBlockOptions = {}
): Promise<StoredChunk> {
  checkContract(contract)
  if (index < contract.start || index >= contract.end) throw DatdotError.invalidArgument(`block ${index} is not in contract ${contract.contractId}`)
  const block = await core.get(index, opts.timeoutMs === undefined ? undefined : { timeout: opts.timeoutMs })
  if (block === null) throw DatdotError.notFound(`block ${index}`)
  const merkle = await createMerkleProof(core, index, contract.root.length)
  // the encoder signs only what it has verified: the block belongs to the sponsored root
  verifyMerkleProof(block, merkle, contract.root)
  const binding = { coreKey: contract.root.coreKey, index, hosterKey }
  const encoded = encodeChunk(block, binding, { rounds: opts.rounds ?? DEFAULT_ROUNDS })
  return { index, encoded, encoderSignature: signEncodedChunk(binding, encoded, encoder.secretKey), merkle }
}
