/**
 * The hoster's side, driven by chain state: which contracts this node holds (for the Hoster's
 * checks), the wire handlers it answers with (a slot receipt only once the plain replica has the
 * contract's blocks), the plans it must seed, and deleting the encoded chunks of contracts it no
 * longer hosts (unpublish, replacement).
 */
import b4a from 'b4a'
import type { Contract, MarketState } from '../chain/marketplace.js'
import { DatdotError } from '../shared/errors.js'
import type { Hoster, HostedContract } from './roles.js'
import type { ChunkStore } from './chunk-store.js'
import type { HostingContext } from './context.js'
import type { TaskQueue } from './tasks.js'
import type { HostingBehaviour } from './behaviour.js'
import type { WireHandlers } from './wire.js'

type Handler<K extends keyof WireHandlers> = NonNullable<WireHandlers[K]>

export interface HostedSlotsOptions {
  ctx: HostingContext
  store: ChunkStore
  tasks: TaskQueue
  behaviour: HostingBehaviour
  /** Resolves when the plain replica has the contract's blocks, or after a while anyway. */
  replicaReady: (contractId: number) => Promise<void>
}

export class HostedSlots {
  /** Contracts this node holds encoded chunks of, with their ranges (kept to free them later). */
  private readonly holding = new Map<number, { keyHex: string, start: number, end: number }>()
  /** Slots the behaviour's onHosting ran for (once each). */
  private readonly hostingSeen = new Set<string>()

  constructor (private readonly opts: HostedSlotsOptions) {}

  /** The contract as this hoster holds it: its view and its slot's encoder. Null when it holds none. */
  async contract (contractId: number): Promise<HostedContract | null> {
    const { ctx } = this.opts
    const contract = ctx.market.contracts[contractId]
    if (contract === undefined) return null
    const slot = contract.slots.find((s) => s.hoster === ctx.me)
    if (slot === undefined || slot.encoder === null) return null
    const encoder = ctx.market.providers[slot.encoder]
    if (encoder === undefined) return null
    return { contract: ctx.viewOf(contract), encoderKey: b4a.from(encoder.noiseKeyHex, 'hex'), rounds: ctx.limits.rounds }
  }

  /** The Hoster's wire handlers, with the service's rules around the walk and the slot receipt. */
  handlers (hoster: Hoster): WireHandlers {
    const h = hoster.handlers()
    const onchallenge = h.onchallenge as Handler<'onchallenge'>
    const onsettle = h.onsettle as Handler<'onsettle'>
    const before = this.opts.behaviour.beforeAnswer
    return {
      ondeliver: h.ondeliver,
      onopen: h.onopen,
      onchallenge: async (msg, from) => {
        const hashes = await onchallenge(msg, from)
        if (before !== undefined) await before(this.opts.ctx)
        return hashes
      },
      onsettle: async (msg, from) => {
        // the receipt says "stored and served": sign it once the plain replica has the contract's blocks
        await this.opts.replicaReady(msg.contractId)
        return await onsettle(msg, from)
      }
    }
  }

  /** The plans of the contracts this node hosts a slot of (of active plans); runs onHosting for hosting slots. */
  plansToSeed (market: MarketState): Set<number> {
    const me = this.opts.ctx.me
    const want = new Set<number>()
    for (const contract of Object.values(market.contracts)) {
      const plan = market.plans[contract.planId]
      if (plan === undefined || plan.status !== 'active') continue
      contract.slots.forEach((slot, i) => {
        if (slot.hoster !== me) return
        want.add(plan.id)
        if (slot.state === 'hosting') this.hosting(contract, i)
      })
    }
    return want
  }

  /** Deletes the encoded chunks of contracts this node no longer hosts a slot of. */
  async freeDropped (market: MarketState): Promise<void> {
    const me = this.opts.ctx.me
    for (const c of Object.values(market.contracts)) {
      if (c.slots.some((s) => s.hoster === me)) this.holding.set(c.id, { keyHex: c.keyHex, start: c.start, end: c.end })
    }
    for (const [id, h] of [...this.holding]) {
      const c = market.contracts[id]
      if (c !== undefined && c.slots.some((s) => s.hoster === me)) continue
      this.holding.delete(id)
      for (let i = h.start; i < h.end; i++) await this.opts.store.deleteChunk(b4a.from(h.keyHex, 'hex'), i).catch(() => false)
    }
  }

  /** Deletes this node's encoded chunks of a contract; the number deleted. */
  async dropChunks (contractId: number): Promise<number> {
    const c = this.opts.ctx.market.contracts[contractId]
    if (c === undefined) throw DatdotError.notFound(`contract ${contractId}`)
    let n = 0
    for (let i = c.start; i < c.end; i++) if (await this.opts.store.deleteChunk(b4a.from(c.keyHex, 'hex'), i)) n++
    return n
  }

  /** A slot of this hoster is hosting: the behaviour's onHosting runs once for it, as a task. */
  private hosting (contract: Contract, i: number): void {
    const onHosting = this.opts.behaviour.onHosting
    if (onHosting === undefined) return
    const key = `${contract.id}:${i}:${contract.slots[i].since}`
    if (this.hostingSeen.has(key)) return
    this.hostingSeen.add(key)
    this.opts.tasks.start(`behaviour:${key}`, { role: 'hoster', planId: contract.planId, contractId: contract.id, slot: i }, () => onHosting(contract, i, this.opts.store))
  }
}
