/**
 * DatDot marketplace records: what daemons write on chain with `system.remarkWithEvent`.
 *
 * A record is the ASCII prefix `datdot/2 ` (the `2` is the format version; version 1, the first
 * draft without signed roots, receipts or several performance attestors, is refused as
 * `unknown-version`) followed by a compact
 * binary body: one byte of kind, then the kind's fields. Integers are unsigned LEB128 varints
 * (bigint-safe up to 128 bits, like Substrate's u128 balances), byte strings and UTF-8 strings are
 * length-prefixed, lists are count-prefixed. Every field has a limit; decoding never throws:
 * `decodeRecord` returns `{ ok: false, why }` for anything malformed, over limits or trailing bytes.
 *
 * The codec is pure and has no dependencies so that the state machine (marketplace.ts), the
 * bench and other modules (docs/protocol.md) can share it.
 */

export const RECORD_PREFIX = 'datdot/2 '
const PREFIX_BYTES = new TextEncoder().encode(RECORD_PREFIX)

export const RECORD_LIMITS = {
  /** Whole remark, prefix included. */
  recordBytes: 4096,
  regionChars: 32,
  drivesPerPlan: 16,
  rangesPerDrive: 64,
  /** Chunk indexes and counts. */
  chunkIndexMax: 2 ** 40,
  replicasMax: 8,
  durationBlocksMax: 10_000_000,
  storageBytesMax: 2 ** 50,
  bandwidthBpsMax: 2 ** 40,
  slotsPerSetupReport: 8,
  payoutItems: 256,
  operatorsMax: 16,
  latencyMsMax: 600_000,
  /** Amounts: at most 128 bits (Substrate u128). */
  amountBits: 128,
  pauseBlocksMax: 100_000,
  /** Signed roots: hypercore manifest and signature bytes (ed25519 manifests use ~70 and 64). */
  manifestBytes: 512,
  rootSignatureBytes: 256,
  forkMax: 2 ** 32,
  throughputBpsMax: 2 ** 40,
  /** Network parameters. */
  chunksPerContractMax: 4096,
  challengeIntervalBlocksMax: 1_000_000,
  challengeTimeoutBlocksMax: 10_000,
  performanceAttestorsMax: 5
} as const

/** Why a storage challenge failed (`storage-report.reason`); 'NONE' when it passed. */
export const STORAGE_FAILURES = [
  'NONE', 'UNREACHABLE', 'MISSING_CHUNK', 'WRONG_COMMITMENT', 'DEADLINE_MISSED', 'BAD_ENCODING',
  'BAD_ENCODER_SIGNATURE', 'ROOT_MISMATCH', 'MALFORMED_PROOF', 'WRONG_STEP_COUNT', 'WRONG_INDEX',
  'WRONG_LENGTH', 'WRONG_CORE', 'BAD_ROOT_SIGNATURE', 'OTHER'
] as const
export type StorageFailure = typeof STORAGE_FAILURES[number]

/**
 * Why a slot's setup failed (`setup-report`): the first two blame the encoder (it is replaced),
 * the last two the hoster.
 */
export const SETUP_FAILURES = ['bad-encoding', 'encoder-missing', 'hoster-refused', 'hoster-missing'] as const
export type SetupFailure = typeof SETUP_FAILURES[number]

export const ROLE = { encoder: 1, hoster: 2, attestor: 4 } as const
export type RoleName = keyof typeof ROLE
export const ROLE_MASK = ROLE.encoder | ROLE.hoster | ROLE.attestor

/**
 * A core's root as its author signed it: hypercore's manifest (hashes to the core key), the
 * tree length, fork and tree hash, and the signature over them. Hex is lower case, no `0x`.
 * Interpreters verify it against the core key (main/hosting/proof.ts `verifySignedRoot`).
 */
export interface SignedRootHex {
  manifestHex: string
  length: number
  fork: number
  treeHashHex: string
  signatureHex: string
}

