/**
 * HostedSlots (main/hosting/hosted.ts) with an in-memory market, the real TaskQueue and
 * HostingContext, a MemoryChunkStore and a real Hoster: which contracts this hoster holds, which
 * plans it seeds, the behaviour's onHosting once per hosting slot, freeing the chunks of
 * contracts it no longer hosts, and the rules around the Hoster's answers.
 */
import { describe, it, expect, vi } from 'vitest'
import b4a from 'b4a'
import { HostedSlots } from '../../main/hosting/hosted.js'
import { HONEST, type HostingBehaviour } from '../../main/hosting/behaviour.js'
import { MemoryChunkStore } from '../../main/hosting/chunk-store.js'
import { Hoster, receiptsRoot, verifySlotReceipt } from '../../main/hosting/roles.js'
import { encodedChunkHash } from '../../main/hosting/encoding.js'
import { DatdotError } from '../../main/shared/errors.js'
import type { Contract } from '../../main/chain/marketplace.js'
import type { ChallengeMessage, SettleMessage, StoredChunk } from '../../main/hosting/messages.js'
import type { WireHandlers } from '../../main/hosting/wire.js'
import { MemoryMarket, contract, marketOf, party, plan, rootHex, slot } from '../helpers/market-fixtures.js'
import { channelFrom, roleHarness } from '../helpers/hosting-roles.js'
import { deferred } from '../helpers/wait.js'

function world (behaviour: HostingBehaviour = HONEST) {
  const me = party('me')
  const enc1 = party('enc1')
  const hos2 = party('hos2')
  const c1 = contract({ id: 1, planId: 1, start: 4, end: 8, root: rootHex(10), slots: [slot({ hoster: 'me', encoder: 'enc1', state: 'hosting', since: 4 }), slot({ hoster: 'hos2', encoder: 'enc1', state: 'hosting', since: 4 })] })
  const c2 = contract({ id: 2, planId: 2, slots: [slot({ hoster: 'me', encoder: 'enc1', state: 'hosting', since: 4 })] })
  const c3 = contract({ id: 3, planId: 3, slots: [slot({ hoster: 'me', encoder: 'enc1', state: 'setup', since: 6 })] })
  const c4 = contract({ id: 4, planId: 4, slots: [slot({ hoster: 'hos2', encoder: 'enc1', state: 'hosting', since: 4 })] })
  const c5 = contract({ id: 5, planId: 5, slots: [slot({ hoster: 'me', encoder: 'enc1', state: 'hosting', since: 4 })] })
  const plans = [plan({ id: 1, contractIds: [1] }), plan({ id: 2, status: 'ended', contractIds: [2] }), plan({ id: 3, contractIds: [3] }), plan({ id: 4, contractIds: [4] })]
  const market = new MemoryMarket(marketOf({ providers: [me, enc1, hos2], plans, contracts: [c1, c2, c3, c4, c5] }), 'me')
  const h = roleHarness(me, market)
  const store = new MemoryChunkStore()
  const replicaReady = vi.fn(async (_contractId: number) => {})
  const hosted = new HostedSlots({ ctx: h.ctx, store, tasks: h.tasks, behaviour, replicaReady: (id) => replicaReady(id) })
  return { me, enc1, hos2, market, h, store, replicaReady, hosted, c: (id: number): Contract => market.market.contracts[id] }
}

/** A stored chunk of block `index` (the store checks nothing). */
function chunk (index: number, fill = index + 1): StoredChunk {
  return { index, encoded: b4a.alloc(40, fill), encoderSignature: b4a.alloc(64), merkle: { index, length: index + 1, nodes: [], roots: [] } }
}

async function fill (store: MemoryChunkStore, c: Contract): Promise<void> {
  for (let i = c.start; i < c.end; i++) await store.putChunk(b4a.from(c.keyHex, 'hex'), chunk(i))
}

async function held (store: MemoryChunkStore, c: Contract): Promise<number[]> {
  const out: number[] = []
  for (let i = c.start; i < c.end; i++) if (await store.getChunk(b4a.from(c.keyHex, 'hex'), i) !== null) out.push(i)
  return out
}

