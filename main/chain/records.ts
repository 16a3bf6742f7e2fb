/**
 * DatDot marketplace records: what daemons write on chain with `system.remarkWithEvent`.
 *
 * A record is the ASCII prefix `datdot/1 ` (the `1` is the format version) followed by a compact
 * binary body: one byte of kind, then the kind's fields. Integers are unsigned LEB128 varints
 * (bigint-safe up to 128 bits, like Substrate's u128 balances), byte strings and UTF-8 strings are
 * length-prefixed, lists are count-prefixed. Every field has a limit; decoding never throws:
 * `decodeRecord` returns `{ ok: false, why }` for anything malformed, over limits or trailing bytes.
 *
 * The codec is pure and has no dependencies so that the state machine (marketplace.ts), the
 * bench and other modules (docs/protocol.md) can share it.
 */

export const RECORD_PREFIX = 'datdot/1 '
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
  pauseBlocksMax: 100_000
} as const

export const ROLE = { encoder: 1, hoster: 2, attestor: 4 } as const
export type RoleName = keyof typeof ROLE
export const ROLE_MASK = ROLE.encoder | ROLE.hoster | ROLE.attestor

export interface DriveRanges {
  /** 32-byte hypercore/hyperdrive key, hex (64 chars, lower case). */
  keyHex: string
  /** Half-open chunk ranges [start, end). */
  ranges: Array<[number, number]>
}

export type MarketRecord =
  | { kind: 'network', operators: string[], threshold: number, escrow: string, unitPricePlanck: bigint }
  | { kind: 'register', roles: number, storageBytes: number, bandwidthBps: number, region: string, noiseKeyHex: string }
  | { kind: 'unregister' }
  | { kind: 'publish', drives: DriveRanges[], replicas: number, durationBlocks: number, budgetPlanck: bigint }
  | { kind: 'unpublish', planId: number }
  | { kind: 'pause', blocks: number }
  | { kind: 'unpause' }
  | { kind: 'setup-report', contractId: number, slotsOk: boolean[] }
  | { kind: 'storage-report', challengeId: number, ok: boolean }
  | { kind: 'performance-report', challengeId: number, ok: boolean, latencyMs: number }
  | { kind: 'payout', items: number[] }

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
  payout: 11
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
      break
    case 'register':
      w.uint(rec.roles); w.uint(rec.storageBytes); w.uint(rec.bandwidthBps); w.string(rec.region)
      w.raw(hexToBytes(rec.noiseKeyHex, 32))
      break
    case 'unregister':
    case 'unpause':
      break
    case 'publish':
      w.uint(rec.drives.length)
      for (const d of rec.drives) {
        w.raw(hexToBytes(d.keyHex, 32))
        w.uint(d.ranges.length)
        for (const [s, e] of d.ranges) { w.uint(s); w.uint(e - s) }
      }
      w.uint(rec.replicas); w.uint(rec.durationBlocks); w.uint(rec.budgetPlanck)
      break
    case 'unpublish':
      w.uint(rec.planId)
      break
    case 'pause':
      w.uint(rec.blocks)
      break
    case 'setup-report':
      w.uint(rec.contractId)
      w.uint(rec.slotsOk.length)
      for (const ok of rec.slotsOk) w.bool(ok)
      break
    case 'storage-report':
      w.uint(rec.challengeId); w.bool(rec.ok)
      break
    case 'performance-report':
      w.uint(rec.challengeId); w.bool(rec.ok); w.uint(rec.latencyMs)
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
      return { kind, operators, threshold, escrow, unitPricePlanck }
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
        drives.push({ keyHex, ranges })
      }
      const replicas = r.uint(L.replicasMax)
      const durationBlocks = r.uint(L.durationBlocksMax)
      const budgetPlanck = r.uintBig(L.amountBits)
      return { kind, drives, replicas, durationBlocks, budgetPlanck }
    }
    case 'unpublish': return { kind, planId: r.uint(Number.MAX_SAFE_INTEGER) }
    case 'pause': return { kind, blocks: r.uint(L.pauseBlocksMax) }
    case 'setup-report': {
      const contractId = r.uint(Number.MAX_SAFE_INTEGER)
      const n = r.uint(L.slotsPerSetupReport)
      const slotsOk: boolean[] = []
      for (let i = 0; i < n; i++) slotsOk.push(r.bool())
      return { kind, contractId, slotsOk }
    }
    case 'storage-report': return { kind, challengeId: r.uint(Number.MAX_SAFE_INTEGER), ok: r.bool() }
    case 'performance-report': {
      const challengeId = r.uint(Number.MAX_SAFE_INTEGER)
      const ok = r.bool()
      const latencyMs = r.uint(L.latencyMsMax)
      return { kind, challengeId, ok, latencyMs }
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
      if (rec.drives.length < 1 || rec.drives.length > L.drivesPerPlan) return 'drives out of range'
      for (const d of rec.drives) {
        if (!/^[0-9a-f]{64}$/.test(d.keyHex)) return 'bad drive key'
        if (d.ranges.length < 1 || d.ranges.length > L.rangesPerDrive) return 'ranges out of range'
        let prevEnd = -1
        for (const [s, e] of d.ranges) {
          if (!isUint(s, L.chunkIndexMax) || !isUint(e, L.chunkIndexMax) || e <= s) return 'bad range'
          if (s < prevEnd) return 'ranges overlap or unsorted'
          prevEnd = e
        }
      }
      if (!isUint(rec.replicas, L.replicasMax) || rec.replicas < 1) return 'bad replicas'
      if (!isUint(rec.durationBlocks, L.durationBlocksMax) || rec.durationBlocks < 1) return 'bad duration'
      if (!isAmount(rec.budgetPlanck) || rec.budgetPlanck === 0n) return 'bad budget'
      return null
    }
    case 'unpublish': return isUint(rec.planId, Number.MAX_SAFE_INTEGER) ? null : 'bad plan id'
    case 'pause': return isUint(rec.blocks, L.pauseBlocksMax) && rec.blocks > 0 ? null : 'bad pause'
    case 'setup-report':
      if (!isUint(rec.contractId, Number.MAX_SAFE_INTEGER)) return 'bad contract id'
      if (rec.slotsOk.length < 1 || rec.slotsOk.length > L.slotsPerSetupReport) return 'bad slots'
      return null
    case 'storage-report': return isUint(rec.challengeId, Number.MAX_SAFE_INTEGER) ? null : 'bad challenge id'
    case 'performance-report':
      if (!isUint(rec.challengeId, Number.MAX_SAFE_INTEGER)) return 'bad challenge id'
      return isUint(rec.latencyMs, L.latencyMsMax) ? null : 'bad latency'
    case 'payout':
      if (rec.items.length < 1 || rec.items.length > L.payoutItems) return 'bad item count'
      if (!rec.items.every((i) => isUint(i, Number.MAX_SAFE_INTEGER))) return 'bad item'
      if (new Set(rec.items).size !== rec.items.length) return 'duplicate item'
      return null
  }
}
