/**
 * The hosting roles on top of the wire protocol: a Hoster stores and answers, an Attestor
 * checks deliveries and runs storage challenges, an encoder delivers a contract.
 * They hold no network: channels are given to them (attach to any connection).
 */
import { EventEmitter } from 'node:events'
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import type Hypercore from 'hypercore'
import { DatdotError } from '../shared/errors.js'
import { encodedChunkHash } from './encoding.js'
import {
  verifyStoredChunk, computeWalk, createStorageProof, commitmentHash, openingSteps, verifyOpening, checkDeadline,
  checkContract, walkIndexes, PROOF_FAILURE, type ContractView
} from './proof.js'
import { encodeBlocksForHoster, type EncoderKeyPair } from './encoder.js'
import type { ChunkStore } from './chunk-store.js'
import { HostingChannel, type WireHandlers, type WireOptions } from './wire.js'
import { MAX_WALK_STEPS, type StoredChunk, type DeliverMessage, type SettleMessage } from './messages.js'
import { receiptMessage, type SetupFailure } from '../chain/records.js'

export interface KeyPair { publicKey: Buffer, secretKey: Buffer }

const DOMAIN_RECEIPT = b4a.from('datdot/hosting/v1/receipt')

/** What a hoster (or an attestor relaying to it) signs when it has checked and taken a chunk. */
export function receiptSignable (contractId: number, coreKey: Uint8Array, index: number, encodedHash: Uint8Array): Buffer {
  const nums = b4a.alloc(16)
  nums.writeBigUInt64LE(BigInt(contractId), 0)
  nums.writeBigUInt64LE(BigInt(index), 8)
  return b4a.concat([DOMAIN_RECEIPT, coreKey, nums, encodedHash])
}

export function verifyReceipt (contractId: number, coreKey: Uint8Array, chunk: StoredChunk, signature: Uint8Array, signerKey: Uint8Array): boolean {
  return hcrypto.verify(receiptSignable(contractId, coreKey, chunk.index, encodedChunkHash(chunk.encoded)), signature, signerKey)
}

/**
 * The receipts root of a slot: BLAKE2b-256 of the concatenated encoded chunk hashes
 * (`encodedChunkHash`), in block index order. The hoster signs it once per slot (its slot receipt).
 */
export function receiptsRoot (encodedHashes: Uint8Array[]): Buffer {
  return hcrypto.hash(b4a.concat(encodedHashes))
}

/** The bytes of a slot receipt (chain/records.ts `receiptMessage`). */
export function slotReceiptSignable (contractId: number, coreKey: Uint8Array, rootLength: number, root: Uint8Array): Buffer {
  return b4a.from(receiptMessage(contractId, b4a.toString(coreKey, 'hex'), rootLength, b4a.toString(root, 'hex')))
}

export function verifySlotReceipt (contractId: number, coreKey: Uint8Array, rootLength: number, root: Uint8Array, signature: Uint8Array, hosterKey: Uint8Array): boolean {
  if (signature.byteLength !== 64 || hosterKey.byteLength !== 32) return false
  return hcrypto.verify(slotReceiptSignable(contractId, coreKey, rootLength, root), signature, hosterKey)
}

/** The same error with the party to blame for a failed slot setup (details.blame). */
export function withBlame (err: unknown, blame: SetupFailure): DatdotError {
  const e = DatdotError.from(err)
  return new DatdotError(e.code, e.message, { ...e.details, blame }, e)
}

/** Who failed a slot setup, from an error of `Attestor.relay` or `Attestor.settle`; null when unknown (no report from it). */
export function blameOf (err: unknown): SetupFailure | null {
  const b = (err as DatdotError | undefined)?.details?.blame
  return typeof b === 'string' ? b as SetupFailure : null
}

/** A contract as one hoster slot sees it. */
export interface HostedContract {
  contract: ContractView
  /** The encoder assigned to this hoster's slot. */
  encoderKey: Uint8Array
  /** Rounds the plan fixes for the encoding. */
  rounds: number
}

