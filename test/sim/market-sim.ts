/**
 * A simulation of the marketplace state machine (main/chain/marketplace.ts) with many providers
 * under churn and attacks. Records go through the real codec and `applyBlock` (signed roots and
 * setup receipts are genuine and verified); only the P2P side is modelled: an attestor's report is
 * what the hosting service would report for the hoster's behaviour (docs/protocol.md sections 5
 * and 6).
 *
 * Behaviours: honest; `deleter` (lost a fraction `lossFraction` of its encoded chunks: a storage
 * walk with m openings fails with probability 1-(1-a)^m); `offline` (churned away: fails every
 * challenge, misses its reports as attestor, sets nothing up); `throttler` (serves slowly: passes
 * storage, performance at 1400 ms to first byte and 100 KiB/s); `sybil` (one copy for several
 * identities: each identity's replica is keyed to it, so it holds 1/identities of what it must: a
 * deleter with a = 1 - 1/identities); `liar` (an honest hoster that, as attestor, fails every
 * storage challenge and reports every hoster unreachable).
 */
import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import {
  applyBlock, initialState, conservation, serializeState, owedItems, setScanMode, MARKET_PARAMS, performanceUnits,
  type MarketState, type Action, type BlockInput, type BlockOutcome
} from '../../main/chain/marketplace.js'
import { encodeRecord, RECORD_LIMITS, type MarketRecord, type NetworkParams, type SetupSlot } from '../../main/chain/records.js'
import { epochClose, epochDeadline, payoutCutoff, type EpochList } from '../../main/chain/epoch-records.js'
import { scheduleHex } from '../../main/chain/schedule-bits.js'
import { providerKeys, signReceipt, type RootFixture } from './roots-fixture.js'

export type Behaviour = 'honest' | 'deleter' | 'offline' | 'throttler' | 'sybil' | 'liar'

/** Per-block chances of records that change the market besides churn (the equivalence tests use them). */
export interface SimNoise {
  /** A random provider pauses for a few blocks, one unpauses, sends a schedule (on 3 days of 4), leaves. */
  pause: number
  unpause: number
  schedule: number
  unregister: number
  /** A sponsor publishes a new plan (lasting `planBlocks`), extends or unpublishes a random active plan. */
  publish: number
  extend: number
  unpublish: number
  planBlocks: number
}

export interface SimOptions {
  providers: number
  sponsors: number
  plansPerSponsor: number
  /** Blocks per plan (<= the fixture root's length). */
  chunksPerPlan: number
  replicas: number
  blocks: number
  /** Per block, the chance that an honest provider goes offline for good (churn); as many new ones join. */
  churnPerBlock: number
  attackers: Partial<Record<Exclude<Behaviour, 'honest' | 'offline'>, number>>
  lossFraction: number
  sybilIdentities: number
  openings: number
  seed: string
  /** The network record's parameters. */
  params: NetworkParams
  unitPricePlanck: bigint
  /** A genuine core root every plan hosts (createRootFixture). */
  root: RootFixture
  /** More cores: plan i hosts core i mod (1 + cores.length) (a hoster holds one contract per core range). */
  cores?: RootFixture[]
  /** Blocks without churn before the measured ones, ended early once every slot is hosting (default 0). */
  warmupBlocks?: number
  /** Availability is sampled every this many blocks (default 1). */
  availabilityEvery?: number
  /** Full conservation check at every block (default true). */
  fullChecks?: boolean
  /** The old full scans of the state machine (market-index.ts oracle mode). */
  scan?: boolean
  /** Milliseconds per block of the block timestamps (default 6000). */
  blockMs?: number
  noise?: Partial<SimNoise>
  /** Measure the snapshot (serializeState) of the final state: its size and time (SimResult.snapshot). */
  measureSnapshot?: boolean
  /** Called after each block is applied (the equivalence tests mirror the blocks into an oracle). */
  onBlock?: (input: BlockInput, out: BlockOutcome, state: MarketState) => void
}

