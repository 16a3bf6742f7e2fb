/**
 * Operator payouts. Where this node holds operator keys of the network it follows (the local
 * chain's, or keys handed in), it pays the marketplace's owed items from escrow: with threshold 1
 * as `multisig.asMultiThreshold1(batchAll([payout record, transfers...]))`; with a k-of-n escrow
 * through proposals and approvals of several operators (escrow-multisig.ts). One payout at a
 * time; `kick()` after each followed batch of blocks starts the next step.
 */
import type { ApiPromise } from '@polkadot/api'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import { u8aToHex } from '@polkadot/util'
import { owedItems, type MarketState, type OwedItem } from './marketplace.js'
import { encodeRecord } from './records.js'
import { createKeyMulti } from '@polkadot/util-crypto'
import { hexToU8a } from '@polkadot/util'
import { multisigStep, otherSignatories } from './escrow-multisig.js'
import { payoutCutoff } from './epoch-records.js'

/** Owed items paid in one extrinsic at most. */
export const PAYOUT_ITEMS = 200

export interface PayoutCounters {
  payouts: number
  payoutFailures: number
}

export interface OperatorDeps {
  /** The followed marketplace state. */
  market: () => MarketState
  /** The operator keys this node holds, or null when it may not operate (no keys, or `operator: false`). */
  keys: KeyringPair[] | null
  api: ApiPromise
  /** Balance (free + reserved) of an ss58 address at the head. */
  balanceOf: (address: string) => Promise<bigint>
  formatAddress: (hex: string) => string
  /** Sends `tx` signed by `signer`; resolves when its block is followed. */
  send: (tx: SubmittableExtrinsic<'promise'>, signer: KeyringPair) => Promise<unknown>
  counters: PayoutCounters
  /** A failed payout (it is tried again after the next followed block). */
  onError: (err: unknown) => void
  stopped: () => boolean
}

export class Operator {
  private _paying = false
  private done: Promise<void> = Promise.resolve()

  constructor (private readonly deps: OperatorDeps) {}

  /** True when this node holds the operator keys of the network it follows. */
  get isOperator (): boolean {
    const net = this.deps.market().network
    if (net === null || this.held().size === 0) return false
    return net.escrow === u8aToHex(createKeyMulti(net.operators.map((o) => hexToU8a(o)), net.threshold))
  }

  /** The held keys that are operators of the followed network, by public key hex. */
  private held (): Map<string, KeyringPair> {
    const ops = this.deps.market().network?.operators ?? []
    return new Map((this.deps.keys ?? []).map((k) => [u8aToHex(k.publicKey), k] as const).filter(([hex]) => ops.includes(hex)))
  }

  /** True while a payout is in flight. */
  get paying (): boolean { return this._paying }

  /** Starts a payout when this node is the operator and none is in flight. Not awaited: paying waits for its own block to be followed. */
  kick (): void {
    if (this.isOperator && !this._paying) this.done = this.maybePay()
  }

  /** Resolves when the payout in flight (if any) is done. Never rejects. */
  idle (): Promise<void> { return this.done }

  /** Pays owed items from escrow. Payees without an account get paid once they are owed the existential deposit. */
  private async maybePay (): Promise<void> {
    if (!this.isOperator || this._paying || this.deps.stopped()) return
    if ((this.deps.market().network?.threshold ?? 1) > 1) { await this.multisigSteps(); return }
    const items = dueOwedItems(this.deps.market())
    if (items.length === 0) return
    this._paying = true
    try {
      const tx = await this.payoutCall()
      if (tx === null) return
      const [signerHex, signer] = [...this.held()][0]
      const others = otherSignatories(this.deps.market().network?.operators ?? [], signerHex, this.deps.formatAddress)
      await this.deps.send(this.deps.api.tx.multisig.asMultiThreshold1(others, tx), signer)
      this.deps.counters.payouts++
    } catch (err) {
      this.deps.counters.payoutFailures++
      this.deps.onError(err)
    } finally {
      this._paying = false
    }
  }

  /** The items whose payee is owed at least the existential deposit in total, or already has an account. */
  private async payable (items: OwedItem[]): Promise<OwedItem[]> {
    const ed = this.deps.api.consts.balances.existentialDeposit.toBigInt()
    const sums = sumsByPayee(items)
    const payable = new Set<string>()
    for (const [to, sum] of sums) {
      if (sum >= ed || (await this.deps.balanceOf(this.deps.formatAddress(to))) > 0n) payable.add(to)
    }
    return items.filter((i) => payable.has(i.to))
  }

  /** k-of-n: protocol steps (propose, approve, execute, cancel) until one leaves nothing for this node to do. */
  private async multisigSteps (): Promise<void> {
    this._paying = true
    try {
      for (let i = 0; i < 16 && !this.deps.stopped(); i++) {
        const step = await multisigStep({ api: this.deps.api, state: this.deps.market, held: this.held(), formatAddress: this.deps.formatAddress, payoutCall: () => this.duePayout(), send: this.deps.send })
        if (step === 'executed') this.deps.counters.payouts++
        if (step === 'idle' || step === 'waiting') return
      }
    } catch (err) {
      this.deps.counters.payoutFailures++
      this.deps.onError(err)
    } finally {
      this._paying = false
    }
  }

  /** batchAll(payout record, one transfer per payee in order of first item) for the payable owed items; null when none. */
  private async payoutCall (): Promise<SubmittableExtrinsic<'promise'> | null> {
    return (await this.duePayout())?.tx ?? null
  }

  /** The payout call and the block since which its oldest item is owed; null when nothing is payable. */
  private async duePayout (): Promise<{ tx: SubmittableExtrinsic<'promise'>, sinceBlock: number } | null> {
    const { api, formatAddress } = this.deps
    const items = dueOwedItems(this.deps.market())
    const chosen = items.length === 0 ? [] : await this.payable(items)
    if (chosen.length === 0) return null
    const tx = buildPayoutCall(api, formatAddress, chosen.map((i) => i.id), sumsByPayee(chosen))
    return { tx, sinceBlock: Math.min(...chosen.map((i) => i.block)) }
  }
}

/** batchAll(payout record of `itemIds`, one transfer per payee of `sums`, in its order): the call escrow pays with (bench/economics.ts prices it). */
export function buildPayoutCall (api: ApiPromise, formatAddress: (hex: string) => string, itemIds: number[], sums: Map<string, bigint>): SubmittableExtrinsic<'promise'> {
  const rec = encodeRecord({ kind: 'payout', items: itemIds })
  const calls = [api.tx.system.remarkWithEvent(u8aToHex(rec)), ...[...sums].map(([to, sum]) => api.tx.balances.transferKeepAlive(formatAddress(to), sum))]
  return api.tx.utility.batchAll(calls)
}

/**
 * The oldest owed items due now, at most PAYOUT_ITEMS: on an aggregated network the rewards owed
 * before the epoch's payout point (one payout an epoch) and every refund (a sponsor's money is not
 * a reward to batch).
 */
export function dueOwedItems (state: MarketState): OwedItem[] {
  const cutoff = payoutCutoff(state)
  return owedItems(state, PAYOUT_ITEMS).filter((i) => i.reason === 'refund' || i.block < cutoff)
}

/** Total owed per payee, in order of each payee's first item. */
function sumsByPayee (items: OwedItem[]): Map<string, bigint> {
  const sums = new Map<string, bigint>()
  for (const it of items) sums.set(it.to, (sums.get(it.to) ?? 0n) + it.amountPlanck)
  return sums
}
