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

/**
 * The providers in address order (the order every pick walks), with each one's position and the
 * providers per noise key; kept across blocks, a registration or departure moves the others'
 * positions instead of sorting again.
 */
export class ProviderOrder {
  readonly sorted: Provider[]
  readonly indexOf = new Map<string, number>()
  readonly byKey = new Map<string, Set<string>>()

  constructor (providers: Provider[]) {
    this.sorted = [...providers].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
    this.reindex(0)
    for (const p of this.sorted) this.keyAdd(p.noiseKeyHex, p.address)
  }

  add (p: Provider): void {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.sorted[mid].address < p.address) lo = mid + 1
      else hi = mid
    }
    this.sorted.splice(lo, 0, p)
    this.reindex(lo)
    this.keyAdd(p.noiseKeyHex, p.address)
  }

  remove (p: Provider): void {
    const i = this.indexOf.get(p.address)
    if (i === undefined) return
    this.sorted.splice(i, 1)
    this.indexOf.delete(p.address)
    this.reindex(i)
    this.byKey.get(p.noiseKeyHex)?.delete(p.address)
  }

  rekey (address: string, from: string, to: string): void {
    this.byKey.get(from)?.delete(address)
    this.keyAdd(to, address)
  }

  private keyAdd (key: string, address: string): void {
    const set = this.byKey.get(key)
    if (set === undefined) this.byKey.set(key, new Set([address]))
    else set.add(address)
  }

  private reindex (from: number): void {
    for (let i = from; i < this.sorted.length; i++) this.indexOf.set(this.sorted[i].address, i)
  }
}

export interface PickTrees {
  /** The block (number and hash) the trees were built for. */
  number: number
  hash: string
  order: ProviderOrder
  trees: Map<string, { tree: Fenwick, value: (p: Provider) => number }>
  /** Providers changed since the trees' weights were last computed (flushTouched, before a pick). */
  touched: Set<string>
}

export function newPickTrees (number: number, hash: string, order: ProviderOrder): PickTrees {
  return { number, hash, order, trees: new Map(), touched: new Set() }
}

export function treeFor (pt: PickTrees, key: string, value: (p: Provider) => number): Fenwick {
  let t = pt.trees.get(key)
  if (t === undefined) {
    const sorted = pt.order.sorted
    const vals = new Float64Array(sorted.length)
    for (let i = 0; i < sorted.length; i++) vals[i] = value(sorted[i])
    t = { tree: new Fenwick(vals), value }
    pt.trees.set(key, t)
  }
  return t.tree
}

/**
 * A provider changed: its weight in every tree of the block is computed again before the next
 * pick (flushTouched), once however often it changed meanwhile (an epoch's aggregates reward the
 * same attestors and hosters thousands of times in one block).
 */
export function refreshProvider (pt: PickTrees, _state: MarketState, address: string): void {
  if (pt.trees.size > 0) pt.touched.add(address)
}

/** The weights of the providers changed since the last pick, computed again in every tree (before a pick reads them). */
export function flushTouched (pt: PickTrees, state: MarketState): void {
  if (pt.touched.size === 0) return
  for (const address of pt.touched) {
    const i = pt.order.indexOf.get(address)
    const p = state.providers[address]
    if (i === undefined || p === undefined) continue
    for (const { tree, value } of pt.trees.values()) tree.set(i, value(p))
  }
  pt.touched.clear()
}
