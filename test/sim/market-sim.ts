/**
 * A simulation of the marketplace state machine (main/chain/marketplace.ts) with many providers
 * under churn and attacks. Records go through the real codec and `applyBlock`; only the P2P side
 * is modelled: an attestor's report is what the hosting service would report for the hoster's
 * behaviour (docs/protocol.md sections 5 and 6).
 *
 * Behaviours: honest; `deleter` (lost a fraction `lossFraction` of its encoded chunks: a storage
 * walk of K steps with m openings fails with probability 1-(1-a)^m... the walk visits nearly
 * every chunk, so a faked step is opened with that probability); `offline` (churned away: fails
 * every challenge); `throttler` (serves slowly: passes storage, performance at a high latency);
 * `sybil` (one copy for several identities: each identity's replica is keyed to it, so it holds
 * 1/identities of what it must: a deleter with a = 1 - 1/identities).
 */
import { createHash } from 'node:crypto'
import { applyBlock, initialState, conservation, owedItems, MARKET_PARAMS, type MarketState, type Action, type BlockInput } from '../../main/chain/marketplace.js'
import { encodeRecord, type MarketRecord } from '../../main/chain/records.js'

export type Behaviour = 'honest' | 'deleter' | 'offline' | 'throttler' | 'sybil'

export interface SimOptions {
  providers: number
  sponsors: number
  plansPerSponsor: number
  chunksPerPlan: number
  replicas: number
  blocks: number
  /** Per block, the chance that an honest provider goes offline for good (churn), and that a new one joins. */
  churnPerBlock: number
  attackers: Partial<Record<Exclude<Behaviour, 'honest' | 'offline'>, number>>
  lossFraction: number
  sybilIdentities: number
  openings: number
  seed: string
}

export interface SimResult {
  blocks: number
  providers: number
  contracts: number
  /** Mean over blocks of the fraction of contracts with at least one hoster holding all its data and online. */
  availability: number
  /** Fraction of contracts that ever had no good copy during the run. */
  contractsEverLost: number
  detection: Record<string, { challenged: number, failed: number, rate: number, dropped: number }>
  honestPenalised: number
  honestChallenges: number
  costPlanckPerGiBMonth: bigint
  paidPlanck: bigint
  conservationOk: boolean
  rejected: Record<string, number>
}

class Rng {
  private n = 0
  constructor (private readonly seed: string) {}
  next (): number {
    const h = createHash('sha256').update(`${this.seed}:${this.n++}`).digest()
    return h.readUInt32BE(0) / 2 ** 32
  }
}

function hex32 (s: string): string { return createHash('sha256').update(s).digest('hex') }
function acct (s: string): string { return '0x' + hex32(s) }

