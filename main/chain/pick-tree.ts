/**
 * Weighted picks in O(log providers): a Fenwick tree per (role, bytes) over the providers in
 * address order, holding each provider's pick weight when it is eligible and 0 when not, built
 * at the first pick of a block (the block's time decides pauses, schedules, rests) and kept exact
 * through the block by `providerTouched` (every change of a provider's jobs, storage, reputation,
 * pause, schedule, rest or offer). A pick zeroes the excluded providers, draws
 * `below(total)` from the block's randomness and descends the tree to the first provider whose
 * cumulative weight exceeds the draw: the provider the walk over every candidate picked.
 * Weights are integers below 2^31 and their sums below 2^53, so doubles hold them exactly.
 */
import type { MarketState, Provider } from './market-types.js'

export class Fenwick {
  private readonly tree: Float64Array
  readonly vals: Float64Array
  total = 0

  constructor (vals: Float64Array) {
    this.vals = vals
    const n = vals.length
    this.tree = new Float64Array(n + 1)
    for (let i = 0; i < n; i++) {
      this.total += vals[i]
      const j = i + 1
      this.tree[j] += vals[i]
      const up = j + (j & -j)
      if (up <= n) this.tree[up] += this.tree[j]
    }
  }

  set (i: number, v: number): void {
    const d = v - this.vals[i]
    if (d === 0) return
    this.vals[i] = v
    this.total += d
    for (let j = i + 1; j < this.tree.length; j += j & -j) this.tree[j] += d
  }

  /** The first index whose cumulative weight exceeds `x` (0 <= x < total). */
  find (x: number): number {
    let pos = 0
    let rem = x
    let step = 1
    while (step * 2 < this.tree.length) step *= 2
    for (; step > 0; step >>= 1) {
      const next = pos + step
      if (next < this.tree.length && this.tree[next] <= rem) {
        pos = next
        rem -= this.tree[next]
      }
    }
    return pos
  }
}

export interface PickTrees {
  /** The block (number and hash) the trees were built for. */
  number: number
  hash: string
  sorted: Provider[]
  indexOf: Map<string, number>
  byKey: Map<string, number[]>
  trees: Map<string, { tree: Fenwick, value: (p: Provider) => number }>
}

export function newPickTrees (number: number, hash: string, sorted: Provider[]): PickTrees {
  const indexOf = new Map<string, number>()
  const byKey = new Map<string, number[]>()
  sorted.forEach((p, i) => {
    indexOf.set(p.address, i)
    const list = byKey.get(p.noiseKeyHex)
    if (list === undefined) byKey.set(p.noiseKeyHex, [i])
    else list.push(i)
  })
  return { number, hash, sorted, indexOf, byKey, trees: new Map() }
}

export function treeFor (pt: PickTrees, key: string, value: (p: Provider) => number): Fenwick {
  let t = pt.trees.get(key)
  if (t === undefined) {
    const vals = new Float64Array(pt.sorted.length)
    pt.sorted.forEach((p, i) => { vals[i] = value(p) })
    t = { tree: new Fenwick(vals), value }
    pt.trees.set(key, t)
  }
  return t.tree
}

/** A provider changed: its weight in every tree of the block is computed again. */
export function refreshProvider (pt: PickTrees, state: MarketState, address: string): void {
  const i = pt.indexOf.get(address)
  const p = state.providers[address]
  if (i === undefined || p === undefined) return
  for (const { tree, value } of pt.trees.values()) tree.set(i, value(p))
}
