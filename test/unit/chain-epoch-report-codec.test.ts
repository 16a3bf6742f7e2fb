/**
 * The `epoch-report` record's bytes (main/chain/record-codec.ts, record-validate.ts): a size that
 * does not grow with the checks it covers (count, failed offsets, one 2-bit grade per hoster, the
 * root); every field within its limit, canonical, refused with its reason when encoding (a caller
 * bug: RangeError) and when decoding hostile bytes ({ ok: false, why }).
 */
import { describe, it, expect } from 'vitest'
import { decodeRecord, encodeRecord, RECORD_LIMITS as L, RECORD_PREFIX, type MarketRecord } from '../../main/chain/records.js'
import { Writer } from '../../main/chain/record-bytes.js'

type EpochReport = Extract<MarketRecord, { kind: 'epoch-report' }>
const ROOT = 'ee'.repeat(32)
const rec = (over: Partial<EpochReport> = {}): EpochReport => ({ kind: 'epoch-report', epoch: 7, from: 3, count: 10, failed: [], grades: [], rootHex: ROOT, ...over })

/** Raw epoch-report bytes: prefix, kind 15, then the fields as given (varints unless a Uint8Array). */
function raw (...fields: Array<number | Uint8Array>): Uint8Array {
  const w = new Writer()
  w.raw(new TextEncoder().encode(RECORD_PREFIX)); w.uint(15)
  for (const f of fields) { if (typeof f === 'number') w.uint(f); else w.raw(f) }
  return w.done()
}
const why = (bytes: Uint8Array): string => {
  const dec = decodeRecord(bytes)
  if (dec.ok) throw new Error('decoded')
  return dec.why
}

describe('the epoch-report record: constant size whatever the checks it covers', () => {
  it('round-trips failed offsets and 2-bit hoster grades, and its size does not grow with the checks covered', () => {
    const r = rec({ count: 1000, failed: [0, 5, 6, 999], grades: [0, 10, 20, 30, 10] })
    expect(decodeRecord(encodeRecord(r))).toEqual({ ok: true, record: r })
    const few = encodeRecord(rec({ count: 1, grades: [30] })).length
    const many = encodeRecord(rec({ count: L.aggregateChecksMax, grades: [30] })).length
    expect(many - few).toBeLessThanOrEqual(2) // the count's varint only
    // five grades in two bytes; the four offsets as their gaps 0, 4, 0, 992 in five
    expect(encodeRecord(r).length).toBe(encodeRecord(rec({ count: 1000 })).length + 2 + 5)
  })

  it('fits the largest one (every limit at once) in a record', () => {
    const failed = Array.from({ length: L.aggregateFailedMax }, (_x, i) => i * 127)
    const max = rec({ epoch: 2 ** 40, from: 2 ** 40, count: L.aggregateChecksMax, failed, grades: Array<number>(L.aggregateGradesMax).fill(30) })
    const bytes = encodeRecord(max)
    expect(bytes.length).toBeLessThanOrEqual(L.recordBytes)
    expect(decodeRecord(bytes)).toEqual({ ok: true, record: max })
  })

  it('refuses, when encoding, no checks, too many checks, failed offsets out of range, unsorted or repeated, too many failures or grades, and grades off the steps', () => {
    expect(() => encodeRecord(rec({ count: 0 }))).toThrow(/at least one check/)
    expect(() => encodeRecord(rec({ count: L.aggregateChecksMax + 1 }))).toThrow(new RegExp(`at most ${L.aggregateChecksMax} checks`))
    expect(() => encodeRecord(rec({ failed: [10] }))).toThrow(/failed offset 10 is not one of the 10 checks covered/)
    expect(() => encodeRecord(rec({ failed: [-1] }))).toThrow(/failed offset -1/)
    expect(() => encodeRecord(rec({ failed: [4, 2] }))).toThrow(/strictly increasing \(4, then 2\)/)
    expect(() => encodeRecord(rec({ failed: [2, 2] }))).toThrow(/strictly increasing \(2, then 2\)/)
    const many = Array.from({ length: L.aggregateFailedMax + 1 }, (_x, i) => i)
    expect(() => encodeRecord(rec({ count: many.length, failed: many }))).toThrow(new RegExp(`at most ${L.aggregateFailedMax} failed`))
    expect(() => encodeRecord(rec({ grades: Array<number>(L.aggregateGradesMax + 1).fill(0) }))).toThrow(new RegExp(`at most ${L.aggregateGradesMax} hosters`))
    expect(() => encodeRecord(rec({ grades: [25] }))).toThrow(/steps of 10/)
    expect(() => encodeRecord(rec({ grades: [40] }))).toThrow(/steps of 10/)
  })

  it('refuses hostile bytes: truncated, trailing, over each limit, offsets past the count, grade bits past the grades', () => {
    const root = new Uint8Array(32)
    // the well-formed baseline: epoch 1, from 0, 10 checks, failed [2, 5], grades [30]
    const good = raw(1, 0, 10, 2, 2, 2, 1, Uint8Array.of(3), root)
    expect(decodeRecord(good)).toEqual({ ok: true, record: rec({ epoch: 1, from: 0, failed: [2, 5], grades: [30], rootHex: '00'.repeat(32) }) })
    for (let cut = good.length - 1; cut > RECORD_PREFIX.length + 1; cut--) expect(why(good.subarray(0, cut))).toMatch(/truncated/)
    expect(why(Uint8Array.from([...good, 0]))).toBe('malformed: trailing bytes')
    expect(why(raw(1, 0, L.aggregateChecksMax + 1, 0, 0, root))).toContain(`over limit ${L.aggregateChecksMax}`)
    expect(why(raw(1, 0, 0, 0, 0, root))).toMatch(/at least one check/)
    expect(why(raw(1, 0, L.aggregateChecksMax, L.aggregateFailedMax + 1))).toContain(`over limit ${L.aggregateFailedMax}`)
    expect(why(raw(1, 0, 3, 4, 0, 0, 0, 0, 0, root))).toMatch(/4 failed offsets in 3 checks/)
    expect(why(raw(1, 0, 10, 1, 10, 0, root))).toMatch(/failed offset 10 past the 10 checks/)
    expect(why(raw(1, 0, 10, 2, 8, 1, 0, root))).toMatch(/failed offset 10 past the 10 checks/)
    expect(why(raw(1, 0, 10, 0, L.aggregateGradesMax + 1))).toContain(`over limit ${L.aggregateGradesMax}`)
    expect(why(raw(1, 0, 10, 0, 1, Uint8Array.of(0b1100), root))).toMatch(/grade bits set past the grades/)
    // an oversized remark is refused before it is read
    expect(why(new Uint8Array(L.recordBytes + 1))).toBe('too-large')
  })
})
