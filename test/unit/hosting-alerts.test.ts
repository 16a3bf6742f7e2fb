/**
 * Alerts before penalties (main/hosting/alerts.ts) with an injected clock: a slot in containment
 * says what failed, what is at stake and when the re-check comes; seeding while the chain is
 * silent or networking is paused; the disk nearly full. And the provider events that say why a
 * slot went away (provider-watch.ts).
 */
import { describe, it, expect } from 'vitest'
import { hostingAlerts, type AlertInput } from '../../main/hosting/alerts.js'
import { ProviderWatch, slotsHeld } from '../../main/hosting/provider-watch.js'
import type { BlockOutcome, MarketState } from '../../main/chain/marketplace.js'
import { acct, marketWith } from '../helpers/market-state.js'

const ME = acct('me')
const NOW = Date.UTC(2026, 5, 1, 12)
const GIB = 2 ** 30

/** Plan 1, contract 1 with this node hosting slot 0 at block 100. */
function hosted (): MarketState {
  const m = marketWith({ providers: ['me', 'a', 'b'] })
  m.block = { number: 100, hash: '0x64' }
  const slot = m.contracts[1].slots[0]
  Object.assign(slot, { hoster: ME, encoder: acct('a'), state: 'hosting', phase: 3 })
  m.providers[ME].reputation = 480
  return m
}

function input (over: Partial<AlertInput> = {}): AlertInput {
  return {
    now: NOW, me: ME, market: hosted(), seeding: true, connected: true, lastBlockMs: NOW - 6000, blockMs: 6000, networkPaused: false,
    disk: { limitBytes: 10 * GIB, usedBytes: GIB, freeBytes: 70 * GIB, totalBytes: 250 * GIB },
    whyOf: () => null,
    ...over
  }
}

describe('alerts before penalties', () => {
  it('has nothing to say about a healthy seeder', () => {
    expect(hostingAlerts(input())).toEqual([])
  })

  it('says what failed, what is at stake and when the storage re-check is due after a failed challenge', () => {
    const m = hosted()
    m.contracts[1].slots[0].strikes.storage = 1
    m.challenges[9] = { id: 9, kind: 'storage', contractId: 1, slot: 0, hoster: ME, attestors: [acct('b')], reports: [], chunk: 2, issuedAt: 100, deadline: 105, recheck: true }
    const [a] = hostingAlerts(input({ market: m, whyOf: (c, s, k) => (c === 1 && s === 0 && k === 'storage' ? 'missing-chunk' : null) }))
    expect(a).toMatchObject({ id: 'containment:1:0:storage', kind: 'containment', level: 'danger', title: 'Contract 1 slot 0 failed a storage check' })
    expect(a.text).toContain('Why: missing-chunk')
    const [b] = hostingAlerts(input({ market: m, whyOf: () => 'DEADLINE_MISSED' }))
    expect(b.text).toContain('Why: the answer came after the deadline (DEADLINE_MISSED).')
    expect(a.text).toContain('lose 50 reputation (you have 480; below 250 you lose every slot)')
    expect(a.text).toContain('640.0 KiB of plan 1')
    expect(a.text).toContain('by block 105')
    expect(a.recheckAtMs).toBe(NOW + 5 * 6000)
  })

  it('dates a performance re-check at the slot\'s next scheduled check', () => {
    const m = hosted()
    m.contracts[1].slots[0].strikes.performance = 1
    // interval 10, phase 3, performance half an interval later: (b + 3 + 5) % 10 === 0 -> block 102
    const [a] = hostingAlerts(input({ market: m }))
    expect(a.id).toBe('containment:1:0:performance')
    expect(a.text).toContain('comes at block 102')
    expect(a.recheckAtMs).toBe(NOW + 2 * 6000)
  })

  it('warns a seeder that is not connected, or gets no block for a minute, and one that paused networking', () => {
    expect(hostingAlerts(input({ connected: false })).map((a) => a.id)).toEqual(['offline'])
    const silent = hostingAlerts(input({ lastBlockMs: NOW - 5 * 60_000 }))
    expect(silent.map((a) => a.id)).toEqual(['offline'])
    expect(silent[0].text).toContain('No new block for 5 min')
    expect(hostingAlerts(input({ lastBlockMs: NOW - 50_000 }))).toEqual([])
    expect(hostingAlerts(input({ networkPaused: true })).map((a) => a.id)).toEqual(['network-paused'])
    expect(hostingAlerts(input({ networkPaused: true, connected: false, seeding: false }))).toEqual([])
  })

  it('warns when the disk limit is nearly used, when the disk is nearly full, or when the limit promises more than is free', () => {
    expect(hostingAlerts(input({ disk: { limitBytes: 10 * GIB, usedBytes: 9.5 * GIB, freeBytes: 70 * GIB, totalBytes: 250 * GIB } }))[0].text).toContain('Hosting uses 9.5 GiB of your 10.0 GiB limit')
    expect(hostingAlerts(input({ disk: { limitBytes: 10 * GIB, usedBytes: 0, freeBytes: 5 * GIB, totalBytes: 250 * GIB } }))[0].text).toContain('only 5.0 GiB free')
    expect(hostingAlerts(input({ disk: { limitBytes: 100 * GIB, usedBytes: 0, freeBytes: 70 * GIB, totalBytes: 250 * GIB } }))[0].text).toContain('lower the limit')
    expect(hostingAlerts(input({ seeding: false, disk: { limitBytes: 10 * GIB, usedBytes: 10 * GIB, freeBytes: 0, totalBytes: 250 * GIB } }))).toEqual([])
  })
})

describe('why a slot goes away', () => {
  const outcome = (over: Partial<BlockOutcome>): BlockOutcome => ({ number: 101, hash: '0x65', actions: [], notices: [], newChallenges: [], newAssignments: [], penalties: [], ...over })

  it('names containment with its reason, a lost slot, the penalty, and a plan that ended', () => {
    let t = NOW
    const watch = new ProviderWatch(() => ME, () => t)
    const m = hosted()
    const held = slotsHeld(m, ME)
    expect([...held]).toEqual([[1, [0]]])
    m.contracts[1].slots[0].strikes.storage = 1
    watch.onBlock(outcome({ notices: [`hoster ${ME} of contract 1 slot 0 in storage containment (missing-chunk): re-checking`] }), m, held)
    expect(watch.whyOf(1, 0, 'storage')).toBe('missing-chunk')
    t += 6000
    m.contracts[1].slots[0].hoster = null
    watch.onBlock(outcome({
      number: 102,
      notices: [`hoster ${ME} of contract 1 failed a storage challenge: replaced`, 'plan 1 ended'],
      penalties: [{ address: ME, role: 'hoster', reason: 'failedProof', amount: 50, detail: 'storage of contract 1 slot 0 (missing-chunk)' }, { address: acct('a'), role: 'attestor', reason: 'missedReport', amount: 20, detail: 'x' }]
    }), m, held)
    const list = watch.list()
    expect(list.map((e) => e.kind)).toEqual(['penalty', 'plan-ended', 'slot-lost', 'containment'])
    expect(list[2].text).toBe('Lost a slot of contract 1: it failed its storage re-check too, so another hoster takes it.')
    expect(list[0].text).toBe('Reputation −50 for a failed proof (storage of contract 1 slot 0 (missing-chunk)).')
    expect(list[1].text).toContain('Plan 1 reached its end: contract 1 (1 slot) is no longer hosted.')
    expect(list[0].timeMs).toBe(NOW + 6000)
    expect(watch.whyOf(1, 0, 'storage')).toBeNull()
  })
})