export interface DriveRanges {
  /** 32-byte hypercore key, hex (64 chars, lower case). */
  keyHex: string
  /** Half-open chunk ranges [start, end), all below `root.length`. */
  ranges: Array<[number, number]>
  /** The signed root the ranges are hosted against. */
  root: SignedRootHex
}

/** Marketplace parameters, fixed by the network record (docs/chain.md). */
export interface NetworkParams {
  /** Blocks (hypercore blocks, <= 64 KiB for Hyperdrive blobs) per contract. */
  chunksPerContract: number
  /** Each hosting slot gets a storage challenge and a performance check once per interval. */
  challengeIntervalBlocks: number
  /** Blocks an attestor has to report a challenge. */
  challengeTimeoutBlocks: number
  /** Attestors per performance check (graded from the median). */
  performanceAttestors: number
}

/** A slot's outcome in a setup report. `receiptsRootHex` = BLAKE2b-256 of the slot's encoded chunk hashes in index order. */
export type SetupSlot =
  | { ok: true, receiptsRootHex: string, receiptHex: string }
  | { ok: false, reason: SetupFailure }

export type MarketRecord =
  | { kind: 'network', operators: string[], threshold: number, escrow: string, unitPricePlanck: bigint, params: NetworkParams }
  | { kind: 'register', roles: number, storageBytes: number, bandwidthBps: number, region: string, noiseKeyHex: string }
  | { kind: 'unregister' }
  | { kind: 'publish', drives: DriveRanges[], replicas: number, durationBlocks: number, budgetPlanck: bigint }
  | { kind: 'unpublish', planId: number }
  | { kind: 'pause', blocks: number }
  | { kind: 'unpause' }
  /** One entry per slot of the contract; slots not in setup are ignored by the state machine. */
  | { kind: 'setup-report', contractId: number, slots: SetupSlot[] }
  | { kind: 'storage-report', challengeId: number, ok: boolean, reason: StorageFailure }
  /** `measureKeyHex`: the fresh single-use Hyperswarm key the attestor measured with. */
  | { kind: 'performance-report', challengeId: number, reachable: boolean, ttfbMs: number, throughputBps: number, measureKeyHex: string }
  | { kind: 'payout', items: number[] }
  /**
   * The sponsor extends an active plan to new versions of its cores: each drive names one of the
   * plan's cores with a newer signed root (same fork, not shorter) and ranges that only add
   * blocks; `budgetPlanck` > 0 tops the budget up with one transfer to escrow.
   */
  | { kind: 'update', planId: number, drives: DriveRanges[], budgetPlanck: bigint }

/** The bytes a hoster signs to acknowledge a slot's encoded chunks (its receipt). */
export function receiptMessage (contractId: number, coreKeyHex: string, rootLength: number, receiptsRootHex: string): Uint8Array {
  const w = new Writer()
  w.raw(new TextEncoder().encode('datdot/receipt/2'))
  w.uint(contractId)
  w.raw(hexToBytes(coreKeyHex, 32))
  w.uint(rootLength)
  w.raw(hexToBytes(receiptsRootHex, 32))
  return w.done()
}

export type RecordKind = MarketRecord['kind']

const KIND_CODES: Record<RecordKind, number> = {
  network: 1,
  register: 2,
  unregister: 3,
  publish: 4,
  unpublish: 5,
  pause: 6,
  unpause: 7,
  'setup-report': 8,
  'storage-report': 9,
  'performance-report': 10,
  payout: 11,
  update: 12
}
const KIND_BY_CODE = new Map<number, RecordKind>(Object.entries(KIND_CODES).map(([k, v]) => [v, k as RecordKind]))

// ---------------------------------------------------------------- writer / reader

class Writer {
  private bytes: number[] = []
  uint (v: bigint | number): void {
    let n = BigInt(v)
    if (n < 0n) throw new RangeError('negative varint')
    do {
      let b = Number(n & 0x7fn)
      n >>= 7n
      if (n > 0n) b |= 0x80
      this.bytes.push(b)
    } while (n > 0n)
  }

