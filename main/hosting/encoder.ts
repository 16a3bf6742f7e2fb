/**
 * Encoder side: read verified original blocks from a (replicated) hypercore, encode them for one
 * hoster, sign them, attach their merkle proofs against the plan's signed root.
 */
import type Hypercore from 'hypercore'
import { DatdotError } from '../shared/errors.js'
import { encodeChunks, signEncodedChunk, DEFAULT_ROUNDS, type ChunkBinding } from './encoding.js'
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
  const [chunk] = await encodeBlocksForHoster(core, contract, [index], hosterKey, encoder, opts)
  return chunk
}

/**
 * Encodes several blocks of the contract's core for `hosterKey` (each checked against the signed
 * root first). The blocks go through encodeChunks, which interleaves them two by two in the
 * kernel: two blocks cost about the time of one (docs/protocol.md section 5).
 */
export async function encodeBlocksForHoster (
  core: Hypercore, contract: ContractView, indexes: number[], hosterKey: Uint8Array, encoder: EncoderKeyPair, opts: EncodeBlockOptions = {}
): Promise<StoredChunk[]> {
  checkContract(contract)
  for (const index of indexes) {
    if (index < contract.start || index >= contract.end) throw DatdotError.invalidArgument(`block ${index} is not in contract ${contract.contractId}`)
  }
  const blocks: Buffer[] = []
  const merkles: Array<StoredChunk['merkle']> = []
  for (const index of indexes) {
    const block = await core.get(index, opts.timeoutMs === undefined ? undefined : { timeout: opts.timeoutMs })
    if (block === null) throw DatdotError.notFound(`block ${index}`)
    const merkle = await createMerkleProof(core, index, contract.root.length)
    // the encoder signs only what it has verified: the block belongs to the sponsored root
    verifyMerkleProof(block, merkle, contract.root)
    blocks.push(block)
    merkles.push(merkle)
  }
  const bindings: ChunkBinding[] = indexes.map((index) => ({ coreKey: contract.root.coreKey, index, hosterKey }))
  const encoded = encodeChunks(blocks, bindings, { rounds: opts.rounds ?? DEFAULT_ROUNDS })
  return indexes.map((index, i) => ({
    index, encoded: encoded[i], encoderSignature: signEncodedChunk(bindings[i], encoded[i], encoder.secretKey), merkle: merkles[i]
  }))
}
