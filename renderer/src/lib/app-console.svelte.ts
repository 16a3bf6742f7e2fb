/**
 * The console of a running app: its console.* output, uncaught errors and unhandled rejections
 * (FrameMessage 'console'), and every bridge call it made, with a level and a text filter.
 * Bounded: the oldest lines go first.
 */
import type { FrameMessage } from '../../../main/shared/app-bridge.js'
import type { BridgeCallLine } from './app-bridge.js'
import { baseName } from './format.js'

export type ConsoleLevel = 'log' | 'info' | 'warn' | 'error' | 'debug'
export type LevelFilter = 'all' | ConsoleLevel | 'calls'

export interface ConsoleLine {
  id: number
  timeMs: number
  level: ConsoleLevel
  kind: 'console' | 'error' | 'rejection' | 'call'
  text: string
  /** file:line:column, when the runtime knew it. */
  where: string | null
}

export const MAX_CONSOLE_LINES = 2000

type ConsoleMessage = Extract<FrameMessage, { type: 'console' }>

/** 'http://x/run/cap/app.js', 12, 5 -> 'app.js:12:5'. */
export function location (source: string | undefined, line: number | undefined, column: number | undefined): string | null {
  // Muted cross-origin errors ('Script error.') come with no source and line 0: nothing to show.
  if (!source && !line) return null
  const file = source ? baseName(source.replace(/[?#].*$/, '')) || source : '?'
  return `${file}${line !== undefined ? `:${line}` : ''}${column !== undefined ? `:${column}` : ''}`
}

export class AppConsole {
  lines = $state<ConsoleLine[]>([])
  level = $state<LevelFilter>('all')
  text = $state('')
  readonly shown = $derived(this.#filter(this.lines, this.level, this.text))
  readonly errors = $derived(this.lines.filter((l) => l.level === 'error').length)
  #next = 1

  #push (line: Omit<ConsoleLine, 'id' | 'timeMs'>): void {
    const all = [...this.lines, { ...line, id: this.#next++, timeMs: Date.now() }]
    this.lines = all.length > MAX_CONSOLE_LINES ? all.slice(all.length - MAX_CONSOLE_LINES) : all
  }

  fromFrame (m: ConsoleMessage): void {
    const text = m.args.join(' ')
    // The browser's own message for an uncaught error already starts with "Uncaught".
    const prefix = m.kind === 'rejection' ? 'Unhandled rejection: ' : m.kind === 'error' && !text.startsWith('Uncaught') ? 'Uncaught ' : ''
    this.#push({ level: m.level, kind: m.kind, text: prefix + text, where: location(m.source, m.line, m.column) })
  }

  fromCall (c: BridgeCallLine): void {
    const text = c.ok ? `datdot ${c.method} ✓` : `datdot ${c.method} ✗ ${c.error?.code ?? ''}: ${c.error?.message ?? ''}`
    this.#push({ level: c.ok ? 'info' : 'error', kind: 'call', text, where: null })
  }

  /** A line from the host itself (preview reloaded, app saved). */
  note (text: string): void {
    this.#push({ level: 'debug', kind: 'console', text, where: null })
  }

  clear (): void {
    this.lines = []
  }

  #filter (lines: ConsoleLine[], level: LevelFilter, text: string): ConsoleLine[] {
    const needle = text.trim().toLowerCase()
    return lines.filter((l) =>
      (level === 'all' || (level === 'calls' ? l.kind === 'call' : l.level === level)) &&
      (needle === '' || l.text.toLowerCase().includes(needle) || (l.where ?? '').toLowerCase().includes(needle)))
  }
}
