/**
 * Setting a slot up: the encoder and the setup attestor.
 * - Encoder: replicates the contract's blocks from the swarm, verifies each against the signed
 *   root the chain recorded, encodes it for its hoster and delivers it to the contract's attestor.
 * - Setup attestor: checks every delivery, relays it to the hoster, and once the hoster holds
 *   every chunk has it sign the slot receipt; then submits the contract's setup report (a
 *   receipt or a blame per slot; near the setup deadline, what it has).
 */
import b4a from 'b4a'
import type { Contract } from '../chain/marketplace.js'
import type { SetupFailure, SetupSlot } from '../chain/records.js'
import { DatdotError } from '../shared/errors.js'
import { toHex } from '../engine/paths.js'
import { deliverContract, blameOf, withBlame, type Attestor, type HostedContract, type RelayTarget } from './roles.js'
import { encodedChunkHash } from './encoding.js'
import { reachLength, type HostingChain, type HostingContext } from './context.js'
import type { PlanCores } from './cores.js'
import type { Peers } from './peers.js'
import type { TaskQueue } from './tasks.js'
import type { HostingBehaviour } from './behaviour.js'
import type { DeliverMessage, StoredChunk } from './messages.js'
import type { HostingChannel, WireHandlers } from './wire.js'

/** The setup attestor's view of one slot. */
export interface SetupProgress {
  /** Encoded chunk hash per block index, for every chunk the hoster took and receipted. */
  hashes: Map<number, Buffer>
  failure: SetupFailure | null
  outcome: SetupSlot | null
  settling: boolean
}

export interface SetupRolesOptions {
  ctx: HostingContext
  chain: Pick<HostingChain, 'submitSetupReport'>
  tasks: TaskQueue
  peers: Pick<Peers, 'channelTo'>
  cores: PlanCores
  attestor: Attestor
  /** Where a delivery goes that is not for this node as an attestor: its hoster's handler. */
  hosterDeliver: NonNullable<WireHandlers['ondeliver']>
  behaviour: HostingBehaviour
}

/** Could not reach the hoster: its fault for a setup ('hoster-missing'). */
function withBlameMissing (err: unknown): DatdotError {
  return withBlame(err, 'hoster-missing')
}

export class SetupRoles {
  private readonly progress = new Map<string, SetupProgress>()
  private readonly reported = new Set<string>()

  constructor (private readonly opts: SetupRolesOptions) {}

  /** Starts what this node owes the contract's slots in setup: encodings, and the setup report. */
  sync (contract: Contract): void {
    const me = this.opts.ctx.me
    contract.slots.forEach((slot, i) => {
      if (slot.encoder === me && slot.state === 'setup' && slot.hoster !== null && contract.attestor !== null) {
        const id = `encode:${contract.id}:${i}:${slot.since}:${slot.hoster}:${contract.attestor}`
        this.opts.tasks.start(id, { role: 'encoder', planId: contract.planId, contractId: contract.id, slot: i }, () => this.encode(contract.id, i))
      }
    })
    if (contract.attestor === me && contract.slots.some((s) => s.state === 'setup')) this.maybeReport(contract.id)
  }

  /** The attestor's relay target for a delivery from one of the contract's encoders, or null. */
  async route (msg: DeliverMessage, from: HostingChannel): Promise<RelayTarget | null> {
    const { ctx } = this.opts
    const contract = ctx.market.contracts[msg.contractId]
    const slotIndex = this.setupSlotOf(contract, from)
    if (contract === undefined || slotIndex === -1 || from.remotePublicKey === null) return null
    const hosterKeyHex = ctx.providerKey(contract.slots[slotIndex].hoster)
    const channel = await this.hosterChannel(hosterKeyHex)
    const hosted: HostedContract = { contract: ctx.viewOf(contract), encoderKey: from.remotePublicKey, rounds: ctx.limits.rounds }
    return { hosted, hosterKey: b4a.from(hosterKeyHex, 'hex'), hoster: channel }
  }

