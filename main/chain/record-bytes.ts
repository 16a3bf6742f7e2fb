/**
 * The byte level of the record codec: canonical LEB128 varints, length-prefixed bytes and strings
 * (Writer, Reader; a Reader throws DecodeError on anything truncated or over a limit), hex and
 * account conversions, and the drive list (keys, ranges, signed roots) that publish and update
 * records share.
 */
import { RECORD_LIMITS, type DriveRanges } from './record-types.js'

export class Writer {
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

export class DecodeError extends Error {}

export class Reader {
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

  /** True while bytes remain (an optional trailing field). */
  more (): boolean { return this.pos < this.b.length }

  end (): void { if (this.pos !== this.b.length) throw new DecodeError('trailing bytes') }
}

// ---------------------------------------------------------------- addresses

/** Addresses in records are raw 32-byte account ids; the state machine uses 0x-hex strings. */
export function writeAccount (w: Writer, hex: string): void { w.raw(hexToBytes(hex, 32)) }
export function readAccount (r: Reader): string { return bytesToHex(r.bytes(32)) }

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

export function writeDrives (w: Writer, drives: DriveRanges[]): void {
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

export function readDrives (r: Reader): DriveRanges[] {
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
