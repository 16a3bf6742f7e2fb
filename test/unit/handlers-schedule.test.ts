/**
 * The availability schedule's API (main/api/handlers-schedule.ts) over a marketplace state: what it
 * reads back, and the clear refusals (no hours, too few, seeding off) before anything is sent.
 * The hosting service is narrowed to what the handlers use: the chain's state, address and send.
 */
import { describe, it, expect } from 'vitest'
import { createScheduleHandlers } from '../../main/api/handlers-schedule.js'
import type { HostingService } from '../../main/hosting/service.js'
import { SCHEDULE_RULES, scheduleHex } from '../../main/chain/schedule-bits.js'
import { SCHEDULE_LIMITS } from '../../main/shared/contract.js'
import { DatdotError } from '../../main/shared/errors.js'
import { acct, marketWith } from '../helpers/market-state.js'

const ME = acct('p1')
const MONDAY = Date.UTC(2026, 10, 30)

function serviceWith (registered: boolean): { service: HostingService, sent: string[] } {
  const market = marketWith({ providers: registered ? ['p1'] : ['p2'] })
  market.block = { number: 40, hash: '0x00' }
  const sent: string[] = []
  const chain = {
    market,
    addressHex: ME,
    setSchedule: async (hex: string) => {
      sent.push(hex)
      market.providers[ME].schedules = [{ fromBlock: 0, hoursHex: 'ff'.repeat(21) }, { fromBlock: 60, hoursHex: hex }]
      return { applied: [] }
    }
  }
  return { service: { chain } as unknown as HostingService, sent }
}

async function codeOf (p: Promise<unknown>): Promise<string> {
  return await p.then(() => 'no error', (e: unknown) => DatdotError.from(e).code)
}

describe('the schedule API', () => {
  it('uses the chain\'s limits', () => {
    expect(SCHEDULE_LIMITS).toEqual({ hours: SCHEDULE_RULES.hours, minHoursOn: SCHEDULE_RULES.minHoursOn })
  })

  it('reads every hour on for a provider that never set a schedule, then the change waiting to hold', async () => {
    const { service, sent } = serviceWith(true)
    const h = createScheduleHandlers(service, () => MONDAY)
    expect(await h.getSchedule({})).toMatchObject({ registered: true, next: null, onNow: true })
    expect((await h.getSchedule({})).hours).toHaveLength(168)
    const hours = Array.from({ length: 90 }, (_, i) => i)
    const after = await h.setSchedule({ hours: [...hours, 5, 5] })
    expect(sent).toEqual([scheduleHex(hours)])
    expect(after.next).toEqual({ hours, fromBlock: 60, inBlocks: 20 })
    expect(after.hours).toHaveLength(168)
  })

  it('refuses a schedule with no hours, with too few, and from a node that does not seed, sending nothing', async () => {
    const { service, sent } = serviceWith(true)
    const h = createScheduleHandlers(service)
    await expect(h.setSchedule({ hours: [] })).rejects.toThrow(/no hours/)
    await expect(h.setSchedule({ hours: [1, 2, 3] })).rejects.toThrow(/at least 84 hours/)
    const off = serviceWith(false)
    const h2 = createScheduleHandlers(off.service)
    expect(await codeOf(h2.setSchedule({ hours: Array.from({ length: 100 }, (_, i) => i) }))).toBe('INVALID_ARGUMENT')
    expect((await h2.getSchedule({})).registered).toBe(false)
    expect([...sent, ...off.sent]).toEqual([])
  })
})