  /**
   * A delivery arrived: an encoder's to this node as the contract's attestor (checked, relayed,
   * counted for the slot receipt), or the attestor's to this node as a hoster.
   */
  async ondeliver (msg: DeliverMessage, from: HostingChannel): Promise<Buffer> {
    const { ctx } = this.opts
    let contract = ctx.market.contracts[msg.contractId]
    let slotIndex = this.setupSlotOf(contract, from)
    if (slotIndex === -1 && !this.deliveryToHost(contract, from)) {
      // neither an encoder's delivery to me as the attestor nor the attestor's to me as a hoster, yet
      await ctx.untilChain(() => {
        contract = ctx.market.contracts[msg.contractId]
        slotIndex = this.setupSlotOf(contract, from)
        return slotIndex !== -1 || this.deliveryToHost(contract, from)
      }, ctx.limits.connectTimeoutMs)
    }
    if (contract === undefined || slotIndex === -1) return await this.opts.hosterDeliver(msg, from)
    return await this.relay(contract, slotIndex, msg, from)
  }

  private async relay (contract: Contract, slotIndex: number, msg: DeliverMessage, from: HostingChannel): Promise<Buffer> {
    const progress = this.progressOf(contract, slotIndex)
    try {
      const receipt = await (this.opts.attestor.handlers().ondeliver as NonNullable<WireHandlers['ondeliver']>)(msg, from)
      progress.hashes.set(msg.chunk.index, encodedChunkHash(msg.chunk.encoded))
      this.opts.ctx.counters.relayed++
      if (progress.hashes.size === contract.end - contract.start) this.settle(contract, slotIndex, progress)
      return receipt
    } catch (err) {
      const blame = blameOf(err)
      if (blame !== null && progress.failure === null && progress.outcome === null) progress.failure = blame
      throw err
    } finally {
      this.maybeReport(contract.id)
    }
  }

  /** Encoder: replicates, verifies, encodes and delivers one slot's chunks. */
  private async encode (contractId: number, slotIndex: number): Promise<void> {
    const { ctx, behaviour } = this.opts
    const contract = ctx.market.contracts[contractId]
    if (contract === undefined) return
    const slot = contract.slots[slotIndex]
    const plan = ctx.market.plans[contract.planId]
    const hosterKey = ctx.providerKeyBytes(slot.hoster)
    const attestorKeyHex = ctx.providerKey(contract.attestor)
    const view = ctx.viewOf(contract)
    const core = this.opts.cores.core(plan, contract.keyHex, false)
    const what = `blocks of contract ${contractId}`
    await ctx.withTimeout(reachLength(core, view.root.length), ctx.limits.fetchTimeoutMs, what)
    if (core.fork !== view.root.fork) throw DatdotError.invalidArgument(`core ${contract.keyHex.slice(0, 8)} is at fork ${core.fork}, the contract's root at ${view.root.fork}`)
    // The contract's blocks, and the last block of the root: its proof brings the full roots of the
    // tree at root.length, so merkle proofs against that length can be built even when this
    // replica is longer (the author appended after the contract was cut) and sparse.
    await ctx.withTimeout(core.download({ start: view.start, end: view.end }).done(), ctx.limits.fetchTimeoutMs, what)
    await ctx.withTimeout(core.get(view.root.length - 1).then(() => {}), ctx.limits.fetchTimeoutMs, what)
    const { channel } = await this.opts.peers.channelTo(attestorKeyHex)
    const tamper = behaviour.tamper
    const res = await deliverContract(core, view, hosterKey, ctx.keyPair, channel, {
      rounds: ctx.limits.rounds,
      attestorKey: b4a.from(attestorKeyHex, 'hex'),
      timeoutMs: ctx.limits.requestTimeoutMs,
      ...(tamper !== undefined ? { tamper: (chunk: StoredChunk, hk: Uint8Array) => tamper(chunk, { coreKey: view.root.coreKey, hosterKey: hk }, ctx.keyPair.secretKey) } : {})
    })
    ctx.counters.encoded += res.delivered
  }

  private async hosterChannel (hosterKeyHex: string): Promise<HostingChannel> {
    try {
      return (await this.opts.peers.channelTo(hosterKeyHex)).channel
    } catch (err) {
      throw withBlameMissing(err)
    }
  }

  private slotKey (contract: Contract, i: number): string {
    const s = contract.slots[i]
    return `${contract.id}:${i}:${s.since}:${s.hoster ?? ''}:${s.encoder ?? ''}`
  }

  private progressOf (contract: Contract, i: number): SetupProgress {
    const key = this.slotKey(contract, i)
    let p = this.progress.get(key)
    if (p === undefined) {
      p = { hashes: new Map(), failure: null, outcome: null, settling: false }
      this.progress.set(key, p)
    }
    return p
  }

