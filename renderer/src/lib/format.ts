/** Pure helpers for display and drive paths (no DOM, no state). */

/** Chain accounts: one short ss58 form everywhere (main/shared/address.ts, also used for the plan events the engine writes). */
export { shortAddress } from '../../../main/shared/address.js'

/** Bytes in a kibibyte, mebibyte, gibibyte: the renderer shows every size in binary units. */
export const KIB = 1024
export const MIB = 1024 ** 2
export const GIB = 1024 ** 3

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const

/**
 * A size for people, in binary units (KiB, MiB, GiB, TiB) like the engine and the CLI:
 * 300000 -> '293 KiB', 1.5 * 2^20 -> '1.5 MiB', 10 * 2^30 -> '10 GiB'. The one formatter of
 * sizes in the renderer, so no panel mixes GB and GiB.
 */
export function formatBytes (n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—'
  let v = n
  let i = 0
  while (i < BYTE_UNITS.length - 1 && Math.round(v) >= 1024) { v /= 1024; i++ }
  if (i === 0) return `${v} B`
  const shown = v < 10 ? v.toFixed(1) : String(Math.round(v))
  return `${shown.replace(/\.0$/, '')} ${BYTE_UNITS[i]}`
}

export function formatTime (ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  const d = new Date(ms)
  const sameDay = new Date(now).toDateString() === d.toDateString()
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' })
}

export function formatRelative (ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'never'
  const s = Math.round((now - ms) / 1000)
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return formatTime(ms, now)
}

/** A span of time ahead, in the largest units that say it: "20 s", "12 min", "2 h 5 min", "3 days". */
export function formatSpan (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`
  const min = Math.round(ms / 60_000)
  if (min < 60) return `${min} min`
  const h = Math.floor(min / 60)
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`
  return `${Math.round(min / 1440)} days`
}

export function percent (done: number, total: number): number {
  if (total <= 0) return 0
  return Math.max(0, Math.min(100, Math.round((done / total) * 100)))
}

/** '/a/b' + 'c' -> '/a/b/c'; names are not validated here (the engine does it, with a code). */
export function joinPath (folder: string, name: string): string {
  const n = name.replace(/^\/+/, '')
  if (folder === '/' || folder === '') return '/' + n
  return folder.replace(/\/+$/, '') + '/' + n
}

export function parentPath (path: string): string {
  const p = path.replace(/\/+$/, '')
  const i = p.lastIndexOf('/')
  return i <= 0 ? '/' : p.slice(0, i)
}

export function baseName (path: string): string {
  const p = path.replace(/\/+$/, '')
  return p.slice(p.lastIndexOf('/') + 1)
}

export interface Crumb { name: string, path: string }

/** '/a/b' -> [{ name: root, path: '/' }, { name: 'a', path: '/a' }, { name: 'b', path: '/a/b' }] */
export function breadcrumbs (path: string, rootName: string): Crumb[] {
  const out: Crumb[] = [{ name: rootName, path: '/' }]
  let acc = ''
  for (const seg of path.split('/').filter(Boolean)) {
    acc += '/' + seg
    out.push({ name: seg, path: acc })
  }
  return out
}

/** A short, recognisable form of a drive key: first 6 and last 4 characters. */
export function shortKey (key: string): string {
  return key.length > 14 ? `${key.slice(0, 6)}…${key.slice(-4)}` : key
}

/** Summarises changed paths for a notification: "a.txt, b/c.txt and 3 more". */
export function summarizePaths (paths: string[], max = 3): string {
  const names = paths.map((p) => p.replace(/^\//, ''))
  if (names.length <= max) return names.join(', ')
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`
}

/** '12345', 3 decimals -> '12.345' (integer amounts as decimal strings, no floating point). */
export function formatAmount (amount: string, decimals: number, symbol = ''): string {
  const neg = amount.startsWith('-')
  const digits = (neg ? amount.slice(1) : amount).padStart(decimals + 1, '0')
  const whole = digits.slice(0, digits.length - decimals)
  const frac = decimals > 0 ? digits.slice(digits.length - decimals).replace(/0+$/, '') : ''
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''}${symbol ? ' ' + symbol : ''}`
}

/**
 * formatAmount shortened for a glance: at most `digits` significant fractional digits after the
 * first non-zero one below 1, or `digits` decimals above 1 (truncated, never rounded up):
 * '35726.609880749575' -> '35726.6098', '0.000028225711' -> '0.00002822'. Exact figures elsewhere.
 */
export function formatAmountShort (amount: string, decimals: number, symbol = '', digits = 4): string {
  const exact = formatAmount(amount, decimals)
  const [whole, frac = ''] = exact.split('.')
  const lead = /^-?0$/.test(whole) ? (/^0*/.exec(frac)?.[0].length ?? 0) : 0
  const cut = frac.slice(0, lead + digits).replace(/0+$/, '')
  return `${whole}${cut ? '.' + cut : ''}${symbol ? ' ' + symbol : ''}`
}

/** A space's name as shown: an app's data space reads "App data: <app>" (kind and appName are optional fields). */
export function spaceLabel (space: { name: string }): string {
  const s = space as { name: string, kind?: unknown, appName?: unknown }
  return s.kind === 'app-data' && typeof s.appName === 'string' && s.appName !== '' ? `App data: ${s.appName}` : s.name
}