export interface SimResult {
  blocks: number
  /** Warm-up blocks run before the measured ones. */
  warmup: number
  providers: number
  contracts: number
  /** Mean over (sampled) measured blocks of the fraction of contracts with at least one hoster holding all its data and online. */
  availability: number
  /** Fraction of contracts that ever had no good copy during the run. */
  contractsEverLost: number
  /** Storage challenges (and, for offline, every check) per hoster behaviour; `dropped` = hosters replaced. */
  detection: Record<string, { challenged: number, failed: number, rate: number, dropped: number }>
  /** Honest (or liar: they host honestly) hosters replaced after a failed proof: must be 0. */
  honestReplaced: number
  /** The block's notices about each such hoster (how it came to be replaced). */
  honestReplacedNotices: string[]
  /** Honest attestors contradicted (their true failure report lost its storage dispute). */
  honestContradicted: number
  /** Liar attestors contradicted (they lost a storage dispute), and liars dropped below the (hoster) reputation floor. */
  liarsContradicted: number
  liarsDropped: number
  /** Liars whose attestor reputation fell below the floor: no longer chosen to attest. */
  liarsLostAttestorRole: number
  honestChallenges: number
  /** Reports and performance checks settled, for chain load figures. */
  reports: number
  /** Everything accrued (setup included) per GiB-month of one hosted copy. */
  costPlanckPerGiBMonth: bigint
  /** The same over the second half of the run only (setup mostly done): the running cost. */
  steadyCostPlanckPerGiBMonth: bigint
  paidPlanck: bigint
  conservationOk: boolean
  rejected: Record<string, number>
  /** applyBlock time of the measured blocks: mean and max per block, and the mean of each tenth of the run (the trend). */
  stateMachine: { meanMs: number, maxMs: number, trendMs: number[], slowest: Array<{ block: number, ms: number }> }
  /** V8 heap in use (MiB) after the last measured block, and the most seen at a sample (every `availabilityEvery` measured blocks). */
  heapMiB: { end: number, max: number }
  /** With `measureSnapshot`: the final state's serialisation, its size in MiB and the time it took (or why it failed). */
  snapshot?: { mib: number, ms: number } | { error: string }
  /** Slots waiting for providers (unassigned) at the end, and the most at any measured block. */
  unassignedSlots: number
  unassignedSlotsMax: number
}

class Rng {
  private n = 0
  constructor (private readonly seed: string) {}
  next (): number {
    const h = createHash('sha256').update(`${this.seed}:${this.n++}`).digest()
    return h.readUInt32BE(0) / 2 ** 32
  }

  below (n: number): number { return Math.floor(this.next() * n) }
}

function hex32 (s: string): string { return createHash('sha256').update(s).digest('hex') }
function acct (s: string): string { return '0x' + hex32(s) }

const RECEIPTS_ROOT = hex32('receipts')
const LATENCY_MS_MAX = 600_000
/** Monday to Thursday: 96 of the week's 168 hours. */
const FOUR_DAYS = scheduleHex(Array.from({ length: 96 }, (_, h) => h))

