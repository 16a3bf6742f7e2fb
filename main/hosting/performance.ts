/**
 * Proof of performance: an attestor, with a fresh single-use Hyperswarm identity, connects to
 * one hoster as an ordinary reader and measures reachability, connect time, time to first block
 * and throughput over a random range. The chain grades a hoster from the medians of several
 * attestors' reports (pure functions below). See docs/protocol.md, section 6.
 */
import hcrypto from 'hypercore-crypto'
import b4a from 'b4a'
import Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import type { SwarmConnection } from 'hyperswarm'
import { DatdotError } from '../shared/errors.js'
import { realTimers, withTimeout as sharedWithTimeout, type Timers } from '../shared/timeout.js'

// ---- grading (pure) ----

export interface PerformanceSample {
  reachable: boolean
  /** From joining to an open connection; null when unreachable. */
  connectMs: number | null
  /** From asking for the first block of the range to having it verified; null when not received. */
  ttfbMs: number | null
  /** Bytes per second over the rest of the range; null when not measured. */
  throughputBytesPerSec: number | null
  /** Bytes received over the range. */
  bytes: number
}

export interface GradeThresholds {
  /** At or below: full ttfb score. */
  ttfbGoodMs: number
  /** At or above: zero ttfb score. */
  ttfbBadMs: number
  /** At or above: full throughput score. */
  throughputGoodBytesPerSec: number
  /** At or below: zero throughput score. */
  throughputBadBytesPerSec: number
  /** Fewer reports than this: no grade (neither pay nor penalty). */
  minReports: number
  /** Weight of the ttfb score; the throughput score gets 1 - ttfbWeight. */
  ttfbWeight: number
}

export const DEFAULT_THRESHOLDS: GradeThresholds = {
  ttfbGoodMs: 100,
  ttfbBadMs: 1500,
  throughputGoodBytesPerSec: 4 * 1024 * 1024,
  throughputBadBytesPerSec: 128 * 1024,
  minReports: 3,
  ttfbWeight: 0.4
}

export const MAX_REPORTS = 64

export interface PerformanceGrade {
  status: 'graded' | 'insufficient'
  reports: number
  reachableFraction: number
  medianTtfbMs: number | null
  medianThroughputBytesPerSec: number | null
  ttfbScore: number
  throughputScore: number
  /** 0..1 */
  score: number
  /** 0 (fail) to 4 (best). */
  grade: number
  /** Share of the performance reward paid: grade / 4. */
  rewardFactor: number
}

/** Median of finite and infinite numbers; the mean of the two middle values for an even count. */
export function median (values: number[]): number {
  if (values.length === 0) throw DatdotError.invalidArgument('median of nothing')
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  if (s.length % 2 === 1) return s[mid]
  const lo = s[mid - 1]
  const hi = s[mid]
  if (lo === hi) return lo // also keeps Infinity + Infinity from turning into NaN
  return (lo + hi) / 2
}

/** 1 at or below `good`, 0 at or above `bad`, linear between (lower is better). */
export function scoreLowerBetter (value: number, good: number, bad: number): number {
  if (!(bad > good)) throw DatdotError.invalidArgument('bad must be above good')
  if (Number.isNaN(value)) return 0
  if (value <= good) return 1
  if (value >= bad) return 0
  return (bad - value) / (bad - good)
}

/** 1 at or above `good`, 0 at or below `bad`, linear in log(value) between (higher is better). */
export function scoreHigherBetterLog (value: number, good: number, bad: number): number {
  if (!(good > bad && bad > 0)) throw DatdotError.invalidArgument('need good > bad > 0')
  if (Number.isNaN(value)) return 0
  if (value >= good) return 1
  if (value <= bad) return 0
  return (Math.log(value) - Math.log(bad)) / (Math.log(good) - Math.log(bad))
}

export function gradeFromScore (score: number): number {
  if (score >= 0.8) return 4
  if (score >= 0.6) return 3
  if (score >= 0.4) return 2
  if (score >= 0.2) return 1
  return 0
}

/**
 * Grades one hoster from several attestors' samples. An unreachable sample counts as infinite
 * ttfb and zero throughput, so the medians already punish a hoster most attestors cannot
 * reach, and one lying attestor (in either direction) cannot move a median of three.
 */
