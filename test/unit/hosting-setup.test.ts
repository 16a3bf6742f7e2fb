/**
 * SetupRoles (main/hosting/setup.ts) with fakes of its narrow dependencies: an in-memory
 * market, hand-driven timers, a fake attestor, peers and plan cores. The encoder tasks it
 * starts, how it routes and relays deliveries, the slot outcomes it keeps and the setup report
 * it submits, without a network or a chain.
 */
import { describe, it, expect, vi } from 'vitest'
import b4a from 'b4a'
import { SetupRoles } from '../../main/hosting/setup.js'
import { HONEST } from '../../main/hosting/behaviour.js'
import { blameOf, receiptsRoot, withBlame, type Attestor } from '../../main/hosting/roles.js'
import { encodedChunkHash } from '../../main/hosting/encoding.js'
import { DatdotError } from '../../main/shared/errors.js'
import type { PlanCores } from '../../main/hosting/cores.js'
import type { Contract } from '../../main/chain/marketplace.js'
import type { SetupSlot } from '../../main/chain/records.js'
import type { DeliverMessage } from '../../main/hosting/messages.js'
import type { ContractView } from '../../main/hosting/proof.js'
import type { HostingChannel } from '../../main/hosting/wire.js'
import { MemoryMarket, contract, marketOf, party, plan, rootHex, slot, type Party } from '../helpers/market-fixtures.js'
import { channelFrom, roleHarness } from '../helpers/hosting-roles.js'
import { deferred } from '../helpers/wait.js'

interface SettleCall { channel: HostingChannel, contract: ContractView, hosterKey: Uint8Array, encodedHashes: Uint8Array[] }

/** The attestor as SetupRoles uses it: its delivery handler and settle, scripted by the test. */
class FakeAttestor {
  readonly relays: DeliverMessage[] = []
  readonly settles: SettleCall[] = []
  /** What the next relays do (default: a receipt). */
  relay: (msg: DeliverMessage) => Promise<Buffer> = async () => b4a.alloc(64, 1)
  /** What settle does (default: the receipts root of the hashes and a signature). */
  settleWith: (s: SettleCall) => Promise<{ receiptsRoot: Buffer, signature: Buffer }> = async (s) => ({ receiptsRoot: receiptsRoot(s.encodedHashes), signature: b4a.alloc(64, 7) })

  handlers (): { ondeliver: (msg: DeliverMessage) => Promise<Buffer> } {
    return { ondeliver: async (msg) => { this.relays.push(msg); return await this.relay(msg) } }
  }

  async settle (channel: HostingChannel, s: Omit<SettleCall, 'channel'>): Promise<{ receiptsRoot: Buffer, signature: Buffer }> {
    const call = { channel, ...s }
    this.settles.push(call)
    return await this.settleWith(call)
  }
}

function world () {
  const me = party('me')
  const enc1 = party('enc1')
  const hos1 = party('hos1')
  const enc2 = party('enc2')
  const hos2 = party('hos2')
  const other = party('other')
  const parties = [me, enc1, hos1, enc2, hos2, other]
  // contract 1: this node attests the setup of two slots, each with its encoder and hoster
  const c1 = contract({
    id: 1, planId: 1, start: 0, end: 2, root: rootHex(4), attestor: 'me', setupDeadline: 40,
    slots: [slot({ hoster: 'hos1', encoder: 'enc1', state: 'setup', since: 5 }), slot({ hoster: 'hos2', encoder: 'enc2', state: 'setup', since: 5 })]
  })
  const p1 = plan({ id: 1, contractIds: [1], drives: [{ keyHex: c1.keyHex, ranges: [[0, 2]], root: c1.root }] })
  const market = new MemoryMarket(marketOf({ providers: parties, plans: [p1], contracts: [c1], block: 10 }), 'me')
  const h = roleHarness(me, market)
  const attestor = new FakeAttestor()
  const reports: Array<{ contractId: number, slots: SetupSlot[] }> = []
  const unreachable = new Set<string>()
  const peers = {
    channelTo: vi.fn(async (keyHex: string) => {
      if (unreachable.has(keyHex)) throw DatdotError.timeout(`connecting to provider ${keyHex.slice(0, 8)}`, 20_000)
      return { channel: channelFrom(parties.find((p) => p.keyHex === keyHex) ?? null), connectMs: 3 }
    })
  }
  const coreCalls: unknown[][] = []
  const cores = { core: (...args: unknown[]) => { coreCalls.push(args); throw DatdotError.notFound('a core in a unit test') } } as unknown as PlanCores
  const hosterDeliver = vi.fn(async (_msg: DeliverMessage, _from: HostingChannel) => b4a.from('hoster receipt'))
  const roles = new SetupRoles({
    ctx: h.ctx,
    chain: { submitSetupReport: async (contractId: number, slots: SetupSlot[]) => { reports.push({ contractId, slots }); return { ok: true } as never } },
    tasks: h.tasks,
    peers,
    cores,
    attestor: attestor as unknown as Attestor,
    hosterDeliver,
    behaviour: HONEST
  })
  const c = (id: number): Contract => market.market.contracts[id]
  return { me, enc1, hos1, enc2, hos2, other, market, h, attestor, reports, unreachable, peers, coreCalls, hosterDeliver, roles, c }
}

