/**
 * The marketplace state's JSON written in slices (docs/chain.md "Following the chain"). A snapshot
 * of a large state is tens of megabytes of JSON (67 MiB at 20 000 contracts): one
 * `JSON.stringify` holds the event loop for seconds, and a hoster whose follower writes a snapshot
 * would miss a walk's 2 s commitment deadline. This writes the same text (byte for byte what
 * `serializeState` gives) piece by piece and hands the event loop back whenever a slice has run
 * `sliceMs`; the caller must not change the state until the promise settles (the follower applies
 * nothing while it waits).
 *
 * The state and its maps (depth < `SPLIT_DEPTH`) and any container with more than `BIG_ENTRIES`
 * entries are split (recursively); their other entries are written `BATCH_ENTRIES` at a time, one
 * `JSON.stringify` a batch. Only what the state holds is supported: plain objects,
 * arrays, strings, numbers, booleans, null, undefined (left out of objects, null in arrays, as
 * JSON does) and bigint (as `"<digits>n"`, the replacer of `serializeState`).
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { performance } from 'node:perf_hooks'

/** A container with more entries than this is written entry by entry, at any depth. */
export const BIG_ENTRIES = 64
/** Containers this shallow (the state itself, its maps) are written entry by entry whatever their size. */
export const SPLIT_DEPTH = 2
/** Entries of a large container that are not split are written this many at a time (one JSON.stringify). */
export const BATCH_ENTRIES = 128
/** Default CPU time of one slice before the event loop gets a turn. */
export const DEFAULT_SLICE_MS = 8

export interface SliceOptions {
  /** Longest run between two turns of the event loop, in ms. */
  sliceMs?: number
  /** Injected for tests: the clock that measures a slice, and what a pause awaits. */
  now?: () => number
  pause?: () => Promise<unknown>
}

export interface StreamedJson {
  /** Pieces given to the sink, and their characters in all. */
  parts: number
  chars: number
  pauses: number
}

const isPlain = (v: object): boolean => { const p: unknown = Object.getPrototypeOf(v); return p === Object.prototype || p === null }
const replacer = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v)

class Writer {
  private out: string[] = []
  private buffered = 0
  pauses = 0
  parts = 0
  chars = 0
  private sliceStart: number

  constructor (
    private readonly sink: (text: string) => void,
    private readonly partChars: number,
    private readonly sliceMs: number,
    private readonly now: () => number,
    private readonly pause: () => Promise<unknown>
  ) {
    this.sliceStart = now()
  }

  private put (text: string): void {
    this.out.push(text)
    this.buffered += text.length
  }

  /** Hands what is buffered to the sink. */
  flush (): void {
    if (this.buffered === 0) return
    this.sink(this.out.join(''))
    this.parts++
    this.chars += this.buffered
    this.out = []
    this.buffered = 0
  }

  /** Between two entries: a part to the sink when one is full, the event loop a turn when the slice has run its time. */
  private async tick (): Promise<void> {
    if (this.buffered >= this.partChars) this.flush()
    if (this.now() - this.sliceStart < this.sliceMs) return
    await this.pause()
    this.pauses++
    this.sliceStart = this.now()
  }

  /** How `v` is written entry by entry: its keys (an object), true (an array), or null (one JSON.stringify). */
  private split (v: unknown, depth: number): string[] | true | null {
    if (v === null || typeof v !== 'object') return null
    if (Array.isArray(v)) return depth < SPLIT_DEPTH || v.length > BIG_ENTRIES ? true : null
    if (!isPlain(v)) return null
    const keys = Object.keys(v)
    return depth < SPLIT_DEPTH || keys.length > BIG_ENTRIES ? keys : null
  }

  /**
   * Writes `prefix` and `v`, entry by entry when it is large (the event loop's turns come between
   * entries, checked synchronously: most entries cost no promise); nothing and false when JSON
   * leaves `v` out (undefined, a function).
   */
  async value (v: unknown, depth: number, prefix: string): Promise<boolean> {
    const how = this.split(v, depth)
    if (how === null) {
      const text = JSON.stringify(v, replacer) as string | undefined
      if (text === undefined) return false
      this.put(prefix + text)
      return true
    }
    this.put(prefix)
    if (how === true) await this.array(v as unknown[], depth)
    else await this.object(v as Record<string, unknown>, how, depth)
    return true
  }

