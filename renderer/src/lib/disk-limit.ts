/**
 * The disk limit of "Rent my disk", typed or slid: parsing what was typed ("76", "76 GiB",
 * "1.5 TiB", "500 MB") and saying why a limit cannot be used (zero, garbage, more than the disk
 * has free). The engine checks again (main/hosting/seeding.ts checkDiskLimit); this answers
 * before anything is sent.
 */
import { formatBytes } from './format.js'

const UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40
}

/** Bytes of a typed size; a bare number is GiB. Null for anything else. */
export function parseDiskLimit (text: string): number | null {
  const m = /^\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  if (m === null) return null
  const unit = m[2] === '' ? 'gib' : m[2].toLowerCase()
  const mult = UNITS[unit]
  if (mult === undefined) return null
  const bytes = Math.floor(Number(m[1].replace(',', '.')) * mult)
  return Number.isSafeInteger(bytes) ? bytes : null
}

/**
 * Free space as shown: rounded DOWN to what formatBytes prints (70.8 GiB shows as 70 GiB, not
 * 71), so that typing the figure shown is never refused.
 */
export function formatFree (bytes: number): string {
  let unit = 1
  while (unit < 2 ** 40 && bytes >= unit * 1024) unit *= 1024
  const step = bytes / unit < 10 ? unit / 10 : unit
  return formatBytes(Math.floor(bytes / step) * step)
}

/** Why `bytes` cannot be the disk limit, or null when it can. `usedBytes` is what hosting already holds (it counts as room). */
export function diskLimitProblem (bytes: number | null, freeBytes: number | null, usedBytes = 0): string | null {
  if (bytes === null) return 'Type a size such as 50 GiB, 500 MiB or 1 TiB.'
  if (bytes <= 0) return 'The disk limit must be above 0.'
  if (freeBytes !== null && bytes > freeBytes + usedBytes) return `${formatBytes(bytes)} is more than this disk has free (${formatFree(freeBytes + usedBytes)}). Choose a smaller limit.`
  return null
}
