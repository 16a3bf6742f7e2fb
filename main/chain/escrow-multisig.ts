/**
 * Payouts from a k-of-n escrow (pallet-multisig, threshold k > 1) by operators that each hold
 * their own key and check for themselves. One step at a time, after each followed block:
 *  - nothing pending: the proposer proposes the payout with `asMulti` carrying the call (the first
 *    approval; the call sits in the extrinsic for the others to read). The proposer is the first
 *    operator of the network record; operator i (i > 0) proposes once the oldest payable item has
 *    been owed `i * PROPOSER_TURN_BLOCKS` blocks, so a payout goes out while any operator that
 *    can reach k approvals is up (`proposerIndex`);
 *  - a payout pending: an operator that has not approved reads the call from the proposing
 *    extrinsic, checks its hash and that it is exactly a payout the followed state owes
 *    (payout-record.ts `checkPayout`), then approves with `approveAsMulti`, or, as the k-th
 *    approval, executes it with `asMulti`; a proposal that no longer checks (its items were paid)
 *    is cancelled by its depositor.
 * One payout pending at a time. No call here is built from anything but the followed state.
 */
import type { ApiPromise } from '@polkadot/api'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import type { Call } from '@polkadot/types/interfaces'
import { u8aToHex } from '@polkadot/util'
import { decodeAddress } from '@polkadot/util-crypto'
import type { MarketState, NetworkConfig, Transfer } from './market-types.js'
import { checkPayout } from './payout-record.js'
import { decodeRecord } from './records.js'
import { Reject } from './market-context.js'

type Tx = SubmittableExtrinsic<'promise'>

export interface MultisigDeps {
  api: ApiPromise
  state: () => MarketState
  /** The operator keys this node holds (public key hex -> pair). */
  held: Map<string, KeyringPair>
  formatAddress: (hex: string) => string
  /** The payout call (batchAll of the payout record and its transfers) for owed items and the block its oldest item is owed since, or null when nothing is payable. */
  payoutCall: () => Promise<{ tx: Tx, sinceBlock: number } | null>
  /** Sends `tx` signed by `signer`; resolves when its block is followed. */
  send: (tx: Tx, signer: KeyringPair) => Promise<unknown>
}

export interface Pending {
  callHash: string
  when: { height: number, index: number }
  depositor: string
  approvals: string[]
}

/**
 * Blocks an operator waits for each operator listed before it in the network record before it
 * proposes a payout itself (1 minute of 6 s blocks): the first proposes at once, the second when
 * the oldest payable item has been owed this long, the third twice as long...
 */
export const PROPOSER_TURN_BLOCKS = 10

/**
 * Which of the held operators proposes a payout whose oldest item is owed since `sinceBlock`, at
 * the followed block `head`: the first in the record's order whose turn has come, or null (none
 * held, or not yet).
 */
export function proposerIndex (operators: string[], held: (hex: string) => boolean, head: number, sinceBlock: number): number | null {
  for (let i = 0; i < operators.length; i++) {
    if (!held(operators[i])) continue
    return i === 0 || head - sinceBlock >= i * PROPOSER_TURN_BLOCKS ? i : null
  }
  return null
}

/** What one step did (tests and counters). */
export type StepResult = 'idle' | 'proposed' | 'approved' | 'executed' | 'cancelled' | 'waiting'

/** The operators but `signer`, as pallet-multisig wants them: sorted by account id (else `SignatoriesOutOfOrder`). */
export function otherSignatories (operators: string[], signer: string, formatAddress: (hex: string) => string): string[] {
  return operators.filter((o) => o !== signer).sort().map(formatAddress)
}

/** The escrow's pending multisig operations (at most one is expected). */
export async function pendingOps (api: ApiPromise, escrow: string): Promise<Pending[]> {
  const entries = await api.query.multisig.multisigs.entries(escrow)
  const out: Pending[] = []
  for (const [key, value] of entries) {
    if (value.isNone) continue
    const m = value.unwrap()
    out.push({
      callHash: key.args[1].toHex(),
      when: { height: m.when.height.toNumber(), index: m.when.index.toNumber() },
      depositor: u8aToHex(decodeAddress(m.depositor.toString())),
      approvals: m.approvals.map((a) => u8aToHex(decodeAddress(a.toString())))
    })
  }
  return out
}

/** One step of the k-of-n payout protocol for this node (see the file comment). */
export async function multisigStep (deps: MultisigDeps): Promise<StepResult> {
  const net = deps.state().network as NetworkConfig
  const pending = await pendingOps(deps.api, deps.formatAddress(net.escrow))
  if (pending.length === 0) return await propose(deps, net)
  const op = pending[0]
  const call = await proposedCall(deps.api, op)
  const valid = call !== null && payoutChecks(deps.state(), net.escrow, call)
  const others = (signer: string): string[] => otherSignatories(net.operators, signer, deps.formatAddress)
  if (!valid) {
    const depositor = deps.held.get(op.depositor)
    if (depositor === undefined) return 'waiting'
    await deps.send(multisigTx(deps.api, 'cancelAsMulti', { threshold: net.threshold, otherSignatories: others(op.depositor), timepoint: op.when, callHash: op.callHash }), depositor)
    return 'cancelled'
  }
  const signerHex = [...deps.held.keys()].find((k) => net.operators.includes(k) && !op.approvals.includes(k))
  if (signerHex === undefined) return 'waiting'
  const signer = deps.held.get(signerHex) as KeyringPair
  const weight = await callWeight(deps.api, call, deps.formatAddress(net.escrow))
  const common = { threshold: net.threshold, otherSignatories: others(signerHex), maybeTimepoint: op.when, maxWeight: weight }
  if (op.approvals.length + 1 >= net.threshold) {
    await deps.send(multisigTx(deps.api, 'asMulti', { ...common, call }), signer)
    return 'executed'
  }
  await deps.send(multisigTx(deps.api, 'approveAsMulti', { ...common, callHash: op.callHash }), signer)
  return 'approved'
}

