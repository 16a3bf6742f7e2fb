/**
 * The chain service's transaction queue. Records this node signs wait in a queue; while one
 * extrinsic of this node is in flight the next records are coalesced into one `utility.batchAll`
 * (at most MARKET_PARAMS.recordsPerAction; a record that moves value always goes alone, the
 * marketplace accepts value only with exactly one record). Every extrinsic of a signer is sent only
 * after the signer's previous one is in a block (or failed): with `{ nonce: -1 }` a second one sent
 * while the first waits in the pool would read the same nonce. A failed submission releases its
 * turn, so it never blocks the next. A submission resolves when its block is followed, with the
 * marketplace's outcome of each record.
 *
 * It takes only what it uses (building and including an extrinsic, block numbers, following,
 * block outcomes), so it is unit-tested with fakes; `buildRecordsTx` and `includeExtrinsic` are
 * the real ones over @polkadot/api.
 */
import type { ApiPromise } from '@polkadot/api'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import { u8aToHex } from '@polkadot/util'
import { DatdotError } from '../shared/errors.js'
import { withTimeout, type Timers } from '../shared/timeout.js'
import { MARKET_PARAMS, type BlockOutcome } from './marketplace.js'
import { encodeRecord, type MarketRecord } from './records.js'

export interface SubmitLimits {
  /** An extrinsic not in a block by then fails (CHAIN_ERROR "timed out ..."). */
  timeoutMs: number
  /** Records waiting for a batch; one more is refused with LIMIT_REACHED. */
  queuedRecords: number
}

export const SUBMIT_LIMITS: Readonly<SubmitLimits> = { timeoutMs: 120_000, queuedRecords: 10_000 }

export interface SubmitResult { blockHash: string, blockNumber: number, index: number, applied: string[] }
export interface ValueTransfer { to: string, amountPlanck: bigint }
/** Where an extrinsic landed: its block and its index in that block. */
export interface Inclusion { blockHash: string, index: number }
export interface SubmitCounters {
  /** Extrinsics sent by the record queue, and the records they carried (coalescing). */
  batches: number
  batchedRecords: number
}

/** One record to send, encoded, with the transfers that go with it. */
export interface EncodedRecord { bytes: Uint8Array, transfers: ValueTransfer[] }

export interface SubmitterDeps<Tx, Signer extends { address: string }> {
  /** This node's key: records are signed with it. */
  signer: Signer
  /** The one extrinsic carrying these records (each record's remark, then its transfers). */
  recordsTx: (records: EncodedRecord[]) => Tx
  /** Signs and sends `tx` with the signer's next nonce; resolves once it is in a block, rejects with a clear error. */
  include: (tx: Tx, signer: Signer) => Promise<Inclusion>
  /** The number of a block, by hash. */
  blockNumber: (hash: string) => Promise<number>
  /** Resolves when the follower has applied block `number` and it is `hash`. */
  waitFollowed: (number: number, hash: string) => Promise<void>
  /** The marketplace outcome of a followed block (undefined when no longer kept). */
  outcome: (hash: string) => BlockOutcome | undefined
  counters: SubmitCounters
  timers?: Timers
  limits?: Partial<SubmitLimits>
  /** What is closed, for the CLOSED error (default 'chain service'). */
  closedName?: string
}

interface QueuedRecord extends EncodedRecord {
  kind: MarketRecord['kind']
  resolve: (r: SubmitResult) => void
  reject: (e: unknown) => void
}

export class Submitter<Tx, Signer extends { address: string }> {
  private readonly queue: QueuedRecord[] = []
  private inFlight = false
  private done: Promise<void> = Promise.resolve()
  private closed = false
  /** Per signer address: resolves when its last submission is in a block or failed. */
  private readonly turns = new Map<string, Promise<void>>()
  private readonly limits: SubmitLimits

  constructor (private readonly deps: SubmitterDeps<Tx, Signer>) {
    this.limits = { ...SUBMIT_LIMITS, ...deps.limits }
  }

  /** Records waiting for the next batch (not yet sent). */
  get queued (): number { return this.queue.length }

  /**
   * Queues a record (and its transfers) signed by this node; resolves when its block is followed,
   * with this record's outcome. Rejects with CHAIN_ERROR (and details.why) when the marketplace
   * rejected it, INVALID_ARGUMENT when it does not encode, LIMIT_REACHED when the queue is full.
   */
  submitRecord (rec: MarketRecord, transfers: ValueTransfer[] = []): Promise<SubmitResult> {
    if (this.closed) return Promise.reject(this.closedError())
    if (this.queue.length >= this.limits.queuedRecords) {
      return Promise.reject(new DatdotError('LIMIT_REACHED', `too many records waiting for the chain: at most ${this.limits.queuedRecords} (the chain is slow or unreachable; try again later)`, { limit: this.limits.queuedRecords }))
    }
    let bytes: Uint8Array
    try {
      bytes = encodeRecord(rec)
    } catch (err) {
      return Promise.reject(err instanceof RangeError ? DatdotError.invalidArgument(err.message) : err)
    }
    return new Promise<SubmitResult>((resolve, reject) => {
      this.queue.push({ kind: rec.kind, bytes, transfers, resolve, reject })
      this.pump()
    })
  }

