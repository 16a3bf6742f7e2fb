/**
 * The attestor's side of aggregated attestations: passes kept as leaves in SQLite (a restart
 * within an epoch loses none), the epoch report built from the chain's list of this attestor's
 * checks, and the merkle root a third party can re-check a sample of leaves against.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import b4a from 'b4a'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { HostingStore } from '../../main/hosting/store.js'
import { EpochLeaves, leafHash, merkleRoot, type Leaf } from '../../main/hosting/epoch-leaves.js'
import { buildEpochReport } from '../../main/hosting/epoch-aggregator.js'
import { decodeRecord, encodeRecord, RECORD_LIMITS } from '../../main/chain/records.js'
import { gradedHosters } from '../../main/chain/epoch-records.js'
import type { EpochCheck } from '../../main/chain/marketplace.js'

const dirs: string[] = []
const dbs: Db[] = []
afterEach(() => {
  for (const db of dbs.splice(0)) db.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function open (dir: string): EpochLeaves {
  const db = openDatabase(join(dir, 'node.sqlite'))
  dbs.push(db)
  const store = new HostingStore(db, { now: () => 0, proofsKept: 10 })
  expect(store).toBeDefined()
  return new EpochLeaves(db, { epochsKept: 2 })
}

const storageLeaf = (challengeId: number, epoch = 5): Leaf => ({ epoch, challengeId, kind: 'storage', slot: 0, evidenceHex: 'cd'.repeat(32), units: null, ttfbMs: null, throughputBps: null })
const H1 = '0x' + '01'.repeat(32)
const H2 = '0x' + '02'.repeat(32)
const H3 = '0x' + '03'.repeat(32)
const perfLeaf = (challengeId: number, units: number): Leaf => ({ epoch: 5, challengeId, kind: 'performance', slot: 1, evidenceHex: 'ef'.repeat(32), units, ttfbMs: 40, throughputBps: 5_000_000 })

describe('the attestor keeps its passes as leaves and sends one report an epoch', () => {
  it('keeps the leaves across a restart and builds the epoch report over the chain\'s list: count, failed offsets, one grade per hoster, the merkle root', () => {
    const dir = mkdtempSync(join(tmpdir(), 'datdot-leaves-'))
    dirs.push(dir)
    const first = open(dir)
    first.add(storageLeaf(10))
    first.add(perfLeaf(11, 27))
    first.add(storageLeaf(13))
    for (const db of dbs.splice(0)) db.close()
    // a restart within the epoch: the same file, nothing lost
    const leaves = open(dir)
    const kept = leaves.ofEpoch(5)
    expect([...kept.keys()]).toEqual([10, 11, 13])
    // the chain listed checks 10 (storage of H1), 11 (performance of H2), 12 (storage of H1: not passed), 13 (storage of H2)
    const rec = buildEpochReport(5, [[10, 1, 0, H1], [11, 1, 1, H2], [12, 2, 0, H1], [13, 2, 0, H2]], 0, kept)
    expect(rec).toMatchObject({ epoch: 5, from: 0, count: 4, failed: [2], grades: [20] })
    const root = merkleRoot([leafHash(kept.get(10) as Leaf), leafHash(kept.get(11) as Leaf), leafHash(kept.get(13) as Leaf)])
    expect(rec.rootHex).toBe(b4a.toString(root, 'hex'))
    expect(decodeRecord(encodeRecord(rec))).toEqual({ ok: true, record: rec })
    // a sample for a third party: leaves whose hashes rebuild the root
    expect(leaves.sample(5, 2)).toHaveLength(2)
    // a leaf of the wrong kind is not a pass of the check
    expect(buildEpochReport(5, [[10, 1, 1, H1]], 0, kept)).toMatchObject({ count: 1, failed: [0], grades: [] })
  })

  it('grades each hoster once, the lower median of its performance passes, in the order of each one\'s first pass', () => {
    const dir = mkdtempSync(join(tmpdir(), 'datdot-leaves-'))
    dirs.push(dir)
    const leaves = open(dir)
    // H2 first (passes graded 27, 5, 40: 20, 0, 30 -> lower median 20), then H1 (12, 31, 19, 2: 10, 30, 10, 0 -> 10); 26 of H3 not passed
    const readings: Array<[number, string, number | null]> = [[1, H2, 27], [2, H1, 12], [3, H2, 5], [4, H3, null], [5, H1, 31], [6, H2, 40], [7, H1, 19], [8, H1, 2]]
    for (const [id, , units] of readings) if (units !== null) leaves.add(perfLeaf(id, units))
    leaves.add(storageLeaf(9))
    const checks: EpochCheck[] = [...readings.map(([id, h]): EpochCheck => [id, 1, 1, h]), [9, 1, 0, H3]]
    const rec = buildEpochReport(5, checks, 0, leaves.ofEpoch(5))
    expect(rec).toMatchObject({ count: 9, failed: [3], grades: [20, 10] })
    // the chain's rule names the same hosters in the same order
    expect(gradedHosters(checks, new Set(rec.failed))).toEqual([H2, H1])
    // from a later offset only the checks from there on count
    expect(buildEpochReport(5, checks, 5, leaves.ofEpoch(5))).toMatchObject({ from: 5, count: 4, failed: [], grades: [30, 0] })
  })

  it('ends a part before the check that would take it over the failures or the hosters a record may list', () => {
    const dir = mkdtempSync(join(tmpdir(), 'datdot-leaves-'))
    dirs.push(dir)
    const leaves = open(dir)
    // no leaves at all: every check failed; a part holds aggregateFailedMax of them
    const storage: EpochCheck[] = Array.from({ length: RECORD_LIMITS.aggregateFailedMax + 3 }, (_x, i) => [100 + i, 1, 0, H1])
    const first = buildEpochReport(5, storage, 0, leaves.ofEpoch(5))
    expect(first.count).toBe(RECORD_LIMITS.aggregateFailedMax)
    expect(first.failed).toHaveLength(RECORD_LIMITS.aggregateFailedMax)
    expect(buildEpochReport(5, storage, first.count, leaves.ofEpoch(5))).toMatchObject({ from: RECORD_LIMITS.aggregateFailedMax, count: 3 })
    // performance passes of more hosters than a record grades
    const n = RECORD_LIMITS.aggregateGradesMax + 2
    const perf: EpochCheck[] = Array.from({ length: n }, (_x, i) => [1000 + i, 1, 1, `0x${i.toString(16).padStart(64, '0')}`])
    for (const [id] of perf) leaves.add(perfLeaf(id, 30))
    const part = buildEpochReport(5, perf, 0, leaves.ofEpoch(5))
    expect(part.count).toBe(RECORD_LIMITS.aggregateGradesMax)
    expect(part.grades).toHaveLength(RECORD_LIMITS.aggregateGradesMax)
    expect(encodeRecord(part).length).toBeLessThanOrEqual(RECORD_LIMITS.recordBytes)
    expect(buildEpochReport(5, perf, part.count, leaves.ofEpoch(5))).toMatchObject({ count: 2, grades: [30, 30] })
  })

  it('forgets the leaves of epochs older than the ones it keeps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'datdot-leaves-'))
    dirs.push(dir)
    const leaves = open(dir)
    for (const e of [3, 4, 5, 6]) leaves.add(storageLeaf(100 + e, e))
    leaves.prune(6)
    expect(leaves.count()).toBe(3)
    expect(leaves.ofEpoch(3).size).toBe(0)
    expect(leaves.ofEpoch(4).size).toBe(1)
  })

  it('computes the merkle root of no leaves as zeros and of one leaf as that leaf', () => {
    expect(b4a.toString(merkleRoot([]), 'hex')).toBe('00'.repeat(32))
    const h = leafHash(storageLeaf(1))
    expect(merkleRoot([h]).equals(h)).toBe(true)
    expect(merkleRoot([h, h]).equals(h)).toBe(false)
  })
})
