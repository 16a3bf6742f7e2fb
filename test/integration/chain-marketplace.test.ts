/**
 * The marketplace on the real Asset Hub runtime (chopsticks, in-process, one chain for the file):
 * an operator (the process that runs the chain), a sponsor and five providers, each with its own
 * database and keys; two of them reach the chain over its loopback WebSocket server.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { LocalChain } from '../../main/chain/local-chain.js'
import { ChainService } from '../../main/chain/service.js'
import { conservation, type BlockOutcome } from '../../main/chain/marketplace.js'
import { EARNING_REASONS } from '../../main/ledger/ledger.js'
import { createChainHandlers } from '../../main/api/handlers-chain.js'
import type { NetworkParams, SetupSlot } from '../../main/chain/records.js'
import { createRootFixture, providerKeys, signReceipt, type RootFixture } from '../sim/roots-fixture.js'

const TOKEN = 10n ** 12n
const PARAMS: NetworkParams = { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 10, performanceAttestors: 3 }
const KEYS = ['p1', 'p2', 'p3', 'p4', 'p5'].map((n) => providerKeys(`chain-it:${n}`))
const RECEIPTS_ROOT = '3c'.repeat(32)

describe('marketplace on the embedded Asset Hub runtime', () => {
  let root: string
  let chain: LocalChain
  let fx: RootFixture
  const dbs: Db[] = []
  const services: ChainService[] = []
  let operator: ChainService
  let sponsor: ChainService
  let providers: ChainService[]
  const conservationChecks: Array<Promise<void>> = []
  const blocksChecked: number[] = []

  async function service (name: string, how: 'in-process' | 'ws', operatorRole = false): Promise<ChainService> {
    const storage = join(root, name)
    const db = openDatabase(join(root, `${name}.db`))
    dbs.push(db)
    const s = how === 'in-process'
      ? new ChainService({ storage, endpoint: 'embedded', db, localChain: chain, operator: operatorRole })
      : new ChainService({ storage, endpoint: chain.url as string, db })
    services.push(s)
    await s.ready()
    return s
  }

  /** Waits until the operator paid what it could and every daemon followed the chain head. */
  async function sync (): Promise<void> {
    for (;;) {
      await operator.idle()
      const head = chain.headNumber
      for (const s of services) await s.waitFollowed(head)
      await operator.idle()
      if (chain.headNumber === head && !operator.busy) return
    }
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'datdot-chain-'))
    fx = await createRootFixture([20])
    chain = await LocalChain.open({ dir: join(root, 'chain'), port: 0, networkParams: PARAMS })
    operator = await service('operator', 'in-process', true)
    // Conservation on every block the operator follows: the marketplace's books balance, and the
    // escrow account on chain holds exactly baseline + what the marketplace says it holds.
    operator.on('block', (out: BlockOutcome) => {
      const c = conservation(operator.market)
      expect(c.ok).toBe(true)
      expect(c.unaccountedOutPlanck).toBe(0n)
      const escrow = operator.escrowAddress
      if (escrow === null) return
      const expected = operator.escrowBaseline + c.expectedEscrowPlanck
      conservationChecks.push(operator.balanceOf(escrow, out.hash).then((bal) => { expect(bal).toBe(expected); blocksChecked.push(out.number) }))
    })
    sponsor = await service('sponsor', 'ws')
    providers = [
      await service('p1', 'in-process'),
      await service('p2', 'in-process'),
      await service('p3', 'ws'),
      await service('p4', 'in-process'),
      await service('p5', 'in-process')
    ]
  }, 240_000)

  afterAll(async () => {
    for (const s of services) await s.close()
    await chain?.close()
    for (const db of dbs) db.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('knows the network record, the token and checks the calls it needs', async () => {
    expect(operator.isOperator).toBe(true)
    expect(sponsor.isOperator).toBe(false)
    expect(sponsor.market.network?.escrow).toBe(chain.keys.escrowHex)
    expect(sponsor.market.network?.params).toEqual(PARAMS)
    const st = sponsor.status()
    expect(st).toMatchObject({ connected: true, tokenSymbol: 'ROC', tokenDecimals: 12, })
    expect(st.chainName).toMatch(/rococo/i)
    expect(st.endpoint).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    const fee = await sponsor.estimateFee({ kind: 'unregister' })
    expect(fee).toBeGreaterThan(0n)
  })

  it('funds accounts from the dev faucet with signed transfers the ledger records', async () => {
    await sponsor.faucet(1000n * TOKEN)
    for (const p of providers) await p.faucet(10n * TOKEN)
    const w = await sponsor.wallet()
    expect(BigInt(w.free)).toBe(1000n * TOKEN)
    const rows = sponsor.ledger.allEntries().filter((e) => e.reason === 'faucet' && e.account === sponsor.address)
    expect(rows).toHaveLength(1)
    expect(rows[0].amount).toBe((1000n * TOKEN).toString())
  })

  it('registers providers, publishes a plan with escrow, runs setup, challenges, payouts and unpublish with refund', async () => {
    for (const [i, p] of providers.entries()) {
      await p.registerProvider({ roles: ['encoder', 'hoster', 'attestor'], storageBytes: 2 ** 30, bandwidthBps: 1e7, region: 'eu', noiseKeyHex: KEYS[i].publicKeyHex })
    }
    const budget = 50n * TOKEN
    const drives = [{ keyHex: fx.keyHex, ranges: [[0, 20]] as Array<[number, number]>, root: fx.roots[0] }]
    const feeEstimate = await sponsor.estimateFee({ kind: 'publish', drives, replicas: 2, durationBlocks: 500, budgetPlanck: budget }, [{ to: chain.keys.escrowHex, amountPlanck: budget }])
    const before = BigInt((await sponsor.wallet()).free)
    const { planId } = await sponsor.publishPlan({ drives, replicas: 2, durationBlocks: 500, budgetPlanck: budget })
    expect(planId).toBe(1)
    const after = BigInt((await sponsor.wallet()).free)
    expect(before - after - budget).toBeGreaterThan(0n) // the fee
    expect(before - after - budget).toBeLessThanOrEqual(feeEstimate * 2n)
    const budgetRows = sponsor.ledger.allEntries().filter((e) => e.reason === 'budget')
    expect(budgetRows.map((r) => r.amount).sort()).toEqual([(-budget).toString(), budget.toString()].sort())

    const byAddress = new Map(providers.map((p) => [p.addressHex, p]))
    const keyOf = new Map(providers.map((p, i) => [p.addressHex, KEYS[i]]))
    const market = (): typeof sponsor.market => operator.market
    // setup: every contract's attestor reports all slots ok
    await sync()
    expect(market().pending).toEqual([])
    await Promise.all(Object.values(market().contracts).map(async (c) => {
      const att = byAddress.get(c.attestor as string) as ChainService
      const slots: SetupSlot[] = c.slots.map((s) => {
        const k = keyOf.get(s.hoster as string)
        if (k === undefined) return { ok: false, reason: 'hoster-missing' }
        return { ok: true, receiptsRootHex: RECEIPTS_ROOT, receiptHex: signReceipt(k.secretKey, c.id, c.keyHex, c.root.length, RECEIPTS_ROOT) }
      })
      await att.submitSetupReport(c.id, slots)
    }))
    await sync()
    expect(Object.values(market().contracts).every((c) => c.slots.every((s) => s.state === 'hosting' && s.receiptsRootHex === RECEIPTS_ROOT))).toBe(true)
    expect(Object.values(market().contracts).every((c) => c.root.treeHashHex === fx.roots[0].treeHashHex)).toBe(true)

    // challenges: build blocks until enough were answered
    let answered = 0
    let measure = 0
    const kinds = new Set<string>()
    for (let i = 0; i < 60 && (answered < 6 || kinds.size < 2); i++) {
      const open = Object.values(market().challenges)
      if (open.length === 0) { await operator.newBlock(); await sync(); continue }
      const reports: Array<Promise<unknown>> = []
      for (const ch of open) {
        kinds.add(ch.kind)
        if (ch.kind === 'storage') reports.push((byAddress.get(ch.attestors[0]) as ChainService).submitStorageReport(ch.id, true, 'NONE'))
        else {
          for (const a of ch.attestors) {
            if (ch.reports.some((r) => r.attestor === a)) continue
            const measureKeyHex = String(++measure).padStart(64, '0')
            reports.push((byAddress.get(a) as ChainService).submitPerformanceReport(ch.id, { reachable: true, ttfbMs: 150, throughputBps: 2 << 20, measureKeyHex }))
          }
        }
      }
      answered += reports.length
      await Promise.all(reports)
      await sync()
    }
    expect(answered).toBeGreaterThanOrEqual(6)
    expect([...kinds].sort()).toEqual(['performance', 'storage'])
    expect(operator.market.counters.rejected).toEqual({})
    // the operator pays after each block it follows; one more block settles the last payout
    await operator.newBlock()
    await sync()
    expect(operator.counters.payouts).toBeGreaterThan(0)
    expect(operator.counters.payoutFailures).toBe(0)

    let earned = 0n
    for (const p of providers) {
      const rows = p.ledger.allEntries().filter((e) => e.account === p.address && (EARNING_REASONS as readonly string[]).includes(e.reason))
      for (const r of rows) earned += BigInt(r.amount)
      const earnings = p.ledger.earnings({ fromMs: 0, toMs: Date.now() + 86_400_000 * 365, account: p.address })
      expect(earnings.reduce((a, r) => a + BigInt(r.amount), 0n)).toBe(rows.reduce((a, r) => a + BigInt(r.amount), 0n))
    }
    expect(earned).toBeGreaterThan(0n)
    expect(earned).toBe(conservation(operator.market).payoutsPlanck)

    // unpublish: the unspent budget goes back to the sponsor, with a refund row
    await sponsor.unpublish(planId)
    await operator.newBlock()
    await sync()
    const refund = sponsor.ledger.allEntries().filter((e) => e.reason === 'refund' && e.account === sponsor.address)
    expect(refund).toHaveLength(1)
    const k = conservation(operator.market)
    expect(k.heldPlanck).toBe(0n)
    expect(k.payoutsPlanck + k.refundsPlanck).toBe(budget)
    expect(BigInt(refund[0].amount)).toBe(k.refundsPlanck)
  })

  it('derives the identical marketplace state in every daemon and ledgers that equal the chain', async () => {
    await operator.newBlock()
    await sync()
    const digests = new Set(services.map((s) => s.stateDigest()))
    expect(digests.size).toBe(1)
    for (const s of services) {
      expect(s.counters.reconciles).toBe(0)
      expect(s.ledger.balance(s.address)).toBe(await s.balanceOf(s.address))
      s.ledger.checkInvariants()
    }
    await Promise.all(conservationChecks)
    expect(blocksChecked.length).toBeGreaterThan(10)
  })

  it('submits concurrent transactions of one signer without a nonce clash', async () => {
    const before = await Promise.all(providers.slice(0, 3).map((p) => p.balanceOf(p.address)))
    await Promise.all(providers.slice(0, 3).map((p) => operator.faucet(TOKEN, p.address)))
    await sync()
    const after = await Promise.all(providers.slice(0, 3).map((p) => p.balanceOf(p.address)))
    expect(after.map((a, i) => a - before[i])).toEqual([TOKEN, TOKEN, TOKEN])
  })

  it('gives dev tokens through the API on a local chain and refuses a non-positive amount', async () => {
    const api = createChainHandlers({ chain: providers[1], ledger: providers[1].ledger })
    const before = BigInt((await api.getWallet({})).free)
    const after = BigInt((await api.requestDevTokens({ amount: TOKEN.toString() })).free)
    expect(after - before).toBe(TOKEN)
    await expect(api.requestDevTokens({ amount: '0' })).rejects.toThrow(/positive/)
  })

  it('coalesces records a node submits while one is in flight into one extrinsic, each caller getting its own outcome', async () => {
    const p = providers[4]
    const before = { batches: p.counters.batches, records: p.counters.batchedRecords }
    const results = await Promise.allSettled([
      p.pause(5),
      p.unpause(),
      p.submitStorageReport(999_999, true, 'NONE'),
      p.pause(3),
      p.unpause()
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/storage-report record: out-of-order/)
    const blocks = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ blockNumber: number, index: number, applied: string[] }>).value)
    // the first goes alone, the other four wait for it and go together in one batch
    expect(p.counters.batches - before.batches).toBe(2)
    expect(p.counters.batchedRecords - before.records).toBe(5)
    expect(new Set(blocks.slice(1).map((b) => `${b.blockNumber}:${b.index}`)).size).toBe(1)
    expect(blocks.every((b) => b.applied.length === 1 && b.applied[0] === `provider:${p.addressHex}`)).toBe(true)
    expect(p.market.providers[p.addressHex].pausedUntil).toBe(0)
  })

  it('refuses a record the marketplace rejects, with the reason', async () => {
    await expect(providers[0].unpublish(1)).rejects.toThrow(/wrong-signer|replayed/)
    await expect(sponsor.faucet(0n)).rejects.toThrow(/out of range/)
  })
})