export interface HosterOptions {
  keyPair: KeyPair
  store: ChunkStore
  /** The contracts this hoster holds (from chain state); may wait until the contract is prepared. */
  contract: (contractId: number) => HostedContract | null | Promise<HostedContract | null>
}

/**
 * Stores encoded chunks it has verified, signs receipts, answers walks and openings.
 * Events: 'stored' ({ contractId, index }), 'rejected' (DatdotError), 'challenged' ({ contractId, steps }),
 * 'settled' ({ contractId }: a slot receipt signed).
 */
export class Hoster extends EventEmitter {
  readonly keyPair: KeyPair
  readonly store: ChunkStore
  readonly counters = { stored: 0, rejected: 0, challenges: 0, openings: 0, settled: 0 }
  private readonly lookup: HosterOptions['contract']

  constructor (opts: HosterOptions) {
    super()
    this.keyPair = opts.keyPair
    this.store = opts.store
    this.lookup = opts.contract
  }

  get publicKey (): Buffer { return this.keyPair.publicKey }

  attach (stream: unknown, opts?: WireOptions): HostingChannel {
    return new HostingChannel(stream, this.handlers(), opts)
  }

  handlers (): WireHandlers {
    return {
      ondeliver: (msg) => this.ondeliver(msg),
      onchallenge: async (msg) => {
        const hosted = await this.find(msg.contractId, msg.coreKey)
        this.counters.challenges++
        this.emit('challenged', { contractId: msg.contractId, steps: msg.steps })
        return (await computeWalk(this.store, hosted.contract, msg.seed, msg.steps)).hashes
      },
      onopen: async (msg) => {
        const hosted = await this.find(msg.contractId, msg.coreKey)
        if (msg.index < hosted.contract.start || msg.index >= hosted.contract.end) throw DatdotError.invalidArgument(`block ${msg.index} is not in contract ${msg.contractId}`)
        this.counters.openings++
        return (await createStorageProof(this.store, msg.coreKey, msg.index)).chunk
      },
      onsettle: (msg) => this.onsettle(msg)
    }
  }

  /**
   * Signs the slot receipt when the attestor's receipts root is the one of the chunks stored here:
   * every block of the contract, in index order, against the contract's root length.
   */
  private async onsettle (msg: SettleMessage): Promise<Buffer> {
    const { contract } = await this.find(msg.contractId, msg.coreKey)
    if (msg.rootLength !== contract.root.length) throw DatdotError.proofFailed(PROOF_FAILURE.WRONG_LENGTH, `the contract's root has ${contract.root.length} blocks, not ${msg.rootLength}`)
    const hashes: Buffer[] = []
    for (let i = contract.start; i < contract.end; i++) {
      const chunk = await this.store.getChunk(contract.root.coreKey, i)
      if (chunk === null) throw DatdotError.proofFailed(PROOF_FAILURE.MISSING_CHUNK, `block ${i} of contract ${msg.contractId} was not stored here`, { index: i })
      hashes.push(encodedChunkHash(chunk.encoded))
    }
    if (!b4a.equals(receiptsRoot(hashes), msg.receiptsRoot)) throw DatdotError.proofFailed(PROOF_FAILURE.ROOT_MISMATCH, 'the receipts root is not the one of the chunks stored here')
    this.counters.settled++
    this.emit('settled', { contractId: msg.contractId })
    return hcrypto.sign(slotReceiptSignable(msg.contractId, msg.coreKey, msg.rootLength, msg.receiptsRoot), this.keyPair.secretKey)
  }

  private async find (contractId: number, coreKey: Uint8Array): Promise<HostedContract> {
    const hosted = await this.lookup(contractId)
    if (hosted === null || !b4a.equals(hosted.contract.root.coreKey, coreKey)) throw DatdotError.notFound(`contract ${contractId}`)
    return hosted
  }

