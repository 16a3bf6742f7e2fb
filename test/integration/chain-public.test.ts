/**
 * Public-chain readiness on the embedded Asset Hub runtime: a chain with history before the
 * network record (like a public chain); a node given the network (genesis + the record's block)
 * follows from that block, reaches the state of a node that scanned from #1, keeps it across a
 * restart, and a wrong chain or block is refused with its code. The escrow is a 2-of-3 multisig:
 * a payout needs two operators' approvals, each from its own node that checked it, and goes out
 * with the first operator gone (the second proposes once its turn has come).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { LocalChain } from '../../main/chain/local-chain.js'
import { ChainService, type ChainServiceOptions } from '../../main/chain/service.js'
import { conservation } from '../../main/chain/marketplace.js'
import { pendingOps, PROPOSER_TURN_BLOCKS } from '../../main/chain/escrow-multisig.js'
import type { NetworkRef } from '../../main/chain/network-ref.js'
import type { NetworkParams } from '../../main/chain/records.js'
import { DatdotError } from '../../main/shared/errors.js'
import { createRootFixture, type RootFixture } from '../sim/roots-fixture.js'

const TOKEN = 10n ** 12n
const PARAMS: NetworkParams = { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 10, performanceAttestors: 1 }
const HISTORY = 3

describe('a network on a chain with history, with a 2-of-3 escrow', () => {
  let root: string
  let chain: LocalChain
  let fx: RootFixture
  let ref: NetworkRef
  const dbs = new Map<string, Db>()
  const open: ChainService[] = []
  /** Operator A: holds the first operator key only, follows from #1 (no network given). */
  let opA: ChainService
  /** A sponsor that follows from the network record's block. */
  let sponsor: ChainService
  const followErrors: unknown[] = []

  async function service (name: string, opts: Partial<ChainServiceOptions>): Promise<ChainService> {
    let db = dbs.get(name)
    if (db === undefined) { db = openDatabase(join(root, `${name}.db`)); dbs.set(name, db) }
    const s = new ChainService({ storage: join(root, name), endpoint: chain.url as string, db, ...opts })
    await s.ready()
    open.push(s)
    return s
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'datdot-chain-public-'))
    fx = await createRootFixture([20])
    chain = await LocalChain.open({ dir: join(root, 'chain'), port: 0, networkParams: PARAMS, operators: { count: 3, threshold: 2 }, historyBlocks: HISTORY })
    ref = chain.networkRef as NetworkRef
    opA = await service('opA', { endpoint: 'embedded', localChain: chain, operatorKeys: [chain.keys.operators[0]] })
    opA.on('follow-error', (err: unknown) => { followErrors.push(err) })
    sponsor = await service('sponsor', { network: ref })
  }, 240_000)

  afterAll(async () => {
    for (const s of open) await s.close()
    await chain?.close()
    for (const db of dbs.values()) db.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('follows from the network record\'s block and reaches the state of a node that scanned from #1', async () => {
    expect(ref.recordBlock).toBeGreaterThan(HISTORY)
    expect(ref.genesisHash).toBe(chain.genesisHash.toLowerCase())
    expect(sponsor.market.network?.sinceBlock).toBe(ref.recordBlock)
    expect(sponsor.market.network?.threshold).toBe(2)
    // it read nothing before the record's block; the scanner read every block from #1
    expect(sponsor.ledger.appliedBlocks(1000).at(-1)?.number).toBe(ref.recordBlock)
    expect(opA.ledger.appliedBlocks(1000).at(-1)?.number).toBe(1)
    await sponsor.faucet(100n * TOKEN)
    await opA.waitFollowed(chain.headNumber)
    expect(sponsor.stateDigest()).toBe(opA.stateDigest())
    expect(sponsor.ledger.balance(sponsor.address)).toBe(100n * TOKEN)
    expect(sponsor.counters.reconciles).toBe(0)
  })

  it('refuses a wrong block and a wrong chain with their codes, and keeps nothing of them', async () => {
    const refused = async (network: NetworkRef): Promise<DatdotError> => {
      const db = openDatabase(join(root, 'refused.db'))
      const s = new ChainService({ storage: join(root, 'refused'), endpoint: chain.url as string, db, network })
      try {
        const err = await s.ready().then(() => null, (e: unknown) => e)
        expect(err).toBeInstanceOf(DatdotError)
        expect(s.ledger.cursor()).toBeNull()
        return err as DatdotError
      } finally {
        await s.close()
        db.close()
      }
    }
    const before = await refused({ ...ref, recordBlock: ref.recordBlock - 1 })
    expect(before.code).toBe('CHAIN_ERROR')
    expect(before.details).toMatchObject({ why: 'no-network-record' })
    expect((await refused({ ...ref, recordBlock: ref.recordBlock + 1_000_000 })).details).toMatchObject({ why: 'no-network-record' })
    const other = await refused({ ...ref, genesisHash: '0x' + '12'.repeat(32) })
    expect(other.details).toMatchObject({ why: 'wrong-chain' })
    // the history before the record is not a network either
    expect((await refused({ ...ref, recordBlock: 2 })).details).toMatchObject({ why: 'no-network-record' })
  })

  it('pays a refund from the 2-of-3 escrow only once a second operator approved it', async () => {
    const drives = [{ keyHex: fx.keyHex, ranges: [[0, 20]] as Array<[number, number]>, root: fx.roots[0] }]
    const budget = 5n * TOKEN
    // no providers: the plan waits for them (submitted without the precheck that says so), then is withdrawn
    const published = await sponsor.submitRecord({ kind: 'publish', drives, replicas: 1, durationBlocks: 500, budgetPlanck: budget }, [{ to: sponsor.market.network?.escrow as string, amountPlanck: budget }])
    const planId = Number(published.applied.find((r) => r.startsWith('plan:'))?.slice(5))
    await sponsor.unpublish(planId)
    await opA.waitFollowed(chain.headNumber)
    await opA.idle()
    // operator A proposed (first approval); one approval of two moves nothing
    const escrow = opA.escrowAddress as string
    const pending = await pendingOps(opA.api, escrow)
    expect(followErrors.map(String)).toEqual([])
    expect(pending).toHaveLength(1)
    expect(pending[0].approvals).toHaveLength(1)
    await sponsor.waitFollowed(chain.headNumber)
    expect(Object.values(sponsor.market.owed).map((i) => i.reason)).toEqual(['refund'])
    expect(opA.counters.payouts).toBe(0)

    // operator B, on its own node with its own key, checks the proposal and executes it
    const opB = await service('opB', { operatorKeys: [chain.keys.operators[1]] })
    await opB.idle()
    expect(opB.counters.payouts).toBe(1)
    expect(opB.counters.payoutFailures).toBe(0)
    expect(followErrors.map(String)).toEqual([])
    for (const s of [sponsor, opA]) await s.waitFollowed(chain.headNumber)
    expect(sponsor.market.owed).toEqual({})
    expect(await pendingOps(opA.api, escrow)).toHaveLength(0)
    const c = conservation(sponsor.market)
    expect(c.ok).toBe(true)
    expect(c.refundsPlanck).toBe(budget)
    expect(c.unaccountedOutPlanck).toBe(0n)
    expect(await opA.balanceOf(escrow)).toBe(opA.escrowBaseline)
    expect(sponsor.ledger.allEntries().filter((e) => e.reason === 'refund' && e.account === sponsor.address).map((e) => e.amount)).toEqual([budget.toString()])
    expect(opA.counters.reconciles + sponsor.counters.reconciles + opB.counters.reconciles).toBe(0)
    expect(sponsor.stateDigest()).toBe(opA.stateDigest())
  })

  it('keeps the followed state across a restart, also for a node that had followed from #1', async () => {
    const restart = async (s: ChainService, name: string, opts: Partial<ChainServiceOptions>): Promise<ChainService> => {
      const cursor = s.ledger.cursor()
      const digest = s.stateDigest()
      await s.close()
      open.splice(open.indexOf(s), 1)
      const again = await service(name, opts)
      expect(again.ledger.cursor()).toEqual(cursor)
      expect(again.stateDigest()).toBe(digest)
      expect(again.counters.blocksFollowed).toBe(chain.headNumber - (cursor?.number ?? 0))
      return again
    }
    sponsor = await restart(sponsor, 'sponsor', { network: ref })
    opA = await restart(opA, 'opA', { endpoint: 'embedded', localChain: chain, operatorKeys: [chain.keys.operators[0]], network: ref })
    await sponsor.faucet(1n * TOKEN)
    await opA.waitFollowed(chain.headNumber)
    expect(sponsor.stateDigest()).toBe(opA.stateDigest())
    expect(sponsor.ledger.appliedBlocks(1000).at(-1)?.number).toBe(ref.recordBlock)
    expect(opA.ledger.appliedBlocks(1000).at(-1)?.number).toBe(1)
    expect(sponsor.counters.reconciles + opA.counters.reconciles).toBe(0)
  })

  it('pays from the 2-of-3 escrow with the first operator gone: the second proposes once its turn has come, the third executes', async () => {
    await opA.close()
    open.splice(open.indexOf(opA), 1)
    const opB = await service('opB2', { operatorKeys: [chain.keys.operators[1]], network: ref })
    const opC = await service('opC', { operatorKeys: [chain.keys.operators[2]], network: ref })
    const drives = [{ keyHex: fx.keyHex, ranges: [[0, 20]] as Array<[number, number]>, root: fx.roots[0] }]
    const budget = 3n * TOKEN
    const escrowBefore = await opB.balanceOf(opB.escrowAddress as string)
    const published = await sponsor.submitRecord({ kind: 'publish', drives, replicas: 1, durationBlocks: 500, budgetPlanck: budget }, [{ to: sponsor.market.network?.escrow as string, amountPlanck: budget }])
    const planId = Number(published.applied.find((r) => r.startsWith('plan:'))?.slice(5))
    await sponsor.unpublish(planId)
    const owedAt = chain.headNumber
    for (const s of [opB, opC]) { await s.waitFollowed(owedAt); await s.idle() }
    // before the second operator's turn nobody proposes
    const escrow = opB.escrowAddress as string
    expect(await pendingOps(opB.api, escrow)).toHaveLength(0)
    expect(Object.values(opB.market.owed).map((i) => i.reason)).toEqual(['refund'])
    while (chain.headNumber < owedAt + PROPOSER_TURN_BLOCKS) await chain.newBlock()
    for (const s of [opB, opC]) await s.waitFollowed(chain.headNumber)
    // B proposes after the block that made it its turn, C checks and executes; blocks go on until it is paid
    for (let i = 0; i < 20 && Object.keys(opB.market.owed).length > 0; i++) {
      await opB.idle()
      await opC.idle()
      await chain.newBlock()
      for (const s of [opB, opC]) await s.waitFollowed(chain.headNumber)
    }
    await sponsor.waitFollowed(chain.headNumber)
    expect(sponsor.market.owed).toEqual({})
    expect(opB.counters.payouts + opC.counters.payouts).toBe(1)
    expect(opB.counters.payoutFailures + opC.counters.payoutFailures).toBe(0)
    expect(await pendingOps(opB.api, escrow)).toHaveLength(0)
    expect(await opB.balanceOf(escrow)).toBe(escrowBefore)
    expect(sponsor.ledger.allEntries().filter((e) => e.reason === 'refund' && e.account === sponsor.address).map((e) => e.amount)).toEqual([(5n * TOKEN).toString(), budget.toString()])
    expect(conservation(sponsor.market).ok).toBe(true)
    expect(opB.counters.reconciles + opC.counters.reconciles + sponsor.counters.reconciles).toBe(0)
    expect(opB.stateDigest()).toBe(sponsor.stateDigest())
  })
})