  raw (b: Uint8Array): void { for (const x of b) this.bytes.push(x) }
  buffer (b: Uint8Array): void { this.uint(b.length); this.raw(b) }
  string (s: string): void { this.buffer(new TextEncoder().encode(s)) }
  bool (b: boolean): void { this.bytes.push(b ? 1 : 0) }
  done (): Uint8Array { return Uint8Array.from(this.bytes) }
}

class DecodeError extends Error {}

class Reader {
  pos = 0
  constructor (private readonly b: Uint8Array) {}
  uintBig (maxBits: number): bigint {
    let n = 0n
    let shift = 0n
    for (;;) {
      if (this.pos >= this.b.length) throw new DecodeError('truncated varint')
      const byte = this.b[this.pos++]
      n |= BigInt(byte & 0x7f) << shift
      shift += 7n
      if ((byte & 0x80) === 0) {
        // Canonical encoding only: no trailing zero groups (one value, one encoding).
        if (byte === 0 && shift > 7n) throw new DecodeError('non-canonical varint')
        break
      }
      if (shift > BigInt(maxBits + 7)) throw new DecodeError('varint too long')
    }
    if (n >= (1n << BigInt(maxBits))) throw new DecodeError('varint over limit')
    return n
  }

  uint (max: number): number {
    const n = this.uintBig(53)
    if (n > BigInt(max)) throw new DecodeError(`value ${n} over limit ${max}`)
    return Number(n)
  }

  bytes (len: number): Uint8Array {
    if (this.pos + len > this.b.length) throw new DecodeError('truncated bytes')
    const out = this.b.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }

  buffer (maxLen: number): Uint8Array { return this.bytes(this.uint(maxLen)) }
  string (maxChars: number): string {
    const bytes = this.buffer(maxChars * 4)
    let s: string
    try { s = new TextDecoder('utf-8', { fatal: true }).decode(bytes) } catch { throw new DecodeError('invalid utf-8') }
    if ([...s].length > maxChars) throw new DecodeError('string too long')
    return s
  }

  bool (): boolean {
    const v = this.uint(1)
    return v === 1
  }

  end (): void { if (this.pos !== this.b.length) throw new DecodeError('trailing bytes') }
}

// ---------------------------------------------------------------- addresses

/** Addresses in records are raw 32-byte account ids; the state machine uses 0x-hex strings. */
function writeAccount (w: Writer, hex: string): void { w.raw(hexToBytes(hex, 32)) }
function readAccount (r: Reader): string { return bytesToHex(r.bytes(32)) }

export function hexToBytes (hex: string, len?: number): Uint8Array {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex
  if (!/^[0-9a-fA-F]*$/.test(h) || h.length % 2 !== 0) throw new RangeError(`not hex: ${hex.slice(0, 20)}`)
  if (len !== undefined && h.length !== len * 2) throw new RangeError(`expected ${len} bytes of hex`)
  const out = new Uint8Array(h.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16)
  return out
}

export function bytesToHex (b: Uint8Array): string {
  let s = '0x'
  for (const x of b) s += x.toString(16).padStart(2, '0')
  return s
}

// ---------------------------------------------------------------- drives and signed roots

function writeDrives (w: Writer, drives: DriveRanges[]): void {
  w.uint(drives.length)
  for (const d of drives) {
    w.raw(hexToBytes(d.keyHex, 32))
    w.uint(d.ranges.length)
    for (const [s, e] of d.ranges) { w.uint(s); w.uint(e - s) }
    w.buffer(hexToBytes(d.root.manifestHex))
    w.uint(d.root.length); w.uint(d.root.fork)
    w.raw(hexToBytes(d.root.treeHashHex, 32))
    w.buffer(hexToBytes(d.root.signatureHex))
  }
}

