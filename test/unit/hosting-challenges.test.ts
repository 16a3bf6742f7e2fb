/**
 * ChallengeRoles (main/hosting/challenges.ts) with fakes of its narrow dependencies: an
 * in-memory market, hand-driven timers, a fake attestor, peers, chain and measurement swarm.
 * Which challenges it takes, what it reports and with which seed, when a report is dropped, and
 * that this node runs one performance measurement at a time. The measurement itself is the real
 * one (an unreachable hoster) unless a test scripts it.
 */
import { describe, it, expect, vi, afterEach } from 'vitest'
import { EventEmitter } from 'node:events'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import b4a from 'b4a'
import type Hyperswarm from 'hyperswarm'
import { ChallengeRoles } from '../../main/hosting/challenges.js'
import { HONEST, type HostingBehaviour } from '../../main/hosting/behaviour.js'
import { challengeSeed, commitDeadlineMs } from '../../main/hosting/proof.js'
import { measurePerformance, performanceRange, type MeasureOptions, type PerformanceSample } from '../../main/hosting/performance.js'
import { RECORD_LIMITS, type StorageFailure } from '../../main/chain/records.js'
import type { PerformanceMeasurement } from '../../main/chain/service.js'
import type { ProofRow } from '../../main/hosting/config.js'
import type { Attestor, StorageChallenge, StorageReport } from '../../main/hosting/roles.js'
import type { HostingChannel } from '../../main/hosting/wire.js'
import { DatdotError } from '../../main/shared/errors.js'
import { MemoryMarket, blockHashHex, blockOutcome, challenge, contract, marketOf, party, plan, rootHex, slot } from '../helpers/market-fixtures.js'
import { channelFrom, roleHarness } from '../helpers/hosting-roles.js'
import { deferred, type Deferred } from '../helpers/wait.js'

// the measurement's folder is made with mkdir: a test sees when, to know a task reached the
// measurement queue; scripted measurements poke the same listeners when they start
const made = vi.hoisted(() => ({ dirs: [] as string[], listeners: new Set<() => void>() }))
const poke = (): void => { for (const f of [...made.listeners]) f() }
vi.mock('node:fs/promises', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:fs/promises')>()
  const mkdir = async (...args: Parameters<typeof orig.mkdir>): ReturnType<typeof orig.mkdir> => {
    const r = await orig.mkdir(...args)
    made.dirs.push(String(args[0]))
    for (const f of [...made.listeners]) f()
    return r
  }
  return { ...orig, default: { ...orig, mkdir }, mkdir }
})
vi.mock('../../main/hosting/performance.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../main/hosting/performance.js')>()
  return { ...orig, measurePerformance: vi.fn(orig.measurePerformance) }
})

const realMeasure = (await vi.importActual<typeof import('../../main/hosting/performance.js')>('../../main/hosting/performance.js')).measurePerformance
const measureMock = vi.mocked(measurePerformance)

/** Resolves once `check()` holds, re-checked whenever a measurement folder is made or a scripted measurement starts. */
function untilMade (check: () => boolean): Promise<void> {
  if (check()) return Promise.resolve()
  return new Promise((resolve) => {
    const f = (): void => { if (check()) { made.listeners.delete(f); resolve() } }
    made.listeners.add(f)
  })
}

/** A measurement swarm that never connects: records its key pair, joins and destroy. */
class FakeSwarm extends EventEmitter {
  readonly joined: Buffer[] = []
  destroyed = false
  constructor (readonly keyPair: { publicKey: Buffer, secretKey: Buffer }) { super() }
  joinPeer (key: Buffer): void { this.joined.push(key) }
  async destroy (): Promise<void> { this.destroyed = true }
}