  private async ondeliver (msg: DeliverMessage): Promise<Buffer> {
    const hosted = await this.find(msg.contractId, msg.coreKey)
    const { contract, encoderKey, rounds } = hosted
    const { chunk } = msg
    if (chunk.index < contract.start || chunk.index >= contract.end) throw DatdotError.invalidArgument(`block ${chunk.index} is not in contract ${msg.contractId}`)
    try {
      // never accept what we would later fail a challenge on
      verifyStoredChunk(chunk, { root: contract.root, hosterKey: this.keyPair.publicKey, encoderKey, rounds })
    } catch (err) {
      this.counters.rejected++
      this.emit('rejected', err)
      throw err
    }
    await this.store.putChunk(contract.root.coreKey, chunk)
    this.counters.stored++
    this.emit('stored', { contractId: msg.contractId, index: chunk.index })
    return hcrypto.sign(receiptSignable(msg.contractId, msg.coreKey, chunk.index, encodedChunkHash(chunk.encoded)), this.keyPair.secretKey)
  }
}

/** Where an attestor forwards a delivery. */
export interface RelayTarget {
  hosted: HostedContract
  hosterKey: Uint8Array
  hoster: HostingChannel
}

export interface StorageChallenge {
  contract: ContractView
  hosterKey: Uint8Array
  encoderKey: Uint8Array
  rounds?: number
  seed: Buffer
  /** Walk length K; see docs/protocol.md for the default and why. */
  steps: number
  /** Steps opened after the commitment. */
  openings: number
  /** Time allowed from sending the challenge to receiving the commitment. */
  deadlineMs: number
  /** Time allowed for each opening (not a storage deadline: the commitment already binds). */
  openTimeoutMs?: number
  /** The attestor's fresh randomness for the openings; revealed in the report. */
  nonce?: Buffer
}

export interface OpenedStep { step: number, index: number, encodedHash: Buffer, chunk: StoredChunk }

export interface StorageReport {
  ok: boolean
  reason: string | null
  message: string | null
  contractId: number
  seed: Buffer
  steps: number
  nonce: Buffer
  commitmentHash: Buffer | null
  commitElapsedMs: number | null
  opened: OpenedStep[]
}

export interface AttestorOptions {
  keyPair: KeyPair
  /** Decides where a delivery goes (may wait until the contract is prepared); null refuses it. */
  route?: (msg: DeliverMessage, from: HostingChannel) => RelayTarget | null | Promise<RelayTarget | null>
}

/**
 * Checks encodings before they reach the hoster, and runs storage challenges.
 * Events: 'bad-encoding' ({ contractId, index, error }), 'relayed' ({ contractId, index, hosterReceipt }),
 * 'report' (StorageReport).
 */
export class Attestor extends EventEmitter {
  readonly keyPair: KeyPair
  readonly counters = { relayed: 0, badEncodings: 0, challenges: 0, failed: 0 }
  private readonly route: AttestorOptions['route']

  constructor (opts: AttestorOptions) {
    super()
    this.keyPair = opts.keyPair
    this.route = opts.route
  }

  attach (stream: unknown, opts?: WireOptions): HostingChannel {
    return new HostingChannel(stream, this.handlers(), opts)
  }

  handlers (): WireHandlers {
    return { ondeliver: (msg, from) => this.relay(msg, from) }
  }

