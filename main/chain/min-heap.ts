/** A binary min-heap of (key, id) pairs, ordered by key then id (the marketplace's deadline queues). */
export class MinHeap {
  private readonly keys: number[] = []
  private readonly ids: number[] = []

  get size (): number { return this.keys.length }

  push (key: number, id: number): void {
    this.keys.push(key)
    this.ids.push(id)
    let i = this.keys.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(i, parent)) break
      this.swap(i, parent)
      i = parent
    }
  }

  /** The ids of every entry with key <= `max`, removed from the heap, in heap order (may repeat an id). */
  popUpTo (max: number): number[] {
    const out: number[] = []
    while (this.keys.length > 0 && this.keys[0] <= max) out.push(this.pop())
    return out
  }

  private pop (): number {
    const top = this.ids[0]
    const lastKey = this.keys.pop() as number
    const lastId = this.ids.pop() as number
    if (this.keys.length > 0) {
      this.keys[0] = lastKey
      this.ids[0] = lastId
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < this.keys.length && this.less(l, m)) m = l
        if (r < this.keys.length && this.less(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
    return top
  }

  private less (a: number, b: number): boolean {
    return this.keys[a] < this.keys[b] || (this.keys[a] === this.keys[b] && this.ids[a] < this.ids[b])
  }

  private swap (a: number, b: number): void {
    const k = this.keys[a]; this.keys[a] = this.keys[b]; this.keys[b] = k
    const d = this.ids[a]; this.ids[a] = this.ids[b]; this.ids[b] = d
  }
}
