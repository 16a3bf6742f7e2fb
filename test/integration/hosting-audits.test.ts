/**
 * Third-party audits of aggregated storage passes on the live chain (main/chain/audits.ts,
 * main/hosting/audits.ts): one embedded chain with epochs of 8 blocks, engines on a loopback
 * testnet. When an attestor's epoch aggregate lands, the chain draws storage passes it covers and
 * issues one more storage check of each one's slot (the audit check) to another attestor, the auditor, which asks the audited
 * attestor for the leaf and its merkle path (checked against the root on chain) and has the hoster
 * walk the sampled check's seed again (the commitment must be the leaf's evidence).
 *
 * 1. Honest attestors and an honest hoster: the audits pass.
 * 2. An attestor that passes every storage check without walking (colluding with a hoster that
 *    deleted its encoded chunks) is the only attestor while the hoster is checked; its aggregate's
 *    passes are drawn for audit; an honest auditor registers, the chain gives it the audit check,
 *    and the audit finds the hoster failed: the audit check's failure opens a dispute of the slot.
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
import type { LocalChain } from '../../main/chain/local-chain.js'
import type { ChainService } from '../../main/chain/service.js'
import type { MarketState } from '../../main/chain/marketplace.js'
import type { RoleName } from '../../main/chain/records.js'
import type { HostingService } from '../../main/hosting/service.js'
import type { AuditResult } from '../../main/hosting/audits.js'
import { cheating, type HostingFaults } from '../helpers/hosting-faults.js'
import { formatLink } from '../../main/engine/paths.js'

const TOKEN = 10n ** 12n

interface Node { name: string, engine: Engine, chain: ChainService, hosting: HostingService, audits: AuditResult[] }

const taskErrors: string[] = []

function waitFor (emitters: EventEmitter[], check: () => boolean, what: string, timeoutMs = 150_000, detail: () => string = () => ''): Promise<void> {
  return waitForEvents(emitters, check, what, timeoutMs, () => `${detail()}; task errors: ${taskErrors.slice(-6).join(' | ')}`)
}

describe('a third party audits aggregated storage passes against the root on chain and the hoster\'s data', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let chain: LocalChain
  let operator: ChainService
  let alice: Node
  const nodes: Node[] = []
  const dbs: Db[] = []
  let link = ''
  const market = (): MarketState => operator.market
  const emitters = (): EventEmitter[] => [operator, ...nodes.map((n) => n.hosting)]
  const addr = (n: Node): string => n.chain.addressHex
  const block = (): string => `block ${market().block?.number ?? '-'}`

  async function node (name: string, roles: RoleName[] | null, faults: HostingFaults = {}): Promise<Node> {
    const { engine, chain: cs, hosting } = await startHostingNode({
      testnet, chain, storage: await tmp.make(`datdot-${name}-`), limits: { walkSteps: 64, openings: 4, measureBlocks: 4, commitBaseMs: 5000 }, behaviour: cheating(faults)
    })
    hosting.on('task-error', ({ task, error }: { task: string, error: Error }) => { taskErrors.push(`${name} ${task}: ${error.message}`) })
    const n: Node = { name, engine, chain: cs, hosting, audits: [] }
    hosting.on('audit', (r: AuditResult) => { n.audits.push(r) })
    nodes.push(n)
    if (roles !== null) await register(n, roles)
    return n
  }

  async function register (n: Node, roles: RoleName[]): Promise<void> {
    await n.chain.faucet(10n * TOKEN)
    await n.hosting.setSeeding({ on: true, storageBytes: 2 ** 30, bandwidthBps: 50_000_000, region: 'eu', roles })
  }

  async function retire (n: Node): Promise<void> {
    if (market().providers[addr(n)] !== undefined) await n.hosting.setSeeding({ on: false })
  }

  function slotsOf (planId: number): Array<{ hoster: string | null, state: string }> {
    return market().plans[planId].contractIds.flatMap((id) => market().contracts[id]?.slots ?? [])
  }

  beforeAll(async () => {
    testnet = await loopbackTestnet(4)
    const started = await startHostingChain(tmp, { chunksPerContract: 10, challengeIntervalBlocks: 8, challengeTimeoutBlocks: 24, performanceAttestors: 1, epochBlocks: 8 })
    chain = started.chain
    operator = started.operator
    dbs.push(started.db)
    if (process.env.HOSTING_AUDITS_TRACE) {
      operator.on('block', (out: { number: number, notices: string[] }) => {
        for (const line of out.notices) process.stderr.write(`[block ${out.number}] ${nodes.reduce((l, n) => l.replaceAll(addr(n), n.name), line)}\n`)
      })
    }
    alice = await node('alice', null)
    await alice.chain.faucet(1000n * TOKEN)
    await alice.engine.vault.drive.put('/a.bin', randomBytes(300_000))
    link = formatLink(alice.engine.vault.drive.key)
  }, 240_000)

  afterAll(async () => {
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

  it('passes the audits of honest attestors\' aggregated passes of an honest hoster', async () => {
    const encoder = await node('encoder', ['encoder'])
    const hoster = await node('hoster', ['hoster'])
    const attestors = [await node('attestor1', ['attestor']), await node('attestor2', ['attestor'])]
    const { planId } = await alice.hosting.sponsor({ link, replicas: 1, days: 1, pricePlanck: 50n * TOKEN })
    await waitFor(emitters(), () => slotsOf(planId).every((s) => s.state === 'hosting'), 'every slot hosting')
    const passed = (): number => attestors.reduce((a, n) => a + n.hosting.counters.auditsPassed, 0)
    await waitFor(emitters(), () => passed() >= 2, 'two audits passed', 180_000, () => `${block()}, audits ${JSON.stringify(attestors.map((n) => n.audits))}`)
    const results = attestors.flatMap((n) => n.audits)
    expect(results.filter((r) => !r.ok)).toEqual([])
    for (const n of attestors) {
      // each audit is of the other attestor's pass of the honest hoster
      for (const r of n.audits) expect({ attestor: r.attestor === addr(n), hoster: r.hoster }).toEqual({ attestor: false, hoster: addr(hoster) })
      expect(n.hosting.counters).toMatchObject({ auditsBadLeaf: 0, auditsHosterFailed: 0, auditsWrongEvidence: 0, auditsUnanswered: 0 })
    }
    await alice.hosting.unpublish(planId)
    for (const n of [encoder, hoster, ...attestors]) await retire(n)
  }, 300_000)

  it('catches a colluding attestor\'s made-up pass of a hoster that deleted its chunks, and the audit\'s failure opens a dispute of the slot', async () => {
    const encoder = await node('encoder2', ['encoder'])
    const deleter = await node('deleter', ['hoster'], { deleteEncoded: true })
    const colluder = await node('colluder', ['attestor'], { passStorage: true })
    const { planId } = await alice.hosting.sponsor({ link, replicas: 1, days: 1, pricePlanck: 50n * TOKEN })
    await waitFor(emitters(), () => slotsOf(planId).every((s) => s.state === 'hosting' && s.hoster === addr(deleter)), 'the deleter hosting every slot')
    // the colluder alone attests: its made-up passes go in its aggregates, and the chain draws some for audit
    const samples = (): Array<{ contractId: number, slot: number, recheck: number | null }> => Object.values(market().audits ?? {}).filter((s) => s.attestor === addr(colluder) && s.hoster === addr(deleter))
    await waitFor(emitters(), () => samples().length > 0, 'a pass of the colluder drawn for audit', 180_000, block)
    expect(deleter.hosting.counters.stored).toBeGreaterThan(0)
    // no other attestor: the audit check waits for one
    expect(samples().every((s) => s.recheck === null)).toBe(true)
    const slots = samples().map((s) => [s.contractId, s.slot])
    const auditor = await node('auditor', ['attestor'])
    await waitFor(emitters(), () => auditor.audits.length > 0, 'the auditor\'s audit', 180_000, block)
    for (const r of auditor.audits) {
      expect(r).toMatchObject({ ok: false, reason: 'HOSTER_FAILED', attestor: addr(colluder), hoster: addr(deleter) })
      expect(r.message).toMatch(/MISSING_CHUNK/)
    }
    expect(auditor.hosting.counters).toMatchObject({ auditsSent: auditor.audits.length, auditsHosterFailed: auditor.audits.length, auditsPassed: 0, auditsBadLeaf: 0 })
    // the auditor's audit check failed the hoster on chain: a dispute of the slot, the auditor its accuser
    const accused = (): boolean => slots.some(([c, i]) => market().contracts[c]?.slots[i]?.accusers.storage.includes(addr(auditor)) === true)
    await waitFor(emitters(), accused, 'the auditor accusing the deleter on chain', 120_000, block)
    expect(auditor.hosting.listProofs(100).some((p) => p.hoster === addr(deleter) && !p.ok && p.reason === 'MISSING_CHUNK')).toBe(true)
    await alice.hosting.unpublish(planId)
    for (const n of [encoder, deleter, colluder, auditor]) await retire(n)
  }, 400_000)
})