function readDrives (r: Reader): DriveRanges[] {
  const L = RECORD_LIMITS
  const nd = r.uint(L.drivesPerPlan)
  const drives: DriveRanges[] = []
  for (let i = 0; i < nd; i++) {
    const keyHex = bytesToHex(r.bytes(32)).slice(2)
    const nr = r.uint(L.rangesPerDrive)
    const ranges: Array<[number, number]> = []
    for (let j = 0; j < nr; j++) {
      const s = r.uint(L.chunkIndexMax)
      const len = r.uint(L.chunkIndexMax)
      ranges.push([s, s + len])
    }
    const manifestHex = bytesToHex(r.buffer(L.manifestBytes)).slice(2)
    const length = r.uint(L.chunkIndexMax)
    const fork = r.uint(L.forkMax)
    const treeHashHex = bytesToHex(r.bytes(32)).slice(2)
    const signatureHex = bytesToHex(r.buffer(L.rootSignatureBytes)).slice(2)
    drives.push({ keyHex, ranges, root: { manifestHex, length, fork, treeHashHex, signatureHex } })
  }
  return drives
}

function validateDrives (drives: DriveRanges[]): string | null {
  const L = RECORD_LIMITS
  const isUint = (n: number, max: number): boolean => Number.isSafeInteger(n) && n >= 0 && n <= max
  const isHex = (h: string, minBytes: number, maxBytes: number): boolean =>
    typeof h === 'string' && /^([0-9a-f]{2})*$/.test(h) && h.length >= minBytes * 2 && h.length <= maxBytes * 2
  if (drives.length < 1 || drives.length > L.drivesPerPlan) return 'drives out of range'
  if (new Set(drives.map((d) => d.keyHex)).size !== drives.length) return 'duplicate drive key'
  for (const d of drives) {
    if (!/^[0-9a-f]{64}$/.test(d.keyHex)) return 'bad drive key'
    if (d.ranges.length < 1 || d.ranges.length > L.rangesPerDrive) return 'ranges out of range'
    const root = d.root
    if (root === undefined || root === null) return 'missing signed root'
    if (!isHex(root.manifestHex, 1, L.manifestBytes)) return 'bad manifest'
    if (!isHex(root.treeHashHex, 32, 32)) return 'bad tree hash'
    if (!isHex(root.signatureHex, 1, L.rootSignatureBytes)) return 'bad root signature'
    if (!isUint(root.length, L.chunkIndexMax) || root.length < 1) return 'bad root length'
    if (!isUint(root.fork, L.forkMax)) return 'bad fork'
    let prevEnd = -1
    for (const [s, e] of d.ranges) {
      if (!isUint(s, L.chunkIndexMax) || !isUint(e, L.chunkIndexMax) || e <= s) return 'bad range'
      if (s < prevEnd) return 'ranges overlap or unsorted'
      if (e > root.length) return 'range beyond the signed root'
      prevEnd = e
    }
  }
  return null
}

// ---------------------------------------------------------------- encode / decode

