/**
 * The availability schedule section of the API contract (composed in main/shared/contract.ts):
 * the hours of the week this node seeds, recorded on chain (main/chain/schedule.ts) so that
 * selection and challenges respect them and a scheduled pause costs no reputation.
 * Hours are hours of the week in UTC, 0 = Monday 00:00-01:00 UTC, 167 = Sunday 23:00-24:00 UTC;
 * the UI converts from the user's local time.
 *
 * Like every contract file, free of Node and Electron imports: bundled into preload and the renderer.
 */
import { z } from 'zod'
import { ALL, Empty, method } from './contract-base.js'

export const SCHEDULE_LIMITS = { hours: 168, minHoursOn: 84 } as const

const Hours = z.array(z.number().int().min(0).max(SCHEDULE_LIMITS.hours - 1)).max(SCHEDULE_LIMITS.hours)

export const AvailabilitySchedule = z.object({
  /** False until seeding is on (a schedule belongs to a registered provider). */
  registered: z.boolean(),
  /** The hours in force now (all 168 when the node never set one). */
  hours: Hours,
  /** A schedule sent but not in force yet (it holds two challenge intervals after its block). */
  next: z.object({ hours: Hours, fromBlock: z.number().int().nonnegative(), inBlocks: z.number().int().nonnegative() }).nullable(),
  /** Whether the chain's latest block falls in the hours in force. */
  onNow: z.boolean(),
  minHoursOn: z.number().int()
})
export type AvailabilitySchedule = z.infer<typeof AvailabilitySchedule>

export const scheduleMethods = {
  getSchedule: method({ description: 'The hours of the week this node seeds (UTC), as the chain holds them, and a change waiting to hold.', args: Empty, result: AvailabilitySchedule, exposure: ALL }),
  setSchedule: method({
    description: `Record on chain the hours of the week this node seeds (UTC, 0 = Monday 00:00). At least ${SCHEDULE_LIMITS.minHoursOn} hours; it holds two challenge intervals later. Off those hours the node gets no new jobs and no challenges, and no penalty.`,
    args: z.object({ hours: Hours }).strict(),
    result: AvailabilitySchedule,
    exposure: ALL
  })
} as const
