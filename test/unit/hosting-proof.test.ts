/**
 * Proof-of-storage rules (main/hosting/proof.ts) at unit level, on an in-memory merkle tree and
 * signed root (test/helpers/merkle.ts) so every rule runs in milliseconds: merkle proofs refused
 * for a wrong index, root or key and for tampered bytes, never with a raw error; the stored-chunk
 * checks the integration test does not reach; contract ranges; the walk and its openings.
 * test/integration/hosting-proof.test.ts runs the same rules on real hypercores.
 */
import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import hcrypto from 'hypercore-crypto'
import type Hypercore from 'hypercore'
import { MemoryTree } from '../helpers/merkle.js'
import {
  verifyMerkleProof, verifyStoredChunk, verifyStorageProof, createStorageProof, createMerkleProof, captureSignedRoot,
  checkContract, checkDeadline, commitDeadlineMs, computeWalk, walkStart, walkNext, walkIndexes, walkStepHash,
  commitmentHash, openingSteps, verifyOpening, PROOF_FAILURE, MAX_CONTRACT_BLOCKS, type ContractView
} from '../../main/hosting/proof.js'
import { encodeChunk, signEncodedChunk, MAX_ROUNDS } from '../../main/hosting/encoding.js'
import { MemoryChunkStore } from '../../main/hosting/chunk-store.js'
import { MAX_PROOF_NODES, MAX_WALK_STEPS, type MerkleProof, type StoredChunk, type TreeNode } from '../../main/hosting/messages.js'
import { DatdotError } from '../../main/shared/errors.js'

const tree = new MemoryTree(Array.from({ length: 45 }, (_, i) => randomBytes(20 + 13 * i)))
const root = tree.signedRoot()
const otherTree = new MemoryTree(tree.blocks.map((b) => Buffer.from(b)))
const hoster = hcrypto.keyPair()
const encoder = hcrypto.keyPair()

/** The PROOF_FAILED reason `fn` throws; fails the test on success or on any other error. */
function reasonOf (fn: () => unknown): string {
  try { fn() } catch (err) {
    if (!(err instanceof DatdotError)) throw new Error(`a raw ${(err as Error).name} escaped: ${(err as Error).message}`)
    expect(err.code).toBe('PROOF_FAILED')
    return err.details?.reason as string
  }
  throw new Error('the proof was accepted')
}

function codeOf (fn: () => unknown): string {
  try { fn() } catch (err) {
    expect(err).toBeInstanceOf(DatdotError)
    return (err as DatdotError).code
  }
  return 'accepted'
}

function clone (p: MerkleProof): MerkleProof {
  return { ...p, nodes: p.nodes.map((n) => ({ ...n, hash: Buffer.from(n.hash) })), roots: p.roots.map((n) => ({ ...n, hash: Buffer.from(n.hash) })) }
}

function chunkFor (index: number, opts: { rounds?: number, hosterKey?: Buffer, t?: MemoryTree } = {}): StoredChunk {
  const t = opts.t ?? tree
  const binding = { coreKey: t.coreKey, index, hosterKey: opts.hosterKey ?? hoster.publicKey }
  const encoded = encodeChunk(t.blocks[index], binding, { rounds: opts.rounds ?? 1 })
  return { index, encoded, encoderSignature: signEncodedChunk(binding, encoded, encoder.secretKey), merkle: t.proof(index) }
}

const check = { root, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey }

