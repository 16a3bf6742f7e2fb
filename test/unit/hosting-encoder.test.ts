/**
 * The encoder's one job (main/hosting/encoder.ts): read a block, check it against the signed
 * root, encode it for one hoster and sign it. Runs on an in-memory tree standing in for the
 * replicated core (test/helpers/merkle.ts), so each rule takes milliseconds.
 */
import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import hcrypto from 'hypercore-crypto'
import type Hypercore from 'hypercore'
import { MemoryTree } from '../helpers/merkle.js'
import { encodeBlockForHoster, encodeBlocksForHoster } from '../../main/hosting/encoder.js'
import { verifyStoredChunk, PROOF_FAILURE, type ContractView } from '../../main/hosting/proof.js'
import { verifyEncodedChunkSignature, decodeChunk, DEFAULT_ROUNDS } from '../../main/hosting/encoding.js'

const tree = new MemoryTree(Array.from({ length: 12 }, (_, i) => randomBytes(1 + 300 * i)))
const encoder = hcrypto.keyPair()
const hoster = hcrypto.keyPair()
const contract: ContractView = { contractId: 3, root: tree.signedRoot(10), start: 2, end: 8 }

/** A core that records what was asked of it. */
function recordingCore (core = tree.fakeCore()): { core: Hypercore, gets: Array<{ index: number, opts: unknown }> } {
  const gets: Array<{ index: number, opts: unknown }> = []
  const inner = core as unknown as { get (i: number, o?: unknown): Promise<Buffer | null>, proof (r: unknown): Promise<unknown> }
  const wrapped = {
    get: (index: number, opts?: unknown) => { gets.push({ index, opts }); return inner.get(index, opts) },
    proof: (req: unknown) => inner.proof(req)
  }
  return { core: wrapped as unknown as Hypercore, gets }
}