const dirs: string[] = []
afterEach(async () => {
  measureMock.mockImplementation(realMeasure)
  measureMock.mockClear()
  made.dirs.length = 0
  made.listeners.clear()
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

interface Options { behaviour?: HostingBehaviour }

async function world (opts: Options = {}) {
  const me = party('me')
  const hos1 = party('hos1')
  const enc1 = party('enc1')
  const other = party('other')
  const c1 = contract({ id: 1, planId: 1, start: 2, end: 10, root: rootHex(12), slots: [slot({ hoster: 'hos1', encoder: 'enc1', state: 'hosting', since: 3 })] })
  const p1 = plan({ id: 1, contractIds: [1] })
  const market = new MemoryMarket(marketOf({ providers: [me, hos1, enc1, other], plans: [p1], contracts: [c1], block: 20 }), 'me')
  const h = roleHarness(me, market, { measureBlocks: 3, walkSteps: 16, openings: 4 })
  const measureDir = await mkdtemp(join(tmpdir(), 'datdot-challenges-'))
  dirs.push(measureDir)
  const unreachable = new Set<string>()
  const peers = {
    channelTo: vi.fn(async (keyHex: string) => {
      if (unreachable.has(keyHex)) throw DatdotError.timeout('connecting to the hoster', 20_000)
      return { channel: channelFrom([me, hos1, enc1, other].find((p) => p.keyHex === keyHex) ?? null), connectMs: 7 }
    })
  }
  const challenges: Array<{ channel: HostingChannel, ch: StorageChallenge }> = []
  let answer: (ch: StorageChallenge) => Promise<Partial<StorageReport>> = async () => ({ ok: true, reason: null, commitElapsedMs: 42 })
  const attestor = {
    challenge: vi.fn(async (channel: HostingChannel, ch: StorageChallenge) => {
      challenges.push({ channel, ch })
      return await answer(ch)
    })
  }
  const storageReports: Array<[number, boolean, StorageFailure]> = []
  const performanceReports: Array<[number, PerformanceMeasurement]> = []
  let submit: () => Promise<void> = async () => {}
  const chain = {
    submitStorageReport: vi.fn(async (id: number, ok: boolean, reason: StorageFailure) => { await submit(); storageReports.push([id, ok, reason]); return {} as never }),
    submitPerformanceReport: vi.fn(async (id: number, m: PerformanceMeasurement) => { await submit(); performanceReports.push([id, m]); return {} as never })
  }
  const blockHash = vi.fn(async (n: number) => blockHashHex(n))
  const swarms: FakeSwarm[] = []
  const proofs: Array<Omit<ProofRow, 'id' | 'timeMs'>> = []
  const dropped: Array<[number, DatdotError]> = []
  const roles = new ChallengeRoles({
    ctx: h.ctx,
    chain,
    tasks: h.tasks,
    peers,
    attestor: attestor as unknown as Attestor,
    behaviour: opts.behaviour ?? HONEST,
    blockHash,
    leaves: { add: () => {} },
    createMeasureSwarm: (kp) => { const s = new FakeSwarm(kp); swarms.push(s); return s as unknown as Hyperswarm },
    measureDir,
    onProof: (row) => { proofs.push(row) },
    onDropped: (id, err) => { dropped.push([id, err]) }
  })
  return {
    me, hos1, enc1, other, market, h, measureDir, unreachable, peers, attestor, challenges, chain, storageReports, performanceReports, blockHash, swarms, proofs, dropped, roles,
    answerWith: (f: typeof answer) => { answer = f },
    submitWith: (f: typeof submit) => { submit = f },
    add: (...chs: Array<ReturnType<typeof challenge>>) => { for (const ch of chs) market.market.challenges[ch.id] = ch }
  }
}

const storage = (id: number, attestors = ['me']): ReturnType<typeof challenge> => challenge({ id, kind: 'storage', contractId: 1, hoster: 'hos1', attestors, issuedAt: 15 })
const perf = (id: number, attestors = ['other', 'me']): ReturnType<typeof challenge> => challenge({ id, kind: 'performance', contractId: 1, hoster: 'hos1', attestors, issuedAt: 16 })

describe('challenge roles', { timeout: 10_000 }, () => {
  it('take only the challenges this node attests, and performance checks it has not reported yet', async () => {
    const w = await world({ behaviour: { verdict: () => 'UNREACHABLE' } })
    const reported = perf(4, ['me'])
    reported.reports.push({ attestor: 'me', reachable: true, ttfbMs: 10, throughputBps: 10, measureKeyHex: '00'.repeat(32) })
    w.add(storage(1), storage(2, ['other']), perf(3), reported, challenge({ id: 5, contractId: 99, hoster: 'hos1', attestors: ['me'] }))
    w.roles.sync(w.market.market)
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(w.h.started('challenge:').sort()).toEqual(['challenge:1', 'challenge:3'])
    expect(w.h.tasks.list().find((j) => j.id === 'challenge:3')).toMatchObject({ role: 'challenge', planId: 1, contractId: 1, slot: 0, state: 'done' })
    expect(w.storageReports.map(([id]) => id)).toEqual([1])
    expect(w.performanceReports.map(([id]) => id)).toEqual([3])
  })

  it('run a storage challenge against the hoster with the seed of the block it was issued in, and report the pass', async () => {
    const w = await world()
    w.add(storage(1))
    const out = blockOutcome(15, [1])
    w.roles.onBlock(out)
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(w.blockHash).not.toHaveBeenCalled() // remembered from the followed block
    expect(w.peers.channelTo).toHaveBeenCalledWith(w.hos1.keyHex)
    expect(w.challenges).toHaveLength(1)
    const { channel, ch } = w.challenges[0]
    expect(channel.remotePublicKey).toEqual(w.hos1.keyPair.publicKey)
    const L = w.h.ctx.limits
    expect(ch.seed.equals(challengeSeed(b4a.from(out.hash.slice(2), 'hex'), 1, w.hos1.keyPair.publicKey))).toBe(true)
    expect(ch.contract).toMatchObject({ contractId: 1, start: 2, end: 10 })
    expect(ch.contract.root.length).toBe(12)
    expect(b4a.equals(ch.hosterKey, w.hos1.keyPair.publicKey)).toBe(true)
    expect(b4a.equals(ch.encoderKey, w.enc1.keyPair.publicKey)).toBe(true)
    expect(ch).toMatchObject({ rounds: L.rounds, steps: 16, openings: 4, deadlineMs: commitDeadlineMs(7, L.commitBaseMs), openTimeoutMs: L.requestTimeoutMs })
    expect(w.storageReports).toEqual([[1, true, 'NONE']])
    expect(w.h.ctx.counters.storageReports).toBe(1)
    expect(w.proofs).toEqual([{ challengeId: 1, kind: 'storage', role: 'attestor', contractId: 1, hoster: 'hos1', ok: true, reason: null, latencyMs: 42, throughputBps: null }])
  })

  it('ask the chain for the hash of the block a challenge was issued in when it did not follow that block', async () => {
    const w = await world()
    w.add(storage(1))
    w.roles.onBlock(blockOutcome(15, [7])) // another challenge's block
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(w.blockHash).toHaveBeenCalledWith(15)
    expect(w.challenges[0].ch.seed.equals(challengeSeed(b4a.from(blockHashHex(15).slice(2), 'hex'), 1, w.hos1.keyPair.publicKey))).toBe(true)
  })

  it('open at most as many steps as the walk has', async () => {
    const w = await world()
    w.h.ctx.limits.openings = 50
    w.add(storage(1))
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(w.challenges[0].ch.openings).toBe(16)
  })

  it('report a failed storage proof with the chain’s reason for it', async () => {
    const w = await world()
    w.answerWith(async () => ({ ok: false, reason: 'TIMEOUT', commitElapsedMs: 9000 }))
    w.add(storage(1))
    w.roles.sync(w.market.market)
    await w.h.idle()
    w.answerWith(async () => ({ ok: false, reason: 'MISSING_CHUNK', commitElapsedMs: 30 }))
    w.add(storage(2))
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(w.storageReports).toEqual([[1, false, 'DEADLINE_MISSED'], [2, false, 'MISSING_CHUNK']])
    expect(w.proofs.map((p) => [p.ok, p.reason, p.latencyMs])).toEqual([[false, 'DEADLINE_MISSED', 9000], [false, 'MISSING_CHUNK', 30]])
  })

  it('report a hoster it cannot reach as UNREACHABLE without challenging it', async () => {
    const w = await world()
    w.unreachable.add(w.hos1.keyHex)
    w.add(storage(1))
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(w.attestor.challenge).not.toHaveBeenCalled()
    expect(w.storageReports).toEqual([[1, false, 'UNREACHABLE']])
    expect(w.proofs).toEqual([{ challengeId: 1, kind: 'storage', role: 'attestor', contractId: 1, hoster: 'hos1', ok: false, reason: 'UNREACHABLE', latencyMs: null, throughputBps: null }])
  })

  it('report a behaviour’s verdict without running the check or asking for a block hash', async () => {
    const verdict = vi.fn((kind: 'storage' | 'performance') => kind === 'storage' ? 'MISSING_CHUNK' : 'UNREACHABLE')
    const w = await world({ behaviour: { verdict } })
    w.add(storage(1), perf(2))
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(verdict.mock.calls.map(([k]) => k).sort()).toEqual(['performance', 'storage'])
    expect(w.blockHash).not.toHaveBeenCalled()
    expect(w.peers.channelTo).not.toHaveBeenCalled()
    expect(w.attestor.challenge).not.toHaveBeenCalled()
    expect(w.swarms).toHaveLength(0)
    expect(measureMock).not.toHaveBeenCalled()
    expect(w.storageReports).toEqual([[1, false, 'MISSING_CHUNK']])
    expect(w.performanceReports).toHaveLength(1)
    const [id, m] = w.performanceReports[0]
    expect(id).toBe(2)
    expect(m).toMatchObject({ reachable: false, ttfbMs: RECORD_LIMITS.latencyMsMax, throughputBps: 0 })
    expect(m.measureKeyHex).toMatch(/^[0-9a-f]{64}$/)
    expect(w.proofs.find((p) => p.kind === 'performance')).toEqual({ challengeId: 2, kind: 'performance', role: 'attestor', contractId: 1, hoster: 'hos1', ok: false, reason: 'UNREACHABLE', latencyMs: null, throughputBps: null })
    expect(w.h.ctx.counters).toMatchObject({ storageReports: 1, performanceReports: 1 })
  })

  it('drop the report, without a proof row or an error, when the challenge closed while it was submitted', async () => {
    const w = await world()
    w.add(storage(1))
    w.submitWith(async () => {
      delete w.market.market.challenges[1]
      throw DatdotError.chain('record refused: replayed')
    })
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(w.dropped.map(([id, err]) => [id, err.code])).toEqual([[1, 'CHAIN_ERROR']])
    expect(w.proofs).toHaveLength(0)
    expect(w.h.errors.size).toBe(0)
    expect(w.h.tasks.list()[0]).toMatchObject({ id: 'challenge:1', state: 'done' })
    expect(w.h.ctx.counters.storageReports).toBe(0)
  })

  it('fail the task on any other refusal of its report', async () => {
    const w = await world()
    w.add(storage(1), perf(2))
    w.submitWith(async () => { throw DatdotError.chain('no funds for the fee') })
    measureMock.mockImplementation(async () => sample({ reachable: false }))
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(DatdotError.from(w.h.errors.get('challenge:1')).message).toContain('no funds')
    expect(DatdotError.from(w.h.errors.get('challenge:2')).message).toContain('no funds')
    expect(w.dropped).toHaveLength(0)
    expect(w.proofs).toHaveLength(0)
  })

  it('submit nothing when the challenge closed during the check', async () => {
    const w = await world()
    w.add(storage(1))
    w.answerWith(async () => {
      delete w.market.market.challenges[1]
      return { ok: false, reason: 'MISSING_CHUNK', commitElapsedMs: 5 }
    })
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(w.attestor.challenge).toHaveBeenCalledTimes(1)
    expect(w.chain.submitStorageReport).not.toHaveBeenCalled()
    expect(w.proofs).toHaveLength(0)
  })

  it('report nothing when its own check fails locally, rather than blame the hoster', async () => {
    const w = await world()
    w.add(storage(1))
    w.answerWith(async () => { throw DatdotError.invalidArgument('steps must be 1 to 4096') })
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(DatdotError.from(w.h.errors.get('challenge:1')).code).toBe('INVALID_ARGUMENT')
    expect(w.chain.submitStorageReport).not.toHaveBeenCalled()
  })

  it('measure an unreachable hoster with a fresh single-use swarm and report it with that swarm’s key', async () => {
    const w = await world()
    w.add(perf(3))
    w.roles.sync(w.market.market)
    await w.h.timers.untilScheduled(w.h.ctx.limits.measureTimeoutMs)
    expect(w.swarms).toHaveLength(1)
    expect(w.swarms[0].joined).toEqual([w.hos1.keyPair.publicKey])
    w.h.timers.advance(w.h.ctx.limits.measureTimeoutMs)
    await w.h.idle()
    expect(w.swarms[0].destroyed).toBe(true)
    expect(w.performanceReports).toEqual([[3, {
      reachable: false, ttfbMs: RECORD_LIMITS.latencyMsMax, throughputBps: 0, measureKeyHex: b4a.toString(w.swarms[0].keyPair.publicKey, 'hex')
    }]])
    expect(w.proofs).toEqual([{ challengeId: 3, kind: 'performance', role: 'attestor', contractId: 1, hoster: 'hos1', ok: false, reason: 'UNREACHABLE', latencyMs: null, throughputBps: null }])
    expect(await readdir(w.measureDir)).toEqual([]) // the throw-away store is gone
  })

  it('read the range the check’s seed and this attestor’s index draw, against the contract’s core', async () => {
    const w = await world()
    w.add(perf(3))
    const calls: MeasureOptions[] = []
    measureMock.mockImplementation(async (o) => { calls.push(o); return sample({ reachable: true, ttfbMs: 12.6, throughputBytesPerSec: 1000.4 }) })
    w.roles.sync(w.market.market)
    await w.h.idle()
    const o = calls[0]
    const seed = challengeSeed(b4a.from(blockHashHex(16).slice(2), 'hex'), 1, w.hos1.keyPair.publicKey)
    const r = performanceRange(seed, 1, 8, 3) // 'me' is the check's second attestor; 8 blocks; measureBlocks 3
    expect(o.range).toEqual({ start: 2 + r.start, end: 2 + r.end })
    expect(b4a.toString(o.coreKey, 'hex')).toBe(w.market.market.contracts[1].keyHex)
    expect(o.hosterKey.equals(w.hos1.keyPair.publicKey)).toBe(true)
    expect(o).toMatchObject({ connectTimeoutMs: 10_000, readTimeoutMs: 10_000, timers: w.h.timers, signal: w.h.ctx.closeSignal })
    expect(o.storageDir.startsWith(w.measureDir)).toBe(true)
    expect(w.performanceReports).toEqual([[3, { reachable: true, ttfbMs: 13, throughputBps: 1000, measureKeyHex: b4a.toString(o.keyPair?.publicKey as Buffer, 'hex') }]])
    expect(w.proofs).toEqual([{ challengeId: 3, kind: 'performance', role: 'attestor', contractId: 1, hoster: 'hos1', ok: true, reason: null, latencyMs: 13, throughputBps: 1000 }])
  })

  it('report a hoster that connects but serves no block as not reachable (NO_DATA)', async () => {
    const w = await world()
    w.add(perf(3))
    measureMock.mockImplementation(async () => sample({ reachable: true, ttfbMs: null }))
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(w.performanceReports[0][1]).toMatchObject({ reachable: false, ttfbMs: RECORD_LIMITS.latencyMsMax, throughputBps: 0 })
    expect(w.proofs[0]).toMatchObject({ ok: false, reason: 'NO_DATA', latencyMs: null })
  })

  it('cap a measured time and throughput at what a record can carry', async () => {
    const w = await world()
    w.add(perf(3))
    measureMock.mockImplementation(async () => sample({ reachable: true, ttfbMs: 10 ** 7, throughputBytesPerSec: 2 ** 50 }))
    w.roles.sync(w.market.market)
    await w.h.idle()
    expect(w.performanceReports[0][1]).toMatchObject({ reachable: true, ttfbMs: RECORD_LIMITS.latencyMsMax, throughputBps: RECORD_LIMITS.throughputBpsMax })
    expect(w.proofs[0]).toMatchObject({ ok: true, latencyMs: 10 ** 7, throughputBps: 2 ** 50 })
  })

  it('do not report a performance check it reported meanwhile, or that closed', async () => {
    const w = await world()
    w.add(perf(3), perf(4))
    const pending: Array<Deferred<Awaited<ReturnType<typeof measurePerformance>>>> = []
    measureMock.mockImplementation(async () => { const d = deferred<Awaited<ReturnType<typeof measurePerformance>>>(); pending.push(d); poke(); return await d.promise })
    w.roles.sync(w.market.market)
    await untilMade(() => pending.length === 1)
    w.market.market.challenges[3].reports.push({ attestor: 'me', reachable: true, ttfbMs: 1, throughputBps: 1, measureKeyHex: '00'.repeat(32) })
    pending[0].resolve(sample({ reachable: false }))
    await untilMade(() => pending.length === 2)
    delete w.market.market.challenges[4]
    pending[1].resolve(sample({ reachable: false }))
    await w.h.idle()
    expect(w.chain.submitPerformanceReport).not.toHaveBeenCalled()
    expect(w.proofs).toHaveLength(0)
  })

  it('run one performance measurement at a time, in the order the checks queued for it', async () => {
    const w = await world()
    w.add(perf(3), perf(6), perf(8))
    const pending: Array<Deferred<Awaited<ReturnType<typeof measurePerformance>>>> = []
    const calls: MeasureOptions[] = []
    measureMock.mockImplementation(async (o) => {
      calls.push(o)
      const d = deferred<Awaited<ReturnType<typeof measurePerformance>>>()
      pending.push(d)
      poke()
      return await d.promise
    })
    w.roles.sync(w.market.market)
    // every check made its folder, so each has reached the measurement queue
    await untilMade(() => made.dirs.length === 3)
    await new Promise((resolve) => setImmediate(resolve))
    expect(calls).toHaveLength(1)
    pending[0].reject(DatdotError.internal('the first measurement broke')) // a failed one lets the next run too
    await untilMade(() => calls.length === 2)
    await new Promise((resolve) => setImmediate(resolve))
    expect(calls).toHaveLength(2)
    pending[1].resolve(sample({ reachable: false }))
    await untilMade(() => calls.length === 3)
    pending[2].resolve(sample({ reachable: false }))
    await w.h.idle()
    // queued in the order their folders were made (file system order), measured in that order
    const idOf = (dir: string): number => Number(dir.slice(w.measureDir.length + 1).split('-')[0])
    const queued = made.dirs.map(idOf)
    expect(queued.sort()).toEqual([3, 6, 8])
    expect(calls.map((o) => idOf(o.storageDir))).toEqual(made.dirs.map(idOf))
    // reports follow each measurement's clean-up, which may end in either order: compare as sets
    expect(w.performanceReports.map(([id]) => id).sort()).toEqual(made.dirs.slice(1).map(idOf).sort())
    expect(DatdotError.from(w.h.errors.get(`challenge:${idOf(made.dirs[0])}`)).code).toBe('INTERNAL')
  })
})

function sample (s: Partial<PerformanceSample>): Awaited<ReturnType<typeof measurePerformance>> {
  return { reachable: false, connectMs: null, ttfbMs: null, throughputBytesPerSec: null, bytes: 0, publicKey: b4a.alloc(32), range: { start: 0, end: 1 }, ...s }
}
