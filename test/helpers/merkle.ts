/**
 * A hypercore-shaped merkle tree and signed root built in memory, for hosting unit tests that
 * must run in milliseconds: the same flat-tree layout, hashes (hypercore-crypto) and author
 * signature (hypercore's own Verifier) as a real core, without storage. `fakeCore` answers the
 * two calls the encoder makes (get, proof). The integration tests check real cores.
 */
import { createRequire } from 'node:module'
import hcrypto from 'hypercore-crypto'
import type Hypercore from 'hypercore'
import { rootBatch, type RootBatch, type SignedRoot } from '../../main/chain/roots.js'
import type { MerkleProof, TreeNode } from '../../main/hosting/messages.js'
import { fullRoots, sibling, parent } from '../../main/hosting/flat.js'

const require = createRequire(import.meta.url)
const Verifier = require('hypercore/lib/verifier.js') as {
  defaultSignerManifest (publicKey: Buffer): unknown
  manifestHash (manifest: unknown): Buffer
  encodeManifest (manifest: unknown): Buffer
  fromManifest (manifest: unknown): { sign (batch: RootBatch, keyPair: { publicKey: Buffer, secretKey: Buffer }): Buffer }
}

export class MemoryTree {
  readonly blocks: Buffer[]
  readonly keyPair = hcrypto.keyPair()
  readonly manifest: unknown
  readonly coreKey: Buffer

  constructor (blocks: Buffer[]) {
    this.blocks = blocks
    this.manifest = Verifier.defaultSignerManifest(this.keyPair.publicKey)
    this.coreKey = Verifier.manifestHash(this.manifest)
  }

  /** Node `index` of the tree over the first `length` blocks (it must lie inside a full root). */
  node (index: number): TreeNode {
    if (index % 2 === 0) {
      const block = this.blocks[index / 2]
      return { index, size: block.byteLength, hash: hcrypto.data(block) }
    }
    let d = 0
    while (((index + 1) / 2 ** d) % 2 === 0) d++
    const half = 2 ** (d - 1)
    const left = this.node(index - half)
    const right = this.node(index + half)
    return { index, size: left.size + right.size, hash: hcrypto.parent(left, right) }
  }

  treeHash (length: number): Buffer {
    return hcrypto.tree(fullRoots(length).map((i) => this.node(i)))
  }

  /** The author's signed root at `length`, as captureSignedRoot reads it from a real core. */
  signedRoot (length = this.blocks.length, fork = 0): SignedRoot {
    const treeHash = this.treeHash(length)
    const batch = rootBatch(treeHash, length, fork)
    return {
      coreKey: this.coreKey,
      manifest: Verifier.encodeManifest(this.manifest),
      length,
      fork,
      treeHash,
      signature: Verifier.fromManifest(this.manifest).sign(batch, this.keyPair)
    }
  }

  /** The merkle proof of block `index` against the tree of `length` blocks. */
  proof (index: number, length = this.blocks.length): MerkleProof {
    const tops = fullRoots(length)
    const nodes: TreeNode[] = []
    let cur = 2 * index
    while (!tops.includes(cur)) {
      nodes.push(this.node(sibling(cur)))
      cur = parent(cur)
    }
    return { index, length, nodes, roots: tops.filter((r) => r !== cur).map((r) => this.node(r)) }
  }

  /** The two calls encodeBlockForHoster makes on a core; `missing` blocks answer null (not replicated). */
  fakeCore (missing: Set<number> = new Set()): Hypercore {
    const core = {
      get: async (index: number): Promise<Buffer | null> => missing.has(index) ? null : this.blocks[index] ?? null,
      proof: async (req: { block: { index: number }, upgrade: { length: number } }) => {
        const p = this.proof(req.block.index, req.upgrade.length)
        return { block: { index: req.block.index, nodes: p.nodes }, upgrade: { start: 0, length: req.upgrade.length, nodes: p.roots } }
      }
    }
    return core as unknown as Hypercore
  }
}
