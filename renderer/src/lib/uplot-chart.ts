/**
 * The dashboard's charts, drawn by uPlot: small (about 50 KB), fast (one canvas, tens of
 * thousands of points without lag), no dependencies, no inline styles or scripts (our strict CSP
 * holds), and time axes built in. Hand-drawn SVG would grow into our own chart library; the big
 * ones (Chart.js, ECharts) weigh ten times more. This module mounts one chart in an element,
 * follows the element's width and takes its colours from the page's CSS variables (dark mode).
 */
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

/** Bars (uPlot's path builder): 80 % of a bucket wide, at most 48 px. */
export function barsPath (): uPlot.Series.PathBuilder | undefined {
  return uPlot.paths.bars?.({ size: [0.8, 48], gap: 1 })
}

export interface Chart {
  destroy: () => void
}

/** The page's colour for a CSS variable (the charts follow light and dark mode). */
export function cssColour (name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim()
  return v === '' ? fallback : v
}

/** Axis style shared by every chart: muted ticks and labels, a faint grid. */
export function axis (more: Partial<uPlot.Axis> = {}): uPlot.Axis {
  const muted = cssColour('--muted', '#5d6677')
  const border = cssColour('--border', '#dde1e8')
  // only keys that are set: an explicit undefined (size, values) would hide the axis' labels
  return { stroke: muted, grid: { stroke: border, width: 1 }, ticks: { stroke: border, width: 1 }, font: '11px system-ui, sans-serif', ...more }
}

/** Mounts a chart in `el` at the element's width; redraws at the new width when the element is resized. */
export function mountChart (el: HTMLElement, opts: Omit<uPlot.Options, 'width'>, data: uPlot.AlignedData): Chart {
  const width = (): number => Math.max(200, Math.floor(el.clientWidth))
  const plot = new uPlot({ ...opts, width: width() }, data, el)
  const observer = new ResizeObserver(() => {
    if (width() !== plot.width) plot.setSize({ width: width(), height: opts.height })
  })
  observer.observe(el)
  return {
    destroy: () => {
      observer.disconnect()
      plot.destroy()
    }
  }
}
