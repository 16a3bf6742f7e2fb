/**
 * Availability schedules (issue 10 item 3): the hours of the week a provider serves, on chain, so
 * that selection and challenges respect them and nobody is penalised for a scheduled pause
 * (a `pause` record costs reputation; a schedule does not).
 *
 * - A schedule is 168 bits, one per hour of the week in UTC, bit 0 = Monday 00:00-01:00, carried
 *   as 21 bytes (`hoursHex`, 42 hex digits, bit i in byte i >> 3 at bit i & 7). All bits set means
 *   "always", the default of a provider that never sent one.
 * - The hour is read from the block's own timestamp (`BlockInput.timeMs`), the one clock every
 *   node applying the block agrees on.
 * - At least SCHEDULE_RULES.minHoursOn hours a week must be on: a schedule is a promise of
 *   availability, and a provider on for an hour a week would host data nobody can reach.
 * - A new schedule applies SCHEDULE_RULES.delayIntervals challenge intervals after its record, so
 *   a hoster cannot switch itself off just before a challenge it expects; until then the
 *   previous one holds. At most two entries are kept: the one in force and the next.
 * - Off the schedule a provider is not picked for new jobs (like a paused one), its hosting slots
 *   get no storage challenge or performance check, and it is never penalised for that: a check
 *   issued in its hours but reported after them counts no reading of the moment (unreachable,
 *   late) against it, and a dispute's re-check waits for its hours (report-records.ts,
 *   disputes.ts, challenges.ts).
 */
import type { MarketRecord } from './record-types.js'
import type { Action, Provider } from './market-types.js'
import { reject, params, type Ctx } from './market-context.js'
import { ALWAYS_HEX, SCHEDULE_RULES, hourOfWeek } from './schedule-bits.js'
import { providerTouched } from './market-index.js'

/** The schedule in force for `p` at block `number`: its hoursHex (ALWAYS_HEX when none). */
export function scheduleAt (p: Provider, number: number): string {
  let hex = ALWAYS_HEX
  for (const s of p.schedules ?? []) if (s.fromBlock <= number) hex = s.hoursHex
  return hex
}

/** True when `p` serves at the block (`number`, `timeMs`) by its schedule. */
export function onSchedule (p: Provider, number: number, timeMs: number): boolean {
  if (p.schedules === undefined) return true
  const h = hourOfWeek(timeMs)
  const b = parseInt(scheduleAt(p, number).slice((h >> 3) * 2, (h >> 3) * 2 + 2), 16)
  return (b & (1 << (h & 7))) !== 0
}

/** True when the provider `address` is off its schedule at this block (it owes nothing now). */
export function offHours (ctx: Ctx, address: string | null): boolean {
  const p = address === null ? undefined : ctx.state.providers[address]
  return p !== undefined && !onSchedule(p, ctx.block.number, ctx.block.timeMs)
}

type ScheduleRecord = Extract<MarketRecord, { kind: 'schedule' }>

/** The `schedule` record: a provider's new schedule, in force a delay after this block. */
export function schedule (ctx: Ctx, action: Action, rec: ScheduleRecord): string {
  const { state, block } = ctx
  const p = state.providers[action.signer]
  if (p === undefined) reject('unknown-ref', 'not a provider')
  const fromBlock = block.number + SCHEDULE_RULES.delayIntervals * params(ctx).challengeIntervalBlocks
  const inForce = { fromBlock: 0, hoursHex: scheduleAt(p, block.number) }
  p.schedules = [inForce, { fromBlock, hoursHex: rec.hoursHex }]
  providerTouched(state, p.address)
  return `provider:${action.signer}`
}
