/**
 * Availability schedules on chain (main/chain/schedule.ts, schedule-bits.ts): the bits, the
 * record's codec and validation, the delay before a new schedule holds, and that selection and
 * challenges respect it: off its hours a hoster is neither picked nor challenged, so a scheduled
 * pause can never cost it reputation.
 */
import { describe, it, expect } from 'vitest'
import { createHash } from 'node:crypto'
import { ALWAYS_HEX, SCHEDULE_RULES, hourOfWeek, scheduleHex, scheduleHours, validateScheduleHex } from '../../main/chain/schedule-bits.js'
import { onSchedule, schedule, scheduleAt } from '../../main/chain/schedule.js'
import { decodeRecord, encodeRecord } from '../../main/chain/records.js'
import { blockContext, type Ctx } from '../../main/chain/market-context.js'
import { eligible } from '../../main/chain/selection.js'
import { issueChallenges } from '../../main/chain/challenge-issue.js'
import { performanceReport, storageReport } from '../../main/chain/report-records.js'
import { applyBlock, cloneState } from '../../main/chain/marketplace.js'
import { ROLE } from '../../main/chain/record-types.js'
import type { MarketState } from '../../main/chain/market-types.js'
import { acct, marketWith, PARAMS } from '../helpers/market-state.js'

const HOUR = 3_600_000
/** Monday 2026-11-30 00:00 UTC. */
const MONDAY = Date.UTC(2026, 10, 30)
/** Monday to Thursday, every hour (96 hours). */
const WEEKDAYS_1_TO_4 = Array.from({ length: 96 }, (_, h) => h)

function ctxAt (state: MarketState, number: number, timeMs: number): Ctx {
  const hash = '0x' + createHash('sha256').update(`s:${number}`).digest('hex')
  return blockContext(state, { number, hash, parentHash: '0x' + '00'.repeat(32), timeMs, actions: [] })
}

const action = (signer: string): { index: number, signer: string, remarks: Uint8Array[], transfers: [] } => ({ index: 0, signer, remarks: [], transfers: [] })

describe('schedule bits', () => {
  it('counts hours of the week from Monday 00:00 UTC', () => {
    expect(hourOfWeek(MONDAY)).toBe(0)
    expect(hourOfWeek(MONDAY + 13 * HOUR + 59 * 60_000)).toBe(13)
    expect(hourOfWeek(MONDAY - 1)).toBe(167)
    expect(hourOfWeek(0)).toBe(72) // 1970-01-01 was a Thursday
  })

  it('turns hours into 21 bytes of hex and back', () => {
    const hex = scheduleHex([0, 7, 8, 100, 167])
    expect(hex).toHaveLength(42)
    expect(scheduleHours(hex)).toEqual([0, 7, 8, 100, 167])
    expect(scheduleHours(ALWAYS_HEX)).toHaveLength(168)
    expect(() => scheduleHex([168])).toThrow(RangeError)
  })

  it('refuses a schedule with no hours, too few hours, or that is not 21 bytes of hex', () => {
    expect(validateScheduleHex(scheduleHex([]))).toBe('a schedule with no hours')
    expect(validateScheduleHex(scheduleHex(WEEKDAYS_1_TO_4.slice(0, SCHEDULE_RULES.minHoursOn - 1)))).toMatch(/at least 84 hours/)
    expect(validateScheduleHex(scheduleHex(WEEKDAYS_1_TO_4.slice(0, SCHEDULE_RULES.minHoursOn)))).toBeNull()
    for (const bad of ['', 'ff', ALWAYS_HEX.toUpperCase(), ALWAYS_HEX + '00', 42]) expect(validateScheduleHex(bad)).not.toBeNull()
  })

  it('round-trips the record through its bytes, and refuses hostile bytes at decode', () => {
    const rec = { kind: 'schedule' as const, hoursHex: scheduleHex(WEEKDAYS_1_TO_4) }
    const decoded = decodeRecord(encodeRecord(rec))
    expect(decoded).toEqual({ ok: true, record: rec })
    const empty = encodeRecord({ kind: 'schedule', hoursHex: ALWAYS_HEX })
    empty.fill(0, empty.length - 21)
    expect(decodeRecord(empty).ok).toBe(false)
    expect(decodeRecord(empty.subarray(0, empty.length - 1)).ok).toBe(false)
    expect(() => encodeRecord({ kind: 'schedule', hoursHex: scheduleHex([1]) })).toThrow()
  })
})