describe('encodeBlocksForHoster', () => {
  // blocks of one length, as Hyperdrive writes them, so pairs go through the interleaved kernel
  const even = new MemoryTree(Array.from({ length: 6 }, () => randomBytes(4096)))
  const evenContract: ContractView = { contractId: 4, root: even.signedRoot(6), start: 0, end: 6 }

  it('gives exactly the chunks encodeBlockForHoster gives one at a time, each accepted for the plan', async () => {
    const indexes = [0, 1, 2, 3, 4]
    const batch = await encodeBlocksForHoster(even.fakeCore(), evenContract, indexes, hoster.publicKey, encoder, { rounds: 3 })
    expect(batch.map((c) => c.index)).toEqual(indexes)
    for (const chunk of batch) {
      const one = await encodeBlockForHoster(even.fakeCore(), evenContract, chunk.index, hoster.publicKey, encoder, { rounds: 3 })
      expect(chunk.encoded.equals(one.encoded)).toBe(true)
      expect(chunk.encoderSignature.equals(one.encoderSignature)).toBe(true)
      const block = verifyStoredChunk(chunk, { root: evenContract.root, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey, expectedIndex: chunk.index, rounds: 3 })
      expect(block.equals(even.blocks[chunk.index])).toBe(true)
    }
  })

  it('refuses an index outside the contract before reading any block', async () => {
    const a = recordingCore(even.fakeCore())
    await expect(encodeBlocksForHoster(a.core, { ...evenContract, end: 4 }, [2, 5], hoster.publicKey, encoder)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(a.gets).toEqual([])
  })
})

describe('encodeBlockForHoster', () => {
  it('makes a chunk the hoster and the attestor accept, which decodes to the block, for every block of the contract', async () => {
    for (let i = contract.start; i < contract.end; i++) {
      const chunk = await encodeBlockForHoster(tree.fakeCore(), contract, i, hoster.publicKey, encoder, { rounds: 1 })
      expect(chunk.index).toBe(i)
      expect(chunk.merkle.length).toBe(10) // against the contract's root, not the core's current length
      const block = verifyStoredChunk(chunk, { root: contract.root, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey, expectedIndex: i, rounds: 1 })
      expect(block.equals(tree.blocks[i])).toBe(true)
    }
  })

  it('binds the replica to the hoster: another hoster’s chunk of the same block differs and does not verify for the first', async () => {
    const other = hcrypto.keyPair()
    const mine = await encodeBlockForHoster(tree.fakeCore(), contract, 5, hoster.publicKey, encoder, { rounds: 1 })
    const theirs = await encodeBlockForHoster(tree.fakeCore(), contract, 5, other.publicKey, encoder, { rounds: 1 })
    expect(mine.encoded.equals(theirs.encoded)).toBe(false)
    const binding = { coreKey: contract.root.coreKey, index: 5, hosterKey: hoster.publicKey }
    expect(verifyEncodedChunkSignature(binding, mine.encoded, mine.encoderSignature, encoder.publicKey)).toBe(true)
    expect(verifyEncodedChunkSignature(binding, theirs.encoded, theirs.encoderSignature, encoder.publicKey)).toBe(false)
    expect(decodeChunk(theirs.encoded, { ...binding, hosterKey: other.publicKey }).equals(tree.blocks[5])).toBe(true)
  })

  it('encodes with the default rounds unless told, and with the rounds it is told', async () => {
    expect((await encodeBlockForHoster(tree.fakeCore(), contract, 2, hoster.publicKey, encoder)).encoded[1]).toBe(DEFAULT_ROUNDS)
    expect((await encodeBlockForHoster(tree.fakeCore(), contract, 2, hoster.publicKey, encoder, { rounds: 3 })).encoded[1]).toBe(3)
  })

  it('passes its timeout to the core, and no timeout when none is given', async () => {
    const a = recordingCore()
    await encodeBlockForHoster(a.core, contract, 4, hoster.publicKey, encoder, { rounds: 1, timeoutMs: 1234 })
    expect(a.gets).toEqual([{ index: 4, opts: { timeout: 1234 } }])
    const b = recordingCore()
    await encodeBlockForHoster(b.core, contract, 4, hoster.publicKey, encoder, { rounds: 1 })
    expect(b.gets).toEqual([{ index: 4, opts: undefined }])
  })

  it('refuses a block outside the contract without reading the core', async () => {
    for (const index of [contract.start - 1, contract.end, 11]) {
      const { core, gets } = recordingCore()
      await expect(encodeBlockForHoster(core, contract, index, hoster.publicKey, encoder)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
      expect(gets).toEqual([])
    }
  })

  it('refuses a contract whose range is not inside its root', async () => {
    const { core, gets } = recordingCore()
    await expect(encodeBlockForHoster(core, { ...contract, end: 11 }, 3, hoster.publicKey, encoder)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(gets).toEqual([])
  })

  it('reports a block the core does not have as NOT_FOUND', async () => {
    await expect(encodeBlockForHoster(tree.fakeCore(new Set([6])), contract, 6, hoster.publicKey, encoder)).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('signs nothing for a block that does not belong to the sponsored root: a peer served it a wrong block', async () => {
    const honest = tree.fakeCore() as unknown as { proof (r: unknown): Promise<unknown> }
    const core = {
      get: async (index: number) => index === 5 ? randomBytes(tree.blocks[5].byteLength) : tree.blocks[index],
      proof: (req: unknown) => honest.proof(req)
    } as unknown as Hypercore
    await expect(encodeBlockForHoster(core, contract, 5, hoster.publicKey, encoder)).rejects.toMatchObject({
      code: 'PROOF_FAILED', details: { reason: PROOF_FAILURE.ROOT_MISMATCH }
    })
    // its other blocks are the real ones: those it encodes
    await expect(encodeBlockForHoster(core, contract, 2, hoster.publicKey, encoder, { rounds: 1 })).resolves.toMatchObject({ index: 2 })
  })

  it('refuses a core key that is not the contract’s: the proof does not reach its tree hash', async () => {
    const stranger = new MemoryTree(Array.from({ length: 12 }, () => randomBytes(64)))
    await expect(encodeBlockForHoster(stranger.fakeCore(), contract, 3, hoster.publicKey, encoder)).rejects.toMatchObject({ code: 'PROOF_FAILED' })
  })
})