  /**
   * Sends `tx` signed by `signer` once the signer's previous submission is in a block or failed,
   * and resolves when its block is followed.
   */
  async send (tx: Tx, signer: Signer): Promise<SubmitResult> {
    const prev = this.turns.get(signer.address) ?? Promise.resolve()
    let release: () => void = () => {}
    const pooled = new Promise<void>((resolve) => { release = resolve })
    const turn = prev.then(() => pooled)
    this.turns.set(signer.address, turn)
    void turn.then(() => { if (this.turns.get(signer.address) === turn) this.turns.delete(signer.address) })
    await prev
    let included: Inclusion
    try {
      included = await withTimeout(this.deps.include(tx, signer), this.limits.timeoutMs, 'waiting for the transaction to be included', {
        timers: this.deps.timers,
        onTimeout: (what) => DatdotError.chain(`timed out ${what}`)
      })
    } finally {
      release()
    }
    const blockNumber = await this.deps.blockNumber(included.blockHash)
    await this.deps.waitFollowed(blockNumber, included.blockHash)
    return { blockHash: included.blockHash, blockNumber, index: included.index, applied: [] }
  }

  /** Refuses new records, rejects the queued ones with CLOSED; resolves when the batch in flight is done. */
  close (): Promise<void> {
    this.closed = true
    for (const q of this.queue.splice(0)) q.reject(this.closedError())
    return this.done
  }

  private closedError (): DatdotError { return DatdotError.closed(this.deps.closedName ?? 'chain service') }

  private pump (): void {
    if (this.inFlight || this.queue.length === 0) return
    const first = this.queue[0]
    let n = 1
    if (first.transfers.length === 0) {
      while (n < this.queue.length && n < MARKET_PARAMS.recordsPerAction && this.queue[n].transfers.length === 0) n++
    }
    const batch = this.queue.splice(0, n)
    this.inFlight = true
    this.deps.counters.batches++
    this.deps.counters.batchedRecords += batch.length
    this.done = this.sendBatch(batch).finally(() => {
      this.inFlight = false
      this.pump()
    })
  }

  private async sendBatch (batch: QueuedRecord[]): Promise<void> {
    try {
      const res = await this.send(this.deps.recordsTx(batch), this.deps.signer)
      const action = this.deps.outcome(res.blockHash)?.actions.find((a) => a.index === res.index)
      batch.forEach((q, i) => {
        const r = action?.records[i]
        if (r === undefined) q.reject(DatdotError.internal(`submitted ${q.kind} not found in block ${res.blockNumber}`))
        else if (!r.ok) q.reject(new DatdotError('CHAIN_ERROR', `the marketplace rejected the ${q.kind} record: ${r.why} (${r.detail})`, { why: r.why, detail: r.detail }))
        else q.resolve({ ...res, applied: [r.ref] })
      })
    } catch (err) {
      for (const q of batch) q.reject(err)
    }
  }
}

/** The extrinsic of a batch of records: batchAll of each record's remark then its transfers. */
export function buildRecordsTx (api: ApiPromise, formatAddress: (hex: string) => string, records: EncodedRecord[]): SubmittableExtrinsic<'promise'> {
  const calls = records.flatMap((q) => [
    api.tx.system.remarkWithEvent(u8aToHex(q.bytes)),
    ...q.transfers.map((t) => api.tx.balances.transferKeepAlive(formatAddress(t.to), t.amountPlanck))
  ])
  return api.tx.utility.batchAll(calls)
}

/**
 * Signs and sends `tx` with the signer's next nonce; resolves with its block and index once it is
 * in a block, rejects with CHAIN_ERROR when the pool refuses it, it fails to dispatch, or is dropped.
 */
export function includeExtrinsic (api: ApiPromise, tx: SubmittableExtrinsic<'promise'>, signer: KeyringPair): Promise<Inclusion> {
  return new Promise<Inclusion>((resolve, reject) => {
    let unsub: (() => void) | null = null
    tx.signAndSend(signer, { nonce: -1 }, (r) => {
      if (r.dispatchError !== undefined) {
        unsub?.()
        let msg = r.dispatchError.toString()
        if (r.dispatchError.isModule) {
          const d = api.registry.findMetaError(r.dispatchError.asModule)
          msg = `${d.section}.${d.name}`
        }
        reject(DatdotError.chain(`transaction failed: ${msg}`))
      } else if (r.status.isInBlock || r.status.isFinalized) {
        // Over WebSocket chopsticks may report Finalized without InBlock first.
        unsub?.()
        resolve({ blockHash: (r.status.isInBlock ? r.status.asInBlock : r.status.asFinalized).toHex(), index: r.txIndex ?? -1 })
      } else if (r.isError) {
        unsub?.()
        reject(DatdotError.chain(`transaction not included: ${r.status.type}`))
      }
    }).then((u) => { unsub = u }, (err: unknown) => { reject(refusalError((err as Error).message, err)) })
  })
}

/**
 * Turns the node's terse refusal codes into a coded error a user can act on: a fee this account
 * cannot pay (`1010: {"invalid":{"payment":null}}`) is INSUFFICIENT_FUNDS with the way out, the
 * rest CHAIN_ERROR (refusalMessage).
 */
export function refusalError (raw: string, cause?: unknown): DatdotError {
  if (/"payment"/.test(raw) || /Inability to pay/i.test(raw)) return DatdotError.insufficientFunds({ raw: raw.slice(0, 200) }, cause)
  return DatdotError.chain(refusalMessage(raw), cause)
}

/** The message of a refusal other than insufficient funds. */
export function refusalMessage (raw: string): string {
  if (/"stale"|"future"/.test(raw)) return `transaction refused: nonce out of date, try again (${raw})`
  return `transaction refused: ${raw}`
}
