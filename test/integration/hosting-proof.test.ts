import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pipeline } from 'node:stream'
import type { Duplex } from 'node:stream'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import hcrypto from 'hypercore-crypto'
import { DatdotError } from '../../main/shared/errors.js'
import {
  captureSignedRoot, createMerkleProof, verifyMerkleProof, verifyStoredChunk,
  createStorageProof, verifyStorageProof, computeWalk, walkIndexes, commitmentHash, openingSteps,
  verifyOpening, challengeSeed, walkStepHash, commitDeadlineMs, PROOF_FAILURE, type ContractView, type ChunkSource
} from '../../main/hosting/proof.js'
import { verifySignedRoot, type SignedRoot } from '../../main/chain/roots.js'
import { encodeBlockForHoster } from '../../main/hosting/encoder.js'
import { MemoryChunkStore, FileChunkStore } from '../../main/hosting/chunk-store.js'
import type { StoredChunk, MerkleProof } from '../../main/hosting/messages.js'

const BLOCKS = 37

function reasonOf (fn: () => unknown): string | undefined {
  try { fn() } catch (err) {
    expect(err).toBeInstanceOf(DatdotError)
    expect((err as DatdotError).code).toBe('PROOF_FAILED')
    return (err as DatdotError).details?.reason as string
  }
  return undefined
}

async function reasonOfAsync (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) {
    expect((err as DatdotError).code).toBe('PROOF_FAILED')
    return (err as DatdotError).details?.reason as string
  }
  return undefined
}

function cloneProof (p: MerkleProof): MerkleProof {
  return { index: p.index, length: p.length, nodes: p.nodes.map((n) => ({ ...n })), roots: p.roots.map((n) => ({ ...n })) }
}

