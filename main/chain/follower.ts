/**
 * Reads one block through @polkadot/api and turns it into
 *  - the marketplace input (actions: successful extrinsics with DatDot remarks or transfers), and
 *  - the balance events the ledger needs (transfers, fees), each with its event index.
 * Works the same against the embedded chain and any Asset Hub reached over WebSocket.
 * Escrow acts through pallet-multisig: `asMultiThreshold1` (threshold 1) or, for a k-of-n escrow,
 * the `asMulti` that carries the k-th approval; that one counts only when its
 * `multisig.MultisigExecuted` event says the call succeeded (approvals alone move nothing).
 */
import type { ApiPromise } from '@polkadot/api'
import type { Call } from '@polkadot/types/interfaces'
import { u8aToHex, hexToU8a } from '@polkadot/util'
import { createKeyMulti, decodeAddress } from '@polkadot/util-crypto'
import type { Action, BlockInput, Transfer } from './marketplace.js'
import { isDatdotRemark } from './records.js'

/** Calls the app uses: checked on connect so a runtime without them fails early and clearly. */
export const REQUIRED_CALLS = [
  ['system', 'remarkWithEvent'],
  ['utility', 'batchAll'],
  ['balances', 'transferKeepAlive'],
  ['multisig', 'asMultiThreshold1'],
  ['multisig', 'asMulti'],
  ['multisig', 'approveAsMulti']
] as const
export const REQUIRED_QUERIES = [['system', 'account'], ['system', 'events'], ['timestamp', 'now']] as const

export function missingApis (api: ApiPromise): string[] {
  const missing: string[] = []
  const tx = api.tx as unknown as Record<string, Record<string, unknown> | undefined>
  const query = api.query as unknown as Record<string, Record<string, unknown> | undefined>
  for (const [s, m] of REQUIRED_CALLS) if (typeof tx[s]?.[m] !== 'function') missing.push(`tx.${s}.${m}`)
  for (const [s, m] of REQUIRED_QUERIES) if (typeof query[s]?.[m] !== 'function') missing.push(`query.${s}.${m}`)
  return missing
}

export interface BalanceEvent {
  eventIndex: number
  /** Extrinsic index, or null for events outside extrinsics (initialization, finalization). */
  extrinsic: number | null
  kind: 'transfer' | 'withdraw' | 'deposit' | 'dust' | 'other'
  method: string
  from: string | null
  to: string | null
  who: string | null
  amountPlanck: bigint
}

export interface ReadBlock {
  input: BlockInput
  events: BalanceEvent[]
  /** Transfer calls per extrinsic index, to match with transfer events in order. */
  transfersByExtrinsic: Map<number, Transfer[]>
}

const TRANSFER_METHODS = new Set(['transferKeepAlive', 'transferAllowDeath', 'transfer'])

export function toHex (address: string | Uint8Array): string { return u8aToHex(typeof address === 'string' ? decodeAddress(address) : address) }

