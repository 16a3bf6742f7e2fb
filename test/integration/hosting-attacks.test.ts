/**
 * Cheating providers against the live chain: one embedded chain (chopsticks running the real
 * Asset Hub runtime), an operator, Alice (the sponsor, online so encoders can fetch her blocks),
 * three honest attestors and one lying attestor, all engines on a loopback testnet.
 *
 * Each scenario registers fresh providers with only the role it exercises, so the chain's
 * random selection has exactly one candidate: the cheater gets the slot. Once the cheat is
 * caught, an honest spare registers and must take the cheater's place. Throughout, every honest
 * provider's reputation is watched on every block: it must never go down, even though a lying
 * attestor reports every challenge it runs as failed (a failed storage challenge opens a dispute
 * that only independent attestors' agreement decides; performance is graded from the median of
 * three), and every penalty the chain lists must name a cheater.
 *
 * The cheats are injected as HostingService's `behaviour` (test/helpers/hosting-faults.ts).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import type { Testnet } from '@hyperswarm/testnet'
import { waitFor as waitForEvents } from '../helpers/wait.js'
import { TempDirs, loopbackTestnet } from '../helpers/engines.js'
import { startHostingChain, startHostingNode } from '../helpers/hosting-node.js'
import type { Engine } from '../../main/engine/engine.js'
import type { Db } from '../../main/shared/db.js'
import { LocalChain } from '../../main/chain/local-chain.js'
import { ChainService } from '../../main/chain/service.js'
import { MARKET_PARAMS, conservation, roleReputation, type BlockOutcome, type MarketState } from '../../main/chain/marketplace.js'
import type { RoleName } from '../../main/chain/records.js'
import { HostingService } from '../../main/hosting/service.js'
import { cheating, type HostingFaults } from '../helpers/hosting-faults.js'
import { formatLink } from '../../main/engine/paths.js'

const TOKEN = 10n ** 12n

interface Node { name: string, engine: Engine, chain: ChainService, hosting: HostingService, honest: boolean }

const taskErrors: string[] = []

/** waitFor with this file's default timeout and the latest task errors in its message. */
function waitFor (emitters: EventEmitter[], check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  return waitForEvents(emitters, check, what, timeoutMs, () => `task errors: ${taskErrors.slice(-8).join(' | ')}`)
}

