/**
 * The network a node follows (network-ref.ts): its text form, and the check that refuses a wrong
 * chain, a block without the network record and a node that already follows another network's
 * record, each with its code.
 */
import { describe, it, expect } from 'vitest'
import { encodeRecord, type MarketRecord } from '../../main/chain/records.js'
import { initialState, type BlockInput, type MarketState } from '../../main/chain/marketplace.js'
import type { ReadBlock } from '../../main/chain/follower.js'
import { checkNetworkRef, formatNetworkRef, parseNetworkRef, type NetworkRef } from '../../main/chain/network-ref.js'
import { DatdotError } from '../../main/shared/errors.js'

const GENESIS = '0x' + 'ab'.repeat(32)
const OPS = ['0x' + '01'.repeat(32), '0x' + '02'.repeat(32)]
const ESCROW = '0x' + 'ee'.repeat(32)
const PARAMS = { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 10, performanceAttestors: 1 }
const networkRecord = (escrow = ESCROW): MarketRecord => ({ kind: 'network', operators: OPS, threshold: 2, escrow, unitPricePlanck: 1n, params: PARAMS })

/** Blocks 1..head; `records[n]` are the DatDot records of block n (signed by the first operator). */
function chain (records: Record<number, MarketRecord[]>): (n: number) => Promise<ReadBlock> {
  return async (n) => {
    const input: BlockInput = {
      number: n,
      hash: `0x${n.toString(16).padStart(64, '0')}`,
      parentHash: `0x${(n - 1).toString(16).padStart(64, '0')}`,
      timeMs: 1_700_000_000_000 + n * 6000,
      actions: (records[n] ?? []).map((r, index) => ({ index, signer: OPS[0], remarks: [encodeRecord(r)], transfers: [] }))
    }
    return { input, events: [], transfersByExtrinsic: new Map() }
  }
}

async function refusal (ref: NetworkRef, read: (n: number) => Promise<ReadBlock>, followed: MarketState = initialState()): Promise<unknown> {
  const err = await checkNetworkRef({ ref, genesisHash: GENESIS, head: 10, read, followed }).then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(DatdotError)
  expect((err as DatdotError).code).toBe('CHAIN_ERROR')
  return (err as DatdotError).details?.why
}

describe('the network a node follows', () => {
  it('reads and writes its text form, and refuses anything else with a coded error', () => {
    const ref = parseNetworkRef(`${GENESIS.toUpperCase().replace('0X', '0x')}@7`)
    expect(ref).toEqual({ genesisHash: GENESIS, recordBlock: 7 })
    expect(parseNetworkRef(formatNetworkRef(ref))).toEqual(ref)
    for (const bad of ['', GENESIS, `${GENESIS}@0`, `${GENESIS}@-1`, `${GENESIS}@1.5`, `0xab@7`, `${GENESIS}@99999999999`, `${GENESIS}@7 junk`]) {
      const err = (() => { try { parseNetworkRef(bad); return null } catch (e) { return e } })()
      expect(err, bad).toBeInstanceOf(DatdotError)
      expect((err as DatdotError).code).toBe('INVALID_ARGUMENT')
      expect((err as DatdotError).details).toMatchObject({ why: 'bad-network-ref' })
    }
  })

  it('accepts the block that holds the network record, and a node that follows that record', async () => {
    const read = chain({ 4: [networkRecord()] })
    await checkNetworkRef({ ref: { genesisHash: GENESIS, recordBlock: 4 }, genesisHash: GENESIS, head: 10, read, followed: initialState() })
    const followed = initialState()
    followed.network = { operators: OPS, threshold: 2, escrow: ESCROW, unitPricePlanck: 1n, params: PARAMS, sinceBlock: 4 }
    await checkNetworkRef({ ref: { genesisHash: GENESIS, recordBlock: 4 }, genesisHash: GENESIS, head: 10, read, followed })
  })

  it('refuses another chain, a block without the record or beyond the head, and a node following another record', async () => {
    const read = chain({ 3: [{ kind: 'unregister' }], 4: [networkRecord()], 6: [networkRecord('0x' + 'dd'.repeat(32))] })
    expect(await refusal({ genesisHash: '0x' + 'cd'.repeat(32), recordBlock: 4 }, read)).toBe('wrong-chain')
    expect(await refusal({ genesisHash: GENESIS, recordBlock: 3 }, read)).toBe('no-network-record')
    expect(await refusal({ genesisHash: GENESIS, recordBlock: 5 }, read)).toBe('no-network-record')
    expect(await refusal({ genesisHash: GENESIS, recordBlock: 11 }, read)).toBe('no-network-record')
    const followed = initialState()
    followed.network = { operators: OPS, threshold: 2, escrow: ESCROW, unitPricePlanck: 1n, params: PARAMS, sinceBlock: 4 }
    expect(await refusal({ genesisHash: GENESIS, recordBlock: 6 }, read, followed)).toBe('other-network')
  })
})