export function gradePerformance (samples: PerformanceSample[], t: GradeThresholds = DEFAULT_THRESHOLDS): PerformanceGrade {
  if (samples.length > MAX_REPORTS) throw DatdotError.tooLarge('Performance reports', MAX_REPORTS)
  const reachable = samples.filter((s) => s.reachable).length
  const base = {
    reports: samples.length,
    reachableFraction: samples.length === 0 ? 0 : reachable / samples.length
  }
  if (samples.length < t.minReports) {
    return { ...base, status: 'insufficient', medianTtfbMs: null, medianThroughputBytesPerSec: null, ttfbScore: 0, throughputScore: 0, score: 0, grade: 0, rewardFactor: 0 }
  }
  const ttfb = median(samples.map((s) => s.reachable && s.ttfbMs !== null ? s.ttfbMs : Infinity))
  const thr = median(samples.map((s) => s.reachable && s.throughputBytesPerSec !== null ? s.throughputBytesPerSec : 0))
  const ttfbScore = scoreLowerBetter(ttfb, t.ttfbGoodMs, t.ttfbBadMs)
  const throughputScore = scoreHigherBetterLog(thr, t.throughputGoodBytesPerSec, t.throughputBadBytesPerSec)
  const majorityReached = reachable * 2 > samples.length
  const score = majorityReached ? t.ttfbWeight * ttfbScore + (1 - t.ttfbWeight) * throughputScore : 0
  const grade = gradeFromScore(score)
  return {
    ...base,
    status: 'graded',
    medianTtfbMs: Number.isFinite(ttfb) ? ttfb : null,
    medianThroughputBytesPerSec: thr,
    ttfbScore,
    throughputScore,
    score,
    grade,
    rewardFactor: grade / 4
  }
}

/** The range an attestor reads, drawn from the check's seed so interpreters can recompute it. */
export function performanceRange (seed: Uint8Array, attestorIndex: number, coreLength: number, blocks: number): { start: number, end: number } {
  if (coreLength < 1) throw DatdotError.invalidArgument('empty core')
  const n = Math.min(blocks, coreLength)
  const idx = b4a.alloc(4)
  idx.writeUInt32LE(attestorIndex)
  const h = hcrypto.hash([b4a.from('datdot/performance/v1/range'), seed, idx])
  const r = h[0] + h[1] * 2 ** 8 + h[2] * 2 ** 16 + h[3] * 2 ** 24 + h[4] * 2 ** 32 + h[5] * 2 ** 40
  const start = r % (coreLength - n + 1)
  return { start, end: start + n }
}

// ---- measurement ----

export const MAX_MEASURED_BLOCKS = 1024

export interface MeasureOptions {
  /** Makes the single-use swarm for this measurement, with the given fresh key pair (inject the DHT here). */
  createSwarm: (keyPair: { publicKey: Buffer, secretKey: Buffer }) => Hyperswarm
  /** Empty directory for the reader's throw-away corestore; the caller removes it. */
  storageDir: string
  /** The hoster's Hyperswarm public key. */
  hosterKey: Buffer
  coreKey: Buffer
  range: { start: number, end: number }
  connectTimeoutMs?: number
  /** Time allowed for the first block, and for the rest of the range. */
  readTimeoutMs?: number
  now?: () => number
  timers?: Timers
  /** Fresh by default: never reuse one. */
  keyPair?: { publicKey: Buffer, secretKey: Buffer }
  /** Aborts the measurement (the node is closing): it rejects with CLOSED at once and cleans up. */
  signal?: AbortSignal
  /** Time a new connection gets to send a first byte before it is dropped as dead and the hoster dialled again (DEFAULT_ALIVE_TIMEOUT_MS). */
  aliveTimeoutMs?: number
}

/** Rejects after `ms` with TIMEOUT, or at once with CLOSED when `signal` aborts. */
function withTimeout<T> (p: Promise<T>, ms: number, timers: Timers, what: string, signal?: AbortSignal): Promise<T> {
  return sharedWithTimeout(p, ms, what, { timers, signal, closed: 'performance measurement' })
}