/** The proposer whose turn it is (`proposerIndex`), when held here, proposes the payout of owed items. */
async function propose (deps: MultisigDeps, net: NetworkConfig): Promise<StepResult> {
  if (!net.operators.some((o) => deps.held.has(o))) return 'idle'
  const due = await deps.payoutCall()
  if (due === null) return 'idle'
  const i = proposerIndex(net.operators, (o) => deps.held.has(o), deps.state().block?.number ?? 0, due.sinceBlock)
  if (i === null) return 'idle'
  const proposer = deps.held.get(net.operators[i]) as KeyringPair
  const { tx } = due
  const others = otherSignatories(net.operators, net.operators[i], deps.formatAddress)
  const weight = await callWeight(deps.api, tx.method as unknown as Call, deps.formatAddress(net.escrow))
  await deps.send(multisigTx(deps.api, 'asMulti', { threshold: net.threshold, otherSignatories: others, maybeTimepoint: null, call: tx.method, maxWeight: weight }), proposer)
  return 'proposed'
}

/** The call a pending operation approves, read from the `asMulti` extrinsic that proposed it; null when it is not there or does not hash to the operation. */
async function proposedCall (api: ApiPromise, op: Pending): Promise<Call | null> {
  const hash = await api.rpc.chain.getBlockHash(op.when.height)
  const block = await api.rpc.chain.getBlock(hash)
  const ext = block.block.extrinsics[op.when.index]
  if (ext === undefined || ext.method.section !== 'multisig' || ext.method.method !== 'asMulti') return null
  const call = innerCall(ext.method.args[3])
  return call !== null && call.hash.toHex() === op.callHash ? call : null
}

/** True when `call` is exactly a payout of owed items from escrow: batchAll(payout remark, transfers). */
export function payoutChecks (state: MarketState, escrow: string, call: Call): boolean {
  if (call.section !== 'utility' || call.method !== 'batchAll') return false
  const [first, ...rest] = call.args[0] as unknown as Call[]
  if (first === undefined || first.section !== 'system' || first.method !== 'remarkWithEvent') return false
  const dec = decodeRecord((first.args[0] as unknown as { toU8a: (bare: boolean) => Uint8Array }).toU8a(true))
  if (!dec.ok || dec.record.kind !== 'payout') return false
  const transfers: Transfer[] = []
  for (const c of rest) {
    if (c.section !== 'balances' || c.method !== 'transferKeepAlive') return false
    transfers.push({ from: escrow, to: u8aToHex(decodeAddress(c.args[0].toString())), amountPlanck: BigInt(c.args[1].toString()) })
  }
  try {
    checkPayout(state, escrow, dec.record.items, transfers)
    return true
  } catch (err) {
    if (err instanceof Reject) return false
    throw err
  }
}

/** The call's dispatch weight: the `max_weight` of an approval (a plain u64 on runtimes before Weight v2). */
async function callWeight (api: ApiPromise, call: Call, escrow: string): Promise<unknown> {
  const w = (await api.tx(call).paymentInfo(escrow)).weight as unknown as { refTime?: { toBigInt: () => bigint }, proofSize?: { toBigInt: () => bigint }, toString: () => string }
  const refTime = w.refTime !== undefined ? w.refTime.toBigInt() : BigInt(w.toString())
  const weightArg = api.tx.multisig.asMulti.meta.args.find((a) => a.name.toString() === 'maxWeight')?.type.toString()
  if (weightArg === 'u64' || weightArg === 'Weight' && api.createType('Weight').toRawType() === 'u64') return refTime
  return { refTime, proofSize: w.proofSize?.toBigInt() ?? 0n }
}

/**
 * A pallet-multisig call with its arguments by name, in the order this runtime's metadata lists
 * them: older runtimes take `store_call` (false: the call stays in the proposing extrinsic) and
 * a u64 `max_weight`.
 */
function multisigTx (api: ApiPromise, method: 'asMulti' | 'approveAsMulti' | 'cancelAsMulti', values: Record<string, unknown>): Tx {
  const fn = api.tx.multisig[method] as unknown as ((...args: unknown[]) => Tx) & { meta: { args: Array<{ name: { toString: () => string } }> } }
  const args = fn.meta.args.map((a) => {
    const name = a.name.toString()
    if (name === 'storeCall') return false
    if (!(name in values)) throw new Error(`multisig.${method}: this runtime wants an argument DatDot does not know: ${name}`)
    return values[name]
  })
  return fn(...args)
}

/** The call inside an asMulti's `call` argument (a WrapperKeepOpaque<Call> on older runtimes). */
function innerCall (arg: unknown): Call | null {
  const a = arg as { unwrap?: () => Call, isDecoded?: boolean, section?: string }
  if (typeof a.section === 'string') return a as unknown as Call
  if (typeof a.unwrap === 'function' && a.isDecoded !== false) return a.unwrap()
  return null
}
