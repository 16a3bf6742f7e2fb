/**
 * The windowing of long lists (renderer/src/lib/virtual-rows.ts): which rows are in the DOM for
 * a view, and how much space stands in for the others, with measured and unmeasured heights.
 */
import { describe, it, expect } from 'vitest'
import { RowHeights } from '../../renderer/src/lib/virtual-rows.js'

describe('RowHeights.window', () => {
  it('renders only the rows in view plus the overscan, and spaces stand in for the rest', () => {
    const h = new RowHeights(40)
    const w = h.window(100_000, 4_000, 800, 5)
    expect(w).toEqual({ start: 95, end: 125, before: 95 * 40, after: (100_000 - 125) * 40 })
  })

  it('keeps the total height when rows are measured at other heights', () => {
    const h = new RowHeights(40)
    for (let i = 0; i < 10; i++) h.set(i, 100)
    const w = h.window(1_000, 0, 500, 2)
    expect(w.start).toBe(0)
    expect(w.end).toBe(7)
    // Unmeasured rows count as the average measured (100 px).
    expect(w.before + w.after + 7 * 100).toBe(1_000 * 100)
  })

  it('shows the last rows when the view is past the end, and nothing for an empty list', () => {
    const h = new RowHeights(40)
    expect(h.window(10, 10_000, 800, 3)).toEqual({ start: 7, end: 10, before: 7 * 40, after: 0 })
    expect(h.window(0, 0, 800, 3)).toEqual({ start: 0, end: 0, before: 0, after: 0 })
  })

  it('keeps the focused row and one each side in the DOM while the view lags behind it', () => {
    const h = new RowHeights(40)
    // View over rows 100..120 with 5 overscan: 95..125. Focus on row 140 (the view a frame late).
    const w = h.window(100_000, 4_000, 800, 5, 140)
    expect(w.start).toBe(95)
    expect(w.end).toBe(142)
    expect(w.before + w.after + (w.end - w.start) * 40).toBe(100_000 * 40)
    // Above the view too.
    expect(h.window(100_000, 4_000, 800, 5, 80).start).toBe(79)
  })

  it('lets a focused row far from the view go, so the DOM stays small', () => {
    const h = new RowHeights(40)
    expect(h.window(100_000, 4_000, 800, 5, 5_000)).toEqual(h.window(100_000, 4_000, 800, 5))
    expect(h.window(100_000, 4_000, 800, 5, 100_000)).toEqual(h.window(100_000, 4_000, 800, 5))
  })

  it('reports a change only when a height really changed, and forgets heights on clear', () => {
    const h = new RowHeights(40)
    expect(h.set(3, 52)).toBe(true)
    expect(h.set(3, 52.2)).toBe(false)
    expect(h.set(3, 0)).toBe(false)
    expect(h.average).toBe(52)
    h.clear()
    expect(h.average).toBe(40)
  })
})
