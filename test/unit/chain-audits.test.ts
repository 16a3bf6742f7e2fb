/**
 * Audits of aggregated storage passes on chain (main/chain/audits.ts): when an aggregate part is
 * accepted the chain draws storage passes it covers from the accepting block's randomness, keeps
 * where each leaf is in the part's tree (the position among its passes, the number of leaves, the
 * root) and what the check was, and issues one more storage check of the slot (the audit check, a
 * regular one of the current epoch) whose attestor is never the audited one; its failure opens a
 * dispute as any storage failure does.
 */
import { describe, it, expect } from 'vitest'
import type { BlockOutcome, Challenge, EpochCheck, MarketState } from '../../main/chain/marketplace.js'
import type { MarketRecord } from '../../main/chain/records.js'
import { epochClose, gradedHosters } from '../../main/chain/epoch-records.js'
import { AUDIT_PARAMS, auditOfRecheck, sampleAudits } from '../../main/chain/audits.js'
import { acct, ctxAt, hostingMarket, marketWith, type SteppedMarket } from '../helpers/market-state.js'

type EpochReport = Extract<MarketRecord, { kind: 'epoch-report' }>
const NAMES = Array.from({ length: 8 }, (_, i) => `p${i + 1}`)
const ROOT = 'ee'.repeat(32)

/** Three hosting slots on a network with epochs of 20 blocks (interval 10, timeout 5). */
function market (): SteppedMarket {
  return hostingMarket({ providers: NAMES, replicas: 3, budgetPlanck: 10n ** 12n, epochBlocks: 20 })
}

/** `attestor`'s aggregate of its uncovered checks of `epoch`, every one passed unless `failed` says otherwise. */
function aggregate (state: MarketState, epoch: number, attestor: string, failed: number[] = []): EpochReport {
  const entry = state.epochs?.[epoch]?.[attestor]
  if (entry === undefined) throw new Error(`no checks of ${attestor} in epoch ${epoch}`)
  const checks = entry.checks.slice(entry.covered)
  const grades = gradedHosters(checks, new Set(failed)).map(() => 30)
  return { kind: 'epoch-report', epoch, from: entry.covered, count: checks.length, failed, grades, rootHex: ROOT }
}

/** Steps to epoch 1's close and returns each attestor's list of epoch 1. */
function atClose (m: SteppedMarket): Map<string, EpochCheck[]> {
  m.to(epochClose(m.state.network?.params as never, 1))
  return new Map(Object.entries(m.state.epochs?.[1] ?? {}).map(([a, e]) => [a, [...e.checks]]))
}

