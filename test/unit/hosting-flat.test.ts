/**
 * Flat-tree arithmetic (main/hosting/flat.ts) against the flat-tree package hypercore uses
 * (bit operators, valid below 2^31), and its exactness far beyond 2^31 where those would wrap.
 */
import { describe, it, expect } from 'vitest'
import { createRequire } from 'node:module'
import fc from 'fast-check'
import { depth, offset, indexOf, parent, sibling, fullRoots } from '../../main/hosting/flat.js'

// the flat-tree package hypercore itself uses (bit operators: valid below 2^31) is the reference
const require = createRequire(import.meta.url)
const ref = require('flat-tree') as {
  depth (i: number): number
  offset (i: number): number
  parent (i: number): number
  sibling (i: number): number
  index (depth: number, offset: number): number
  fullRoots (node: number): number[]
}

const small = fc.integer({ min: 0, max: 2 ** 29 })
const huge = fc.integer({ min: 2 ** 31, max: 2 ** 50 })

describe('flat-tree index arithmetic', () => {
  it('puts block i at node 2i, depth 0, and numbers the first levels as hypercore does', () => {
    expect([0, 2, 4, 6].map(depth)).toEqual([0, 0, 0, 0])
    expect([1, 5, 9].map(depth)).toEqual([1, 1, 1])
    expect([3, 11].map(depth)).toEqual([2, 2])
    expect(depth(7)).toBe(3)
    expect(parent(0)).toBe(1)
    expect(parent(2)).toBe(1)
    expect(parent(4)).toBe(5)
    expect(parent(1)).toBe(3)
    expect(parent(5)).toBe(3)
    expect(parent(3)).toBe(7)
    expect(sibling(0)).toBe(2)
    expect(sibling(2)).toBe(0)
    expect(sibling(1)).toBe(5)
    expect(sibling(3)).toBe(11)
    expect(offset(9)).toBe(2)
    expect(indexOf(1, 2)).toBe(9)
  })

  it('agrees with the bitwise reference on depth, offset, parent and sibling below 2^29', () => {
    fc.assert(fc.property(small, (i) => {
      expect(depth(i)).toBe(ref.depth(i))
      expect(offset(i)).toBe(ref.offset(i))
      expect(parent(i)).toBe(ref.parent(i))
      expect(sibling(i)).toBe(ref.sibling(i))
      expect(indexOf(depth(i), offset(i))).toBe(ref.index(ref.depth(i), ref.offset(i)))
    }), { numRuns: 500 })
  })

  it('agrees with the reference on the full roots of every tree up to 5000 blocks', () => {
    const differ: number[] = []
    for (let length = 0; length <= 5000; length++) if (fullRoots(length).join() !== ref.fullRoots(2 * length).join()) differ.push(length)
    expect(differ).toEqual([])
  })

  it('is consistent at any size: indexOf inverts (depth, offset), siblings pair up and share a parent', () => {
    fc.assert(fc.property(fc.oneof(small, huge), (i) => {
      const d = depth(i)
      const off = offset(i)
      expect(indexOf(d, off)).toBe(i)
      expect(sibling(sibling(i))).toBe(i)
      expect(sibling(i)).not.toBe(i)
      expect(parent(sibling(i))).toBe(parent(i))
      expect(depth(parent(i))).toBe(d + 1)
      // a parent sits exactly between its two children
      const p = parent(i)
      expect(Math.abs(p - i)).toBe(2 ** d)
      expect(Number.isSafeInteger(p)).toBe(true)
    }), { numRuns: 500 })
  })

  it('stays exact past 2^31, where 32-bit bit operators would wrap', () => {
    const block = 2 ** 40 // node 2^41
    const leaf = 2 * block
    expect(depth(leaf)).toBe(0)
    expect(offset(leaf)).toBe(block)
    expect(parent(leaf)).toBe(leaf + 1)
    expect(sibling(leaf)).toBe(leaf + 2)
    const top = 2 ** 45 - 1 // the root of the first 2^44 blocks
    expect(depth(top)).toBe(45)
    expect(offset(top)).toBe(0)
    expect(parent(top)).toBe(2 ** 46 - 1)
    expect(sibling(top)).toBe(3 * 2 ** 45 - 1)
  })
})

describe('full roots', () => {
  it('gives no roots for an empty tree and one leaf for a tree of one block', () => {
    expect(fullRoots(0)).toEqual([])
    expect(fullRoots(1)).toEqual([0])
  })

  it('gives one root per set bit of the length, largest subtree first', () => {
    expect(fullRoots(2)).toEqual([1])
    expect(fullRoots(3)).toEqual([1, 4])
    expect(fullRoots(4)).toEqual([3])
    expect(fullRoots(5)).toEqual([3, 8])
    expect(fullRoots(7)).toEqual([3, 9, 12])
    expect(fullRoots(8)).toEqual([7])
    expect(fullRoots(37)).toEqual([31, 67, 72])
  })

  it('covers every block exactly once, left to right, for any length up to 2^40', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 2 ** 40 })), (length) => {
      const roots = fullRoots(length)
      let next = 0 // first block not yet covered
      for (const r of roots) {
        const span = 2 ** depth(r) // blocks under this root
        expect(offset(r) * span).toBe(next) // starts where the previous root ended
        next += span
      }
      expect(next).toBe(length)
      expect(roots).toHaveLength(length.toString(2).split('').filter((b) => b === '1').length)
    }), { numRuns: 300 })
  })

  it('places every block of the tree under exactly one full root, reached by walking parents', () => {
    for (const length of [1, 2, 3, 6, 13, 37, 64, 100]) {
      const roots = fullRoots(length)
      for (let b = 0; b < length; b++) {
        let n = 2 * b
        let steps = 0
        while (!roots.includes(n) && steps < 64) { n = parent(n); steps++ }
        expect(roots).toContain(n)
        expect(steps).toBe(depth(n))
      }
    }
  })
})