export function simulate (o: SimOptions): SimResult {
  const rng = new Rng(o.seed)
  const state: MarketState = initialState()
  const escrow = acct('escrow')
  const unitPricePlanck = 10n ** 9n
  const behaviour = new Map<string, Behaviour>()
  let nextProvider = 0
  let parent = '0x' + '00'.repeat(32)
  let number = 0
  let pending: Action[] = []
  const act = (signer: string, rec: MarketRecord, transfers: Action['transfers'] = []): void => {
    pending.push({ index: pending.length, signer, remarks: [encodeRecord(rec)], transfers })
  }
  const result: SimResult = {
    blocks: 0, providers: 0, contracts: 0, availability: 0, contractsEverLost: 0, detection: {}, honestPenalised: 0, honestChallenges: 0,
    costPlanckPerGiBMonth: 0n, paidPlanck: 0n, conservationOk: true, rejected: {}
  }
  const block = (): void => {
    number++
    const hash = '0x' + hex32(`${o.seed}:block:${number}`)
    const input: BlockInput = { number, hash, parentHash: parent, timeMs: number * 6000, actions: pending }
    pending = []
    parent = hash
    const out = applyBlock(state, input)
    if (!conservation(state).ok) result.conservationOk = false
    for (const notice of out.notices) {
      const m = /^hoster (0x[0-9a-f]+) of contract \d+ failed/.exec(notice)
      if (m !== null) {
        const b = behaviour.get(m[1] as string) ?? 'honest'
        const d = result.detection[b] ?? (result.detection[b] = { challenged: 0, failed: 0, rate: 0, dropped: 0 })
        d.dropped++
      }
    }
  }
  const addProvider = (b: Behaviour): void => {
    const a = acct(`provider:${nextProvider++}`)
    behaviour.set(a, b)
    act(a, { kind: 'register', roles: 7, storageBytes: 2 ** 34, bandwidthBps: 10_000_000, region: ['eu', 'us', 'asia'][nextProvider % 3] as string, noiseKeyHex: hex32(a) })
  }

  act(acct('operator'), { kind: 'network', operators: [acct('operator')], threshold: 1, escrow, unitPricePlanck })
  block()
  for (let i = 0; i < o.providers; i++) addProvider('honest')
  for (const [b, n] of Object.entries(o.attackers)) for (let i = 0; i < (n ?? 0); i++) addProvider(b as Behaviour)
  block()
  for (let s = 0; s < o.sponsors; s++) {
    for (let p = 0; p < o.plansPerSponsor; p++) {
      const budget = 10n ** 15n
      act(acct(`sponsor:${s}`), { kind: 'publish', drives: [{ keyHex: hex32(`drive:${s}:${p}`), ranges: [[0, o.chunksPerPlan]] }], replicas: o.replicas, durationBlocks: o.blocks + 10, budgetPlanck: budget }, [{ from: acct(`sponsor:${s}`), to: escrow, amountPlanck: budget }])
    }
  }
  block()

  const lost = new Set<number>()
  let availSum = 0
  let gibBlocks = 0
  const contractGiB = (MARKET_PARAMS.chunksPerContract * MARKET_PARAMS.chunkBytes) / 2 ** 30
  for (let t = 0; t < o.blocks; t++) {
    // churn: honest providers leave (their slots fail their next challenges) and new ones join
    for (const [a, b] of behaviour) {
      if (b === 'honest' && rng.next() < o.churnPerBlock) behaviour.set(a, 'offline')
    }
    if (rng.next() < o.churnPerBlock * o.providers) addProvider('honest')
    // setup reports: the attestor reports each slot ok unless its hoster is offline
    for (const c of Object.values(state.contracts)) {
      if (c.attestor === null || behaviour.get(c.attestor) === 'offline') continue
      if (!c.slots.some((s) => s.state === 'setup')) continue
      act(c.attestor, { kind: 'setup-report', contractId: c.id, slotsOk: c.slots.map((s) => s.hoster !== null && behaviour.get(s.hoster) !== 'offline') })
    }
    // challenge reports
    for (const ch of Object.values(state.challenges)) {
      if (behaviour.get(ch.attestor) === 'offline') continue // missed: the chain times it out
      const b = behaviour.get(ch.hoster) ?? 'honest'
      let ok = true
      let latencyMs = 60
      if (b === 'offline') ok = false
      else if (ch.kind === 'storage' && (b === 'deleter' || b === 'sybil')) {
        const a = b === 'deleter' ? o.lossFraction : 1 - 1 / o.sybilIdentities
        ok = rng.next() < (1 - a) ** o.openings
      } else if (ch.kind === 'performance' && b === 'throttler') latencyMs = 1400
      const d = result.detection[b] ?? (result.detection[b] = { challenged: 0, failed: 0, rate: 0, dropped: 0 })
      if (ch.kind === 'storage' || b === 'offline') { d.challenged++; if (!ok) d.failed++ }
      if (b === 'honest') result.honestChallenges++
      if (ch.kind === 'storage') act(ch.attestor, { kind: 'storage-report', challengeId: ch.id, ok })
      else act(ch.attestor, { kind: 'performance-report', challengeId: ch.id, ok, latencyMs })
    }
    // the operator pays what is owed
    // at most MARKET_PARAMS.transfersPerAction payees per payout action (one transfer each)
    const items = []
    const per = new Map<string, bigint>()
    for (const it of owedItems(state, 200)) {
      if (!per.has(it.to) && per.size >= MARKET_PARAMS.transfersPerAction) continue
      per.set(it.to, (per.get(it.to) ?? 0n) + it.amountPlanck)
      items.push(it)
    }
    if (items.length > 0) {
      pending.push({ index: pending.length, signer: escrow, remarks: [encodeRecord({ kind: 'payout', items: items.map((i) => i.id) })], transfers: [...per].map(([to, amountPlanck]) => ({ from: escrow, to, amountPlanck })) })
    }
    block()
    // availability: a contract is available while one hosting slot's hoster is online and holds the data
    let avail = 0
    let total = 0
    for (const c of Object.values(state.contracts)) {
      total++
      const good = c.slots.some((s) => s.state === 'hosting' && s.hoster !== null && (behaviour.get(s.hoster) === 'honest' || behaviour.get(s.hoster) === 'throttler'))
      if (good) avail++
      else if (c.slots.some((s) => s.state === 'hosting')) lost.add(c.id)
      gibBlocks += c.slots.filter((s) => s.state === 'hosting').length * contractGiB
    }
    availSum += total === 0 ? 1 : avail / total
  }
  for (const [a, b] of behaviour) {
    if (b !== 'honest') continue
    const p = state.providers[a]
    if (p !== undefined && p.reputation < MARKET_PARAMS.reputationStart) result.honestPenalised++
  }
  const c = conservation(state)
  result.blocks = o.blocks
  result.providers = behaviour.size
  result.contracts = Object.keys(state.contracts).length
  result.availability = availSum / o.blocks
  result.contractsEverLost = result.contracts === 0 ? 0 : lost.size / result.contracts
  for (const d of Object.values(result.detection)) d.rate = d.challenged === 0 ? 0 : d.failed / d.challenged
  result.paidPlanck = c.payoutsPlanck
  // blocks are 6 s: a month is 432 000 blocks
  const gibMonths = gibBlocks / 432_000
  let accrued = 0n
  for (const p of Object.values(state.plans)) accrued += p.accruedPlanck
  result.costPlanckPerGiBMonth = gibMonths === 0 ? 0n : BigInt(Math.round(Number(accrued) / gibMonths))
  result.rejected = { ...state.counters.rejected }
  return result
}