describe('the chain draws aggregated storage passes for audit and names an auditor by an audit check', () => {
  it('keeps each drawn pass at its leaf position among the part\'s passes, with the root, and issues an audit check of its slot, regular, by another attestor', () => {
    const m = market()
    const lists = atClose(m)
    const awaiting = { ...m.state.awaiting } as Record<string, Challenge>
    const withStorage = [...lists].filter(([, checks]) => checks.some(([, , perf]) => perf === 0))
    expect(withStorage.length).toBeGreaterThan(0)
    const out: BlockOutcome = m.step(withStorage.map(([a]) => [a, aggregate(m.state, 1, a)]))
    expect(out.actions.every((x) => x.records[0].ok)).toBe(true)
    const samples = Object.values(m.state.audits ?? {})
    for (const [a, checks] of withStorage) {
      const mine = samples.filter((s) => s.attestor === a)
      expect(mine.length).toBe(Math.min(AUDIT_PARAMS.perAggregate, checks.filter(([, , perf]) => perf === 0).length))
      for (const s of mine) {
        // every check passed: the leaf position is the check's place in the list
        const i = checks.findIndex(([id]) => id === s.challengeId)
        expect(checks[i][2]).toBe(0)
        expect({ position: s.position, leaves: s.leaves, rootHex: s.rootHex, epoch: s.epoch, from: s.from }).toEqual({ position: i, leaves: checks.length, rootHex: ROOT, epoch: 1, from: 0 })
        const ch = awaiting[s.challengeId]
        expect({ contractId: s.contractId, slot: s.slot, hoster: s.hoster, issuedAt: s.issuedAt }).toEqual({ contractId: ch.contractId, slot: ch.slot, hoster: ch.hoster, issuedAt: ch.issuedAt })
        const recheck = m.state.challenges[s.recheck as number]
        // a regular check of the current epoch: its pass goes in the auditor's own aggregate
        const epoch = Math.floor(out.number / 20)
        expect(recheck).toMatchObject({ kind: 'storage', recheck: false, epoch, contractId: s.contractId, slot: s.slot, hoster: s.hoster, issuedAt: out.number })
        expect(m.state.epochs?.[epoch]?.[recheck.attestors[0]]?.checks.map(([id]) => id)).toContain(recheck.id)
        expect(recheck.attestors).not.toContain(a)
        expect(recheck.attestors).not.toContain(s.hoster)
        expect(auditOfRecheck(m.state, recheck.id)).toBe(s)
      }
    }
  })

  it('never draws a failed offset or a performance pass, and counts leaves past the failed offsets', () => {
    const m = market()
    const lists = atClose(m)
    const [a, checks] = [...lists].find(([, c]) => c.some(([, , perf]) => perf === 0) && c.length >= 2) as [string, EpochCheck[]]
    // the attestor fails its first storage check and passes the rest
    const firstStorage = checks.findIndex(([, , perf]) => perf === 0)
    m.step([[a, aggregate(m.state, 1, a, [firstStorage])]])
    const mine = Object.values(m.state.audits ?? {}).filter((s) => s.attestor === a)
    expect(mine.every((s) => s.challengeId !== checks[firstStorage][0])).toBe(true)
    for (const s of mine) {
      const i = checks.findIndex(([id]) => id === s.challengeId)
      expect(checks[i][2]).toBe(0)
      expect(s.position).toBe(i > firstStorage ? i - 1 : i)
      expect(s.leaves).toBe(checks.length - 1)
    }
    // every storage check failed: nothing to audit
    const m2 = market()
    const lists2 = atClose(m2)
    const checks2 = lists2.get(a) as EpochCheck[]
    const failed = checks2.flatMap(([, , perf], i) => (perf === 0 ? [i] : []))
    m2.step([[a, aggregate(m2.state, 1, a, failed)]])
    expect(Object.values(m2.state.audits ?? {}).filter((s) => s.attestor === a)).toEqual([])
  })

  it('draws the positions from the accepting block\'s randomness: the same block draws the same, other blocks others', () => {
    const attestor = acct('a')
    const base = marketWith({ providers: NAMES })
    const ids = Array.from({ length: 40 }, (_, i) => i + 1)
    base.awaiting = Object.fromEntries(ids.map((id) => [id, {
      id, kind: 'storage', contractId: 1, slot: 0, hoster: acct('h'), attestors: [attestor], reports: [], chunk: 0, issuedAt: 5, deadline: 10, recheck: false, epoch: 0
    } satisfies Challenge]))
    const covered: EpochCheck[] = ids.map((id) => [id, 1, 0, acct('h')])
    const rec: EpochReport = { kind: 'epoch-report', epoch: 0, from: 0, count: 40, failed: [], grades: [], rootHex: ROOT }
    const drawn = (seed: string): number[] => {
      const state = structuredClone(base)
      sampleAudits(ctxAt(state, 50, seed), attestor, rec, covered, 100)
      return Object.values(state.audits ?? {}).map((s) => s.position).sort((x, y) => x - y)
    }
    expect(drawn('x')).toEqual(drawn('x'))
    expect(drawn('x')).toHaveLength(AUDIT_PARAMS.perAggregate)
    const seen = new Set(['x', 'y', 'z', 'w', 'v'].map((s) => drawn(s).join(',')))
    expect(seen.size).toBeGreaterThan(1)
  })

  it('waits with the audit check while no attestor but the audited one can take it, and never gives it to the audited one', () => {
    const m = market()
    const lists = atClose(m)
    const [a] = [...lists].find(([, c]) => c.some(([, , perf]) => perf === 0)) as [string, EpochCheck[]]
    // every other provider pauses: the audited attestor is the only one left
    for (const [addr, p] of Object.entries(m.state.providers)) if (addr !== a) p.pausedUntil = 10_000
    m.step([[a, aggregate(m.state, 1, a)]])
    const mine = Object.values(m.state.audits ?? {}).filter((s) => s.attestor === a)
    expect(mine.length).toBeGreaterThan(0)
    m.step()
    for (const s of mine) expect(s.recheck).toBeNull()
    // one comes back: it takes the audit checks
    const back = Object.keys(m.state.providers).find((x) => x !== a && mine.every((s) => s.hoster !== x)) as string
    m.state.providers[back].pausedUntil = 0
    m.step()
    for (const s of mine) expect(m.state.challenges[s.recheck as number]?.attestors).toEqual([back])
  })

  it('opens a dispute when the auditor\'s audit check fails, and forgets the sample after its time', () => {
    const m = market()
    const lists = atClose(m)
    const [a] = [...lists].find(([, c]) => c.some(([, , perf]) => perf === 0)) as [string, EpochCheck[]]
    m.step([[a, aggregate(m.state, 1, a)]])
    const s = Object.values(m.state.audits ?? {}).find((x) => x.attestor === a)
    if (s === undefined) throw new Error('no sample')
    const auditor = m.state.challenges[s.recheck as number].attestors[0]
    m.step([[auditor, { kind: 'storage-report', challengeId: s.recheck as number, ok: false, reason: 'MISSING_CHUNK' }]])
    const slot = m.state.contracts[s.contractId].slots[s.slot]
    expect(slot.strikes.storage).toBe(1)
    expect(slot.accusers.storage).toEqual([auditor])
    m.to(s.until)
    expect(m.state.audits?.[s.challengeId]).toBeDefined()
    m.step()
    expect(m.state.audits?.[s.challengeId]).toBeUndefined()
  })
})
