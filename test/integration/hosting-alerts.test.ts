/**
 * Alerts before penalties and scheduled pauses, on the live chain (issue 10, Tests): one embedded
 * chain (chopsticks running the real Asset Hub runtime), an operator, Alice (the sponsor, online
 * so encoders can fetch her blocks), encoders and three honest attestors, all engines on a loopback
 * testnet; each scenario registers fresh hosters with only the roles it exercises.
 *
 * - A hoster that threw its encoded chunks away (test/helpers/hosting-faults.ts) fails a storage
 *   challenge: its node raises the containment alert (what failed, what is at stake, the block of
 *   the re-check) while its reputation and its slot are untouched; the re-check by the other
 *   attestor fails too and only then the chain penalises it and takes the slot (chain/challenges.ts).
 * - Two identical hosters of the same contracts both go offline; one published a schedule with
 *   the hours around the chain's current UTC hour (read from the chain's own block timestamps)
 *   off first. Across several challenge intervals the scheduled one is neither challenged nor
 *   picked for the new contracts of a plan update and keeps its reputation; the other is
 *   challenged, fails and is penalised.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import type { Testnet } from '@hyperswarm/testnet'
import { waitFor as waitForEvents } from '../helpers/wait.js'
import { TempDirs, loopbackTestnet } from '../helpers/engines.js'
import { startHostingChain, startHostingNode } from '../helpers/hosting-node.js'
import { cheating, type HostingFaults } from '../helpers/hosting-faults.js'
import type { Engine } from '../../main/engine/engine.js'
import type { Db } from '../../main/shared/db.js'
import type { LocalChain } from '../../main/chain/local-chain.js'
import type { ChainService } from '../../main/chain/service.js'
import { MARKET_PARAMS, type BlockOutcome, type MarketState } from '../../main/chain/marketplace.js'
import type { RoleName } from '../../main/chain/records.js'
import { SCHEDULE_RULES, hourOfWeek, scheduleHex } from '../../main/chain/schedule-bits.js'
import type { HostingService } from '../../main/hosting/service.js'
import type { HostingAlert } from '../../main/hosting/alerts.js'
import { formatLink } from '../../main/engine/paths.js'
import { formatBytes } from '../../main/shared/errors.js'

const TOKEN = 10n ** 12n
const INTERVAL = 8

interface Node { name: string, engine: Engine, chain: ChainService, hosting: HostingService, closed: boolean }

const taskErrors: string[] = []
/** Progress lines on stderr with HOSTING_TRACE=1. */
function trace (line: string): void { if (process.env.HOSTING_TRACE !== undefined) process.stderr.write(`[alerts ${new Date().toISOString().slice(11, 19)}] ${line}\n`) }

/** waitFor with this file's default timeout and the latest task errors in its message (traced when done). */
async function waitFor (emitters: EventEmitter[], check: () => boolean, what: string, timeoutMs = 150_000): Promise<void> {
  await waitForEvents(emitters, check, what, timeoutMs, () => `task errors: ${taskErrors.slice(-8).join(' | ')}`)
  trace(what)
}