  /** The setup slot this channel's peer encodes for, when this node is the contract's attestor. */
  private setupSlotOf (contract: Contract | undefined, from: HostingChannel): number {
    const { ctx } = this.opts
    if (contract === undefined || contract.attestor !== ctx.me || from.remotePublicKey === null) return -1
    const sender = toHex(from.remotePublicKey)
    return contract.slots.findIndex((s) => s.state === 'setup' && s.encoder !== null && ctx.market.providers[s.encoder]?.noiseKeyHex === sender)
  }

  /** True when this node hosts a slot of the contract and the channel's peer is the contract's attestor. */
  private deliveryToHost (contract: Contract | undefined, from: HostingChannel): boolean {
    const { ctx } = this.opts
    if (contract === undefined || contract.attestor === null || from.remotePublicKey === null) return false
    const me = ctx.me
    return contract.slots.some((s) => s.hoster === me) && ctx.market.providers[contract.attestor]?.noiseKeyHex === toHex(from.remotePublicKey)
  }

  /** After the slot's last chunk: the hoster signs the receipts root (slot receipt). */
  private settle (contract: Contract, i: number, progress: SetupProgress): void {
    if (progress.settling) return
    progress.settling = true
    const { ctx } = this.opts
    const slot = contract.slots[i]
    this.opts.tasks.start(`settle:${this.slotKey(contract, i)}`, { role: 'attestor', planId: contract.planId, contractId: contract.id, slot: i }, async () => {
      try {
        const hosterKeyHex = ctx.providerKey(slot.hoster)
        const view = ctx.viewOf(contract)
        const hashes: Buffer[] = []
        for (let index = view.start; index < view.end; index++) hashes.push(progress.hashes.get(index) as Buffer)
        const channel = await this.hosterChannel(hosterKeyHex)
        const r = await this.opts.attestor.settle(channel, { contract: view, hosterKey: b4a.from(hosterKeyHex, 'hex'), encodedHashes: hashes, timeoutMs: ctx.limits.requestTimeoutMs })
        progress.outcome = { ok: true, receiptsRootHex: toHex(r.receiptsRoot), receiptHex: toHex(r.signature) }
      } catch (err) {
        if (progress.outcome === null && progress.failure === null) progress.failure = blameOf(err) ?? 'hoster-missing'
        throw err
      } finally {
        this.maybeReport(contract.id)
      }
    })
  }

  /**
   * Reports the contract's setup once every slot in setup has an outcome (a slot receipt or a
   * blame), or, when the setup deadline is near, what it has: a slot still waiting for chunks
   * blames its encoder ('encoder-missing'). One entry per slot; entries of slots not in setup
   * are ignored by the state machine.
   */
  private maybeReport (contractId: number): void {
    const { ctx } = this.opts
    const contract = ctx.market.contracts[contractId]
    if (contract === undefined || contract.attestor !== ctx.me) return
    if (!contract.slots.some((s) => s.state === 'setup')) return
    const slots = this.outcomes(contract)
    if (slots === null) return
    const key = `${contract.id}:${contract.slots.map((s) => `${s.hoster ?? ''}/${s.encoder ?? ''}/${s.state}/${s.since}`).join(',')}`
    if (this.reported.has(key)) return
    this.reported.add(key)
    this.opts.tasks.start(`setup-report:${key}`, { role: 'attestor', planId: contract.planId, contractId: contract.id, slot: null }, async () => {
      await this.opts.chain.submitSetupReport(contract.id, slots)
      ctx.counters.setupReports++
    })
  }

  /** Each slot's entry for the setup report, or null while one is still open and the deadline is not near. */
  private outcomes (contract: Contract): SetupSlot[] | null {
    const { ctx } = this.opts
    const now = ctx.market.block?.number ?? 0
    const late = contract.setupDeadline !== null && now >= contract.setupDeadline - ctx.limits.setupReportMarginBlocks
    const slots: Array<SetupSlot | null> = contract.slots.map((s, i) => {
      if (s.state !== 'setup') return { ok: false, reason: 'encoder-missing' } // ignored: not in setup
      const p = this.progress.get(this.slotKey(contract, i))
      if (p?.outcome !== null && p?.outcome !== undefined) return p.outcome
      if (p?.failure !== null && p?.failure !== undefined) return { ok: false, reason: p.failure }
      if (!late || p?.settling === true) return null
      return { ok: false, reason: 'encoder-missing' }
    })
    return slots.includes(null) ? null : slots as SetupSlot[]
  }
}
