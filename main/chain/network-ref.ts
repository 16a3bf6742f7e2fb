/**
 * Which network a node follows on a chain: the chain's genesis hash and the block that holds the
 * network record (`NetworkRef`). On a public chain the history before that block is not DatDot's
 * (and may hold other `network` records), so a follower starts at the record's block instead of
 * #1; `checkNetworkRef` refuses, with a coded error, a chain or block that does not hold the
 * expected record. Text form (config, CLI, links): `<genesis hash>@<block number>`.
 */
import { DatdotError } from '../shared/errors.js'
import { applyBlock, initialState, type MarketState } from './marketplace.js'
import type { ReadBlock } from './follower.js'

export interface NetworkRef {
  /** The chain's genesis hash, 0x + 64 hex. */
  genesisHash: string
  /** The block whose extrinsics hold the network record (the first valid one in it wins). */
  recordBlock: number
}

const REF_RE = /^(0x[0-9a-f]{64})@([1-9][0-9]{0,9})$/

export function formatNetworkRef (ref: NetworkRef): string { return `${ref.genesisHash}@${ref.recordBlock}` }

/** Parses `<genesis hash>@<block>`; INVALID_ARGUMENT for anything else. */
export function parseNetworkRef (text: string): NetworkRef {
  const m = REF_RE.exec(text.trim().toLowerCase())
  if (m === null) throw DatdotError.invalidArgument(`a network is <genesis hash>@<block number> (0x + 64 hex, @, a block above 0): ${text.slice(0, 100)}`, { why: 'bad-network-ref' })
  const recordBlock = Number(m[2])
  if (!Number.isSafeInteger(recordBlock) || recordBlock > 2 ** 32 - 1) throw DatdotError.invalidArgument(`network block out of range: ${m[2]}`, { why: 'bad-network-ref' })
  return { genesisHash: m[1], recordBlock }
}

/** Validates a NetworkRef handed in as an object (options); returns it normalised. */
export function normaliseNetworkRef (ref: NetworkRef): NetworkRef {
  if (typeof ref !== 'object' || ref === null || typeof ref.genesisHash !== 'string' || !Number.isInteger(ref.recordBlock)) throw DatdotError.invalidArgument('network must be { genesisHash, recordBlock }', { why: 'bad-network-ref' })
  return parseNetworkRef(`${ref.genesisHash}@${ref.recordBlock}`)
}

export interface NetworkCheckInput {
  ref: NetworkRef
  /** The connected chain's genesis hash. */
  genesisHash: string
  /** The chain's head number. */
  head: number
  /** Reads a block of the chain. */
  read: (number: number) => Promise<ReadBlock>
  /** The state this node has followed so far (initial when it has followed nothing). */
  followed: MarketState
}

/**
 * Refuses a chain or block that does not hold the expected network: another genesis
 * ('wrong-chain'), a block beyond the head or without a valid network record
 * ('no-network-record'), or a node that already follows the network record of another block
 * ('other-network'). Reads one block; changes nothing.
 */
export async function checkNetworkRef (input: NetworkCheckInput): Promise<void> {
  const { ref, genesisHash, head, followed } = input
  const details = { network: formatNetworkRef(ref) }
  if (genesisHash.toLowerCase() !== ref.genesisHash) {
    throw DatdotError.wrongNetwork('wrong-chain', `this chain (genesis ${genesisHash}) is not the network's chain (genesis ${ref.genesisHash})`, details)
  }
  if (ref.recordBlock > head) {
    throw DatdotError.wrongNetwork('no-network-record', `block #${ref.recordBlock} does not exist yet on this chain (head #${head}): not the network's block`, details)
  }
  const probe = initialState()
  applyBlock(probe, (await input.read(ref.recordBlock)).input)
  if (probe.network === null) {
    throw DatdotError.wrongNetwork('no-network-record', `block #${ref.recordBlock} holds no valid DatDot network record`, details)
  }
  const mine = followed.network
  if (mine !== null && (mine.sinceBlock !== ref.recordBlock || mine.escrow !== probe.network.escrow)) {
    throw DatdotError.wrongNetwork('other-network', `this node follows the network of block #${mine.sinceBlock}, not the one of block #${ref.recordBlock}`, details)
  }
}
