/**
 * Flat-tree index arithmetic (the layout hypercore's merkle tree uses: leaves at even indexes,
 * block i is node 2i). Written with arithmetic, not bit operators, so it is exact beyond 2^31.
 */

export function depth (index: number): number {
  let d = 0
  let i = index
  while (i % 2 === 1) { i = (i - 1) / 2; d++ }
  return d
}

export function offset (index: number, d = depth(index)): number {
  if (index % 2 === 0) return index / 2
  return ((index + 1) / 2 ** d - 1) / 2
}

export function indexOf (d: number, off: number): number {
  return (1 + 2 * off) * 2 ** d - 1
}

export function parent (index: number): number {
  const d = depth(index)
  return indexOf(d + 1, Math.floor(offset(index, d) / 2))
}

export function sibling (index: number): number {
  const d = depth(index)
  const off = offset(index, d)
  return indexOf(d, off % 2 === 0 ? off + 1 : off - 1)
}

/** Indexes of the full roots of a tree of `length` blocks, left to right. */
export function fullRoots (length: number): number[] {
  const result: number[] = []
  let left = length
  let off = 0
  while (left > 0) {
    let factor = 1
    while (factor * 2 <= left) factor *= 2
    result.push(off + factor - 1)
    off += 2 * factor
    left -= factor
  }
  return result
}
