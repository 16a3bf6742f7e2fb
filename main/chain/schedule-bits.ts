/**
 * Availability schedules as bits (the rules are in chain/schedule.ts): 168 hours of the week in
 * UTC, bit 0 = Monday 00:00-01:00, carried as 21 bytes of hex; conversion both ways, the hour of
 * the week of a timestamp, and the validation records and the API share. No state here.
 */
export const SCHEDULE_RULES = {
  hours: 168,
  bytes: 21,
  /** Half the week. */
  minHoursOn: 84,
  delayIntervals: 2
} as const

export const ALWAYS_HEX = 'ff'.repeat(SCHEDULE_RULES.bytes)

const HOUR_MS = 3_600_000
/** 1970-01-01 was a Thursday: 72 hours after a Monday 00:00. */
const EPOCH_HOUR_OF_WEEK = 72

export function hourOfWeek (timeMs: number): number {
  return (Math.floor(timeMs / HOUR_MS) + EPOCH_HOUR_OF_WEEK) % SCHEDULE_RULES.hours
}

/** hoursHex from the hours (0..167) that are on. */
export function scheduleHex (hoursOn: Iterable<number>): string {
  const b = new Uint8Array(SCHEDULE_RULES.bytes)
  for (const h of hoursOn) {
    if (!Number.isInteger(h) || h < 0 || h >= SCHEDULE_RULES.hours) throw new RangeError(`hour of the week out of range: ${h}`)
    b[h >> 3] |= 1 << (h & 7)
  }
  return Buffer.from(b).toString('hex')
}

/** The hours (0..167) a hoursHex has on. */
export function scheduleHours (hoursHex: string): number[] {
  const b = Buffer.from(hoursHex, 'hex')
  const out: number[] = []
  for (let h = 0; h < SCHEDULE_RULES.hours; h++) if ((b[h >> 3] & (1 << (h & 7))) !== 0) out.push(h)
  return out
}

/** Why a hoursHex is not a valid schedule, or null. */
export function validateScheduleHex (hoursHex: unknown): string | null {
  if (typeof hoursHex !== 'string' || !/^[0-9a-f]{42}$/.test(hoursHex)) return 'a schedule is 21 bytes of lowercase hex'
  const on = scheduleHours(hoursHex).length
  if (on === 0) return 'a schedule with no hours'
  if (on < SCHEDULE_RULES.minHoursOn) return `a schedule must be on at least ${SCHEDULE_RULES.minHoursOn} hours a week (this one: ${on})`
  return null
}
