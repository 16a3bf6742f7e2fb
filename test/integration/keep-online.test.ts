/**
 * Keep online against a devnet (a local chain, a loopback testnet and the minimum five seeders):
 * a separate node quotes a plan for its vault (bad input refused or explained before paying),
 * sponsors it, watches it reach hosting through listPlans (contracts, slots, hosters, a storage
 * proof), sees the refund an unpublish would bring, unpublishes, and the plan ends with that refund.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { TempDirs } from '../helpers/engines.js'
import { waitFor } from '../helpers/wait.js'
import { startDevnet, readDevnetRecord, DEVNET_MIN_SEEDERS, type Devnet } from '../../main/hosting/devnet.js'
import { DatdotNode } from '../../main/hosting/node.js'
import { parseBootstrap } from '../../main/engine/config.js'
import { createHandlers } from '../../main/api/handlers.js'
import { formatLink } from '../../main/engine/paths.js'
import type { Handlers, PlanView } from '../../main/shared/contract.js'

const TOKEN = 10n ** 12n

describe('keeping a vault online on a devnet', () => {
  const tmp = new TempDirs()
  let devnet: Devnet | null = null
  let alice: DatdotNode | null = null
  let api: Handlers
  let link: string
  let planId = 0
  const planOf = async (): Promise<PlanView> => {
    const found = (await api.listPlans({})).find((p) => p.planId === planId)
    if (found === undefined) throw new Error(`plan ${planId} not listed`)
    return found
  }
  const emitters = (): Array<import('node:events').EventEmitter> => [(devnet as Devnet).operator, ...(devnet as Devnet).seeders.map((s) => s.node.hosting as NonNullable<DatdotNode['hosting']>)]

  beforeAll(async () => {
    const dir = await tmp.make('datdot-keep-online-')
    devnet = await startDevnet({ dir, seeders: DEVNET_MIN_SEEDERS, blockIntervalMs: 1000, networkParams: { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 40, performanceAttestors: 3 } })
    const record = readDevnetRecord(dir)
    if (record === null) throw new Error('no devnet.json')
    alice = new DatdotNode({ storage: await tmp.make('datdot-keep-online-alice-'), bootstrap: parseBootstrap(record.bootstrap), chain: record.chain })
    await alice.ready()
    api = createHandlers(alice) as Handlers
    await api.requestDevTokens({ amount: (50n * TOKEN).toString() })
    await alice.vault.drive.put('/photo.jpg', randomBytes(300_000))
    link = formatLink(alice.vault.drive.key)
  }, 240_000)

  afterAll(async () => {
    await alice?.close()
    await devnet?.close()
    await tmp.cleanup()
  }, 120_000)

  it('refuses a price of 0 with a clear coded error before anything is paid', async () => {
    const err = await api.quoteSponsor({ link, replicas: 2, days: 1, price: '0' }).then(() => null, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect((err as Error).message).toMatch(/price must be positive/)
  })

  it('explains, with the figures, that 3 replicas need more providers than the devnet has', async () => {
    const q = await api.quoteSponsor({ link, replicas: 3, days: 1, price: (10n * TOKEN).toString() })
    expect(q.problem).toMatch(/too few providers for 3 replicas: it needs 7 other providers/)
  })

  it('explains that a budget above the balance cannot be paid, and shows the negative balance after', async () => {
    const q = await api.quoteSponsor({ link, replicas: 2, days: 1, price: (60n * TOKEN).toString() })
    expect(q.problem).toMatch(/too little balance/)
    expect(BigInt(q.balanceAfterPlanck)).toBeLessThan(0n)
  })

  it('quotes the total, the chain fee, the price per GiB-month and the balance after, exactly', async () => {
    const price = 10n * TOKEN
    const q = await api.quoteSponsor({ link, replicas: 2, days: 1, price: price.toString() })
    expect(q.problem).toBeNull()
    expect(q.sizeBytes).toBeGreaterThan(300_000)
    expect(BigInt(q.feePlanck)).toBeGreaterThan(0n)
    expect(BigInt(q.totalPlanck)).toBe(price + BigInt(q.feePlanck))
    expect(BigInt(q.balancePlanck)).toBe(50n * TOKEN)
    expect(BigInt(q.balanceAfterPlanck)).toBe(50n * TOKEN - BigInt(q.totalPlanck))
    const perGiBMonth = (price * 1024n ** 3n * 30n + BigInt(q.sizeBytes) - 1n) / BigInt(q.sizeBytes)
    expect(BigInt(q.perGiBMonthPlanck)).toBe(perGiBMonth)
  }, 60_000)

  it('sponsors and the plans view shows the plan reaching hosting with its contracts, slots and a storage proof', async () => {
    planId = (await api.sponsor({ link, replicas: 2, days: 1, price: (10n * TOKEN).toString() })).planId
    const latest = await planOf()
    expect(latest).toMatchObject({ status: 'active', replicas: 2, budget: (10n * TOKEN).toString() })
    expect(latest.sizeBytes).toBeGreaterThan(300_000)
    expect(latest.contracts.length).toBeGreaterThan(0)
    const service = (alice as DatdotNode).hosting as NonNullable<DatdotNode['hosting']>
    const check = (): boolean => {
      const view = service.listPlans().find((p) => p.planId === planId)
      return view?.phase === 'hosted' && view.contracts.some((c) => c.slots.some((s) => s.storage !== null))
    }
    await waitFor([...emitters(), service], check, 'the plan hosted with a storage proof', 180_000, () => service.listPlans()[0]?.phase ?? 'no plan')
    const p = await planOf()
    expect(p.hosting).toBe(2)
    // hosters as the wallet names accounts (ss58): the devnet's seeders
    const seeders = new Set((devnet as Devnet).seeders.map((s) => s.node.chain?.address))
    for (const c of p.contracts) {
      for (const s of c.slots) {
        expect(s.state).toBe('hosting')
        expect(seeders.has(s.hoster ?? '')).toBe(true)
      }
    }
    expect(BigInt(p.spent) + BigInt(p.left)).toBe(10n * TOKEN)
    expect(p.refund).toBe(p.left)
    expect(p.daysCovered).toBeGreaterThan(0)
  }, 240_000)

  it('answers listProofs and the overview\'s last proofs with hosters as the wallet names accounts (ss58), like the plans view', async () => {
    const seeders = (devnet as Devnet).seeders
    const addresses = new Set(seeders.map((s) => s.node.chain?.address))
    const rows = (await Promise.all(seeders.map(async (s) => await (createHandlers(s.node) as Handlers).listProofs({ limit: 1000 })))).flat()
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) expect(addresses.has(r.hoster), r.hoster).toBe(true)
    const last = (await Promise.all(seeders.map(async (s) => (await (createHandlers(s.node) as Handlers).getHosting({})).lastProofs))).flat()
    for (const r of last) expect(addresses.has(r.hoster), r.hoster).toBe(true)
  }, 60_000)

  it('shows the refund before unpublishing, and the plan ends refunding at most that', async () => {
    const before = await planOf()
    expect(BigInt(before.refund)).toBeGreaterThan(0n)
    await api.unpublish({ planId })
    const after = await planOf()
    expect(after).toMatchObject({ status: 'unpublished', phase: 'ended', refund: '0', daysCovered: 0, contracts: [] })
    const refunded = (devnet as Devnet).market.plans[planId].refundPlanck
    expect(refunded).toBeGreaterThan(0n)
    expect(refunded).toBeLessThanOrEqual(BigInt(before.refund))
    expect(after.events.some((e) => e.text === `plan ${planId} unpublished`)).toBe(true)
  }, 60_000)
})