describe('a seeder hears of a failed check before it costs, and a scheduled pause costs nothing', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let chain: LocalChain
  let operator: ChainService
  let alice: Node
  const nodes: Node[] = []
  const dbs: Db[] = []
  let link = ''
  const market = (): MarketState => operator.market
  const emitters = (): EventEmitter[] => [operator, ...nodes.filter((n) => !n.closed).map((n) => n.hosting)]
  const rep = (n: Node): number | undefined => market().providers[n.chain.addressHex]?.reputation

  async function node (name: string, roles: RoleName[] | null, faults: HostingFaults = {}): Promise<Node> {
    const { engine, chain: cs, hosting } = await startHostingNode({
      testnet,
      chain,
      storage: await tmp.make(`datdot-${name}-`),
      limits: { walkSteps: 64, openings: 4, measureBlocks: 4, commitBaseMs: 5000, connectTimeoutMs: 8000, measureTimeoutMs: 8000, updateDebounceMs: 200 },
      behaviour: cheating(faults)
    })
    hosting.on('task-error', ({ task, error }: { task: string, error: Error }) => { taskErrors.push(`${name} ${task}: ${error.message}`) })
    const n: Node = { name, engine, chain: cs, hosting, closed: false }
    nodes.push(n)
    if (roles !== null) {
      await cs.faucet(10n * TOKEN)
      await hosting.setSeeding({ on: true, storageBytes: 2 ** 30, bandwidthBps: 50_000_000, region: 'eu', roles })
    }
    return n
  }

  /** The node goes away (stops answering anyone); it stays registered on chain. */
  async function shutDown (n: Node): Promise<void> {
    if (n.closed) return
    n.closed = true
    await n.hosting.close()
    await n.chain.close()
    await n.engine.close()
  }

  beforeAll(async () => {
    testnet = await loopbackTestnet(4)
    const started = await startHostingChain(tmp, { chunksPerContract: 10, challengeIntervalBlocks: INTERVAL, challengeTimeoutBlocks: 40, performanceAttestors: 2 })
    chain = started.chain
    operator = started.operator
    dbs.push(started.db)
    alice = await node('alice', null)
    await alice.chain.faucet(1000n * TOKEN)
    await alice.engine.vault.drive.put('/a.bin', randomBytes(100_000))
    link = formatLink(alice.engine.vault.drive.key)
    await node('encoder1', ['encoder'])
    // a dispute needs disputeFails (3) independent attestors before it replaces a hoster
    for (let i = 1; i <= MARKET_PARAMS.disputeFails; i++) await node(`attestor${i}`, ['attestor'])
  }, 240_000)

  afterAll(async () => {
    const t0 = Date.now()
    await Promise.all(nodes.map(async (n) => { await shutDown(n); trace(`${n.name} closed after ${Date.now() - t0} ms`) }))
    await operator?.close()
    trace(`operator closed after ${Date.now() - t0} ms`)
    await chain?.close()
    trace(`chain closed after ${Date.now() - t0} ms`)
    for (const db of dbs) db.close()
    await testnet?.destroy()
    trace(`testnet closed after ${Date.now() - t0} ms`)
    await tmp.cleanup()
  }, 120_000)

  function slotsOf (planId: number, m: MarketState = market()): Array<{ contract: number, slot: number, hoster: string | null, state: string }> {
    const plan = m.plans[planId]
    return plan.contractIds.flatMap((id) => m.contracts[id]?.slots.map((s, slot) => ({ contract: id, slot, hoster: s.hoster, state: s.state })) ?? [])
  }

  it('alerts a hoster that failed a storage challenge while its reputation and slot are untouched; the failed re-check then penalises it', async () => {
    const cheater = await node('deleter', ['hoster'], { deleteEncoded: true })
    const me = cheater.chain.addressHex
    /** What the cheater's own node saw, in the order it saw it: its alerts, and the penalties of its blocks. */
    const seen: Array<{ what: 'alert', block: number, alert: HostingAlert, hoster: string | null, strikes: number, recheckDeadline: number | null, size: string } | { what: 'penalty', block: number, detail: string }> = []
    /** Its reputation after each block, as its node saw it. */
    const reputation = new Map<number, number>()
    cheater.chain.on('block', (out: BlockOutcome) => {
      const r = cheater.chain.market.providers[me]?.reputation
      if (r !== undefined) reputation.set(out.number, r)
      for (const p of out.penalties) if (p.address === me) seen.push({ what: 'penalty', block: out.number, detail: p.detail })
    })
    cheater.hosting.on('alert', (alert: HostingAlert) => {
      if (alert.kind !== 'containment') return
      const m = cheater.chain.market
      const [, c, s] = alert.id.split(':').map(Number)
      const recheck = Object.values(m.challenges).find((ch) => ch.contractId === c && ch.slot === s && ch.kind === 'storage' && ch.recheck)
      const contract = m.contracts[c]
      seen.push({ what: 'alert', block: m.block?.number ?? 0, alert, hoster: m.contracts[c]?.slots[s]?.hoster ?? null, strikes: m.contracts[c]?.slots[s]?.strikes.storage ?? 0, recheckDeadline: recheck?.deadline ?? null, size: contract === undefined ? '' : formatBytes((contract.end - contract.start) * MARKET_PARAMS.chunkBytes) })
    })

    const { planId } = await alice.hosting.sponsor({ link, replicas: 1, days: 1, pricePlanck: 50n * TOKEN })
    try {
      await waitFor(emitters(), () => slotsOf(planId).every((s) => s.state === 'hosting' && s.hoster === me), 'the deleter hosting every slot')
      await waitFor(emitters(), () => seen.some((e) => e.what === 'penalty'), 'the deleter penalised')
      await waitFor(emitters(), () => [market(), cheater.chain.market].every((m) => slotsOf(planId, m).every((s) => s.hoster !== me)), 'every slot taken from the deleter (as its node sees it too)')
    } finally {
      await alice.hosting.unpublish(planId)
      await cheater.hosting.setSeeding({ on: false })
    }

    const alerts = seen.filter((e) => e.what === 'alert')
    const firstPenalty = seen.findIndex((e) => e.what === 'penalty')
    expect(alerts.length).toBeGreaterThan(0)
    // the first alert came before the first penalty, in an earlier block, while nothing was lost:
    // up to the alert its reputation never went down (passed performance checks raised it)
    expect(seen[0].what).toBe('alert')
    expect(seen[0].block).toBeLessThan(seen[firstPenalty].block)
    const upToAlert = [...reputation].filter(([b]) => b <= seen[0].block).map(([, r]) => r)
    expect(upToAlert.length).toBeGreaterThan(0)
    expect(upToAlert[0]).toBeGreaterThanOrEqual(MARKET_PARAMS.reputationStart)
    upToAlert.forEach((r, i) => { if (i > 0) expect(r).toBeGreaterThanOrEqual(upToAlert[i - 1]) })
    const atAlert = upToAlert[upToAlert.length - 1]
    for (const a of alerts) {
      const [, c, s] = a.alert.id.split(':').map(Number)
      // the slot was still its own, under strikes short of a decided dispute, with the re-check already issued
      expect(a.hoster).toBe(me)
      expect(a.strikes).toBeGreaterThanOrEqual(1)
      expect(a.strikes).toBeLessThan(MARKET_PARAMS.disputeFails)
      expect(a.recheckDeadline).not.toBeNull()
      // what failed, what is at stake and the block of the re-check, in words
      expect(a.alert).toMatchObject({ kind: 'containment', level: 'danger', title: `Contract ${c} slot ${s} failed a storage check` })
      expect(a.alert.text).toContain('Why: a stored chunk it asked for is missing (MISSING_CHUNK).')
      const more = MARKET_PARAMS.disputeFails - a.strikes
      expect(a.alert.text).toContain(`At stake: if ${more === 1 ? 'one more independent re-check fails' : `${more} more independent re-checks fail`} too, this slot (${a.size} of plan ${planId}) goes to another hoster and you lose ${MARKET_PARAMS.penalties.failedProof} reputation`)
      expect(a.alert.text).toContain(`it must be answered by block ${a.recheckDeadline}.`)
      expect(a.alert.recheckAtMs).toBeGreaterThan(0)
      // and this slot's penalty came in a later block
      const penalty = seen.find((e) => e.what === 'penalty' && e.detail.startsWith(`storage of contract ${c} slot ${s} `))
      expect(penalty?.block).toBeGreaterThan(a.block)
    }
    // the penalty cost it: its reputation fell below what it had at the alert
    expect(reputation.get(seen[firstPenalty].block)).toBeLessThan(atAlert)
    // the slot is gone, so is its alert; the node's events tell the story in order
    expect(cheater.hosting.alerts().filter((a) => a.kind === 'containment')).toEqual([])
    const kinds = cheater.hosting.providerEvents().reverse().map((e) => e.kind)
    expect(kinds.indexOf('containment')).toBeGreaterThanOrEqual(0)
    expect(kinds.indexOf('containment')).toBeLessThan(kinds.indexOf('penalty'))
  }, 300_000)

  it('neither challenges nor picks a hoster in its scheduled off hours and keeps its reputation, while one that just goes offline is penalised', async () => {
    await node('encoder2', ['encoder'])
    const scheduled = await node('scheduled', ['hoster'])
    const silent = await node('silent', ['hoster'])
    const S = scheduled.chain.addressHex
    const Q = silent.chain.addressHex
    const { planId } = await alice.hosting.sponsor({ link, replicas: 2, days: 1, pricePlanck: 50n * TOKEN })
    await waitFor(emitters(), () => slotsOf(planId).every((s) => s.state === 'hosting'), 'both hosters hosting every contract')
    const before = slotsOf(planId)
    expect(before.filter((s) => s.hoster === S)).toHaveLength(before.length / 2)
    expect(before.filter((s) => s.hoster === Q)).toHaveLength(before.length / 2)

    // the hours around the chain's own current UTC hour are off (13 of 168): chopsticks stamps a
    // block 12 s after its parent, so the test stays well inside them
    const chainNow = async (): Promise<number> => (await operator.api.query.timestamp.now()).toNumber()
    const hour = hourOfWeek(await chainNow())
    const off = new Set(Array.from({ length: 13 }, (_, k) => (hour - 2 + k + SCHEDULE_RULES.hours) % SCHEDULE_RULES.hours))
    const hours = Array.from({ length: SCHEDULE_RULES.hours }, (_, h) => h).filter((h) => !off.has(h))
    await scheduled.chain.setSchedule(scheduleHex(hours))
    const fromBlock = (): number | undefined => market().providers[S]?.schedules?.[1]?.fromBlock
    await waitFor(emitters(), () => fromBlock() !== undefined, 'the schedule on chain')
    // it serves until the schedule is in force and the checks it owes are settled; then both go
    await waitFor(emitters(), () => (market().block?.number ?? 0) >= (fromBlock() as number) && !Object.values(market().challenges).some((ch) => ch.hoster === S), 'the schedule in force with nothing owed')

    const offFrom = market().block?.number as number
    const start = { S: rep(scheduled), Q: rep(silent), jobsS: market().providers[S].jobs, usedS: market().providers[S].usedBytes }
    const slotsAtOff = before.filter((x) => x.hoster === S).map((x) => structuredClone(market().contracts[x.contract].slots[x.slot]))
    const challenged: Array<{ hoster: string, block: number }> = []
    const assigned: Array<{ hoster: string, contract: number, block: number }> = []
    const penalties: Array<{ address: string, reason: string, block: number }> = []
    operator.on('block', (out: BlockOutcome) => {
      for (const id of out.newChallenges) {
        const ch = market().challenges[id]
        if (ch !== undefined) challenged.push({ hoster: ch.hoster, block: out.number })
      }
      for (const id of out.newAssignments) {
        for (const s of market().contracts[id]?.slots ?? []) if (s.hoster !== null && s.state === 'setup') assigned.push({ hoster: s.hoster, contract: id, block: out.number })
      }
      for (const p of out.penalties) penalties.push({ address: p.address, reason: p.reason, block: out.number })
    })
    await Promise.all([shutDown(scheduled), shutDown(silent)])

    // new work while it is off: Alice's vault grows, her node updates the plan with new contracts
    const contractsBefore = market().plans[planId].contractIds.length
    await alice.engine.vault.drive.put('/b.bin', randomBytes(100_000))
    await waitFor(emitters(), () => market().plans[planId].contractIds.length > contractsBefore, 'the plan update with new contracts')
    // the silent one is challenged, fails twice and is penalised; three intervals pass
    await waitFor(emitters(), () => penalties.some((p) => p.address === Q && p.reason === 'failedProof') && (market().block?.number ?? 0) >= offFrom + 3 * INTERVAL, 'the silent hoster penalised and three intervals gone')

    // the blocks stayed in the off hours the whole time, by the chain's own clock
    expect(off.has(hourOfWeek(await chainNow()))).toBe(true)
    expect(challenged.some((c) => c.hoster === Q)).toBe(true)
    expect(challenged.filter((c) => c.hoster === S)).toEqual([])
    expect(assigned.filter((a) => a.hoster === S)).toEqual([])
    expect(assigned.length).toBeGreaterThan(0)
    expect(penalties.filter((p) => p.address === S)).toEqual([])
    expect(rep(scheduled)).toBe(start.S)
    expect(rep(silent)).toBeLessThan(start.Q as number)
    expect(market().providers[S]).toMatchObject({ jobs: start.jobsS, usedBytes: start.usedS })
    // it still holds its slots as they were when it went: no new strike (one from a check it failed
    // while on its schedule is neither re-checked nor punished while it is off)
    before.filter((x) => x.hoster === S).forEach((s, i) => {
      expect(market().contracts[s.contract].slots[s.slot]).toMatchObject({ hoster: S, state: 'hosting', strikes: slotsAtOff[i].strikes })
    })
    await alice.hosting.unpublish(planId)
  }, 400_000)
})
