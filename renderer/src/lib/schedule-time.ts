/**
 * The availability schedule between the user's local week and the chain's UTC week (hour 0 =
 * Monday 00:00 UTC). Offsets come from Date#getTimezoneOffset (minutes, UTC minus local) and are
 * rounded to whole hours: the chain counts whole hours. Pure, unit-tested under Node.
 */
export const HOURS_A_WEEK = 168

/** This computer's offset from UTC now (minutes, UTC minus local, as Date#getTimezoneOffset). */
export function localOffsetMin (): number {
  return new Date().getTimezoneOffset()
}

/** Whole hours to add to a local hour of the week to get the UTC one. */
export function offsetHours (timezoneOffsetMin: number): number {
  return Math.round(timezoneOffsetMin / 60)
}

const wrap = (h: number): number => ((h % HOURS_A_WEEK) + HOURS_A_WEEK) % HOURS_A_WEEK

export function localToUtc (localHours: Iterable<number>, timezoneOffsetMin: number): number[] {
  const d = offsetHours(timezoneOffsetMin)
  return [...new Set([...localHours].map((h) => wrap(h + d)))].sort((a, b) => a - b)
}

export function utcToLocal (utcHours: Iterable<number>, timezoneOffsetMin: number): number[] {
  const d = offsetHours(timezoneOffsetMin)
  return [...new Set([...utcHours].map((h) => wrap(h - d)))].sort((a, b) => a - b)
}

/** "UTC+2", "UTC-5", "UTC" (after rounding), for the label under the grid. */
export function zoneLabel (timezoneOffsetMin: number): string {
  const d = -offsetHours(timezoneOffsetMin)
  return d === 0 ? 'UTC' : `UTC${d > 0 ? '+' : '-'}${Math.abs(d)}`
}

/** Presets in local hours: every hour; weekday evenings and nights (18:00-08:00) plus whole weekends (118 h). */
export const PRESETS: Array<{ id: string, label: string, hours: () => number[] }> = [
  { id: 'always', label: 'Always', hours: () => Array.from({ length: HOURS_A_WEEK }, (_, h) => h) },
  {
    id: 'evenings',
    label: 'Evenings, nights and weekends',
    hours: () => Array.from({ length: HOURS_A_WEEK }, (_, h) => h).filter((h) => {
      const day = Math.floor(h / 24)
      const hour = h % 24
      return day >= 5 || hour >= 18 || hour < 8
    })
  }
]
