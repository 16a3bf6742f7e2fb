/**
 * DatDot marketplace records: what daemons write on chain with `system.remarkWithEvent`. This is
 * the codec's public face: encode, decode, the receipt message, and (re-exported) the record
 * types and limits.
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
 * bench and other modules (docs/protocol.md) can share it. Its parts: record-types.ts (limits and
 * types), record-bytes.ts (varints, bytes, drives), record-codec.ts (each kind's body),
 * record-validate.ts (each kind's field checks).
 */
import { DecodeError, Reader, Writer, hexToBytes } from './record-bytes.js'
import { BODY_READERS, BODY_WRITERS } from './record-codec.js'
import { validateRecord } from './record-validate.js'
import { RECORD_LIMITS, RECORD_PREFIX, type MarketRecord, type RecordKind } from './record-types.js'

export {
  RECORD_PREFIX, RECORD_LIMITS, STORAGE_FAILURES, SETUP_FAILURES, ROLE, ROLE_MASK,
  type StorageFailure, type SetupFailure, type RoleName, type SignedRootHex, type DriveRanges,
  type NetworkParams, type SetupSlot, type MarketRecord, type RecordKind
} from './record-types.js'
export { hexToBytes, bytesToHex } from './record-bytes.js'
export { validateRecord } from './record-validate.js'

const PREFIX_BYTES = new TextEncoder().encode(RECORD_PREFIX)

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
  update: 12,
  schedule: 13,
  extend: 14,
  'epoch-report': 15
}
const KIND_BY_CODE = new Map<number, RecordKind>(Object.entries(KIND_CODES).map(([k, v]) => [v, k as RecordKind]))

// ---------------------------------------------------------------- encode / decode

/** Encodes a record to remark bytes. Throws RangeError for values over limits (a caller bug). */
export function encodeRecord (rec: MarketRecord): Uint8Array {
  const check = validateRecord(rec)
  if (check !== null) throw new RangeError(`invalid ${rec.kind} record: ${check}`)
  const w = new Writer()
  w.raw(PREFIX_BYTES)
  w.uint(KIND_CODES[rec.kind])
  const writeBody = BODY_WRITERS[rec.kind] as (w: Writer, rec: MarketRecord) => void
  writeBody(w, rec)
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

/** The kind of a `datdot/2` remark from its first byte after the prefix, or null (not one, unknown kind). */
export function recordKindOf (bytes: Uint8Array): RecordKind | null {
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (bytes[i] !== PREFIX_BYTES[i]) return null
  return KIND_BY_CODE.get(bytes[PREFIX_BYTES.length]) ?? null
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
    const rec: MarketRecord = BODY_READERS[kind](r)
    r.end()
    const check = validateRecord(rec)
    if (check !== null) return { ok: false, why: check }
    return { ok: true, record: rec }
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, why: 'malformed: ' + err.message }
    return { ok: false, why: 'malformed' }
  }
}