  private due (): boolean {
    return this.buffered >= this.partChars || this.now() - this.sliceStart >= this.sliceMs
  }

  private async array (a: unknown[], depth: number): Promise<void> {
    this.put('[')
    let from = 0 // the first entry not written yet
    const batch = (to: number): void => {
      if (to > from) this.put((from > 0 ? ',' : '') + (JSON.stringify(a.slice(from, to), replacer)).slice(1, -1))
      from = to
    }
    for (let i = 0; i < a.length; i++) {
      if (this.split(a[i], depth + 1) !== null) {
        batch(i)
        await this.value(a[i], depth + 1, i > 0 ? ',' : '')
        from = i + 1
      } else if (i + 1 - from >= BATCH_ENTRIES) batch(i + 1)
      if (this.due()) { batch(i + 1); await this.tick() }
    }
    batch(a.length)
    this.put(']')
  }

  private async object (o: Record<string, unknown>, keys: string[], depth: number): Promise<void> {
    this.put('{')
    let first = true
    // a batch is a null-prototype object of the next entries, in their order (an own "__proto__" key stays a key)
    let pending: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    let n = 0
    const batch = (): void => {
      if (n === 0) return
      const text = JSON.stringify(pending, replacer)
      if (text.length > 2) { this.put((first ? '' : ',') + text.slice(1, -1)); first = false }
      pending = Object.create(null) as Record<string, unknown>
      n = 0
    }
    for (const k of keys) {
      const v = o[k]
      if (this.split(v, depth + 1) !== null) {
        batch()
        await this.value(v, depth + 1, (first ? '' : ',') + JSON.stringify(k) + ':')
        first = false
      } else {
        pending[k] = v
        if (++n >= BATCH_ENTRIES) batch()
      }
      if (this.due()) { batch(); await this.tick() }
    }
    batch()
    this.put('}')
  }
}

/**
 * `serializeState(state)` in slices of about `sliceMs` of CPU each, handed to `sink` in pieces of
 * at least `partChars` characters (the last one shorter); their concatenation is the JSON. A sink
 * that throws stops the writing (the error is the promise's).
 */
export async function streamStateSliced (state: unknown, sink: (text: string) => void, opts: SliceOptions & { partChars?: number } = {}): Promise<StreamedJson> {
  const w = new Writer(sink, opts.partChars ?? 1 << 20, opts.sliceMs ?? DEFAULT_SLICE_MS, opts.now ?? (() => performance.now()), opts.pause ?? (() => nextTurn()))
  if (!(await w.value(state, 0, ''))) throw new TypeError('the state has no JSON')
  w.flush()
  return { parts: w.parts, chars: w.chars, pauses: w.pauses }
}

const BIGINT_TEXT = /^-?\d+n$/
const N = 110 // 'n'
const revive = (x: string): string | bigint => (x.charCodeAt(x.length - 1) === N && BIGINT_TEXT.test(x) ? BigInt(x.slice(0, -1)) : x)

/**
 * The values of parsed JSON with every `"<digits>n"` string turned into a bigint, in place (the
 * inverse of the replacer above). A walk after a plain `JSON.parse` instead of a reviver: a
 * reviver took about twice the time of the parse itself on a 67 MiB snapshot.
 */
export function reviveBigints (v: unknown): unknown {
  if (typeof v === 'string') return revive(v)
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i]
      if (typeof x === 'string') v[i] = revive(x)
      else if (x !== null && typeof x === 'object') reviveBigints(x)
    }
    return v
  }
  const o = v as Record<string, unknown>
  for (const k of Object.keys(o)) {
    const x = o[k]
    if (typeof x === 'string') { const r = revive(x); if (r !== x) o[k] = r } else if (x !== null && typeof x === 'object') reviveBigints(x)
  }
  return v
}