  private async relay (msg: DeliverMessage, from: HostingChannel): Promise<Buffer> {
    const target = (await this.route?.(msg, from)) ?? null
    if (target === null) throw DatdotError.notFound(`contract ${msg.contractId} for this encoder`)
    const { contract, encoderKey, rounds } = target.hosted
    if (!b4a.equals(contract.root.coreKey, msg.coreKey)) throw DatdotError.notFound(`contract ${msg.contractId} for this core`)
    if (msg.chunk.index < contract.start || msg.chunk.index >= contract.end) throw DatdotError.invalidArgument(`block ${msg.chunk.index} is not in contract ${msg.contractId}`)
    try {
      verifyStoredChunk(msg.chunk, { root: contract.root, hosterKey: target.hosterKey, encoderKey, rounds })
    } catch (err) {
      this.counters.badEncodings++
      this.emit('bad-encoding', { contractId: msg.contractId, index: msg.chunk.index, error: err })
      throw withBlame(err, 'bad-encoding')
    }
    let hosterReceipt: Buffer
    try {
      hosterReceipt = (await target.hoster.deliver(msg.contractId, msg.coreKey, msg.chunk)).value
    } catch (err) {
      throw withBlame(err, hosterBlame(err))
    }
    if (!verifyReceipt(msg.contractId, msg.coreKey, msg.chunk, hosterReceipt, target.hosterKey)) {
      throw withBlame(DatdotError.proofFailed('BAD_RECEIPT', 'the hoster’s receipt does not verify'), 'hoster-refused')
    }
    this.counters.relayed++
    this.emit('relayed', { contractId: msg.contractId, index: msg.chunk.index, hosterReceipt })
    return hcrypto.sign(receiptSignable(msg.contractId, msg.coreKey, msg.chunk.index, encodedChunkHash(msg.chunk.encoded)), this.keyPair.secretKey)
  }

  /**
   * After the last chunk of a slot: sends the receipts root of what was relayed to the hoster and
   * returns its verified slot receipt. Errors carry the blame (hoster-refused / hoster-missing).
   */
  async settle (channel: HostingChannel, s: { contract: ContractView, hosterKey: Uint8Array, encodedHashes: Uint8Array[], timeoutMs?: number }): Promise<{ receiptsRoot: Buffer, signature: Buffer }> {
    const { contract } = s
    if (s.encodedHashes.length !== contract.end - contract.start) throw DatdotError.invalidArgument(`${s.encodedHashes.length} chunk hashes for a contract of ${contract.end - contract.start} blocks`)
    const root = receiptsRoot(s.encodedHashes)
    let signature: Buffer
    try {
      signature = (await channel.settle(contract.contractId, contract.root.coreKey, contract.root.length, root, { timeoutMs: s.timeoutMs })).value
    } catch (err) {
      throw withBlame(err, hosterBlame(err))
    }
    if (!verifySlotReceipt(contract.contractId, contract.root.coreKey, contract.root.length, root, signature, s.hosterKey)) {
      throw withBlame(DatdotError.proofFailed('BAD_RECEIPT', 'the hoster’s slot receipt does not verify'), 'hoster-refused')
    }
    return { receiptsRoot: root, signature }
  }