describe('schedules in the marketplace', () => {
  const P1 = acct('p1')

  /** P1 hosts the one slot of contract 1 (p2 encoded it, p5 attested its setup) on a Monday-to-Thursday schedule. */
  const weekdayHoster = (providers: string[]): MarketState => {
    const made = marketWith({ providers })
    const c = made.contracts[1]
    made.pending = []
    c.attestor = acct('p5')
    c.slots = c.slots.slice(0, 1)
    c.slots[0] = { ...c.slots[0], hoster: P1, encoder: acct('p2'), state: 'hosting', since: 1, phase: 0 }
    made.providers[P1].schedules = [{ fromBlock: 0, hoursHex: scheduleHex(WEEKDAYS_1_TO_4) }]
    // edited by hand: a copy has its indexes built from the edited state (market-index.ts)
    return cloneState(made)
  }

  it('holds a new schedule only two challenge intervals after its record, the old one until then', () => {
    const state = marketWith({ providers: ['p1', 'p2'] })
    const p = state.providers[P1]
    const hex = scheduleHex(WEEKDAYS_1_TO_4)
    schedule(ctxAt(state, 100, MONDAY), action(P1), { kind: 'schedule', hoursHex: hex })
    const from = 100 + 2 * PARAMS.challengeIntervalBlocks
    const friday = MONDAY + 4 * 24 * HOUR
    expect(scheduleAt(p, from - 1)).toBe(ALWAYS_HEX)
    expect(onSchedule(p, from - 1, friday)).toBe(true)
    expect(scheduleAt(p, from)).toBe(hex)
    expect(onSchedule(p, from, friday)).toBe(false)
    expect(onSchedule(p, from, MONDAY + 5 * HOUR)).toBe(true)
    // A second schedule before the first holds replaces it; the one in force stays until its delay.
    schedule(ctxAt(state, from - 5, MONDAY), action(P1), { kind: 'schedule', hoursHex: ALWAYS_HEX })
    expect(scheduleAt(p, from)).toBe(ALWAYS_HEX)
    expect(p.schedules).toHaveLength(2)
  })

  it('refuses a schedule from an account that is not a provider', () => {
    const state = marketWith({ providers: ['p1'] })
    expect(() => schedule(ctxAt(state, 1, MONDAY), action(acct('nobody')), { kind: 'schedule', hoursHex: ALWAYS_HEX })).toThrow(/not a provider/)
  })

  it('does not pick a provider for a job outside its hours, and does inside them', () => {
    const state = marketWith({ providers: ['p1'] })
    const p = state.providers[P1]
    p.schedules = [{ fromBlock: 0, hoursHex: scheduleHex(WEEKDAYS_1_TO_4) }]
    const friday = MONDAY + 4 * 24 * HOUR + HOUR
    expect(eligible(state, p, ROLE.hoster, 5, 0, friday)).toBe(false)
    expect(eligible(state, p, ROLE.hoster, 5, 0, MONDAY + HOUR)).toBe(true)
  })

  it('challenges a hoster in its hours and never outside them, so a scheduled pause costs no reputation', () => {
    const run = (timeMs: number): MarketState => {
      const state = weekdayHoster(['p1', 'p2', 'p3', 'p4', 'p5'])
      issueChallenges(ctxAt(state, PARAMS.challengeIntervalBlocks, timeMs))
      return state
    }
    const inHours = run(MONDAY + 10 * HOUR)
    expect(Object.values(inHours.challenges).map((c) => c.kind)).toEqual(['storage'])
    const offHours = run(MONDAY + 5 * 24 * HOUR)
    expect(Object.values(offHours.challenges)).toEqual([])
    expect(offHours.providers[P1].reputation).toBe(500)
  })

  it('applies a schedule record sent in a block like any other record', () => {
    const state = marketWith({ providers: ['p1'] })
    state.block = { number: 9, hash: '0x' + '11'.repeat(32) }
    const out = applyBlock(state, {
      number: 10, hash: '0x' + '22'.repeat(32), parentHash: '0x' + '11'.repeat(32), timeMs: MONDAY,
      actions: [{ index: 0, signer: P1, remarks: [encodeRecord({ kind: 'schedule', hoursHex: scheduleHex(WEEKDAYS_1_TO_4) })], transfers: [] }]
    })
    expect(out.actions[0].applied).toEqual([{ kind: 'schedule', ref: `provider:${P1}` }])
    expect(state.providers[P1].schedules?.[1]).toEqual({ fromBlock: 30, hoursHex: scheduleHex(WEEKDAYS_1_TO_4) })
    expect(state.providers[P1].reputation).toBe(500)
  })

  describe('a check issued in the hoster’s hours and answered after them', () => {
    const FRIDAY = MONDAY + 4 * 24 * HOUR + HOUR
    /** P1 hosts slot 0 of contract 1 on a Monday-to-Thursday schedule; a check of `kind` is issued on Monday at 10:00. */
    const hosted = (kind: 'storage' | 'performance'): { state: MarketState, id: number, attestors: string[] } => {
      const state = weekdayHoster(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'])
      const at = kind === 'storage' ? PARAMS.challengeIntervalBlocks : PARAMS.challengeIntervalBlocks / 2
      issueChallenges(ctxAt(state, at, MONDAY + 10 * HOUR))
      const ch = Object.values(state.challenges).find((x) => x.kind === kind)
      if (ch === undefined) throw new Error(`no ${kind} check issued`)
      return { state, id: ch.id, attestors: ch.attestors }
    }

    it('counts no unreachable or late storage answer against it, and opens no re-check', () => {
      for (const reason of ['UNREACHABLE', 'DEADLINE_MISSED'] as const) {
        const { state, id, attestors } = hosted('storage')
        storageReport(ctxAt(state, 20, FRIDAY), attestors[0], { kind: 'storage-report', challengeId: id, ok: false, reason })
        const slot = state.contracts[1].slots[0]
        expect(slot.strikes.storage).toBe(0)
        expect(Object.values(state.challenges)).toEqual([])
        expect(state.providers[P1].reputation).toBe(500)
      }
    })

    it('still opens a dispute for a claim about its data, whose re-check waits for its hours', () => {
      const { state, id, attestors } = hosted('storage')
      storageReport(ctxAt(state, 20, FRIDAY), attestors[0], { kind: 'storage-report', challengeId: id, ok: false, reason: 'MISSING_CHUNK' })
      expect(state.contracts[1].slots[0].strikes.storage).toBe(1)
      expect(Object.values(state.challenges)).toEqual([])
      // in its hours the same failure is re-checked at once
      const inHours = hosted('storage')
      storageReport(ctxAt(inHours.state, 20, MONDAY + 11 * HOUR), inHours.attestors[0], { kind: 'storage-report', challengeId: inHours.id, ok: false, reason: 'MISSING_CHUNK' })
      expect(Object.values(inHours.state.challenges).map((c) => c.recheck)).toEqual([true])
    })

    it('strikes no performance failure settled after its hours, and does in them', () => {
      const settle = (timeMs: number): MarketState => {
        const { state, id, attestors } = hosted('performance')
        attestors.forEach((a, k) => {
          performanceReport(ctxAt(state, 20, timeMs), a, { kind: 'performance-report', challengeId: id, reachable: false, ttfbMs: 0, throughputBps: 0, measureKeyHex: String(k).padStart(64, '0') })
        })
        return state
      }
      expect(settle(FRIDAY).contracts[1].slots[0].strikes.performance).toBe(0)
      expect(settle(MONDAY + 11 * HOUR).contracts[1].slots[0].strikes.performance).toBe(1)
    })
  })
})
