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
import { decodeRecord, encodeRecord } from '../../main/chain/records.js'

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
const perfLeaf = (challengeId: number, units: number): Leaf => ({ epoch: 5, challengeId, kind: 'performance', slot: 1, evidenceHex: 'ef'.repeat(32), units, ttfbMs: 40, throughputBps: 5_000_000 })

describe('the attestor keeps its passes as leaves and sends one report an epoch', () => {
  it('keeps the leaves across a restart and builds the epoch report over the chain\'s list: bits, grades, passes per plan, the merkle root', () => {
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
    // the chain listed checks 10 (storage, plan 1), 11 (performance, plan 1), 12 (storage, plan 2: not passed), 13 (storage, plan 2)
    const rec = buildEpochReport(5, [[10, 1, 0], [11, 1, 1], [12, 2, 0], [13, 2, 0]], 0, kept)
    expect(rec).toMatchObject({ epoch: 5, from: 0, passed: [true, true, false, true], units: [20], plans: [[1, 2], [2, 1]] })
    const root = merkleRoot([leafHash(kept.get(10) as Leaf), leafHash(kept.get(11) as Leaf), leafHash(kept.get(13) as Leaf)])
    expect(rec.rootHex).toBe(b4a.toString(root, 'hex'))
    expect(decodeRecord(encodeRecord(rec))).toEqual({ ok: true, record: rec })
    // a sample for a third party: leaves whose hashes rebuild the root
    expect(leaves.sample(5, 2)).toHaveLength(2)
    // a leaf of the wrong kind is not a pass of the check
    expect(buildEpochReport(5, [[10, 1, 1]], 0, kept).passed).toEqual([false])
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