type World = ReturnType<typeof world>

/** A delivery of block `index` of a contract (the fake attestor checks nothing). */
function delivery (c: Contract, index: number, fill = index + 1): DeliverMessage {
  return {
    requestId: 1,
    contractId: c.id,
    coreKey: b4a.from(c.keyHex, 'hex'),
    chunk: { index, encoded: b4a.alloc(32, fill), encoderSignature: b4a.alloc(64), merkle: { index, length: c.root.length, nodes: [], roots: [] } }
  }
}

/** Delivers every block of contract 1 from `from` (one slot's encoder). */
async function deliverAll (w: World, from: Party, fill = 0): Promise<void> {
  const c1 = w.c(1)
  for (let i = c1.start; i < c1.end; i++) await w.roles.ondeliver(delivery(c1, i, fill + i + 1), channelFrom(from))
}

const refused = (): DatdotError => withBlame(DatdotError.proofFailed('ROOT_MISMATCH', 'a bad chunk'), 'bad-encoding')

describe('setup roles', { timeout: 10_000 }, () => {
  it('start an encoding only for this node’s setup slots with a hoster and an attestor', async () => {
    const w = world()
    const c2 = contract({
      id: 2, planId: 1, attestor: 'other',
      slots: [
        slot({ encoder: 'me', hoster: 'hos1', state: 'setup', since: 3 }),
        slot({ encoder: 'me', hoster: null, state: 'setup', since: 3 }),
        slot({ encoder: 'me', hoster: 'hos2', state: 'hosting', since: 3 }),
        slot({ encoder: 'enc1', hoster: 'hos2', state: 'setup', since: 3 })
      ]
    })
    const c3 = contract({ id: 3, planId: 1, attestor: null, slots: [slot({ encoder: 'me', hoster: 'hos1', state: 'setup', since: 3 })] })
    w.market.market.contracts[2] = c2
    w.market.market.contracts[3] = c3
    w.roles.sync(c2)
    w.roles.sync(c3)
    await w.h.idle()
    expect(w.h.started('encode:')).toEqual(['encode:2:0:3:hos1:other'])
    const job = w.h.tasks.list().find((j) => j.id === 'encode:2:0:3:hos1:other')
    expect(job).toMatchObject({ role: 'encoder', planId: 1, contractId: 2, slot: 0 })
    // the task opened the contract's core as a client (not announcing it) and failed on the fake
    expect(w.coreCalls).toEqual([[w.market.market.plans[1], c2.keyHex, false]])
    expect(DatdotError.from(w.h.errors.get('encode:2:0:3:hos1:other')).code).toBe('NOT_FOUND')
  })

  it('start an encoding once per slot, since, hoster and attestor', async () => {
    const w = world()
    const c2 = contract({ id: 2, planId: 1, attestor: 'other', slots: [slot({ encoder: 'me', hoster: 'hos1', state: 'setup', since: 3 })] })
    w.market.market.contracts[2] = c2
    w.roles.sync(c2)
    await w.h.idle()
    w.roles.sync(c2)
    await w.h.idle()
    expect(w.h.started('encode:')).toEqual(['encode:2:0:3:hos1:other'])
    c2.slots[0].hoster = 'hos2' // replaced hoster
    w.roles.sync(c2)
    c2.attestor = 'enc2' // another attestor
    w.roles.sync(c2)
    c2.slots[0].since = 9 // the slot assigned again
    w.roles.sync(c2)
    w.roles.sync(c2)
    await w.h.idle()
    expect(w.h.started('encode:')).toEqual([
      'encode:2:0:3:hos1:other', 'encode:2:0:3:hos2:other', 'encode:2:0:3:hos2:enc2', 'encode:2:0:9:hos2:enc2'
    ])
  })

  it('relay an encoder’s deliveries and have the hoster sign the receipts root of what it relayed, in block order', async () => {
    const w = world()
    const c1 = w.c(1)
    const receipt = await w.roles.ondeliver(delivery(c1, 1), channelFrom(w.enc1))
    expect(receipt.equals(b4a.alloc(64, 1))).toBe(true)
    expect(w.attestor.settles).toHaveLength(0) // one block of two: not settled yet
    await w.roles.ondeliver(delivery(c1, 0), channelFrom(w.enc1))
    await w.h.idle()
    expect(w.attestor.relays.map((m) => m.chunk.index)).toEqual([1, 0])
    expect(w.h.ctx.counters.relayed).toBe(2)
    expect(w.peers.channelTo).toHaveBeenCalledWith(w.hos1.keyHex)
    expect(w.attestor.settles).toHaveLength(1)
    const s = w.attestor.settles[0]
    expect(s.channel.remotePublicKey).toEqual(w.hos1.keyPair.publicKey)
    expect(b4a.equals(s.hosterKey, w.hos1.keyPair.publicKey)).toBe(true)
    expect(s.contract).toMatchObject({ contractId: 1, start: 0, end: 2 })
    expect(s.contract.root.length).toBe(4) // the root the chain recorded, not the range's end
    const hashes = [delivery(c1, 0), delivery(c1, 1)].map((m) => encodedChunkHash(m.chunk.encoded))
    expect(s.encodedHashes.map((x) => b4a.toString(x, 'hex'))).toEqual(hashes.map((x) => b4a.toString(x, 'hex')))
    expect(w.h.started('settle:')).toEqual(['settle:1:0:5:hos1:enc1'])
    expect(w.reports).toHaveLength(0) // slot 1 has no outcome yet
  })

  it('submit the setup report once every setup slot has an outcome: a receipt or a blame', async () => {
    const w = world()
    await deliverAll(w, w.enc1)
    await w.h.idle()
    expect(w.reports).toHaveLength(0)
    w.attestor.relay = async () => { throw refused() }
    await expect(w.roles.ondeliver(delivery(w.c(1), 0), channelFrom(w.enc2))).rejects.toMatchObject({ code: 'PROOF_FAILED' })
    await w.h.idle()
    const root = receiptsRoot([0, 1].map((i) => encodedChunkHash(delivery(w.c(1), i).chunk.encoded)))
    expect(w.reports).toEqual([{
      contractId: 1,
      slots: [
        { ok: true, receiptsRootHex: b4a.toString(root, 'hex'), receiptHex: b4a.toString(b4a.alloc(64, 7), 'hex') },
        { ok: false, reason: 'bad-encoding' }
      ]
    }])
    expect(w.h.ctx.counters.setupReports).toBe(1)
    const job = w.h.tasks.list().find((j) => j.id.startsWith('setup-report:'))
    expect(job).toMatchObject({ role: 'attestor', contractId: 1, slot: null, state: 'done' })
  })

  it('do not report the same slot state twice, and report a changed one afresh', async () => {
    const w = world()
    await deliverAll(w, w.enc1)
    w.attestor.relay = async () => { throw refused() }
    await expect(w.roles.ondeliver(delivery(w.c(1), 0), channelFrom(w.enc2))).rejects.toThrow()
    await w.h.idle()
    expect(w.reports).toHaveLength(1)
    // more failures and syncs of the same state: nothing new
    await expect(w.roles.ondeliver(delivery(w.c(1), 1), channelFrom(w.enc2))).rejects.toThrow()
    w.roles.sync(w.c(1))
    w.market.advance(11)
    w.roles.sync(w.c(1))
    await w.h.idle()
    expect(w.reports).toHaveLength(1)
    // the chain gave slot 1 a new encoder: its setup is a new one, with its own outcome
    w.market.advance(12, (m) => { m.contracts[1].slots[1] = slot({ hoster: 'hos2', encoder: 'other', state: 'setup', since: 12 }) })
    w.roles.sync(w.c(1))
    await w.h.idle()
    expect(w.reports).toHaveLength(1) // the new slot has no outcome yet
    w.attestor.relay = async () => { throw withBlame(DatdotError.proofFailed('BAD_RECEIPT', 'x'), 'hoster-refused') }
    await expect(w.roles.ondeliver(delivery(w.c(1), 0), channelFrom(w.other))).rejects.toThrow()
    await w.h.idle()
    expect(w.reports).toHaveLength(2)
    expect(w.reports[1].slots[0].ok).toBe(true)
    expect(w.reports[1].slots[1]).toEqual({ ok: false, reason: 'hoster-refused' })
  })

  it('keep the first blame of a slot, and leave a slot open after an error without blame', async () => {
    const w = world()
    w.attestor.relay = async () => { throw DatdotError.timeout('a request', 30_000) }
    await expect(w.roles.ondeliver(delivery(w.c(1), 0), channelFrom(w.enc1))).rejects.toMatchObject({ code: 'TIMEOUT' })
    w.attestor.relay = async () => { throw refused() }
    await expect(w.roles.ondeliver(delivery(w.c(1), 0), channelFrom(w.enc2))).rejects.toThrow()
    await w.h.idle()
    expect(w.reports).toHaveLength(0) // slot 0 is still open: a timeout blames nobody
    w.attestor.relay = async () => { throw withBlame(DatdotError.closed('hosting channel'), 'hoster-missing') }
    await expect(w.roles.ondeliver(delivery(w.c(1), 1), channelFrom(w.enc1))).rejects.toThrow()
    w.attestor.relay = async () => { throw refused() }
    await expect(w.roles.ondeliver(delivery(w.c(1), 0), channelFrom(w.enc1))).rejects.toThrow()
    await w.h.idle()
    expect(w.reports).toHaveLength(1)
    expect(w.reports[0].slots).toEqual([{ ok: false, reason: 'hoster-missing' }, { ok: false, reason: 'bad-encoding' }])
  })

  it('near the setup deadline blame the encoder of a slot still waiting for chunks', async () => {
    const w = world()
    await deliverAll(w, w.enc1)
    await w.h.idle()
    // deadline 40, margin 3: blocks before 37 wait for slot 1
    w.market.advance(36)
    w.roles.sync(w.c(1))
    await w.h.idle()
    expect(w.reports).toHaveLength(0)
    w.market.advance(37)
    w.roles.sync(w.c(1))
    await w.h.idle()
    expect(w.reports).toHaveLength(1)
    expect(w.reports[0].slots[0].ok).toBe(true)
    expect(w.reports[0].slots[1]).toEqual({ ok: false, reason: 'encoder-missing' })
  })

  it('near the setup deadline blame the encoder of a slot that delivered only part of its chunks', async () => {
    const w = world()
    w.market.advance(37)
    await w.roles.ondeliver(delivery(w.c(1), 0), channelFrom(w.enc1))
    await w.h.idle()
    expect(w.reports).toEqual([{ contractId: 1, slots: [{ ok: false, reason: 'encoder-missing' }, { ok: false, reason: 'encoder-missing' }] }])
  })

  it('near the setup deadline wait for a slot whose hoster is signing its receipt', async () => {
    const w = world()
    const signing = deferred<{ receiptsRoot: Buffer, signature: Buffer }>()
    w.attestor.settleWith = async () => await signing.promise
    await deliverAll(w, w.enc1)
    expect(w.attestor.settles).toHaveLength(1)
    w.market.advance(38)
    w.roles.sync(w.c(1))
    expect(w.reports).toHaveLength(0) // slot 0 is settling; slot 1 alone would be blamed
    const r = { receiptsRoot: b4a.alloc(32, 3), signature: b4a.alloc(64, 4) }
    signing.resolve(r)
    await w.h.idle()
    expect(w.reports).toHaveLength(1)
    expect(w.reports[0].slots).toEqual([
      { ok: true, receiptsRootHex: '03'.repeat(32), receiptHex: '04'.repeat(64) },
      { ok: false, reason: 'encoder-missing' }
    ])
  })

  it('blame the hoster when it cannot be reached for its slot receipt, or when the receipt fails without a blame', async () => {
    const w = world()
    w.unreachable.add(w.hos1.keyHex)
    await deliverAll(w, w.enc1)
    w.attestor.settleWith = async () => { throw new Error('no blame on this one') }
    await deliverAll(w, w.enc2)
    await w.h.idle()
    expect(w.attestor.settles.map((s) => b4a.toString(s.hosterKey, 'hex'))).toEqual([w.hos2.keyHex]) // hos1 never reached
    expect(blameOf(w.h.errors.get('settle:1:0:5:hos1:enc1'))).toBe('hoster-missing')
    expect(w.reports).toEqual([{ contractId: 1, slots: [{ ok: false, reason: 'hoster-missing' }, { ok: false, reason: 'hoster-missing' }] }])
  })

  it('keep the blame a refused slot receipt carries', async () => {
    const w = world()
    w.attestor.settleWith = async () => { throw withBlame(DatdotError.proofFailed('BAD_RECEIPT', 'x'), 'hoster-refused') }
    await deliverAll(w, w.enc1)
    await deliverAll(w, w.enc2)
    await w.h.idle()
    expect(w.reports[0].slots).toEqual([{ ok: false, reason: 'hoster-refused' }, { ok: false, reason: 'hoster-refused' }])
  })

  it('route a delivery from a setup slot’s encoder to that slot’s hoster, against the contract’s recorded root', async () => {
    const w = world()
    const target = await w.roles.route(delivery(w.c(1), 0), channelFrom(w.enc2))
    expect(target).not.toBeNull()
    expect(w.peers.channelTo).toHaveBeenCalledWith(w.hos2.keyHex)
    expect(target?.hoster.remotePublicKey).toEqual(w.hos2.keyPair.publicKey)
    expect(b4a.equals(target?.hosterKey as Uint8Array, w.hos2.keyPair.publicKey)).toBe(true)
    expect(b4a.equals(target?.hosted.encoderKey as Uint8Array, w.enc2.keyPair.publicKey)).toBe(true)
    expect(target?.hosted.rounds).toBe(w.h.ctx.limits.rounds)
    expect(target?.hosted.contract).toMatchObject({ contractId: 1, start: 0, end: 2 })
    expect(target?.hosted.contract.root.length).toBe(4)
    expect(b4a.toString(target?.hosted.contract.root.coreKey as Buffer, 'hex')).toBe(w.c(1).keyHex)
  })

  it('route nothing for an unknown contract, a sender that encodes no setup slot, or a contract this node does not attest', async () => {
    const w = world()
    expect(await w.roles.route({ ...delivery(w.c(1), 0), contractId: 99 }, channelFrom(w.enc1))).toBeNull()
    expect(await w.roles.route(delivery(w.c(1), 0), channelFrom(w.hos1))).toBeNull()
    expect(await w.roles.route(delivery(w.c(1), 0), channelFrom(party('stranger')))).toBeNull()
    expect(await w.roles.route(delivery(w.c(1), 0), channelFrom(null))).toBeNull()
    w.c(1).slots[0].state = 'hosting'
    expect(await w.roles.route(delivery(w.c(1), 0), channelFrom(w.enc1))).toBeNull()
    w.c(1).attestor = 'other'
    expect(await w.roles.route(delivery(w.c(1), 0), channelFrom(w.enc2))).toBeNull()
    expect(w.peers.channelTo).not.toHaveBeenCalled()
  })

  it('blame the hoster when a route cannot reach it', async () => {
    const w = world()
    w.unreachable.add(w.hos1.keyHex)
    const err = await w.roles.route(delivery(w.c(1), 0), channelFrom(w.enc1)).then(() => null, (e: unknown) => e)
    expect(DatdotError.from(err).code).toBe('TIMEOUT')
    expect(blameOf(err)).toBe('hoster-missing')
  })

  it('hand the attestor’s delivery to a slot this node hosts to the hoster handler at once', async () => {
    const w = world()
    const c5 = contract({ id: 5, planId: 1, attestor: 'other', slots: [slot({ hoster: 'me', encoder: 'enc1', state: 'setup', since: 8 })] })
    w.market.market.contracts[5] = c5
    const msg = delivery(c5, 0)
    const receipt = await w.roles.ondeliver(msg, channelFrom(w.other))
    expect(receipt.toString()).toBe('hoster receipt')
    expect(w.hosterDeliver).toHaveBeenCalledTimes(1)
    expect(w.hosterDeliver.mock.calls[0][0]).toBe(msg)
    expect(w.attestor.relays).toHaveLength(0)
    expect(w.h.timers.size).toBe(0) // no wait for the chain
  })

  it('give a delivery from a peer that is not the contract’s encoder to the hoster handler once the wait for the chain ends', async () => {
    const w = world()
    const stranger = party('stranger')
    const p = w.roles.ondeliver(delivery(w.c(1), 0), channelFrom(stranger))
    await w.h.timers.untilScheduled(w.h.ctx.limits.connectTimeoutMs)
    expect(w.hosterDeliver).not.toHaveBeenCalled()
    w.market.advance(11) // a block that changes nothing: still waiting
    expect(w.hosterDeliver).not.toHaveBeenCalled()
    w.h.timers.advance(w.h.ctx.limits.connectTimeoutMs)
    expect((await p).toString()).toBe('hoster receipt')
    expect(w.hosterDeliver).toHaveBeenCalledTimes(1)
    expect(w.attestor.relays).toHaveLength(0)
  })

  it('relay a delivery from a peer that becomes a slot’s encoder on a later block', async () => {
    const w = world()
    const enc3 = party('enc3')
    const p = w.roles.ondeliver(delivery(w.c(1), 0), channelFrom(enc3))
    await w.h.timers.untilScheduled(w.h.ctx.limits.connectTimeoutMs)
    w.market.advance(11, (m) => {
      m.providers.enc3 = { ...m.providers.enc1, address: 'enc3', noiseKeyHex: enc3.keyHex }
      m.contracts[1].slots[1] = slot({ hoster: 'hos2', encoder: 'enc3', state: 'setup', since: 11 })
    })
    expect((await p).equals(b4a.alloc(64, 1))).toBe(true)
    expect(w.attestor.relays).toHaveLength(1)
    expect(w.hosterDeliver).not.toHaveBeenCalled()
    expect(w.h.timers.size).toBe(0) // the wait's timer was cleared
  })

  it('count no relay and keep no chunk hash when the attestor refuses a delivery', async () => {
    const w = world()
    w.attestor.relay = async () => { throw DatdotError.invalidArgument('block 7 is not in contract 1') }
    await expect(w.roles.ondeliver(delivery(w.c(1), 0), channelFrom(w.enc1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    w.attestor.relay = async () => b4a.alloc(64, 1)
    await w.roles.ondeliver(delivery(w.c(1), 1), channelFrom(w.enc1))
    await w.h.idle()
    expect(w.h.ctx.counters.relayed).toBe(1)
    expect(w.attestor.settles).toHaveLength(0) // block 0 was never taken: no slot receipt yet
  })
})
