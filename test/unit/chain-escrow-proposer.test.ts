/**
 * Who proposes a k-of-n escrow payout (main/chain/escrow-multisig.ts `proposerIndex`): the first
 * operator of the network record at once, each later one only once the oldest payable item has
 * waited its turn, so a payout still goes out when the first operator is gone.
 */
import { describe, it, expect } from 'vitest'
import { proposerIndex, PROPOSER_TURN_BLOCKS } from '../../main/chain/escrow-multisig.js'

const OPS = ['0xa', '0xb', '0xc']
const holds = (...keys: string[]) => (hex: string): boolean => keys.includes(hex)

describe('the payout proposer of a k-of-n escrow', () => {
  it('is the first operator at once, whatever else a node holds', () => {
    expect(proposerIndex(OPS, holds('0xa'), 100, 100)).toBe(0)
    expect(proposerIndex(OPS, holds('0xa', '0xb'), 100, 100)).toBe(0)
  })

  it('is a later operator only once the oldest item has been owed its turn: one turn for the second, two for the third', () => {
    const since = 1000
    expect(proposerIndex(OPS, holds('0xb'), since + PROPOSER_TURN_BLOCKS - 1, since)).toBeNull()
    expect(proposerIndex(OPS, holds('0xb'), since + PROPOSER_TURN_BLOCKS, since)).toBe(1)
    expect(proposerIndex(OPS, holds('0xc'), since + PROPOSER_TURN_BLOCKS, since)).toBeNull()
    expect(proposerIndex(OPS, holds('0xc'), since + 2 * PROPOSER_TURN_BLOCKS, since)).toBe(2)
    // a node holding the second and third keys proposes with the second
    expect(proposerIndex(OPS, holds('0xb', '0xc'), since + 5 * PROPOSER_TURN_BLOCKS, since)).toBe(1)
  })

  it('is nobody on a node that holds no operator key of the record', () => {
    expect(proposerIndex(OPS, holds('0xd'), 10_000, 0)).toBeNull()
    expect(proposerIndex([], holds('0xa'), 10_000, 0)).toBeNull()
  })
})