export async function readBlock (api: ApiPromise, number: number, hash?: string): Promise<ReadBlock> {
  const blockHash = hash ?? (await api.rpc.chain.getBlockHash(number)).toHex()
  const [signed, apiAt] = await Promise.all([api.rpc.chain.getBlock(blockHash), api.at(blockHash)])
  const [eventsCodec, now] = await Promise.all([apiAt.query.system.events(), apiAt.query.timestamp.now()])
  const header = signed.block.header
  if (header.number.toNumber() !== number) throw new Error(`block ${blockHash} is #${header.number.toNumber()}, expected #${number}`)

  const ok = new Set<number>()
  /** Extrinsic index -> the multisig account whose call it executed successfully. */
  const executed = new Map<number, string>()
  const events: BalanceEvent[] = []
  ;(eventsCodec as unknown as Array<{ phase: { isApplyExtrinsic: boolean, asApplyExtrinsic: { toNumber: () => number } }, event: { section: string, method: string, data: Array<{ toString: () => string, toBigInt?: () => bigint }> } }>).forEach((rec, eventIndex) => {
    const extrinsic = rec.phase.isApplyExtrinsic ? rec.phase.asApplyExtrinsic.toNumber() : null
    const { section, method, data } = rec.event
    if (section === 'system' && method === 'ExtrinsicSuccess' && extrinsic !== null) ok.add(extrinsic)
    if (section === 'multisig' && method === 'MultisigExecuted' && extrinsic !== null && (data[4] as unknown as { isOk: boolean }).isOk) executed.set(extrinsic, toHex(data[2].toString()))
    if (section !== 'balances') return
    const big = (i: number): bigint => BigInt(data[i].toString())
    const acc = (i: number): string => toHex(data[i].toString())
    switch (method) {
      case 'Transfer': events.push({ eventIndex, extrinsic, kind: 'transfer', method, from: acc(0), to: acc(1), who: null, amountPlanck: big(2) }); break
      case 'Withdraw': events.push({ eventIndex, extrinsic, kind: 'withdraw', method, from: null, to: null, who: acc(0), amountPlanck: big(1) }); break
      case 'Deposit': events.push({ eventIndex, extrinsic, kind: 'deposit', method, from: null, to: null, who: acc(0), amountPlanck: big(1) }); break
      case 'DustLost': events.push({ eventIndex, extrinsic, kind: 'dust', method, from: null, to: null, who: acc(0), amountPlanck: big(1) }); break
      default: break
    }
  })

  const actions: Action[] = []
  const transfersByExtrinsic = new Map<number, Transfer[]>()
  signed.block.extrinsics.forEach((ext, index) => {
    if (!ext.isSigned || !ok.has(index)) return
    const signer = toHex(ext.signer.toString())
    const action: Action = { index, signer, remarks: [], transfers: [] }
    flatten(ext.method as unknown as Call, signer, action, 0, executed.get(index) ?? null)
    if (action.transfers.length > 0) transfersByExtrinsic.set(index, action.transfers)
    if (action.remarks.length > 0 || action.transfers.length > 0) actions.push(action)
  })
  return {
    input: { number, hash: blockHash, parentHash: header.parentHash.toHex(), timeMs: Number(now.toString()), actions },
    events,
    transfersByExtrinsic
  }
}

/**
 * Walks batchAll / asMultiThreshold1 / an executed asMulti (top level only) and collects remarks
 * and transfers of `origin`. `executedBy`: the multisig account whose call this extrinsic executed.
 */
function flatten (call: Call, origin: string, action: Action, depth: number, executedBy: string | null): void {
  if (depth > 2) return
  const section = call.section
  const method = call.method
  const args = call.args as unknown as Array<{ toString: () => string, toU8a: (bare?: boolean) => Uint8Array }>
  if (section === 'utility' && method === 'batchAll') {
    for (const inner of call.args[0] as unknown as Call[]) flatten(inner, origin, action, depth + 1, null)
  } else if (section === 'multisig' && method === 'asMultiThreshold1' && depth === 0) {
    const others = (call.args[0] as unknown as Array<{ toString: () => string }>).map((a) => a.toString())
    const multi = u8aToHex(createKeyMulti([origin, ...others.map(toHex)].map((h) => hexToU8a(h)), 1))
    action.signer = multi
    flatten(call.args[1] as unknown as Call, multi, action, depth + 1, null)
  } else if (section === 'multisig' && method === 'asMulti' && depth === 0 && executedBy !== null) {
    action.signer = executedBy
    // the call argument is a WrapperKeepOpaque<Call> on older runtimes
    const arg = call.args[3] as unknown as Call & { unwrap?: () => Call }
    flatten(typeof arg.section === 'string' ? arg : (arg.unwrap as () => Call)(), executedBy, action, depth + 1, null)
  } else if (section === 'system' && (method === 'remarkWithEvent' || method === 'remark')) {
    const bytes = args[0].toU8a(true)
    if (isDatdotRemark(bytes)) action.remarks.push(bytes)
  } else if (section === 'balances' && TRANSFER_METHODS.has(method)) {
    action.transfers.push({ from: origin, to: toHex(args[0].toString()), amountPlanck: BigInt(args[1].toString()) })
  }
}
