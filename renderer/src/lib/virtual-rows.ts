/**
 * Windowing for long lists (FileTable): which rows to put in the DOM for the part of the list
 * that is on screen, and how tall the space above and below them stands in for the rest. Rows
 * may differ in height (names wrap in narrow layouts): each row is measured once rendered, and
 * rows never rendered count as the average of those measured.
 */

export interface RowWindow {
  /** First row in the DOM. */
  start: number
  /** One past the last row in the DOM. */
  end: number
  /** Height of the rows above `start` (px). */
  before: number
  /** Height of the rows from `end` on (px). */
  after: number
}

/** How far (in overscans) a focused row may lie outside the view and still be kept in the DOM. */
const KEEP_REACH = 4

export class RowHeights {
  #heights: number[] = []
  #known = 0
  #sum = 0
  readonly #estimate: number

  constructor (estimate = 36) {
    this.#estimate = estimate
  }

  /** Records a row's measured height; true when it changed (the window should be worked out again). */
  set (index: number, height: number): boolean {
    if (!(height > 0)) return false
    const old = this.#heights[index]
    if (old !== undefined && Math.abs(old - height) < 0.5) return false
    if (old === undefined) this.#known++
    else this.#sum -= old
    this.#heights[index] = height
    this.#sum += height
    return true
  }

  /** Forgets every height (the layout changed width, or another folder is shown). */
  clear (): void {
    this.#heights = []
    this.#known = 0
    this.#sum = 0
  }

  get average (): number {
    return this.#known === 0 ? this.#estimate : this.#sum / this.#known
  }

  height (index: number): number {
    return this.#heights[index] ?? this.average
  }

  /**
   * The rows to render for a view `top` px into the list and `height` px tall, with `overscan`
   * rows more on each side (so Tab from the last row shown reaches a row that exists). `keep`
   * (the focused row) stays in the DOM with a row each side, when it lies within `overscan` *
   * KEEP_REACH rows of the view: a focused element that leaves the DOM sends focus back to the
   * page's top, and the view can lag behind the focus by a frame.
   */
  window (count: number, top: number, height: number, overscan: number, keep?: number): RowWindow {
    const avg = this.average
    let offset = 0
    let first = count
    let last = count
    for (let i = 0; i < count; i++) {
      const h = this.#heights[i] ?? avg
      if (first === count && offset + h > top) first = i
      if (offset >= top + height) { last = i; break }
      offset += h
    }
    let start = Math.max(0, first - overscan)
    let end = Math.max(start, Math.min(count, Math.max(last, first + 1) + overscan))
    if (keep !== undefined && keep >= 0 && keep < count && keep >= start - overscan * KEEP_REACH && keep < end + overscan * KEEP_REACH) {
      start = Math.min(start, Math.max(0, keep - 1))
      end = Math.max(end, Math.min(count, keep + 2))
    }
    let before = 0
    let after = 0
    for (let i = 0; i < count; i++) {
      if (i < start) before += this.#heights[i] ?? avg
      else if (i >= end) after += this.#heights[i] ?? avg
    }
    return { start, end, before, after }
  }
}