type Sample = PerformanceSample & { publicKey: Buffer, range: { start: number, end: number } }
type Core = ReturnType<Corestore['get']>

/** What one measurement reads its clock, timers and limits from. */
interface Measuring {
  now: () => number
  timers: Timers
  readTimeoutMs: number
  signal?: AbortSignal
}

/** Measures one hoster as an ordinary reader. Resolves to a sample; unreachable is a sample, not an error. */
export async function measurePerformance (opts: MeasureOptions): Promise<Sample> {
  const { start, end } = opts.range
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) throw DatdotError.invalidArgument('bad range')
  if (end - start > MAX_MEASURED_BLOCKS) throw DatdotError.tooLarge('Measured range', MAX_MEASURED_BLOCKS)
  const m: Measuring = { now: opts.now ?? (() => performance.now()), timers: opts.timers ?? realTimers, readTimeoutMs: opts.readTimeoutMs ?? 20_000, signal: opts.signal }
  const keyPair = opts.keyPair ?? hcrypto.keyPair()
  const sample: Sample = { publicKey: keyPair.publicKey, range: { start, end }, reachable: false, connectMs: null, ttfbMs: null, throughputBytesPerSec: null, bytes: 0 }
  const store = new Corestore(opts.storageDir)
  const swarms: Swarms = { current: null }
  try {
    const core = store.get({ key: opts.coreKey })
    await core.ready()
    const conn = await connectToHoster(() => opts.createSwarm(keyPair), swarms, store, core, opts, m, sample)
    if (conn === null) return sample
    await readRange(core, conn, { start, end }, m, sample)
    return sample
  } finally {
    if (swarms.current !== null) await swarms.current.destroy()
    await store.close()
  }
}

/** The swarm of the current connection attempt (destroyed by whoever replaces or ends it). */
interface Swarms { current: Hyperswarm | null }

/**
 * Connects to the hoster, on a new swarm for each attempt, until a connection is live or the
 * connect timeout passes. A connection can open on the reader's side and be dead: hyperdht
 * (6.34) lets a dialler on the hoster's host or LAN take its local shortcut while the hoster's
 * DHT node, firewalled, also holepunches; when the hoster aborts that holepunch (its NAT
 * analysis is not stable: a busy moment) it destroys the stream the dialler has just connected
 * to, the hoster never sees the connection, and the dialler's one is "open" and reads nothing.
 * Such a connection is dropped after `aliveTimeoutMs` without a byte and the hoster dialled
 * again (an honest hoster was read as NO_DATA 5-20 times per hosting-e2e run before).
 * Records reachability (any connection) and connect time (to the live one, else the first) in
 * `sample`; null when no live connection came in time.
 */
async function connectToHoster (createSwarm: () => Hyperswarm, swarms: Swarms, store: Corestore, core: Core, opts: MeasureOptions, m: Measuring, sample: Sample): Promise<SwarmConnection | null> {
  const t0 = m.now()
  const timeoutMs = opts.connectTimeoutMs ?? 10_000
  const aliveMs = opts.aliveTimeoutMs ?? DEFAULT_ALIVE_TIMEOUT_MS
  // the first attempt gets the whole connect timeout; a later one what is left of it
  const left = (attempt: number): number => attempt === 0 ? timeoutMs : Math.max(0, timeoutMs - (m.now() - t0))
  for (let attempt = 0; attempt === 0 || left(attempt) > 0; attempt++) {
    if (swarms.current !== null) await swarms.current.destroy()
    const swarm = createSwarm()
    swarms.current = swarm
    const conn = await dialOnce(swarm, store, opts.hosterKey, left(attempt), m)
    if (conn === null) return null
    if (!sample.reachable) {
      sample.reachable = true
      sample.connectMs = m.now() - t0
    }
    if (await replicates(core, conn, Math.min(aliveMs, left(attempt + 1)), m)) {
      sample.connectMs = m.now() - t0
      return conn
    }
    if (m.signal?.aborted === true) throw DatdotError.closed('performance measurement')
  }
  return null
}

/** Default time a new connection gets to show it is live (a first byte from the hoster). */
export const DEFAULT_ALIVE_TIMEOUT_MS = 2_000

