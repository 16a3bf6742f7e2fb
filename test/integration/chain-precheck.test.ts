/**
 * Chain commands a user gives (seeding, sponsoring, unpublishing, plan updates) are checked
 * against the marketplace state the node follows and against its balance before anything is
 * sent: a command the chain would reject, or one the account cannot pay for, fails at once with
 * a clear error and code, and pays no fee (the embedded Asset Hub runtime, one chain for the file).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { LocalChain } from '../../main/chain/local-chain.js'
import { ChainService } from '../../main/chain/service.js'
import { DatdotError } from '../../main/shared/errors.js'
import type { DriveRanges, NetworkParams } from '../../main/chain/records.js'
import { createRootFixture, providerKeys, type RootFixture } from '../sim/roots-fixture.js'
import { scheduleHex } from '../../main/chain/schedule-bits.js'

const TOKEN = 10n ** 12n
const PARAMS: NetworkParams = { chunksPerContract: 10, challengeIntervalBlocks: 50, challengeTimeoutBlocks: 20, performanceAttestors: 1 }

describe('chain commands checked before they are sent', () => {
  let root: string
  let chain: LocalChain
  let fx: RootFixture
  const dbs: Db[] = []
  const services: ChainService[] = []
  let sponsor: ChainService
  let other: ChainService
  let providers: ChainService[]
  let drives: DriveRanges[]

  async function service (name: string): Promise<ChainService> {
    const db = openDatabase(join(root, `${name}.db`))
    dbs.push(db)
    const s = new ChainService({ storage: join(root, name), endpoint: 'embedded', db, localChain: chain, operator: false })
    services.push(s)
    await s.ready()
    return s
  }

  /** Runs `fn`, expects it to fail with `code` (and `message`), and checks that `s` sent nothing and paid nothing. */
  async function refusedFree (s: ChainService, fn: () => Promise<unknown>, code: string, message: RegExp): Promise<DatdotError> {
    const before = await s.balanceOf(s.address)
    const batches = s.counters.batches
    const err = await fn().then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(DatdotError)
    expect((err as DatdotError).code).toBe(code)
    expect((err as DatdotError).message).toMatch(message)
    expect(s.counters.batches).toBe(batches)
    // a block after the refusal: had anything reached the pool, it would be in it and have cost a fee
    await s.newBlock()
    expect(await s.balanceOf(s.address)).toBe(before)
    return err as DatdotError
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'datdot-precheck-'))
    fx = await createRootFixture([20, 30])
    drives = [{ keyHex: fx.keyHex, ranges: [[0, 20]], root: fx.roots[0] }]
    chain = await LocalChain.open({ dir: join(root, 'chain'), networkParams: PARAMS })
    sponsor = await service('sponsor')
    other = await service('other')
    providers = [await service('p1'), await service('p2'), await service('p3')]
    await sponsor.faucet(100n * TOKEN)
    await other.faucet(10n * TOKEN)
  }, 240_000)

  afterAll(async () => {
    for (const s of services) await s.close()
    await chain?.close()
    for (const db of dbs) db.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('refuses seeding on an empty account with how much it needs and where to get it, instead of the raw payment error', async () => {
    const p = providers[0]
    expect(await p.balanceOf(p.address)).toBe(0n)
    const err = await refusedFree(p, async () => await p.registerProvider({ roles: ['hoster'], storageBytes: 2 ** 30, bandwidthBps: 1e6, region: 'eu', noiseKeyHex: providerKeys('pre:p1').publicKeyHex }),
      'INSUFFICIENT_FUNDS', /^this account needs at least \d+(\.\d+)? ROC for fees \(it has 0 ROC\); use the faucet: datdot wallet --faucet/)
    expect(err.message).not.toMatch(/1010|invalid|payment/)
    expect(err.details).toMatchObject({ why: 'insufficient-funds', freePlanck: '0' })
  })

  it('refuses leaving seeding for a node that is not a provider, with NOT_FOUND', async () => {
    await refusedFree(other, async () => await other.unregisterProvider(), 'NOT_FOUND', /not a registered provider/)
  })

  it('refuses a plan the network has too few providers for, before its budget goes to escrow', async () => {
    const err = await refusedFree(sponsor, async () => await sponsor.publishPlan({ drives, replicas: 1, durationBlocks: 500, budgetPlanck: 10n * TOKEN }),
      'INVALID_ARGUMENT', /too few providers for 1 replica: it needs 3 other providers .* the network has 0/)
    expect(err.details).toMatchObject({ why: 'too-few-providers', need: 3, providers: 0 })
  })

  it('refuses a budget above the balance, naming both', async () => {
    for (const [i, p] of providers.entries()) {
      await p.faucet(10n * TOKEN)
      await p.registerProvider({ roles: ['encoder', 'hoster', 'attestor'], storageBytes: 2 ** 30, bandwidthBps: 1e7, region: 'eu', noiseKeyHex: providerKeys(`pre:p${i + 1}`).publicKeyHex })
    }
    const err = await refusedFree(sponsor, async () => await sponsor.publishPlan({ drives, replicas: 1, durationBlocks: 500, budgetPlanck: 1000n * TOKEN }),
      'INSUFFICIENT_FUNDS', /^the budget 1000 ROC is more than this account can pay: it has 100 ROC free/)
    expect(err.details).toMatchObject({ why: 'insufficient-funds' })
  })

  it('refuses to unpublish a plan that does not exist, one that is not yours and one that has ended, paying nothing', async () => {
    await refusedFree(sponsor, async () => await sponsor.unpublish(42), 'NOT_FOUND', /^no plan 42 on this chain/)

    const { planId } = await sponsor.publishPlan({ drives, replicas: 1, durationBlocks: 500, budgetPlanck: 10n * TOKEN })
    const err = await refusedFree(other, async () => await other.unpublish(planId), 'FORBIDDEN', new RegExp(`^plan ${planId} is not yours`))
    expect(err.details).toMatchObject({ why: 'wrong-signer' })
    await refusedFree(other, async () => await other.updatePlan({ planId, drives: [{ keyHex: fx.keyHex, ranges: [[20, 30]], root: fx.roots[1] }], budgetPlanck: 0n }),
      'FORBIDDEN', new RegExp(`^plan ${planId} is not yours .* only its sponsor can update it`))

    await sponsor.unpublish(planId)
    await refusedFree(sponsor, async () => await sponsor.unpublish(planId), 'INVALID_ARGUMENT', new RegExp(`^plan ${planId} has already ended \\(unpublished\\)`))
  })

  it('refuses a plan update the marketplace would reject: a range the plan already hosts', async () => {
    const { planId } = await sponsor.publishPlan({ drives, replicas: 1, durationBlocks: 500, budgetPlanck: 5n * TOKEN })
    await refusedFree(sponsor, async () => await sponsor.updatePlan({ planId, drives: [{ keyHex: fx.keyHex, ranges: [[10, 30]], root: fx.roots[1] }], budgetPlanck: 0n }),
      'INVALID_ARGUMENT', /overlap what the plan hosts/)
    // the same update without the overlap goes through
    await sponsor.updatePlan({ planId, drives: [{ keyHex: fx.keyHex, ranges: [[20, 30]], root: fx.roots[1] }], budgetPlanck: 0n })
    expect(sponsor.market.plans[planId].drives[0].ranges).toEqual([[0, 30]])
  })

  it('refuses a schedule from a node that is not a provider, and records a provider\'s schedule on chain, in force two intervals later', async () => {
    await refusedFree(other, async () => await other.setSchedule(scheduleHex(Array.from({ length: 100 }, (_, h) => h))), 'NOT_FOUND', /not a registered provider/)
    const p = providers[0]
    const hex = scheduleHex(Array.from({ length: 100 }, (_, h) => h))
    await p.setSchedule(hex)
    const mine = p.market.providers[p.addressHex]
    const head = p.market.block?.number ?? 0
    expect(mine.schedules?.[1]).toEqual({ fromBlock: expect.any(Number) as number, hoursHex: hex })
    expect((mine.schedules?.[1].fromBlock ?? 0) - head).toBeGreaterThan(PARAMS.challengeIntervalBlocks)
    expect(mine.reputation).toBe(500)
    // Every node following the chain sees the same schedule.
    await other.newBlock()
    expect(other.market.providers[p.addressHex].schedules).toEqual(mine.schedules)
  })

  it('tops a plan up on chain (budget into escrow and more blocks), and refuses a top-up of someone else\'s plan before it is sent', async () => {
    const { planId } = await sponsor.publishPlan({ drives, replicas: 1, durationBlocks: 500, budgetPlanck: 3n * TOKEN })
    const before = { budget: sponsor.market.plans[planId].budgetPlanck, end: sponsor.market.plans[planId].endBlock }
    await refusedFree(other, async () => await other.extendPlan({ planId, blocks: 10, budgetPlanck: 0n }), 'FORBIDDEN', new RegExp(`^plan ${planId} is not yours`))
    await sponsor.extendPlan({ planId, blocks: 100, budgetPlanck: 2n * TOKEN })
    const after = sponsor.market.plans[planId]
    expect(after.budgetPlanck).toBe(before.budget + 2n * TOKEN)
    expect(after.endBlock).toBe(before.end + 100)
    expect(sponsor.market.counters.rejected).toEqual(other.market.counters.rejected)
  })
})