describe('merkle proofs', () => {
  it('accept every block of a tree at every length from 1 to 45', () => {
    for (let length = 1; length <= 45; length++) {
      const r = tree.signedRoot(length)
      for (let i = 0; i < length; i++) verifyMerkleProof(tree.blocks[i], tree.proof(i, length), r)
    }
  })

  it('refuse a proof presented for another index, with the block of that index', () => {
    fc.assert(fc.property(fc.nat(44), fc.nat(44), (i, j) => {
      fc.pre(i !== j)
      const p = { ...clone(tree.proof(i)), index: j }
      expect([PROOF_FAILURE.MALFORMED_PROOF, PROOF_FAILURE.ROOT_MISMATCH]).toContain(reasonOf(() => verifyMerkleProof(tree.blocks[j], p, root)))
      expect(reasonOf(() => verifyMerkleProof(tree.blocks[j], tree.proof(i), root))).toBe(PROOF_FAILURE.ROOT_MISMATCH)
    }), { numRuns: 100 })
  })

  it('refuse an index that is negative, fractional, not a number or past the signed length', () => {
    for (const index of [-1, 0.5, NaN, 45, 2 ** 53]) {
      expect(reasonOf(() => verifyMerkleProof(tree.blocks[0], { ...tree.proof(0), index }, root))).toBe(PROOF_FAILURE.WRONG_INDEX)
    }
  })

  it('refuse the right proof against another core’s root of the same length, and against an older root of this core', () => {
    // same blocks, another author: the tree hash is the same, so the merkle proof holds; the key differs
    const otherRoot = otherTree.signedRoot()
    expect(otherRoot.treeHash.equals(root.treeHash)).toBe(true)
    expect(() => verifyMerkleProof(tree.blocks[3], tree.proof(3), otherRoot)).not.toThrow()
    expect(reasonOf(() => verifyStoredChunk(chunkFor(3), { ...check, root: otherRoot }))).toBe(PROOF_FAILURE.BAD_ENCODER_SIGNATURE)
    const different = new MemoryTree(tree.blocks.map(() => randomBytes(20)))
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[3], tree.proof(3), different.signedRoot()))).toBe(PROOF_FAILURE.ROOT_MISMATCH)
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[3], tree.proof(3), tree.signedRoot(40)))).toBe(PROOF_FAILURE.WRONG_LENGTH)
    // the proof rebuilt for length 40, presented against the root at 45, claims length 40
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[3], tree.proof(3, 40), root))).toBe(PROOF_FAILURE.WRONG_LENGTH)
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[3], { ...tree.proof(3, 40), length: 45 }, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
  })

  it('refuse any single changed bit in the block, a node hash or a root hash', () => {
    fc.assert(fc.property(fc.nat(44), fc.nat(), fc.integer({ min: 0, max: 7 }), fc.constantFrom('block', 'node', 'root'), (i, at, bit, where) => {
      const p = clone(tree.proof(i))
      let block = tree.blocks[i]
      if (where === 'block') {
        block = Buffer.from(block)
        block[at % block.byteLength] ^= 1 << bit
      } else {
        const list = where === 'node' ? p.nodes : p.roots
        fc.pre(list.length > 0)
        list[at % list.length].hash[at % 32] ^= 1 << bit
      }
      expect(reasonOf(() => verifyMerkleProof(block, p, root))).toBe(PROOF_FAILURE.ROOT_MISMATCH)
    }), { numRuns: 200 })
  })

  it('refuse nodes out of order, duplicated, swapped between path and roots, or a root left out', () => {
    const p = tree.proof(20) // 45 blocks: roots 31, 79, 88; block 20 sits under root 31 with a 5-node path
    expect(p.nodes.length).toBeGreaterThan(1)
    const swapped = clone(p); [swapped.nodes[0], swapped.nodes[1]] = [swapped.nodes[1], swapped.nodes[0]]
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[20], swapped, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
    const dup = clone(p); dup.nodes.splice(1, 0, dup.nodes[0])
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[20], dup, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
    const moved = clone(p); moved.roots.push(moved.nodes.pop()!)
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[20], moved, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
    const noRoots = clone(p); noRoots.roots = []
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[20], noRoots, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
    const reordered = clone(p); reordered.roots.reverse()
    expect(() => verifyMerkleProof(tree.blocks[20], reordered, root)).not.toThrow() // roots are sorted by index first
  })

  it('refuse more than 64 nodes, a hash that is not 32 bytes, and sizes hashing cannot take, all as MALFORMED_PROOF', () => {
    const p = tree.proof(20)
    const many = clone(p); many.nodes = new Array<TreeNode>(MAX_PROOF_NODES + 1).fill(p.nodes[0])
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[20], many, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
    const manyRoots = clone(p); manyRoots.roots = new Array<TreeNode>(MAX_PROOF_NODES + 1).fill(p.roots[0])
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[20], manyRoots, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
    for (const size of [-1, 1.5, NaN, 2 ** 53, Number.MAX_SAFE_INTEGER]) {
      const badNode = clone(p); badNode.nodes[0].size = size
      expect(reasonOf(() => verifyMerkleProof(tree.blocks[20], badNode, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
      const badRoot = clone(p); badRoot.roots[0].size = size
      // a root of 2^53 - 1 bytes can be hashed (it is just the wrong size); the path sum above cannot
      const want = size === Number.MAX_SAFE_INTEGER ? PROOF_FAILURE.ROOT_MISMATCH : PROOF_FAILURE.MALFORMED_PROOF
      expect(reasonOf(() => verifyMerkleProof(tree.blocks[20], badRoot, root))).toBe(want)
    }
    const shortHash = clone(p); shortHash.nodes[0].hash = randomBytes(31)
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[20], shortHash, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
    const shortRoot = clone(p); shortRoot.roots[1].hash = randomBytes(33)
    expect(reasonOf(() => verifyMerkleProof(tree.blocks[20], shortRoot, root))).toBe(PROOF_FAILURE.MALFORMED_PROOF)
  })

  it('refuse arbitrary made-up proofs with PROOF_FAILED, never a raw error', () => {
    const node = fc.record({ index: fc.nat(200), size: fc.oneof(fc.nat(5000), fc.integer(), fc.double()), hash: fc.uint8Array({ minLength: 31, maxLength: 33 }).map((u) => Buffer.from(u)) })
    fc.assert(fc.property(fc.nat(50), fc.array(node, { maxLength: 8 }), fc.array(node, { maxLength: 4 }), fc.uint8Array({ maxLength: 64 }), (index, nodes, roots, block) => {
      reasonOf(() => verifyMerkleProof(block, { index, length: root.length, nodes, roots }, root))
    }), { numRuns: 500 })
  })
})

describe('stored chunks', () => {
  it('accept an honest chunk for an older root too, and give back the original block', () => {
    const old = tree.signedRoot(30)
    const c = { ...chunkFor(12), merkle: tree.proof(12, 30) }
    expect(verifyStoredChunk(c, { ...check, root: old, expectedIndex: 12, rounds: 1 }).equals(tree.blocks[12])).toBe(true)
  })

  it('refuse a chunk whose merkle proof is for another block than the chunk', () => {
    const c = { ...chunkFor(12), merkle: tree.proof(13) }
    expect(reasonOf(() => verifyStoredChunk(c, check))).toBe(PROOF_FAILURE.WRONG_INDEX)
  })

  it('refuse a signed chunk whose header the decoder rejects (version, rounds over the limit, length) as BAD_ENCODING', () => {
    const binding = { coreKey: tree.coreKey, index: 5, hosterKey: hoster.publicKey }
    const base = encodeChunk(tree.blocks[5], binding, { rounds: 1 })
    const signed = (encoded: Buffer): StoredChunk => ({ index: 5, encoded, encoderSignature: signEncodedChunk(binding, encoded, encoder.secretKey), merkle: tree.proof(5) })
    const version = Buffer.from(base); version[0] = 3
    const rounds = Buffer.from(base); rounds[1] = MAX_ROUNDS + 1
    const length = Buffer.from(base); length.writeUInt32LE(base.readUInt32LE(2) + 9, 2)
    for (const bad of [version, rounds, length, base.subarray(0, 3), Buffer.alloc(0)]) {
      expect(reasonOf(() => verifyStoredChunk(signed(bad), check))).toBe(PROOF_FAILURE.BAD_ENCODING)
    }
  })

  it('refuse a v1 chunk for a plan (the node expects cube-cbc-v2) as BAD_ENCODING, which verifies where no plan fixes the scheme', () => {
    const binding = { coreKey: tree.coreKey, index: 6, hosterKey: hoster.publicKey }
    const v1 = encodeChunk(tree.blocks[6], binding, { rounds: 2, version: 1 })
    const chunk: StoredChunk = { index: 6, encoded: v1, encoderSignature: signEncodedChunk(binding, v1, encoder.secretKey), merkle: tree.proof(6) }
    expect(verifyStoredChunk(chunk, check).equals(tree.blocks[6])).toBe(true)
    expect(reasonOf(() => verifyStoredChunk(chunk, { ...check, rounds: 2 }))).toBe(PROOF_FAILURE.BAD_ENCODING)
    expect(verifyStoredChunk(chunk, { ...check, rounds: 2, version: 1 }).equals(tree.blocks[6])).toBe(true)
    const v2 = chunkFor(6, { rounds: 2 })
    expect(verifyStoredChunk(v2, { ...check, rounds: 2 }).equals(tree.blocks[6])).toBe(true)
    expect(reasonOf(() => verifyStoredChunk(v2, { ...check, rounds: 2, version: 1 }))).toBe(PROOF_FAILURE.BAD_ENCODING)
  })

  it('refuse a chunk under a root whose author signature is forged, even when every hash is right', () => {
    const forged = { ...root, signature: tree.signedRoot(44).signature }
    expect(reasonOf(() => verifyStoredChunk(chunkFor(2), { ...check, root: forged }))).toBe(PROOF_FAILURE.BAD_ROOT_SIGNATURE)
    const strangerSigned = { ...otherTree.signedRoot(), coreKey: root.coreKey }
    expect(reasonOf(() => verifyStoredChunk(chunkFor(2), { ...check, root: strangerSigned }))).toBe(PROOF_FAILURE.WRONG_CORE)
  })

  it('refuse a storage proof for another core before looking at the chunk, and after the deadline', () => {
    const proof = { coreKey: otherTree.coreKey, chunk: chunkFor(1) }
    expect(reasonOf(() => verifyStorageProof(proof, { ...check, sentAtMs: 0, receivedAtMs: 0, deadlineMs: 0 }))).toBe(PROOF_FAILURE.WRONG_CORE)
    const late = { coreKey: root.coreKey, chunk: chunkFor(1) }
    expect(reasonOf(() => verifyStorageProof(late, { ...check, sentAtMs: 10, receivedAtMs: 11, deadlineMs: 0 }))).toBe(PROOF_FAILURE.DEADLINE_MISSED)
    expect(verifyStorageProof(late, { ...check, sentAtMs: 10, receivedAtMs: 10, deadlineMs: 0 }).equals(tree.blocks[1])).toBe(true)
  })

  it('hand out a storage proof with its own copy of the core key', async () => {
    const store = new MemoryChunkStore()
    await store.putChunk(root.coreKey, chunkFor(0))
    const key = Buffer.from(root.coreKey)
    const proof = await createStorageProof(store, key, 0)
    key[0] ^= 1
    expect(proof.coreKey.equals(root.coreKey)).toBe(true)
  })
})

describe('reading proofs from a core', () => {
  it('refuses to build a proof for an index outside the length without asking the core', async () => {
    const core = { proof: () => { throw new Error('asked') } } as unknown as Hypercore
    for (const [i, len] of [[-1, 5], [5, 5], [1.5, 5], [0, 0]]) {
      await expect(createMerkleProof(core, i, len)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    }
  })

  it('reports a core that answers without block or upgrade as INTERNAL', async () => {
    const core = { proof: async () => ({ block: null, upgrade: null }) } as unknown as Hypercore
    await expect(createMerkleProof(core, 0, 1)).rejects.toMatchObject({ code: 'INTERNAL' })
  })

  it('refuses to capture the root of an empty core, or of one without a signature', async () => {
    const empty = { ready: async () => {}, length: 0 } as unknown as Hypercore
    await expect(captureSignedRoot(empty)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(captureSignedRoot(empty)).rejects.toThrow(/empty/)
    const unsigned = { ready: async () => {}, length: 3, proof: async () => ({ upgrade: { signature: null } }) } as unknown as Hypercore
    await expect(captureSignedRoot(unsigned)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(captureSignedRoot(unsigned)).rejects.toThrow(/no signature/)
  })
})

describe('contracts and deadlines', () => {
  const view = (start: number, end: number, length = 45): ContractView => ({ contractId: 1, root: { ...root, length }, start, end })

  it('accepts a range inside the root and refuses empty, reversed, negative, fractional or overhanging ones', () => {
    expect(() => checkContract(view(0, 45))).not.toThrow()
    expect(() => checkContract(view(44, 45))).not.toThrow()
    for (const [s, e] of [[0, 0], [5, 4], [-1, 3], [0, 46], [0.5, 3], [0, NaN]]) expect(codeOf(() => checkContract(view(s, e)))).toBe('INVALID_ARGUMENT')
  })

  it('refuses a contract of more than 4096 blocks as TOO_LARGE', () => {
    expect(() => checkContract(view(10, 10 + MAX_CONTRACT_BLOCKS, 5000))).not.toThrow()
    expect(codeOf(() => checkContract(view(10, 11 + MAX_CONTRACT_BLOCKS, 5000)))).toBe('TOO_LARGE')
  })

  it('measures the deadline inclusively and reports the elapsed time', () => {
    expect(() => checkDeadline({ sentAtMs: 100, receivedAtMs: 600, deadlineMs: 500 })).not.toThrow()
    try {
      checkDeadline({ sentAtMs: 100, receivedAtMs: 601, deadlineMs: 500 })
      expect.unreachable()
    } catch (err) {
      expect((err as DatdotError).details).toMatchObject({ reason: PROOF_FAILURE.DEADLINE_MISSED, elapsedMs: 501, deadlineMs: 500 })
    }
  })

  it('refuses a round trip that is not a finite non-negative number, and takes another base', () => {
    expect(codeOf(() => commitDeadlineMs(NaN))).toBe('INVALID_ARGUMENT')
    expect(codeOf(() => commitDeadlineMs(Infinity))).toBe('INVALID_ARGUMENT')
    expect(commitDeadlineMs(10, 500)).toBe(520)
  })
})

describe('the walk', () => {
  const contract: ContractView = { contractId: 9, root, start: 10, end: 30 }
  const store = new MemoryChunkStore()
  const ready = (async () => { for (let i = 10; i < 30; i++) await store.putChunk(root.coreKey, chunkFor(i)) })()

  it('never leaves the contract’s range, whatever the seed or step hash', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 20 }), (h, start, size) => {
      const c = { ...contract, start, end: start + size }
      for (const i of [walkStart(c, h), walkNext(c, h)]) {
        expect(i).toBeGreaterThanOrEqual(start)
        expect(i).toBeLessThan(start + size)
      }
    }), { numRuns: 300 })
  })

  it('is deterministic for a seed, differs between seeds, and its hashes name its next indexes', async () => {
    await ready
    const seed = randomBytes(32)
    const a = await computeWalk(store, contract, seed, 50)
    const b = await computeWalk(store, contract, seed, 50)
    expect(a.hashes.map((h) => h.toString('hex'))).toEqual(b.hashes.map((h) => h.toString('hex')))
    expect(walkIndexes(contract, seed, a.hashes)).toEqual(a.indexes)
    expect((await computeWalk(store, contract, randomBytes(32), 50)).indexes).not.toEqual(a.indexes)
    for (let k = 0; k < 50; k++) expect(a.hashes[k].equals(walkStepHash(seed, k, (await store.getChunk(root.coreKey, a.indexes[k]))!.encoded))).toBe(true)
    expect(walkIndexes(contract, seed, [])).toEqual([])
  })

  it('visits the only block of a one-block contract at every step', async () => {
    await ready
    const walk = await computeWalk(store, { ...contract, start: 17, end: 18 }, randomBytes(32), 7)
    expect(walk.indexes).toEqual(new Array(7).fill(17))
  })

  it('refuses a step count of 0, over 4096 or fractional before reading anything', async () => {
    const untouched = { getChunk: () => { throw new Error('read') } }
    for (const steps of [0, MAX_WALK_STEPS + 1, 2.5, NaN]) {
      await expect(computeWalk(untouched, contract, randomBytes(32), steps)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    }
  })

  it('stops at the first missing chunk and names the block and the step', async () => {
    await ready
    const seed = randomBytes(32)
    const full = await computeWalk(store, contract, seed, 30)
    const holey = new MemoryChunkStore()
    for (let i = 10; i < 30; i++) if (i !== full.indexes[3]) await holey.putChunk(root.coreKey, (await store.getChunk(root.coreKey, i))!)
    const firstGap = full.indexes.indexOf(full.indexes[3])
    await expect(computeWalk(holey, contract, seed, 30)).rejects.toMatchObject({
      code: 'PROOF_FAILED', details: { reason: PROOF_FAILURE.MISSING_CHUNK, index: full.indexes[3], step: firstGap }
    })
  })

  it('opens distinct steps inside the walk, as many as asked and at most all of them, bound to the nonce', () => {
    const seed = randomBytes(32)
    const commitment = randomBytes(32)
    const nonce = randomBytes(32)
    const steps = openingSteps(seed, commitment, nonce, 1024, 8)
    expect(new Set(steps).size).toBe(8)
    for (const s of steps) expect(s >= 0 && s < 1024 && Number.isInteger(s)).toBe(true)
    expect(openingSteps(seed, commitment, nonce, 1024, 8)).toEqual(steps)
    expect(openingSteps(seed, commitment, randomBytes(32), 1024, 8)).not.toEqual(steps)
    expect(openingSteps(seed, randomBytes(32), nonce, 1024, 8)).not.toEqual(steps)
    expect(openingSteps(seed, commitment, nonce, 5, 8).sort()).toEqual([0, 1, 2, 3, 4])
    expect(openingSteps(seed, commitment, nonce, 1, 1)).toEqual([0])
    expect(openingSteps(seed, commitment, nonce, 10, 0)).toEqual([])
  })

  it('binds the commitment to the seed and to every hash, in order', () => {
    const seed = randomBytes(32)
    const hs = [randomBytes(32), randomBytes(32)]
    const c = commitmentHash(seed, hs)
    expect(commitmentHash(seed, [hs[1], hs[0]]).equals(c)).toBe(false)
    expect(commitmentHash(randomBytes(32), hs).equals(c)).toBe(false)
    expect(commitmentHash(seed, hs.slice(0, 1)).equals(c)).toBe(false)
  })

  it('checks an opening: step inside the commitment, the visited block, and its hash', async () => {
    await ready
    const seed = randomBytes(32)
    const walk = await computeWalk(store, contract, seed, 20)
    const base = { contract, seed, hashes: walk.hashes, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey, sentAtMs: 0, receivedAtMs: 0, deadlineMs: 0 }
    const at = (k: number): StoredChunk => chunkFor(walk.indexes[k])
    expect(verifyOpening(at(4), { ...base, step: 4 }).equals(tree.blocks[walk.indexes[4]])).toBe(true)
    expect(codeOf(() => verifyOpening(at(4), { ...base, step: 20 }))).toBe('INVALID_ARGUMENT')
    expect(codeOf(() => verifyOpening(at(0), { ...base, step: -1 }))).toBe('INVALID_ARGUMENT')
    const other = walk.indexes.findIndex((ix) => ix !== walk.indexes[4])
    expect(reasonOf(() => verifyOpening(at(other), { ...base, step: 4 }))).toBe(PROOF_FAILURE.WRONG_INDEX)
    const lied = walk.hashes.map((h, k) => k === 4 ? randomBytes(32) : h)
    expect(reasonOf(() => verifyOpening(at(4), { ...base, hashes: lied, step: 4 }))).toBe(PROOF_FAILURE.WRONG_COMMITMENT)
    expect(reasonOf(() => verifyOpening(at(4), { ...base, step: 4, receivedAtMs: 1 }))).toBe(PROOF_FAILURE.DEADLINE_MISSED)
    // the replica of another hoster, honestly signed for it, does not pass as this hoster's
    const foreign = chunkFor(walk.indexes[4], { hosterKey: hcrypto.keyPair().publicKey })
    expect(reasonOf(() => verifyOpening(foreign, { ...base, step: 4 }))).toBe(PROOF_FAILURE.BAD_ENCODER_SIGNATURE)
  })
})
