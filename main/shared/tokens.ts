/**
 * Token amounts between their two forms, exactly (bigint, no floating point): planck, the
 * chain's integer unit, and the decimal text people type and read ("1.5"). Used by the chain
 * service's messages and by the CLI's flags and output.
 */
import { DatdotError } from './errors.js'

/** "1.5" tokens -> planck, exact (no floating point). */
export function parseTokens (s: string, decimals: number): bigint {
  const m = /^(\d{1,20})(?:\.(\d{1,40}))?$/.exec(s.trim())
  if (m === null) throw DatdotError.invalidArgument(`not an amount: ${s}`)
  const frac = m[2] ?? ''
  if (frac.length > decimals) throw DatdotError.invalidArgument(`at most ${decimals} decimals`)
  return BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0')
}

/** planck -> "1.5" tokens, exact. */
export function formatTokens (planck: bigint | string, decimals: number): string {
  let n = BigInt(planck)
  const neg = n < 0n
  if (neg) n = -n
  const base = 10n ** BigInt(decimals)
  const frac = (n % base).toString().padStart(decimals, '0').replace(/0+$/, '')
  return `${neg ? '-' : ''}${n / base}${frac.length > 0 ? '.' + frac : ''}`
}