export function simulate (o: SimOptions): SimResult {
  const rng = new Rng(o.seed)
  const state: MarketState = initialState()
  if (o.scan === true) setScanMode(state, true)
  const escrow = acct('escrow')
  const behaviour = new Map<string, Behaviour>()
  const keys = new Map<string, ReturnType<typeof providerKeys>>()
  /** Honest providers still online (churn takes from here). */
  const honest: string[] = []
  const noise: SimNoise = { pause: 0, unpause: 0, schedule: 0, unregister: 0, publish: 0, extend: 0, unpublish: 0, planBlocks: o.blocks + 10, ...o.noise }
  const blockMs = o.blockMs ?? 6000
  const cores = [o.root, ...(o.cores ?? [])]
  let nextProvider = 0
  let nextPlan = 0
  let parent = '0x' + '00'.repeat(32)
  let number = 0
  let measure = 0
  let pending: Action[] = []
  const act = (signer: string, rec: MarketRecord, transfers: Action['transfers'] = []): void => {
    pending.push({ index: pending.length, signer, remarks: [encodeRecord(rec)], transfers })
  }
  const result: SimResult = {
    blocks: 0, warmup: 0, providers: 0, contracts: 0, availability: 0, contractsEverLost: 0, detection: {}, honestReplaced: 0, honestReplacedNotices: [], honestContradicted: 0,
    liarsContradicted: 0, liarsDropped: 0, liarsLostAttestorRole: 0, honestChallenges: 0, reports: 0, costPlanckPerGiBMonth: 0n, steadyCostPlanckPerGiBMonth: 0n, paidPlanck: 0n,
    conservationOk: true, rejected: {}, stateMachine: { meanMs: 0, maxMs: 0, trendMs: [], slowest: [] }, heapMiB: { end: 0, max: 0 }, unassignedSlots: 0, unassignedSlotsMax: 0
  }
  const lostRole = new Set<string>()
  const det = (b: Behaviour): SimResult['detection'][string] => result.detection[b] ?? (result.detection[b] = { challenged: 0, failed: 0, rate: 0, dropped: 0 })
  /** Contracts with a slot in setup (from each block's new assignments). */
  const inSetup = new Set<number>()
  const blockMsList: number[] = []
  const blockNumbers: number[] = []
  const heapMiB = (): number => process.memoryUsage().heapUsed / 2 ** 20
  let timing = false
  const block = (): void => {
    number++
    const hash = '0x' + hex32(`${o.seed}:block:${number}`)
    const input: BlockInput = { number, hash, parentHash: parent, timeMs: number * blockMs, actions: pending }
    pending = []
    parent = hash
    const t0 = performance.now()
    let out: BlockOutcome
    try {
      out = applyBlock(state, input, { fullChecks: o.fullChecks ?? true })
    } catch (err) {
      if (/conservation/.test(String(err))) result.conservationOk = false
      throw err
    }
    if (timing) { blockMsList.push(performance.now() - t0); blockNumbers.push(number) }
    o.onBlock?.(input, out, state)
    for (const id of out.newAssignments) inSetup.add(id)
    for (const notice of out.notices) {
      let m = /^hoster (0x[0-9a-f]+) of contract \d+ failed a/.exec(notice)
      if (m !== null) {
        const b = behaviour.get(m[1]) ?? 'honest'
        det(b).dropped++
        if (b === 'honest' || b === 'liar') {
          result.honestReplaced++
          result.honestReplacedNotices.push(...out.notices.filter((n) => n.includes(m?.[1] ?? '')).map((n) => `block ${number}: ${n}`))
        }
      }
      m = /^attestor (0x[0-9a-f]+) was contradicted/.exec(notice)
      if (m !== null) {
        if (behaviour.get(m[1]) === 'liar') result.liarsContradicted++
        else if (behaviour.get(m[1]) === 'honest') result.honestContradicted++
      }
      m = /^provider (0x[0-9a-f]+) fell below the reputation floor/.exec(notice)
      if (m !== null && behaviour.get(m[1]) === 'liar') result.liarsDropped++
      m = /^provider (0x[0-9a-f]+) fell below the attestor reputation floor/.exec(notice)
      if (m !== null && behaviour.get(m[1]) === 'liar') lostRole.add(m[1])
    }
  }
  const addProvider = (b: Behaviour): void => {
    const name = `${o.seed}:provider:${nextProvider++}`
    const a = acct(name)
    const k = providerKeys(name)
    behaviour.set(a, b)
    keys.set(a, k)
    if (b === 'honest') honest.push(a)
    act(a, { kind: 'register', roles: 7, storageBytes: 2 ** 34, bandwidthBps: 10_000_000, region: ['eu', 'us', 'asia'][nextProvider % 3], noiseKeyHex: k.publicKeyHex })
  }
  const online = (a: string | null): boolean => a !== null && behaviour.get(a) !== 'offline'
  const publishPlan = (sponsor: number, durationBlocks: number): void => {
    const core = cores[nextPlan++ % cores.length]
    const root = core.roots.find((r) => r.length >= o.chunksPerPlan)
    if (root === undefined) throw new Error(`the root fixture is shorter than ${o.chunksPerPlan} blocks`)
    const budget = 10n ** 18n
    act(acct(`sponsor:${sponsor}`), { kind: 'publish', drives: [{ keyHex: core.keyHex, ranges: [[0, o.chunksPerPlan]], root }], replicas: o.replicas, durationBlocks, budgetPlanck: budget }, [{ from: acct(`sponsor:${sponsor}`), to: escrow, amountPlanck: budget }])
  }

  act(acct('operator'), { kind: 'network', operators: [acct('operator')], threshold: 1, escrow, unitPricePlanck: o.unitPricePlanck, params: o.params })
  block()
  for (let i = 0; i < o.providers; i++) addProvider('honest')
  for (const [b, n] of Object.entries(o.attackers)) for (let i = 0; i < (n ?? 0); i++) addProvider(b as Behaviour)
  block()
  for (let s = 0; s < o.sponsors; s++) for (let p = 0; p < o.plansPerSponsor; p++) publishPlan(s, o.blocks + (o.warmupBlocks ?? 0) + 10)
  block()

  const lost = new Set<number>()
  let availSum = 0
  let availSamples = 0
  let gibBlocks = 0
  let halfGibBlocks = 0
  let halfAccrued = 0n
  let churnCarry = 0
  const accruedNow = (): bigint => Object.values(state.plans).reduce((a, p) => a + p.accruedPlanck, 0n)
  const contractGiB = (o.params.chunksPerContract * MARKET_PARAMS.chunkBytes) / 2 ** 30
  const storageFails = (b: Behaviour): boolean => {
    if (b === 'offline') return true
    if (b !== 'deleter' && b !== 'sybil') return false
    const a = b === 'deleter' ? o.lossFraction : 1 - 1 / o.sybilIdentities
    return rng.next() >= (1 - a) ** o.openings
  }
  const randomProvider = (): string | null => {
    const all = Object.keys(state.providers)
    return all.length === 0 ? null : all[rng.below(all.length)]
  }
  const activePlan = (): { id: number, sponsor: string } | null => {
    const plans = Object.values(state.plans).filter((p) => p.status === 'active')
    return plans.length === 0 ? null : plans[rng.below(plans.length)]
  }
  const addNoise = (): void => {
    const chance = (x: number): boolean => x > 0 && rng.next() < x
    let a: string | null
    if (chance(noise.pause) && (a = randomProvider()) !== null) act(a, { kind: 'pause', blocks: 1 + rng.below(3 * o.params.challengeIntervalBlocks) })
    if (chance(noise.unpause) && (a = randomProvider()) !== null) act(a, { kind: 'unpause' })
    if (chance(noise.schedule) && (a = randomProvider()) !== null) act(a, { kind: 'schedule', hoursHex: FOUR_DAYS })
    if (chance(noise.unregister) && (a = randomProvider()) !== null) act(a, { kind: 'unregister' })
    if (chance(noise.publish)) publishPlan(rng.below(Math.max(1, o.sponsors)), 1 + rng.below(noise.planBlocks))
    let plan = chance(noise.extend) ? activePlan() : null
    if (plan !== null) act(plan.sponsor, { kind: 'extend', planId: plan.id, blocks: 1 + rng.below(noise.planBlocks), budgetPlanck: 0n })
    plan = chance(noise.unpublish) ? activePlan() : null
    if (plan !== null) act(plan.sponsor, { kind: 'unpublish', planId: plan.id })
  }
  /** Churn: honest providers leave for good (their slots fail their next checks) and as many new ones join. */
  const churn = (): void => {
    churnCarry += o.churnPerBlock * honest.length
    while (churnCarry >= 1 && honest.length > 0) {
      churnCarry--
      const i = rng.below(honest.length)
      behaviour.set(honest[i], 'offline')
      honest[i] = honest[honest.length - 1]
      honest.pop()
      addProvider('honest')
    }
  }
  const setupReports = (): void => {
    for (const id of [...inSetup].sort((x, y) => x - y)) {
      const c = state.contracts[id]
      if (c === undefined || !c.slots.some((s) => s.state === 'setup')) { inSetup.delete(id); continue }
      if (!online(c.attestor)) continue
      const slots: SetupSlot[] = c.slots.map((s) => {
        if (s.state !== 'setup' || s.hoster === null) return { ok: false, reason: 'hoster-missing' }
        if (!online(s.encoder)) return { ok: false, reason: 'encoder-missing' }
        if (!online(s.hoster)) return { ok: false, reason: 'hoster-missing' }
        const k = keys.get(s.hoster) as ReturnType<typeof providerKeys>
        return { ok: true, receiptsRootHex: RECEIPTS_ROOT, receiptHex: signReceipt(k.secretKey, c.id, c.keyHex, c.root.length, RECEIPTS_ROOT) }
      })
      act(c.attestor as string, { kind: 'setup-report', contractId: c.id, slots })
    }
  }
  /** Aggregated networks: the passes each attestor keeps for its epoch aggregate (challenge id -> grade units, null for storage). */
  const kept = new Map<string, Map<number, number | null>>()
  const keep = (attestor: string, id: number, units: number | null): void => {
    let m = kept.get(attestor)
    if (m === undefined) kept.set(attestor, (m = new Map<number, number | null>()))
    m.set(id, units)
  }
  const isKept = (attestor: string, id: number): boolean => kept.get(attestor)?.has(id) === true
  /** Each online attestor's aggregate of every closed epoch it has checks in (as main/hosting/epoch-aggregator.ts builds it). */
  const epochReports = (n: number): void => {
    for (const [key, byAttestor] of Object.entries(state.epochs ?? {})) {
      const epoch = Number(key)
      if (n < epochClose(o.params, epoch) || n >= epochDeadline(o.params, epoch)) continue
      for (const [a, entry] of Object.entries(byAttestor)) {
        if (!online(a) || entry.covered >= entry.ids.length || behaviour.get(a) === 'liar') continue
        const passes = kept.get(a) ?? new Map<number, number | null>()
        const part = (entry as EpochList).slice(entry.covered, entry.covered + RECORD_LIMITS.aggregateChecksMax)
        let failed = part.flatMap(([id], i) => passes.has(id) ? [] : [i]).slice(0, RECORD_LIMITS.aggregateFailedMax)
        let count = failed.length === RECORD_LIMITS.aggregateFailedMax ? failed[failed.length - 1] + 1 : part.length
        // one grade per hoster of the performance passes, in order of first appearance: the lower median of its grades;
        // the part ends before a check that would grade one hoster more than the record holds (as the attestor's builder)
        const byHoster = new Map<string, number[]>()
        for (const [i, [id, , perf, hoster]] of part.slice(0, count).entries()) {
          if (perf !== 1 || !passes.has(id)) continue
          if (!byHoster.has(hoster) && byHoster.size === RECORD_LIMITS.aggregateGradesMax) { count = i; failed = failed.filter((f) => f < i); break }
          byHoster.set(hoster, [...(byHoster.get(hoster) ?? []), passes.get(id) as number])
        }
        const grades = [...byHoster.values()].map((g) => g.sort((x, y) => x - y)[(g.length - 1) >> 1])
        result.reports++
        act(a, { kind: 'epoch-report', epoch, from: entry.covered, count, failed, grades, rootHex: hex32(`${o.seed}:root:${epoch}:${a}`) })
        for (const [id] of part.slice(0, count)) passes.delete(id)
      }
    }
  }
  /** Challenge reports from every online attestor that has not reported yet. */
  const challengeReports = (): void => {
    for (const ch of Object.values(state.challenges)) {
      const b = behaviour.get(ch.hoster) ?? 'honest'
      if (ch.kind === 'storage') {
        const attestor = ch.attestors[0]
        if (!online(attestor) || isKept(attestor, ch.id)) continue // missed: the chain times it out
        const lies = behaviour.get(attestor) === 'liar'
        const ok = lies ? false : !storageFails(b)
        if (!lies) {
          const d = det(b)
          d.challenged++
          if (!ok) d.failed++
          if (b === 'honest') result.honestChallenges++
        }
        if (ok && ch.epoch !== undefined) { keep(attestor, ch.id, null); continue }
        result.reports++
        act(attestor, { kind: 'storage-report', challengeId: ch.id, ok, reason: ok ? 'NONE' : (b === 'offline' ? 'UNREACHABLE' : 'WRONG_COMMITMENT') })
        continue
      }
      for (const attestor of ch.attestors) {
        if (!online(attestor) || ch.reports.some((r) => r.attestor === attestor) || isKept(attestor, ch.id)) continue
        const lies = behaviour.get(attestor) === 'liar'
        const reachable = !lies && b !== 'offline'
        const slow = b === 'throttler'
        const ttfbMs = !reachable ? LATENCY_MS_MAX : slow ? 1400 : 40 + Math.floor(rng.next() * 80)
        const throughputBps = !reachable ? 0 : slow ? 100 * 1024 : 4 * 1024 * 1024 + Math.floor(rng.next() * 4 * 1024 * 1024)
        if (reachable && ch.epoch !== undefined) {
          const above = Number(performanceUnits(ttfbMs, throughputBps) - MARKET_PARAMS.units.performanceMin)
          keep(attestor, ch.id, above - (above % RECORD_LIMITS.aggregateUnitsStep))
          continue
        }
        result.reports++
        act(attestor, { kind: 'performance-report', challengeId: ch.id, reachable, ttfbMs, throughputBps, measureKeyHex: hex32(`${o.seed}:measure:${measure++}`) })
      }
      if (b === 'offline' && ch.reports.length === 0) { det(b).challenged++; det(b).failed++ }
    }
  }
  /** The operator pays what is owed: at most MARKET_PARAMS.transfersPerAction payees per payout action. */
  const payouts = (): void => {
    const items = []
    const per = new Map<string, bigint>()
    // as the operator (operator.ts dueOwedItems): with epochs, rewards owed before the payout point and refunds
    const cutoff = payoutCutoff(state)
    for (const it of owedItems(state, 200).filter((i) => i.reason === 'refund' || i.block < cutoff)) {
      if (!per.has(it.to) && per.size >= MARKET_PARAMS.transfersPerAction) continue
      per.set(it.to, (per.get(it.to) ?? 0n) + it.amountPlanck)
      items.push(it)
    }
    if (items.length > 0) {
      pending.push({ index: pending.length, signer: escrow, remarks: [encodeRecord({ kind: 'payout', items: items.map((i) => i.id) })], transfers: [...per].map(([to, amountPlanck]) => ({ from: escrow, to, amountPlanck })) })
    }
  }
  /** Availability: a contract is available while one hosting slot's hoster is online and holds the data. */
  const sample = (): void => {
    let avail = 0
    let total = 0
    let unassigned = 0
    for (const c of Object.values(state.contracts)) {
      total++
      const good = c.slots.some((s) => s.state === 'hosting' && s.hoster !== null && ['honest', 'throttler', 'liar'].includes(behaviour.get(s.hoster) as string))
      if (good) avail++
      else if (c.slots.some((s) => s.state === 'hosting')) lost.add(c.id)
      gibBlocks += (o.availabilityEvery ?? 1) * c.slots.filter((s) => s.state === 'hosting').length * contractGiB
      unassigned += c.slots.filter((s) => s.state === 'unassigned').length
    }
    availSum += total === 0 ? 1 : avail / total
    availSamples++
    result.unassignedSlots = unassigned
    result.unassignedSlotsMax = Math.max(result.unassignedSlotsMax, unassigned)
  }
  const step = (): void => {
    addNoise()
    setupReports()
    challengeReports()
    epochReports((state.block?.number ?? 0) + 1)
    payouts()
    block()
  }

  // warm-up: no churn until every slot is hosting (or warmupBlocks)
  const allHosting = (): boolean => state.pending.length === 0 && inSetup.size === 0 && Object.values(state.contracts).every((c) => c.slots.every((s) => s.state === 'hosting'))
  while (result.warmup < (o.warmupBlocks ?? 0) && !allHosting()) { step(); result.warmup++ }
  timing = true
  for (let t = 0; t < o.blocks; t++) {
    if (t === Math.floor(o.blocks / 2)) { halfAccrued = accruedNow(); halfGibBlocks = gibBlocks }
    churn()
    step()
    if (t % (o.availabilityEvery ?? 1) === 0) { sample(); result.heapMiB.max = Math.max(result.heapMiB.max, heapMiB()) }
  }
  result.heapMiB.end = heapMiB()
  if (o.measureSnapshot === true) {
    const t0 = performance.now()
    try {
      const mib = serializeState(state).length / 2 ** 20
      result.snapshot = { mib, ms: performance.now() - t0 }
    } catch (err) { result.snapshot = { error: String(err) } }
  }
  const c = conservation(state)
  if (!c.ok) result.conservationOk = false
  result.blocks = o.blocks
  result.providers = behaviour.size
  result.contracts = Object.keys(state.contracts).length
  result.availability = availSamples === 0 ? 1 : availSum / availSamples
  result.contractsEverLost = result.contracts === 0 ? 0 : lost.size / result.contracts
  for (const d of Object.values(result.detection)) d.rate = d.challenged === 0 ? 0 : d.failed / d.challenged
  result.paidPlanck = c.payoutsPlanck
  // blocks are 6 s: a month (30 days) is 432 000 blocks; cost is per GiB-month of one hosted copy
  const gibMonths = gibBlocks / 432_000
  let accrued = 0n
  for (const p of Object.values(state.plans)) accrued += p.accruedPlanck
  result.costPlanckPerGiBMonth = gibMonths === 0 ? 0n : BigInt(Math.round(Number(accrued) / gibMonths))
  const steadyMonths = (gibBlocks - halfGibBlocks) / 432_000
  result.steadyCostPlanckPerGiBMonth = steadyMonths === 0 ? 0n : BigInt(Math.round(Number(accrued - halfAccrued) / steadyMonths))
  result.rejected = { ...state.counters.rejected }
  result.liarsLostAttestorRole = lostRole.size
  const tenth = Math.max(1, Math.ceil(blockMsList.length / 10))
  const mean = (xs: number[]): number => xs.length === 0 ? 0 : xs.reduce((x, y) => x + y, 0) / xs.length
  result.stateMachine = {
    meanMs: mean(blockMsList),
    maxMs: Math.max(0, ...blockMsList),
    trendMs: Array.from({ length: Math.ceil(blockMsList.length / tenth) }, (_, i) => mean(blockMsList.slice(i * tenth, (i + 1) * tenth))),
    slowest: blockMsList.map((ms, i) => ({ block: blockNumbers[i], ms })).sort((x, y) => y.ms - x.ms).slice(0, 5)
  }
  return result
}