describe('proof of storage on real hypercores', () => {
  const dirs: string[] = []
  let author: Corestore
  let replicaStore: Corestore
  let core: Hypercore
  let other: Hypercore
  let root: SignedRoot
  let otherRoot: SignedRoot
  const blocks: Buffer[] = []
  const hoster = hcrypto.keyPair()
  const encoder = hcrypto.keyPair()
  let contract: ContractView
  const store = new MemoryChunkStore()

  beforeAll(async () => {
    dirs.push(await mkdtemp(join(tmpdir(), 'datdot-proof-a-')), await mkdtemp(join(tmpdir(), 'datdot-proof-b-')))
    author = new Corestore(dirs[0])
    core = author.get({ name: 'drive-blobs' })
    other = author.get({ name: 'other' })
    await core.ready()
    await other.ready()
    for (let i = 0; i < BLOCKS; i++) {
      const b = randomBytes(100 + 97 * i)
      blocks.push(b)
      await core.append(b)
      await other.append(randomBytes(50))
    }
    root = await captureSignedRoot(core)
    otherRoot = await captureSignedRoot(other)
    contract = { contractId: 1, root, start: 0, end: BLOCKS }
    // the encoder works from a sparse replica, as it would over the network
    replicaStore = new Corestore(dirs[1])
    const s1 = author.replicate(true) as Duplex
    const s2 = replicaStore.replicate(false) as Duplex
    pipeline(s1, s2, s1, () => {})
    const replica = replicaStore.get({ key: core.key! })
    await replica.ready()
    for (let i = 0; i < BLOCKS; i++) {
      await store.putChunk(root.coreKey, await encodeBlockForHoster(replica, contract, i, hoster.publicKey, encoder, { rounds: 1, timeoutMs: 10_000 }))
    }
  })

  afterAll(async () => {
    await replicaStore?.close()
    await author?.close()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('verifies the author’s signed root against the core key', () => {
    expect(root.length).toBe(BLOCKS)
    expect(() => verifySignedRoot(root)).not.toThrow()
  })

  it('rejects a root whose tree hash, length or signature was changed, or whose manifest is another core’s', () => {
    expect(reasonOf(() => verifySignedRoot({ ...root, treeHash: randomBytes(32) }))).toBe(PROOF_FAILURE.BAD_ROOT_SIGNATURE)
    expect(reasonOf(() => verifySignedRoot({ ...root, length: root.length - 1 }))).toBe(PROOF_FAILURE.BAD_ROOT_SIGNATURE)
    const sig = Buffer.from(root.signature); sig[sig.length - 1] ^= 1
    expect(reasonOf(() => verifySignedRoot({ ...root, signature: sig }))).toBe(PROOF_FAILURE.BAD_ROOT_SIGNATURE)
    expect(reasonOf(() => verifySignedRoot({ ...root, signature: otherRoot.signature }))).toBe(PROOF_FAILURE.BAD_ROOT_SIGNATURE)
    expect(reasonOf(() => verifySignedRoot({ ...root, manifest: otherRoot.manifest }))).toBe(PROOF_FAILURE.WRONG_CORE)
    expect(reasonOf(() => verifySignedRoot({ ...root, manifest: randomBytes(40) }))).toBe(PROOF_FAILURE.WRONG_CORE)
  })

  it('verifies a merkle proof for every block of every tree length from 1 to 37', async () => {
    let checked = 0
    for (let length = 1; length <= BLOCKS; length++) {
      const r = { ...root, length, treeHash: await core.treeHash(length) }
      for (let i = 0; i < length; i++) {
        const p = await createMerkleProof(core, i, length)
        verifyMerkleProof(blocks[i], p, r)
        checked++
      }
    }
    expect(checked).toBe(BLOCKS * (BLOCKS + 1) / 2)
  })

  it('builds proofs against an older signed root from a sparse replica that is longer (the author appended after the contract was cut)', async () => {
    // every old length L and contract [s, e) inside it: the replica at length 37 holds the contract's
    // blocks and block L - 1 (whose proof brings the full roots of the tree at L), nothing else
    const checked: string[] = []
    for (const L of [1, 5, 8, 13, 16, 21, 30]) {
      for (const [s, e] of [[0, Math.min(L, 3)], [Math.floor(L / 2), L], [Math.max(0, L - 2), L]] as Array<[number, number]>) {
        if (e <= s) continue
        const dir = await mkdtemp(join(tmpdir(), 'datdot-proof-sparse-'))
        dirs.push(dir)
        const sparse = new Corestore(dir)
        const a = author.replicate(true) as Duplex
        const b = sparse.replicate(false) as Duplex
        pipeline(a, b, a, () => {})
        try {
          const replica = sparse.get({ key: core.key! })
          await replica.ready()
          await replica.update({ wait: true })
          expect(replica.length).toBe(BLOCKS)
          await replica.download({ start: s, end: e }).done()
          await replica.get(L - 1)
          const old = { ...root, length: L, treeHash: await core.treeHash(L) }
          for (let i = s; i < e; i++) verifyMerkleProof(blocks[i], await createMerkleProof(replica, i, L), old)
          checked.push(`${L}:${s}-${e}`)
        } finally {
          await sparse.close()
        }
      }
    }
    expect(checked.length).toBeGreaterThan(15)
  })

  it('rejects a corrupt block, a wrong index, a wrong root and truncated or padded proofs, each with its reason', async () => {
    const p = await createMerkleProof(core, 5, BLOCKS)
    expect(() => verifyMerkleProof(blocks[5], p, root)).not.toThrow()
    const corrupt = Buffer.from(blocks[5]); corrupt[0] ^= 1
    expect(reasonOf(() => verifyMerkleProof(corrupt, p, root))).toBe(PROOF_FAILURE.ROOT_MISMATCH)
    expect(reasonOf(() => verifyMerkleProof(blocks[6], { ...cloneProof(p), index: 6 }, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
    expect(reasonOf(() => verifyMerkleProof(blocks[5], { ...cloneProof(p), index: BLOCKS }, root))).toBe(PROOF_FAILURE.WRONG_INDEX)
    expect(reasonOf(() => verifyMerkleProof(blocks[5], p, { ...otherRoot, length: BLOCKS }))).toBe(PROOF_FAILURE.ROOT_MISMATCH)
    expect(reasonOf(() => verifyMerkleProof(blocks[5], p, { ...root, length: BLOCKS + 1 }))).toBe(PROOF_FAILURE.WRONG_LENGTH)
    const truncated = cloneProof(p); truncated.nodes.pop()
    expect(reasonOf(() => verifyMerkleProof(blocks[5], truncated, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
    const missingRoot = cloneProof(p); missingRoot.roots.pop()
    expect(reasonOf(() => verifyMerkleProof(blocks[5], missingRoot, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
    const extraRoot = cloneProof(p); extraRoot.roots.push({ ...extraRoot.roots[0] })
    expect(reasonOf(() => verifyMerkleProof(blocks[5], extraRoot, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
    const tamperedNode = cloneProof(p); tamperedNode.nodes[0].hash = randomBytes(32)
    expect(reasonOf(() => verifyMerkleProof(blocks[5], tamperedNode, root))).toBe(PROOF_FAILURE.ROOT_MISMATCH)
    const tamperedSize = cloneProof(p); tamperedSize.nodes[0].size += 1
    expect(reasonOf(() => verifyMerkleProof(blocks[5], tamperedSize, root))).toBe(PROOF_FAILURE.ROOT_MISMATCH)
  })

  it('verifies a stored chunk end to end and gives back the original block', async () => {
    const chunk = (await store.getChunk(root.coreKey, 9))!
    const block = verifyStoredChunk(chunk, { root, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey, expectedIndex: 9, rounds: 1 })
    expect(block.equals(blocks[9])).toBe(true)
    expect(chunk.encoded.equals(blocks[9])).toBe(false)
  })

  it('rejects a stored chunk for the wrong index, hoster, encoder, rounds or with a flipped byte', async () => {
    const chunk = (await store.getChunk(root.coreKey, 9))!
    const check = { root, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey }
    expect(reasonOf(() => verifyStoredChunk(chunk, { ...check, expectedIndex: 10 }))).toBe(PROOF_FAILURE.WRONG_INDEX)
    expect(reasonOf(() => verifyStoredChunk(chunk, { ...check, hosterKey: hcrypto.keyPair().publicKey }))).toBe(PROOF_FAILURE.BAD_ENCODER_SIGNATURE)
    expect(reasonOf(() => verifyStoredChunk(chunk, { ...check, encoderKey: hcrypto.keyPair().publicKey }))).toBe(PROOF_FAILURE.BAD_ENCODER_SIGNATURE)
    expect(reasonOf(() => verifyStoredChunk(chunk, { ...check, rounds: 2 }))).toBe(PROOF_FAILURE.BAD_ENCODING)
    const flipped = { ...chunk, encoded: Buffer.from(chunk.encoded) }
    flipped.encoded[20] ^= 1
    expect(reasonOf(() => verifyStoredChunk(flipped, check))).toBe(PROOF_FAILURE.BAD_ENCODER_SIGNATURE)
    const other9 = (await store.getChunk(root.coreKey, 10))!
    expect(reasonOf(() => verifyStoredChunk({ ...other9, index: 9 }, check))).toBe(PROOF_FAILURE.WRONG_INDEX)
  })

  it('catches an encoder that signs a wrong encoding: the signature verifies, the decoded block does not', async () => {
    const binding = { coreKey: root.coreKey, index: 3, hosterKey: hoster.publicKey }
    const { encodeChunk, signEncodedChunk } = await import('../../main/hosting/encoding.js')
    const wrong = encodeChunk(randomBytes(blocks[3].byteLength), binding, { rounds: 1 })
    const chunk: StoredChunk = { index: 3, encoded: wrong, encoderSignature: signEncodedChunk(binding, wrong, encoder.secretKey), merkle: await createMerkleProof(core, 3, BLOCKS) }
    expect(reasonOf(() => verifyStoredChunk(chunk, { root, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey }))).toBe(PROOF_FAILURE.ROOT_MISMATCH)
    // an encoding made for another hoster, re-signed for this one, fails the same way
    const forOther = encodeChunk(blocks[3], { ...binding, hosterKey: hcrypto.keyPair().publicKey }, { rounds: 1 })
    const chunk2: StoredChunk = { ...chunk, encoded: forOther, encoderSignature: signEncodedChunk(binding, forOther, encoder.secretKey) }
    // (block 3 is 391 bytes, so decoding with the wrong key usually trips the padding check first)
    expect([PROOF_FAILURE.BAD_ENCODING, PROOF_FAILURE.ROOT_MISMATCH])
      .toContain(reasonOf(() => verifyStoredChunk(chunk2, { root, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey })))
  })

  it('accepts a storage proof inside the deadline and rejects it after, or when the chunk is gone', async () => {
    const check = { root, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey, expectedIndex: 4, deadlineMs: 2000 }
    const proof = await createStorageProof(store, root.coreKey, 4)
    expect(verifyStorageProof(proof, { ...check, sentAtMs: 1000, receivedAtMs: 3000 }).equals(blocks[4])).toBe(true)
    expect(reasonOf(() => verifyStorageProof(proof, { ...check, sentAtMs: 1000, receivedAtMs: 3001 }))).toBe(PROOF_FAILURE.DEADLINE_MISSED)
    expect(reasonOf(() => verifyStorageProof({ ...proof, coreKey: otherRoot.coreKey }, { ...check, sentAtMs: 0, receivedAtMs: 1 }))).toBe(PROOF_FAILURE.WRONG_CORE)
    const partial = new MemoryChunkStore()
    expect(await reasonOfAsync(createStorageProof(partial, root.coreKey, 4))).toBe(PROOF_FAILURE.MISSING_CHUNK)
  })

  it('allows the commitment 2 s plus two measured round trips', () => {
    expect(commitDeadlineMs(0)).toBe(2000)
    expect(commitDeadlineMs(80.2)).toBe(2162)
    expect(() => commitDeadlineMs(-1)).toThrow()
  })

  it('derives the same challenge seed and walk for every interpreter, and a different one per hoster', () => {
    const blockHash = randomBytes(32)
    expect(challengeSeed(blockHash, 1, hoster.publicKey).equals(challengeSeed(blockHash, 1, hoster.publicKey))).toBe(true)
    expect(challengeSeed(blockHash, 1, hoster.publicKey).equals(challengeSeed(blockHash, 1, encoder.publicKey))).toBe(false)
    expect(challengeSeed(blockHash, 1, hoster.publicKey).equals(challengeSeed(blockHash, 2, hoster.publicKey))).toBe(false)
  })

  it('runs a walk whose committed hashes reproduce the visited indexes, and every opened step verifies', async () => {
    const seed = challengeSeed(randomBytes(32), contract.contractId, hoster.publicKey)
    const walk = await computeWalk(store, contract, seed, 64)
    expect(walkIndexes(contract, seed, walk.hashes)).toEqual(walk.indexes)
    expect(new Set(walk.indexes).size).toBeGreaterThan(10)
    const commitment = commitmentHash(seed, walk.hashes)
    const steps = openingSteps(seed, commitment, randomBytes(32), 64, 8)
    expect(new Set(steps).size).toBe(8)
    for (const step of steps) {
      const chunk = (await store.getChunk(root.coreKey, walk.indexes[step]))!
      const block = verifyOpening(chunk, {
        contract, seed, hashes: walk.hashes, step, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey, sentAtMs: 0, receivedAtMs: 0, deadlineMs: 1
      })
      expect(block.equals(blocks[walk.indexes[step]])).toBe(true)
    }
  })

  it('catches a hoster that deleted chunks and fakes their walk hashes when a faked step is opened', async () => {
    const seed = challengeSeed(randomBytes(32), contract.contractId, hoster.publicKey)
    const partial = new MemoryChunkStore()
    for (let i = 0; i < BLOCKS; i++) if (i % 2 === 0) await partial.putChunk(root.coreKey, (await store.getChunk(root.coreKey, i))!)
    // an honest walk over a store with holes stops with MISSING_CHUNK
    expect(await reasonOfAsync(computeWalk(partial, contract, seed, 64))).toBe(PROOF_FAILURE.MISSING_CHUNK)
    // a cheater answers a random hash for every chunk it lacks
    const cheat: ChunkSource = partial
    const hashes: Buffer[] = []
    const indexes: number[] = []
    let index = walkIndexes(contract, seed, [randomBytes(32)])[0]
    for (let k = 0; k < 64; k++) {
      const ch = await cheat.getChunk(root.coreKey, index)
      const h = ch === null ? randomBytes(32) : walkStepHash(seed, k, ch.encoded)
      hashes.push(h)
      indexes.push(index)
      index = walkIndexes(contract, seed, [...hashes, randomBytes(32)])[k + 1]
    }
    const faked = indexes.map((ix, k) => ix % 2 === 1 ? k : -1).filter((k) => k >= 0)
    expect(faked.length).toBeGreaterThan(0)
    for (const step of faked) {
      // the cheater can even fetch the right chunk when asked to open it: the commitment already lied
      const chunk = (await store.getChunk(root.coreKey, indexes[step]))!
      expect(reasonOf(() => verifyOpening(chunk, {
        contract, seed, hashes, step, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey, sentAtMs: 0, receivedAtMs: 0, deadlineMs: 1
      }))).toBe(PROOF_FAILURE.WRONG_COMMITMENT)
    }
  })

  it('keeps chunks in files that survive a reopen, and reports a deleted file as a missing chunk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'datdot-chunks-'))
    dirs.push(dir)
    const files = new FileChunkStore(dir, { maxChunks: 2 })
    const c0 = (await store.getChunk(root.coreKey, 0))!
    await files.putChunk(root.coreKey, c0)
    await files.putChunk(root.coreKey, (await store.getChunk(root.coreKey, 1))!)
    await files.putChunk(root.coreKey, c0) // overwriting does not count against the limit
    await expect(files.putChunk(root.coreKey, (await store.getChunk(root.coreKey, 2))!)).rejects.toMatchObject({ code: 'LIMIT_REACHED' })
    const reopened = new FileChunkStore(dir)
    const back = (await reopened.getChunk(root.coreKey, 0))!
    expect(verifyStoredChunk(back, { root, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey }).equals(blocks[0])).toBe(true)
    expect(await reopened.deleteChunk(root.coreKey, 0)).toBe(true)
    expect(await reasonOfAsync(createStorageProof(reopened, root.coreKey, 0))).toBe(PROOF_FAILURE.MISSING_CHUNK)
  })
})
