/**
 * Operator payouts. Where this node runs the local chain and holds the network's operator keys,
 * it pays the marketplace's owed items from escrow with
 * `multisig.asMultiThreshold1(batchAll([payout record, transfers...]))`. One payout at a time;
 * `kick()` after each followed batch of blocks starts the next when items are owed.
 */
import type { ApiPromise } from '@polkadot/api'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import { u8aToHex } from '@polkadot/util'
import { owedItems, type MarketState, type OwedItem } from './marketplace.js'
import { encodeRecord } from './records.js'
import type { NetworkKeys } from './local-chain.js'

/** Owed items paid in one extrinsic at most. */
export const PAYOUT_ITEMS = 200

export interface PayoutCounters {
  payouts: number
  payoutFailures: number
}

export interface OperatorDeps {
  /** The followed marketplace state. */
  market: () => MarketState
  /** The local chain's network keys, or null when this node may not operate (remote chain, or `operator: false`). */
  keys: NetworkKeys | null
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
    const keys = this.deps.keys
    if (keys === null || net === null) return false
    return net.operators.includes(u8aToHex(keys.operators[0].publicKey)) && net.escrow === keys.escrowHex
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
    const items = owedItems(this.deps.market(), PAYOUT_ITEMS)
    if (items.length === 0) return
    this._paying = true
    try {
      const chosen = await this.payable(items)
      if (chosen.length === 0) return
      const keys = this.deps.keys as NetworkKeys
      await this.deps.send(this.payoutTx(chosen, keys), keys.operators[0])
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

  /** The payout record and one transfer per payee (in order of first item), as the operators' threshold-1 multisig. */
  private payoutTx (chosen: OwedItem[], keys: NetworkKeys): SubmittableExtrinsic<'promise'> {
    const { api, formatAddress } = this.deps
    const sums = sumsByPayee(chosen)
    const rec = encodeRecord({ kind: 'payout', items: chosen.map((i) => i.id) })
    const calls = [api.tx.system.remarkWithEvent(u8aToHex(rec)), ...[...sums].map(([to, sum]) => api.tx.balances.transferKeepAlive(formatAddress(to), sum))]
    const others = keys.operators.slice(1).map((o) => o.address)
    return api.tx.multisig.asMultiThreshold1(others, api.tx.utility.batchAll(calls))
  }
}

/** Total owed per payee, in order of each payee's first item. */
function sumsByPayee (items: OwedItem[]): Map<string, bigint> {
  const sums = new Map<string, bigint>()
  for (const it of items) sums.set(it.to, (sums.get(it.to) ?? 0n) + it.amountPlanck)
  return sums
}
