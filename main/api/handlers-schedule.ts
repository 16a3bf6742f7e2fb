/**
 * The availability schedule methods (contract-schedule.ts) on a node with a chain: read this
 * provider's schedules from the marketplace state the node follows, send a new one as a
 * `schedule` record (main/chain/schedule.ts: the chain applies it two challenge intervals later).
 */
import type { Handlers, AvailabilitySchedule } from '../shared/contract.js'
import type { HostingService } from '../hosting/service.js'
import { DatdotError } from '../shared/errors.js'
import { scheduleAt, onSchedule } from '../chain/schedule.js'
import { SCHEDULE_RULES, scheduleHex, scheduleHours, validateScheduleHex } from '../chain/schedule-bits.js'

export type ScheduleHandlers = Pick<Handlers, 'getSchedule' | 'setSchedule'>

export function createScheduleHandlers (service: HostingService, now: () => number = Date.now): ScheduleHandlers {
  const read = (): AvailabilitySchedule => {
    const market = service.chain.market
    const p = market.providers[service.chain.addressHex]
    const head = market.block?.number ?? 0
    if (p === undefined) return { registered: false, hours: range(), next: null, onNow: true, minHoursOn: SCHEDULE_RULES.minHoursOn }
    const pending = (p.schedules ?? []).find((s) => s.fromBlock > head) ?? null
    return {
      registered: true,
      hours: scheduleHours(scheduleAt(p, head)),
      next: pending === null ? null : { hours: scheduleHours(pending.hoursHex), fromBlock: pending.fromBlock, inBlocks: pending.fromBlock - head },
      // By this computer's clock; the chain decides by each block's own timestamp.
      onNow: onSchedule(p, head, now()),
      minHoursOn: SCHEDULE_RULES.minHoursOn
    }
  }
  return {
    getSchedule: async () => read(),
    setSchedule: async ({ hours }) => {
      const hex = scheduleHex(new Set(hours))
      const why = validateScheduleHex(hex)
      if (why !== null) throw DatdotError.invalidArgument(`Cannot use this schedule: ${why}`)
      if (service.chain.market.providers[service.chain.addressHex] === undefined) {
        throw DatdotError.invalidArgument('Turn seeding on first: a schedule says when a seeding node serves')
      }
      await service.chain.setSchedule(hex)
      return read()
    }
  }
}

function range (): number[] {
  return Array.from({ length: SCHEDULE_RULES.hours }, (_, h) => h)
}