/** Encodes a record to remark bytes. Throws RangeError for values over limits (a caller bug). */
export function encodeRecord (rec: MarketRecord): Uint8Array {
  const check = validateRecord(rec)
  if (check !== null) throw new RangeError(`invalid ${rec.kind} record: ${check}`)
  const w = new Writer()
  w.raw(PREFIX_BYTES)
  w.uint(KIND_CODES[rec.kind])
  switch (rec.kind) {
    case 'network':
      w.uint(rec.operators.length)
      for (const o of rec.operators) writeAccount(w, o)
      w.uint(rec.threshold)
      writeAccount(w, rec.escrow)
      w.uint(rec.unitPricePlanck)
      w.uint(rec.params.chunksPerContract); w.uint(rec.params.challengeIntervalBlocks)
      w.uint(rec.params.challengeTimeoutBlocks); w.uint(rec.params.performanceAttestors)
      break
    case 'register':
      w.uint(rec.roles); w.uint(rec.storageBytes); w.uint(rec.bandwidthBps); w.string(rec.region)
      w.raw(hexToBytes(rec.noiseKeyHex, 32))
      break
    case 'unregister':
    case 'unpause':
      break
    case 'publish':
      writeDrives(w, rec.drives)
      w.uint(rec.replicas); w.uint(rec.durationBlocks); w.uint(rec.budgetPlanck)
      break
    case 'update':
      w.uint(rec.planId)
      writeDrives(w, rec.drives)
      w.uint(rec.budgetPlanck)
      break
    case 'unpublish':
      w.uint(rec.planId)
      break
    case 'pause':
      w.uint(rec.blocks)
      break
    case 'setup-report':
      w.uint(rec.contractId)
      w.uint(rec.slots.length)
      for (const slot of rec.slots) {
        w.bool(slot.ok)
        if (slot.ok) { w.raw(hexToBytes(slot.receiptsRootHex, 32)); w.raw(hexToBytes(slot.receiptHex, 64)) } else w.uint(SETUP_FAILURES.indexOf(slot.reason))
      }
      break
    case 'storage-report':
      w.uint(rec.challengeId); w.bool(rec.ok); w.uint(STORAGE_FAILURES.indexOf(rec.reason))
      break
    case 'performance-report':
      w.uint(rec.challengeId); w.bool(rec.reachable); w.uint(rec.ttfbMs); w.uint(rec.throughputBps)
      w.raw(hexToBytes(rec.measureKeyHex, 32))
      break
    case 'payout':
      w.uint(rec.items.length)
      for (const i of rec.items) w.uint(i)
      break
  }
  const out = w.done()
  if (out.length > RECORD_LIMITS.recordBytes) throw new RangeError(`record of ${out.length} bytes over ${RECORD_LIMITS.recordBytes}`)
  return out
}

export type DecodeResult = { ok: true, record: MarketRecord } | { ok: false, why: string }

/** True when the remark is meant for DatDot (starts with the prefix of any version). */
export function isDatdotRemark (bytes: Uint8Array): boolean {
  const p = new TextEncoder().encode('datdot/')
  if (bytes.length < p.length) return false
  for (let i = 0; i < p.length; i++) if (bytes[i] !== p[i]) return false
  return true
}

export function decodeRecord (bytes: Uint8Array): DecodeResult {
  if (bytes.length > RECORD_LIMITS.recordBytes) return { ok: false, why: 'too-large' }
  for (let i = 0; i < PREFIX_BYTES.length; i++) {
    if (bytes[i] !== PREFIX_BYTES[i]) return { ok: false, why: isDatdotRemark(bytes) ? 'unknown-version' : 'not-datdot' }
  }
  const r = new Reader(bytes.subarray(PREFIX_BYTES.length))
  try {
    const code = r.uint(255)
    const kind = KIND_BY_CODE.get(code)
    if (kind === undefined) return { ok: false, why: 'unknown-kind' }
    const rec = decodeBody(kind, r)
    r.end()
    const check = validateRecord(rec)
    if (check !== null) return { ok: false, why: check }
    return { ok: true, record: rec }
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, why: 'malformed: ' + err.message }
    return { ok: false, why: 'malformed' }
  }
}