/** Joins the hoster on `swarm` and waits for its connection (every connection replicates the store); null after `ms`. */
async function dialOnce (swarm: Hyperswarm, store: Corestore, hosterKey: Buffer, ms: number, m: Measuring): Promise<SwarmConnection | null> {
  const connected = new Promise<SwarmConnection>((resolve) => {
    swarm.on('connection', (conn: SwarmConnection) => {
      store.replicate(conn)
      if (b4a.equals(conn.remotePublicKey, hosterKey)) resolve(conn)
    })
  })
  swarm.joinPeer(hosterKey)
  try {
    return await withTimeout(connected, ms, m.timers, 'connecting to the hoster', m.signal)
  } catch (err) {
    if ((err as DatdotError).code === 'TIMEOUT') return null
    throw err
  }
}

/**
 * True once the hoster replicates the core on `conn` (a peer of the core), or when `ms` passed
 * and the hoster sent anything at all (a slow hoster: the read timeout judges it); false when
 * it closed, or sent not a byte in `ms` (a dead connection).
 */
function replicates (core: Core, conn: SwarmConnection, ms: number, m: Measuring): Promise<boolean> {
  if (core.peers.length > 0) return Promise.resolve(true)
  return new Promise<boolean>((resolve) => {
    const done = (live: boolean): void => {
      core.off('peer-add', onPeer)
      conn.off('close', onClose)
      m.signal?.removeEventListener('abort', onClose)
      m.timers.clearTimeout(timer)
      resolve(live)
    }
    const onPeer = (): void => { done(true) }
    // the node is closing: connectToHoster rejects with CLOSED
    const onClose = (): void => { done(false) }
    const timer = m.timers.setTimeout(() => { done(conn.rawBytesRead > 0) }, ms)
    core.on('peer-add', onPeer)
    conn.on('close', onClose)
    m.signal?.addEventListener('abort', onClose, { once: true })
    if (conn.destroyed === true || m.signal?.aborted === true) done(false)
  })
}

/** Times the first block of the range, then the download of the rest, into `sample`. */
async function readRange (core: Core, conn: SwarmConnection, range: { start: number, end: number }, m: Measuring, sample: Sample): Promise<void> {
  const { start, end } = range
  // a hoster that drops the reader before the first block served nothing: stop at once
  const dropped = new Promise<never>((_resolve, reject) => {
    if (conn.destroyed === true) reject(DatdotError.closed('connection to the hoster'))
    else conn.once('close', () => reject(DatdotError.closed('connection to the hoster')))
  })
  dropped.catch(() => {})
  const t1 = m.now()
  let first: Buffer | null
  try {
    first = await withTimeout(Promise.race([core.get(start, { timeout: m.readTimeoutMs }), dropped]), m.readTimeoutMs, m.timers, 'first block', m.signal)
  } catch (err) {
    if (m.signal?.aborted === true) throw err
    return
  }
  if (first === null) return
  sample.ttfbMs = m.now() - t1
  sample.bytes = first.byteLength
  if (end - start === 1) {
    sample.throughputBytesPerSec = sample.ttfbMs > 0 ? first.byteLength / (sample.ttfbMs / 1000) : null
    return
  }
  await readRest(core, { start: start + 1, end }, m, sample)
}

/** Times the download of the blocks after the first one; its bytes per second go into `sample`. */
async function readRest (core: Core, range: { start: number, end: number }, m: Measuring, sample: Sample): Promise<void> {
  const t2 = m.now()
  const dl = core.download(range)
  try {
    await withTimeout(dl.done(), m.readTimeoutMs, m.timers, 'range download', m.signal)
  } catch (err) {
    dl.destroy()
    if (m.signal?.aborted === true) throw err
    return
  }
  const elapsedMs = m.now() - t2
  let rest = 0
  for (let i = range.start; i < range.end; i++) {
    const b = await core.get(i, { wait: false })
    if (b !== null) rest += b.byteLength
  }
  sample.bytes += rest
  sample.throughputBytesPerSec = elapsedMs > 0 ? rest / (elapsedMs / 1000) : null
}