  /**
   * Runs one storage challenge against a hoster over `channel`. Never throws for a failed proof:
   * the report says ok or the reason (docs/protocol.md, section 5).
   */
  async challenge (channel: HostingChannel, ch: StorageChallenge): Promise<StorageReport> {
    checkContract(ch.contract)
    if (!Number.isSafeInteger(ch.steps) || ch.steps < 1 || ch.steps > MAX_WALK_STEPS) throw DatdotError.invalidArgument(`steps must be 1 to ${MAX_WALK_STEPS}`)
    if (!Number.isSafeInteger(ch.openings) || ch.openings < 1 || ch.openings > ch.steps) throw DatdotError.invalidArgument('openings must be 1 to steps')
    this.counters.challenges++
    const nonce = ch.nonce ?? hcrypto.randomBytes(32)
    const report: StorageReport = {
      ok: false, reason: null, message: null, contractId: ch.contract.contractId, seed: ch.seed, steps: ch.steps,
      nonce, commitmentHash: null, commitElapsedMs: null, opened: []
    }
    const coreKey = ch.contract.root.coreKey
    try {
      // the request timeout is the deadline plus a margin, so a late answer is still measured
      const commit = await channel.challenge(ch.contract.contractId, coreKey, ch.seed, ch.steps, { timeoutMs: 2 * ch.deadlineMs + 1000 })
      report.commitElapsedMs = commit.receivedAtMs - commit.sentAtMs
      checkDeadline({ sentAtMs: commit.sentAtMs, receivedAtMs: commit.receivedAtMs, deadlineMs: ch.deadlineMs })
      const hashes = commit.value
      const commitment = commitmentHash(ch.seed, hashes)
      report.commitmentHash = commitment
      const indexes = walkIndexes(ch.contract, ch.seed, hashes)
      const openTimeoutMs = ch.openTimeoutMs ?? 30_000
      for (const step of openingSteps(ch.seed, commitment, nonce, ch.steps, ch.openings)) {
        const opened = await channel.open(ch.contract.contractId, coreKey, indexes[step], { timeoutMs: openTimeoutMs })
        verifyOpening(opened.value, {
          contract: ch.contract, seed: ch.seed, hashes, step, hosterKey: ch.hosterKey, encoderKey: ch.encoderKey, rounds: ch.rounds,
          sentAtMs: opened.sentAtMs, receivedAtMs: opened.receivedAtMs, deadlineMs: openTimeoutMs
        })
        report.opened.push({ step, index: indexes[step], encodedHash: encodedChunkHash(opened.value.encoded), chunk: opened.value })
      }
      report.ok = true
    } catch (err) {
      const e = DatdotError.from(err)
      if (e.code === 'INVALID_ARGUMENT' && e.details?.remote !== true) throw e
      report.reason = reasonFor(e)
      report.message = e.message
      this.counters.failed++
    }
    this.emit('report', report)
    return report
  }
}

/** A hoster that answered with an error refused; one that did not answer (timeout, closed) is missing. */
function hosterBlame (err: unknown): SetupFailure {
  const e = DatdotError.from(err)
  return e.details?.remote === true ? 'hoster-refused' : 'hoster-missing'
}

function reasonFor (e: DatdotError): string {
  if (typeof e.details?.reason === 'string') return e.details.reason
  if (e.code === 'TIMEOUT') return PROOF_FAILURE.DEADLINE_MISSED
  return e.code
}

export interface DeliverContractOptions {
  rounds: number
  /** The attestor's key: its receipts are checked. */
  attestorKey?: Uint8Array
  timeoutMs?: number
  /** A behaviour's tamper hook (main/hosting/behaviour.ts; attack tests only): changes each chunk before it is sent. */
  tamper?: (chunk: StoredChunk, hosterKey: Uint8Array) => StoredChunk
}

/** Encoder side: encodes every block of the contract for one hoster and delivers it to the attestor. */
export async function deliverContract (
  core: Hypercore, contract: ContractView, hosterKey: Uint8Array, encoder: EncoderKeyPair, attestor: HostingChannel, opts: DeliverContractOptions
): Promise<{ delivered: number }> {
  checkContract(contract)
  let delivered = 0
  // two blocks at a time: the kernel interleaves their chains (docs/protocol.md section 5)
  for (let index = contract.start; index < contract.end; index += 2) {
    const indexes = index + 1 < contract.end ? [index, index + 1] : [index]
    const pair = await encodeBlocksForHoster(core, contract, indexes, hosterKey, encoder, { rounds: opts.rounds, timeoutMs: opts.timeoutMs })
    for (const encoded of pair) {
      const chunk = opts.tamper === undefined ? encoded : opts.tamper(encoded, hosterKey)
      const { value: receipt } = await attestor.deliver(contract.contractId, contract.root.coreKey, chunk, { timeoutMs: opts.timeoutMs })
      if (opts.attestorKey && !verifyReceipt(contract.contractId, contract.root.coreKey, chunk, receipt, opts.attestorKey)) {
        throw DatdotError.proofFailed('BAD_RECEIPT', 'the attestor’s receipt does not verify')
      }
      delivered++
    }
  }
  return { delivered }
}