function decodeBody (kind: RecordKind, r: Reader): MarketRecord {
  const L = RECORD_LIMITS
  switch (kind) {
    case 'network': {
      const n = r.uint(L.operatorsMax)
      const operators: string[] = []
      for (let i = 0; i < n; i++) operators.push(readAccount(r))
      const threshold = r.uint(L.operatorsMax)
      const escrow = readAccount(r)
      const unitPricePlanck = r.uintBig(L.amountBits)
      const params: NetworkParams = {
        chunksPerContract: r.uint(L.chunksPerContractMax),
        challengeIntervalBlocks: r.uint(L.challengeIntervalBlocksMax),
        challengeTimeoutBlocks: r.uint(L.challengeTimeoutBlocksMax),
        performanceAttestors: r.uint(L.performanceAttestorsMax)
      }
      return { kind, operators, threshold, escrow, unitPricePlanck, params }
    }
    case 'register': {
      const roles = r.uint(255)
      const storageBytes = r.uint(L.storageBytesMax)
      const bandwidthBps = r.uint(L.bandwidthBpsMax)
      const region = r.string(L.regionChars)
      const noiseKeyHex = bytesToHex(r.bytes(32)).slice(2)
      return { kind, roles, storageBytes, bandwidthBps, region, noiseKeyHex }
    }
    case 'unregister': return { kind }
    case 'unpause': return { kind }
    case 'publish': {
      const drives = readDrives(r)
      const replicas = r.uint(L.replicasMax)
      const durationBlocks = r.uint(L.durationBlocksMax)
      const budgetPlanck = r.uintBig(L.amountBits)
      return { kind, drives, replicas, durationBlocks, budgetPlanck }
    }
    case 'update': {
      const planId = r.uint(Number.MAX_SAFE_INTEGER)
      const drives = readDrives(r)
      const budgetPlanck = r.uintBig(L.amountBits)
      return { kind, planId, drives, budgetPlanck }
    }
    case 'unpublish': return { kind, planId: r.uint(Number.MAX_SAFE_INTEGER) }
    case 'pause': return { kind, blocks: r.uint(L.pauseBlocksMax) }
    case 'setup-report': {
      const contractId = r.uint(Number.MAX_SAFE_INTEGER)
      const n = r.uint(L.slotsPerSetupReport)
      const slots: SetupSlot[] = []
      for (let i = 0; i < n; i++) {
        if (r.bool()) slots.push({ ok: true, receiptsRootHex: bytesToHex(r.bytes(32)).slice(2), receiptHex: bytesToHex(r.bytes(64)).slice(2) })
        else slots.push({ ok: false, reason: SETUP_FAILURES[r.uint(SETUP_FAILURES.length - 1)] })
      }
      return { kind, contractId, slots }
    }
    case 'storage-report': {
      const challengeId = r.uint(Number.MAX_SAFE_INTEGER)
      const ok = r.bool()
      const reason = STORAGE_FAILURES[r.uint(STORAGE_FAILURES.length - 1)]
      return { kind, challengeId, ok, reason }
    }
    case 'performance-report': {
      const challengeId = r.uint(Number.MAX_SAFE_INTEGER)
      const reachable = r.bool()
      const ttfbMs = r.uint(L.latencyMsMax)
      const throughputBps = r.uint(L.throughputBpsMax)
      const measureKeyHex = bytesToHex(r.bytes(32)).slice(2)
      return { kind, challengeId, reachable, ttfbMs, throughputBps, measureKeyHex }
    }
    case 'payout': {
      const n = r.uint(L.payoutItems)
      const items: number[] = []
      for (let i = 0; i < n; i++) items.push(r.uint(Number.MAX_SAFE_INTEGER))
      return { kind, items }
    }
  }
}