describe('cheating providers on the live chain are caught and replaced, and honest ones are never penalised', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let chain: LocalChain
  let operator: ChainService
  let alice: Node
  const attestors: Node[] = []
  let liar: Node
  const nodes: Node[] = []
  const dbs: Db[] = []
  const conservationErrors: string[] = []
  /** Reputation drops of honest providers, as `name: before -> after at block n`. */
  const honestPenalties: string[] = []
  const lastReputation = new Map<string, number>()
  let link = ''
  const market = (): MarketState => operator.market
  const emitters = (): EventEmitter[] => [operator, ...nodes.map((n) => n.hosting)]
  const rep = (n: Node): number | undefined => market().providers[n.chain.addressHex]?.reputation

  async function node (name: string, roles: RoleName[] | null, faults: HostingFaults = {}): Promise<Node> {
    const { engine, chain: cs, hosting } = await startHostingNode({
      testnet, chain, storage: await tmp.make(`datdot-${name}-`), limits: { walkSteps: 64, openings: 4, measureBlocks: 4, commitBaseMs: 5000 }, behaviour: cheating(faults)
    })
    hosting.on('task-error', ({ task, error }: { task: string, error: Error }) => { taskErrors.push(`${name} ${task}: ${error.message}`) })
    const n: Node = { name, engine, chain: cs, hosting, honest: Object.keys(faults).length === 0 }
    nodes.push(n)
    if (roles !== null) {
      await cs.faucet(10n * TOKEN)
      await hosting.setSeeding({ on: true, storageBytes: 2 ** 30, bandwidthBps: 50_000_000, region: 'eu', roles })
    }
    return n
  }

  async function retire (n: Node): Promise<void> {
    if (market().providers[n.chain.addressHex] !== undefined) await n.hosting.setSeeding({ on: false })
  }

  beforeAll(async () => {
    testnet = await loopbackTestnet(4)
    const started = await startHostingChain(tmp, { chunksPerContract: 10, challengeIntervalBlocks: 8, challengeTimeoutBlocks: 40, performanceAttestors: 3, epochBlocks: 8 })
    chain = started.chain
    operator = started.operator
    dbs.push(started.db)
    operator.on('block', (out: BlockOutcome) => {
      // HOSTING_ATTACKS_TRACE=1: the chain's notices of each block, providers by name
      if (process.env.HOSTING_ATTACKS_TRACE) {
        for (const line of out.notices) process.stderr.write(`[block ${out.number}] ${nodes.reduce((l, n) => l.replaceAll(n.chain.addressHex, n.name), line)}\n`)
      }
      const c = conservation(operator.market)
      if (!c.ok || c.unaccountedOutPlanck !== 0n) conservationErrors.push(`block ${out.number}`)
      for (const n of nodes) {
        const now = rep(n)
        const before = lastReputation.get(n.chain.addressHex)
        if (now === undefined) { lastReputation.delete(n.chain.addressHex); continue }
        if (n.honest && before !== undefined && now < before) honestPenalties.push(`${n.name}: ${before} -> ${now} at block ${out.number}`)
        lastReputation.set(n.chain.addressHex, now)
      }
      // and every penalty the chain lists: none may name an honest provider
      for (const pen of out.penalties) {
        const n = nodes.find((x) => x.chain.addressHex === pen.address)
        if (n?.honest === true) honestPenalties.push(`${n.name}: ${pen.reason} (${pen.detail}) at block ${out.number}`)
      }
    })

    alice = await node('alice', null)
    await alice.chain.faucet(1000n * TOKEN)
    for (const [path, size] of [['/a.bin', 200_000], ['/b.bin', 150_000]] as const) await alice.engine.vault.drive.put(path, randomBytes(size))
    link = formatLink(alice.engine.vault.drive.key)

    for (let i = 1; i <= 3; i++) attestors.push(await node(`attestor${i}`, ['attestor']))
    liar = await node('liar', ['attestor'], { failHonest: true })
  }, 240_000)

  afterAll(async () => {
    // the nodes are independent: each closes its hosting (which stops its own tasks), then its chain and engine
    await Promise.all(nodes.map(async (n) => {
      await n.hosting.close()
      await n.chain.close()
      await n.engine.close()
    }))
    await operator?.close()
    await chain?.close()
    for (const db of dbs) db.close()
    await testnet?.destroy()
    await tmp.cleanup()
  }, 120_000)

  /** Publishes a plan for Alice's vault (replicas 1) and returns its id once every slot is hosting or `until` holds. */
  async function publish (): Promise<number> {
    const res = await alice.hosting.sponsor({ link, replicas: 1, days: 1, pricePlanck: 50n * TOKEN })
    return res.planId
  }

  function slotsOf (planId: number): Array<{ contract: number, hoster: string | null, encoder: string | null, state: string }> {
    const plan = market().plans[planId]
    return plan.contractIds.flatMap((id) => market().contracts[id]?.slots.map((s) => ({ contract: id, hoster: s.hoster, encoder: s.encoder, state: s.state })) ?? [])
  }

  /**
   * One hoster cheat: the cheater is the only hoster when the plan is published, so it gets every
   * slot; once every slot is hosting, an honest spare registers; the cheat must be caught on chain
   * (the cheater's reputation falls) and every slot must end up hosted by the spare.
   */
  async function hosterCheat (name: string, faults: HostingFaults): Promise<{ cheater: Node, spare: Node, planId: number }> {
    const encoder = await node(`${name}-encoder`, ['encoder'])
    const cheater = await node(name, ['hoster'], faults)
    const planId = await publish()
    await waitFor(emitters(), () => slotsOf(planId).every((s) => s.state === 'hosting' && s.hoster === cheater.chain.addressHex), `${name} hosting every slot`)
    const spare = await node(`${name}-spare`, ['hoster'])
    await waitFor(emitters(), () => slotsOf(planId).every((s) => s.state === 'hosting' && s.hoster === spare.chain.addressHex), `the spare replacing ${name}`, 180_000)
    expect(rep(cheater)).toBeLessThan(MARKET_PARAMS.reputationStart)
    await alice.hosting.unpublish(planId)
    for (const n of [encoder, cheater, spare]) await retire(n)
    return { cheater, spare, planId }
  }

  it('catches a hoster that deleted its encoded chunks (storage walk) and hosts its contracts on an honest spare', async () => {
    const { cheater } = await hosterCheat('deleter', { deleteEncoded: true })
    const rows = attestors.flatMap((a) => a.hosting.listProofs(1000)).filter((r) => r.hoster === cheater.chain.addressHex && r.kind === 'storage')
    expect(rows.some((r) => !r.ok && r.reason === 'MISSING_CHUNK')).toBe(true)
  }, 300_000)

  it('catches a hoster that kept only part of its encoded chunks and hosts its contracts on an honest spare', async () => {
    const { cheater } = await hosterCheat('partial', { keepFraction: 0.3 })
    const rows = attestors.flatMap((a) => a.hosting.listProofs(1000)).filter((r) => r.hoster === cheater.chain.addressHex && r.kind === 'storage')
    expect(rows.some((r) => !r.ok)).toBe(true)
  }, 300_000)

  it('catches a hoster that answers storage challenges after the deadline (re-encoding or fetching just in time) and replaces it', async () => {
    const { cheater } = await hosterCheat('late', { lateAnswers: true })
    const rows = attestors.flatMap((a) => a.hosting.listProofs(1000)).filter((r) => r.hoster === cheater.chain.addressHex && r.kind === 'storage')
    expect(rows.some((r) => !r.ok && r.reason === 'DEADLINE_MISSED')).toBe(true)
  }, 300_000)

  it('catches a hoster that refuses ordinary readers (performance checks from fresh keys) and replaces it', async () => {
    const { cheater } = await hosterCheat('refuser', { refuseReaders: true })
    const rows = attestors.flatMap((a) => a.hosting.listProofs(1000)).filter((r) => r.hoster === cheater.chain.addressHex && r.kind === 'performance')
    expect(rows.some((r) => !r.ok)).toBe(true)
  }, 300_000)

  it('stops a wrong encoding at the attestor, blames the encoder (not the hoster) and sets the slot up with an honest encoder', async () => {
    const hoster = await node('enc-hoster', ['hoster'])
    const cheater = await node('bad-encoder', ['encoder'], { corruptEncoding: true })
    // the blame costs the encoder's reputation (one per role), not the hoster's
    const encoderRep = (): number | undefined => { const p = market().providers[cheater.chain.addressHex]; return p === undefined ? undefined : roleReputation(p, 'encoder') }
    const start = encoderRep() as number
    const planId = await publish()
    await waitFor(emitters(), () => (encoderRep() ?? start) < start, 'the wrong encoder blamed')
    // the hoster keeps its slot and was not penalised; an honest encoder takes the job
    expect(slotsOf(planId).every((s) => s.hoster === hoster.chain.addressHex)).toBe(true)
    expect(slotsOf(planId).every((s) => s.state !== 'hosting')).toBe(true)
    const encoder = await node('good-encoder', ['encoder'])
    await waitFor(emitters(), () => slotsOf(planId).every((s) => s.state === 'hosting' && s.hoster === hoster.chain.addressHex), 'the slots set up by the honest encoder', 180_000)
    expect(hoster.hosting.counters.stored).toBeGreaterThan(0)
    await alice.hosting.unpublish(planId)
    for (const n of [hoster, cheater, encoder]) await retire(n)
  }, 300_000)

  it('takes the attestor role from the lying attestor once independent re-checks contradict it, and never penalises an honest hoster', async () => {
    // the liar has reported failures against honest hosters in the scenarios above, or does now;
    // each failure opens a dispute that two other attestors settle with passes: the liar loses it
    const hoster = await node('plain-hoster', ['hoster'])
    const encoder = await node('plain-encoder', ['encoder'])
    // the liar is drawn for a storage challenge in proportion to its reputation, which falls with
    // each lost dispute: a bigger vault (about 30 more chunks, three times the slots) gives it
    // three times the challenges a block, so its third lost dispute comes in blocks, not minutes
    await alice.engine.vault.drive.put('/c.bin', randomBytes(2_000_000))
    const planId = await publish()
    const attesting = (): number => {
      const p = market().providers[liar.chain.addressHex]
      return p === undefined ? MARKET_PARAMS.reputationStart : roleReputation(p, 'attestor')
    }
    const progress = (): string => {
      const p = market().providers[liar.chain.addressHex]
      const lies = liar.hosting.listProofs(1000).filter((r) => !r.ok)
      return `liar's attestor reputation ${attesting()}, ${lies.length} failures reported (${lies.filter((r) => r.kind === 'storage').length} storage), not chosen until block ${p?.attestSuspendedUntil ?? '-'}; block ${operator.market.block?.number ?? '-'}`
    }
    await waitForEvents(emitters(), () => attesting() < MARKET_PARAMS.reputationFloor, 'the lying attestor below the attestor floor', 240_000, () => `${progress()}; task errors: ${taskErrors.slice(-4).join(' | ')}`)
    const lies = liar.hosting.listProofs(1000).filter((r) => !r.ok)
    expect(lies.length).toBeGreaterThanOrEqual(Math.ceil((MARKET_PARAMS.reputationStart - MARKET_PARAMS.reputationFloor) / MARKET_PARAMS.penalties.lostDispute))
    await alice.hosting.unpublish(planId)
    for (const n of [hoster, encoder]) await retire(n)
  }, 300_000)

  it('kept every honest provider’s reputation from ever going down, and escrow conservation on every block', () => {
    expect(honestPenalties).toEqual([])
    expect(conservationErrors).toEqual([])
    for (const a of attestors) expect(roleReputation(market().providers[a.chain.addressHex], 'attestor')).toBeGreaterThanOrEqual(MARKET_PARAMS.reputationStart)
  })
})