describe('hosted slots', { timeout: 10_000 }, () => {
  it('find a contract this node hosts a slot of, with its recorded root and its slot’s encoder', async () => {
    const w = world()
    const hc = await w.hosted.contract(1)
    expect(hc).not.toBeNull()
    expect(hc?.contract).toMatchObject({ contractId: 1, start: 4, end: 8 })
    expect(hc?.contract.root.length).toBe(10)
    expect(b4a.toString(hc?.contract.root.coreKey as Buffer, 'hex')).toBe(w.c(1).keyHex)
    expect(b4a.equals(hc?.encoderKey as Uint8Array, w.enc1.keyPair.publicKey)).toBe(true)
    expect(hc?.rounds).toBe(w.h.ctx.limits.rounds)
  })

  it('find no contract that is unknown, hosted by others, without an encoder, or whose encoder is not registered', async () => {
    const w = world()
    expect(await w.hosted.contract(99)).toBeNull()
    expect(await w.hosted.contract(4)).toBeNull()
    w.c(3).slots[0].encoder = null
    expect(await w.hosted.contract(3)).toBeNull()
    w.c(3).slots[0].encoder = 'gone'
    expect(await w.hosted.contract(3)).toBeNull()
    w.c(3).slots[0].encoder = 'enc1'
    expect(await w.hosted.contract(3)).not.toBeNull()
  })

  it('seed the active plans it hosts a slot of, in setup or hosting', () => {
    const w = world()
    expect([...w.hosted.plansToSeed(w.market.market)].sort()).toEqual([1, 3])
    w.market.market.plans[4].status = 'active'
    w.c(4).slots[0].hoster = 'me'
    w.market.market.plans[3].status = 'unpublished'
    expect([...w.hosted.plansToSeed(w.market.market)].sort()).toEqual([1, 4])
  })

  it('start no task for hosting slots when the behaviour has no onHosting', async () => {
    const w = world()
    w.hosted.plansToSeed(w.market.market)
    await w.h.idle()
    expect(w.h.jobs).toHaveLength(0)
  })

  it('run the behaviour’s onHosting once per hosting slot and assignment, as a task with the chunk store', async () => {
    const onHosting = vi.fn(async (_c: Contract, _slot: number, _store: unknown) => {})
    const w = world({ onHosting })
    w.hosted.plansToSeed(w.market.market)
    w.hosted.plansToSeed(w.market.market)
    await w.h.idle()
    expect(onHosting).toHaveBeenCalledTimes(1) // c1 slot 0 (c3 is in setup, c2's plan ended, c5 has no plan)
    expect(onHosting.mock.calls[0][0].id).toBe(1)
    expect(onHosting.mock.calls[0][1]).toBe(0)
    expect(onHosting.mock.calls[0][2]).toBe(w.store)
    expect(w.h.started('behaviour:')).toEqual(['behaviour:1:0:4'])
    expect(w.h.tasks.list()[0]).toMatchObject({ role: 'hoster', planId: 1, contractId: 1, slot: 0, state: 'done' })
    // c3 starts hosting; c1's slot is assigned again later: each runs once more
    w.c(3).slots[0].state = 'hosting'
    w.hosted.plansToSeed(w.market.market)
    w.c(1).slots[0].since = 30
    w.hosted.plansToSeed(w.market.market)
    w.hosted.plansToSeed(w.market.market)
    await w.h.idle()
    expect(w.h.started('behaviour:').sort()).toEqual(['behaviour:1:0:30', 'behaviour:1:0:4', 'behaviour:3:0:6'])
    expect(onHosting).toHaveBeenCalledTimes(3)
  })

  it('list a failing onHosting as a failed task, not a thrown error', async () => {
    const w = world({ onHosting: async () => { throw DatdotError.internal('the fault broke') } })
    expect(() => w.hosted.plansToSeed(w.market.market)).not.toThrow()
    await w.h.idle()
    expect(DatdotError.from(w.h.errors.get('behaviour:1:0:4')).message).toContain('the fault broke')
  })

  it('free the encoded chunks of contracts it no longer hosts, and keep the others', async () => {
    const w = world()
    for (const id of [1, 3, 4]) await fill(w.store, w.c(id))
    const other = b4a.from(w.c(1).keyHex, 'hex')
    await w.store.putChunk(other, chunk(9)) // outside contract 1's range: not the contract's
    await w.hosted.freeDropped(w.market.market)
    expect(w.store.size).toBe(4 + 2 + 2 + 1)
    // contract 1 unpublished (gone from the state), contract 3's slot given to another hoster
    delete w.market.market.contracts[1]
    w.c(3).slots[0].hoster = 'hos2'
    const c1 = { ...w.c(4), id: 1, keyHex: b4a.toString(other, 'hex'), start: 4, end: 8 }
    await w.hosted.freeDropped(w.market.market)
    expect(await held(w.store, c1)).toEqual([])
    expect(await held(w.store, w.c(3))).toEqual([])
    expect(await held(w.store, w.c(4))).toEqual([0, 1]) // never this node's contract: left alone
    expect(await w.store.getChunk(other, 9)).not.toBeNull()
    expect(w.store.size).toBe(3)
  })

  it('keep the chunks of a contract it still hosts, and free them once it is dropped later', async () => {
    const w = world()
    await fill(w.store, w.c(3))
    await w.hosted.freeDropped(w.market.market)
    await w.hosted.freeDropped(w.market.market)
    expect(await held(w.store, w.c(3))).toEqual([0, 1])
    w.c(3).slots[0].hoster = null
    await w.hosted.freeDropped(w.market.market)
    expect(await held(w.store, w.c(3))).toEqual([])
    await fill(w.store, w.c(3)) // stored again by something else: freed once only
    await w.hosted.freeDropped(w.market.market)
    expect(await held(w.store, w.c(3))).toEqual([0, 1])
  })

  it('delete a contract’s chunks on request and count them', async () => {
    const w = world()
    await fill(w.store, w.c(1))
    await w.store.deleteChunk(b4a.from(w.c(1).keyHex, 'hex'), 5)
    expect(await w.hosted.dropChunks(1)).toBe(3)
    expect(await w.hosted.dropChunks(1)).toBe(0)
    await expect(w.hosted.dropChunks(99)).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('sign a slot receipt only once the plain replica is ready', async () => {
    const w = world()
    const c1 = w.c(1)
    await fill(w.store, c1)
    const hoster = new Hoster({ keyPair: w.me.keyPair, store: w.store, contract: (id) => w.hosted.contract(id) })
    const ready = deferred()
    w.replicaReady.mockImplementation(async () => await ready.promise)
    const settled = vi.fn()
    hoster.on('settled', settled)
    const root = receiptsRoot(Array.from({ length: 4 }, (_, i) => encodedChunkHash(chunk(4 + i).encoded)))
    const msg: SettleMessage = { requestId: 1, contractId: 1, coreKey: b4a.from(c1.keyHex, 'hex'), rootLength: 10, receiptsRoot: root }
    const handlers = w.hosted.handlers(hoster)
    let signed: Buffer | null = null
    const p = (handlers.onsettle as NonNullable<WireHandlers['onsettle']>)(msg, channelFrom(w.enc1)).then((sig) => { signed = sig })
    expect(w.replicaReady).toHaveBeenCalledWith(1)
    await new Promise((resolve) => setImmediate(resolve)) // everything but the replica could have happened
    expect(settled).not.toHaveBeenCalled()
    expect(signed).toBeNull()
    ready.resolve()
    await p
    expect(settled).toHaveBeenCalledTimes(1)
    expect(verifySlotReceipt(1, msg.coreKey, 10, root, signed as unknown as Buffer, w.me.keyPair.publicKey)).toBe(true)
  })

  it('refuse a slot receipt for chunks it does not hold, after the replica wait', async () => {
    const w = world()
    const c1 = w.c(1)
    const hoster = new Hoster({ keyPair: w.me.keyPair, store: w.store, contract: (id) => w.hosted.contract(id) })
    const msg: SettleMessage = { requestId: 1, contractId: 1, coreKey: b4a.from(c1.keyHex, 'hex'), rootLength: 10, receiptsRoot: b4a.alloc(32) }
    await expect((w.hosted.handlers(hoster).onsettle as NonNullable<WireHandlers['onsettle']>)(msg, channelFrom(w.enc1))).rejects.toMatchObject({ code: 'PROOF_FAILED' })
    expect(w.replicaReady).toHaveBeenCalledWith(1)
  })

  it('run the behaviour’s beforeAnswer after the walk and before the answer goes out', async () => {
    const order: string[] = []
    const before = deferred()
    const w = world({ beforeAnswer: async (ctx) => { order.push(ctx === w.h.ctx ? 'before(ctx)' : 'before(?)'); await before.promise; order.push('before done') } })
    const hashes = [b4a.alloc(32, 1), b4a.alloc(32, 2)]
    const fake = {
      handlers: (): WireHandlers => ({
        ondeliver: async () => b4a.alloc(64),
        onopen: async () => chunk(4),
        onchallenge: async () => { order.push('walk'); return hashes },
        onsettle: async () => b4a.alloc(64)
      })
    }
    const handlers = w.hosted.handlers(fake as unknown as Hoster)
    const msg: ChallengeMessage = { requestId: 1, contractId: 1, coreKey: b4a.from(w.c(1).keyHex, 'hex'), seed: b4a.alloc(32), steps: 2 }
    const p = (handlers.onchallenge as NonNullable<WireHandlers['onchallenge']>)(msg, channelFrom(w.enc1)).then((x) => { order.push('answer'); return x })
    await new Promise((resolve) => setImmediate(resolve))
    expect(order).toEqual(['walk', 'before(ctx)'])
    before.resolve()
    expect(await p).toBe(hashes)
    expect(order).toEqual(['walk', 'before(ctx)', 'before done', 'answer'])
  })

  it('answer a walk at once without a beforeAnswer, and pass deliveries and openings to the Hoster unchanged', async () => {
    const w = world()
    const own: WireHandlers = {
      ondeliver: async () => b4a.alloc(64),
      onopen: async () => chunk(4),
      onchallenge: async () => [b4a.alloc(32, 9)],
      onsettle: async () => b4a.alloc(64)
    }
    const handlers = w.hosted.handlers({ handlers: () => own } as unknown as Hoster)
    expect(handlers.ondeliver).toBe(own.ondeliver)
    expect(handlers.onopen).toBe(own.onopen)
    const msg: ChallengeMessage = { requestId: 1, contractId: 1, coreKey: b4a.alloc(32), seed: b4a.alloc(32), steps: 1 }
    expect(await (handlers.onchallenge as NonNullable<WireHandlers['onchallenge']>)(msg, channelFrom(w.enc1))).toEqual([b4a.alloc(32, 9)])
  })
})