/** Field-level checks shared by encode and decode; null when valid. */
export function validateRecord (rec: MarketRecord): string | null {
  const L = RECORD_LIMITS
  const isUint = (n: number, max: number): boolean => Number.isSafeInteger(n) && n >= 0 && n <= max
  const isAmount = (a: bigint): boolean => typeof a === 'bigint' && a >= 0n && a < (1n << BigInt(L.amountBits))
  const isAccount = (h: string): boolean => /^0x[0-9a-f]{64}$/.test(h)
  switch (rec.kind) {
    case 'network':
      if (rec.operators.length < 1 || rec.operators.length > L.operatorsMax) return 'operators out of range'
      if (!rec.operators.every(isAccount) || !isAccount(rec.escrow)) return 'bad account'
      if (new Set(rec.operators).size !== rec.operators.length) return 'duplicate operator'
      if (!isUint(rec.threshold, rec.operators.length) || rec.threshold < 1) return 'bad threshold'
      if (!isAmount(rec.unitPricePlanck) || rec.unitPricePlanck === 0n) return 'bad unit price'
      if (rec.params === undefined || rec.params === null) return 'missing params'
      if (!isUint(rec.params.chunksPerContract, L.chunksPerContractMax) || rec.params.chunksPerContract < 1) return 'bad chunks per contract'
      if (!isUint(rec.params.challengeIntervalBlocks, L.challengeIntervalBlocksMax) || rec.params.challengeIntervalBlocks < 2) return 'bad challenge interval'
      if (!isUint(rec.params.challengeTimeoutBlocks, L.challengeTimeoutBlocksMax) || rec.params.challengeTimeoutBlocks < 1) return 'bad challenge timeout'
      if (!isUint(rec.params.performanceAttestors, L.performanceAttestorsMax) || rec.params.performanceAttestors < 1) return 'bad performance attestors'
      return null
    case 'register':
      if (!isUint(rec.roles, ROLE_MASK) || rec.roles === 0) return 'bad roles'
      if (!isUint(rec.storageBytes, L.storageBytesMax)) return 'bad storage'
      if (!isUint(rec.bandwidthBps, L.bandwidthBpsMax)) return 'bad bandwidth'
      if (typeof rec.region !== 'string' || [...rec.region].length > L.regionChars) return 'bad region'
      if (!/^[0-9a-f]{64}$/.test(rec.noiseKeyHex)) return 'bad noise key'
      return null
    case 'unregister':
    case 'unpause':
      return null
    case 'publish': {
      const bad = validateDrives(rec.drives)
      if (bad !== null) return bad
      if (!isUint(rec.replicas, L.replicasMax) || rec.replicas < 1) return 'bad replicas'
      if (!isUint(rec.durationBlocks, L.durationBlocksMax) || rec.durationBlocks < 1) return 'bad duration'
      if (!isAmount(rec.budgetPlanck) || rec.budgetPlanck === 0n) return 'bad budget'
      return null
    }
    case 'update': {
      if (!isUint(rec.planId, Number.MAX_SAFE_INTEGER)) return 'bad plan id'
      const bad = validateDrives(rec.drives)
      if (bad !== null) return bad
      if (!isAmount(rec.budgetPlanck)) return 'bad budget'
      return null
    }
    case 'unpublish': return isUint(rec.planId, Number.MAX_SAFE_INTEGER) ? null : 'bad plan id'
    case 'pause': return isUint(rec.blocks, L.pauseBlocksMax) && rec.blocks > 0 ? null : 'bad pause'
    case 'setup-report':
      if (!isUint(rec.contractId, Number.MAX_SAFE_INTEGER)) return 'bad contract id'
      if (rec.slots.length < 1 || rec.slots.length > L.slotsPerSetupReport) return 'bad slots'
      for (const slot of rec.slots) {
        if (slot.ok) {
          if (!/^[0-9a-f]{64}$/.test(slot.receiptsRootHex) || !/^[0-9a-f]{128}$/.test(slot.receiptHex)) return 'bad receipt'
        } else if (!SETUP_FAILURES.includes(slot.reason)) return 'bad setup failure'
      }
      return null
    case 'storage-report':
      if (!isUint(rec.challengeId, Number.MAX_SAFE_INTEGER)) return 'bad challenge id'
      if (!STORAGE_FAILURES.includes(rec.reason)) return 'bad reason'
      if (rec.ok !== (rec.reason === 'NONE')) return 'reason must be NONE exactly when ok'
      return null
    case 'performance-report':
      if (!isUint(rec.challengeId, Number.MAX_SAFE_INTEGER)) return 'bad challenge id'
      if (!isUint(rec.ttfbMs, L.latencyMsMax)) return 'bad time to first byte'
      if (!isUint(rec.throughputBps, L.throughputBpsMax)) return 'bad throughput'
      if (!/^[0-9a-f]{64}$/.test(rec.measureKeyHex)) return 'bad measure key'
      return null
    case 'payout':
      if (rec.items.length < 1 || rec.items.length > L.payoutItems) return 'bad item count'
      if (!rec.items.every((i) => isUint(i, Number.MAX_SAFE_INTEGER))) return 'bad item'
      if (new Set(rec.items).size !== rec.items.length) return 'duplicate item'
      return null
  }
}
