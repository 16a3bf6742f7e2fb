/**
 * The operators' payout record: escrow pays owed items, one transfer per payee in order of first
 * appearance, each the sum of its items; paid items leave the owed list and count as payouts or
 * refunds in the escrow totals.
 */
import type { MarketRecord } from './record-types.js'
import type { Action, ActionOutcome, MarketState, NetworkConfig, OwedItem, Transfer } from './market-types.js'
import { reject, type Ctx } from './market-context.js'
import { moveHeld } from './market-index.js'

export function payout (ctx: Ctx, action: Action, rec: Extract<MarketRecord, { kind: 'payout' }>, res: ActionOutcome): string {
  const { state } = ctx
  const expected = checkPayout(state, action.signer, rec.items, action.transfers)
  expected.forEach(([, list], i) => {
    res.transferLegs[i] = list.map((it) => ({ reason: it.reason, amountPlanck: it.amountPlanck, memo: `item ${it.id} plan ${it.planId}` }))
    for (const it of list) {
      moveHeld(state, -it.amountPlanck)
      delete state.owed[it.id]
      if (it.reason === 'refund') state.escrow.refundsPlanck += it.amountPlanck
      else state.escrow.payoutsPlanck += it.amountPlanck
    }
  })
  return `payout:${rec.items.join(',')}`
}

/**
 * The payout's checks, changing nothing: signed by escrow, every item owed, the transfers exactly
 * one per payee in order of first appearance, each the sum of its items. Returns the items per
 * payee; throws Reject. Also what a k-of-n operator checks before it approves a payout.
 */
export function checkPayout (state: MarketState, signer: string, itemIds: number[], transfers: Transfer[]): Array<[string, OwedItem[]]> {
  const net = state.network as NetworkConfig
  if (signer !== net.escrow) reject('wrong-signer', 'payouts come from escrow')
  const items: OwedItem[] = []
  for (const id of itemIds) {
    const item = state.owed[id]
    if (item === undefined) reject(id >= state.next.item ? 'out-of-order' : 'replayed', `item ${id} is not owed`)
    items.push(item)
  }
  const perPayee = new Map<string, OwedItem[]>()
  for (const item of items) {
    const list = perPayee.get(item.to)
    if (list === undefined) perPayee.set(item.to, [item])
    else list.push(item)
  }
  const expected = [...perPayee.entries()]
  if (expected.length !== transfers.length) reject('bad-value', `${transfers.length} transfers for ${expected.length} payees`)
  expected.forEach(([to, list], i) => {
    const t = transfers[i]
    const sum = list.reduce((a, it) => a + it.amountPlanck, 0n)
    if (t.from !== net.escrow || t.to !== to || t.amountPlanck !== sum) reject('bad-value', `transfer ${i} does not match the items it pays`)
  })
  return expected
}
