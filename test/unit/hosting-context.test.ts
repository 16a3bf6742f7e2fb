// What the hosting roles share (main/hosting/context.ts): waits that end when the service
// closes, waits on the followed chain, provider lookups and the contract view, on an in-memory
// chain view and hand-driven timers.
import { describe, it, expect } from 'vitest'
import hcrypto from 'hypercore-crypto'
import b4a from 'b4a'
import { HostingContext } from '../../main/hosting/context.js'
import { DEFAULT_HOSTING_LIMITS, newHostingCounters } from '../../main/hosting/config.js'
import { initialState, type Contract } from '../../main/chain/marketplace.js'
import { DatdotError } from '../../main/shared/errors.js'
import { ManualTimers, flush } from '../helpers/manual-timers.js'
import { MemoryMarket, contract as contractOf, party, provider as providerOf, slot } from '../helpers/market-fixtures.js'

function contract (id: number, hoster: string, state: 'setup' | 'hosting'): Contract {
  return contractOf({ id, planId: 1, start: 0, end: 4, slots: [slot({ hoster, state })] })
}

function setup (): { ctx: HostingContext, chain: MemoryMarket, timers: ManualTimers } {
  const chain = new MemoryMarket(initialState(), '0xme')
  const timers = new ManualTimers()
  const ctx = new HostingContext({ chain, limits: { ...DEFAULT_HOSTING_LIMITS }, counters: newHostingCounters(), keyPair: hcrypto.keyPair(), timers, now: timers.now })
  return { ctx, chain, timers }
}

const never = (): Promise<never> => new Promise<never>(() => {})

describe('the hosting context', () => {
  it('times a wait out with TIMEOUT naming what it waited for', async () => {
    const { ctx, timers } = setup()
    const p = ctx.withTimeout(never(), 500, 'blocks of contract 3')
    timers.advance(500)
    await expect(p).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('blocks of contract 3') as unknown })
  })

  it('ends every wait at once with CLOSED when the service closes, and refuses new ones', async () => {
    const { ctx, timers } = setup()
    const p = ctx.withTimeout(never(), 60_000, 'a fetch')
    const d = ctx.delay(60_000)
    expect(ctx.closing).toBe(false)
    ctx.close()
    expect(ctx.closing).toBe(true)
    expect(ctx.closeSignal.aborted).toBe(true)
    await expect(p).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(d).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(ctx.withTimeout(Promise.resolve(1), 10, 'x')).rejects.toMatchObject({ code: 'CLOSED' })
    expect(timers.size).toBe(0)
  })

  it('delays by the injected timers and resolves, not rejects, at the end', async () => {
    const { ctx, timers } = setup()
    let done = false
    const d = ctx.delay(2000).then(() => { done = true })
    timers.advance(1999)
    await flush()
    expect(done).toBe(false)
    timers.advance(1)
    await d
    expect(done).toBe(true)
  })

  it('waits on the chain until the check holds at a followed block, and stops listening then', async () => {
    const { ctx, chain, timers } = setup()
    let ok = false
    let resolved = false
    const w = ctx.untilChain(() => ok, 10_000).then(() => { resolved = true })
    chain.emit('block')
    await flush()
    expect(resolved).toBe(false)
    ok = true
    chain.emit('block')
    await w
    expect(chain.listenerCount('block')).toBe(0)
    expect(timers.size).toBe(0)
  })

  it('gives up waiting on the chain after its time, without an error (a peer may be ahead)', async () => {
    const { ctx, chain, timers } = setup()
    const w = ctx.untilChain(() => false, 3000)
    timers.advance(3000)
    await w
    expect(chain.listenerCount('block')).toBe(0)
  })

  it('resolves a chain wait at once when the check already holds or the service is closing', async () => {
    const { ctx, chain } = setup()
    await ctx.untilChain(() => true, 10)
    const pending = ctx.untilChain(() => false, 60_000)
    ctx.close()
    await pending
    await ctx.untilChain(() => false, 60_000)
    expect(chain.listenerCount('block')).toBe(0)
  })

  it('finds a provider’s registered key, and refuses an unknown or missing provider with NOT_FOUND', () => {
    const { ctx, chain } = setup()
    const p1 = party('0xp1')
    const key = p1.keyHex
    chain.market.providers['0xp1'] = providerOf(p1)
    expect(ctx.providerKey('0xp1')).toBe(key)
    expect(b4a.toString(ctx.providerKeyBytes('0xp1'), 'hex')).toBe(key)
    expect(ctx.isProviderKey(key)).toBe(true)
    expect(ctx.isProviderKey('cd'.repeat(32))).toBe(false)
    expect(() => ctx.providerKey('0xnobody')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as unknown)
    expect(() => ctx.providerKey(null)).toThrow(/provider \(none\)/)
  })

  it('tells whether one of this node’s slots is hosting (a slot in setup does not count)', () => {
    const { ctx, chain } = setup()
    expect(ctx.hostsAnySlot()).toBe(false)
    chain.market.contracts[1] = contract(1, '0xme', 'setup')
    chain.market.contracts[2] = contract(2, '0xother', 'hosting')
    expect(ctx.hostsAnySlot()).toBe(false)
    chain.market.contracts[3] = contract(3, '0xme', 'hosting')
    expect(ctx.hostsAnySlot()).toBe(true)
  })

  it('builds a contract’s view from the root the chain recorded, and refuses a contract past its root', () => {
    const { ctx } = setup()
    const c = contract(4, '0xme', 'setup')
    const view = ctx.viewOf(c)
    expect(view).toMatchObject({ contractId: 4, start: 0, end: 4 })
    expect(view.root.length).toBe(4)
    expect(b4a.toString(view.root.coreKey, 'hex')).toBe(c.keyHex)
    expect(() => ctx.viewOf({ ...c, end: 9 })).toThrow(DatdotError)
  })
})
