/**
 * The attestor's passing reports on an aggregated network (docs/chain.md "Aggregated
 * attestations"): a regular check it passed is not a record but a leaf, kept in SQLite (table
 * `hosting_leaves`, store.ts migration 3) so that a restart within an epoch loses none, and
 * summed up on chain by the BLAKE2b merkle root in its `epoch-report`. Leaves of the last
 * `epochsKept` epochs stay after their aggregate, so a third party can ask for a sample
 * (`sample`) and re-check it against the root.
 *
 * A leaf's hash: BLAKE2b-256 (hypercore-crypto `hash`) of 'datdot/leaf/1', the challenge id,
 * the slot (varints), the evidence hash (32 bytes: the walk's commitment hash for a storage
 * check, the measure key for a performance check) and the reading (storage: nothing more;
 * performance: grade units, ttfb ms, throughput B/s as varints). The root: leaves in the order
 * the chain issued their checks, paired level by level (BLAKE2b of the two hashes), an odd last
 * node carried up as is; no leaves: 32 zero bytes.
 */
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import { Writer } from '../chain/record-bytes.js'
import { RECORD_LIMITS } from '../chain/records.js'
import type { Db } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'

export interface Leaf {
  epoch: number
  challengeId: number
  kind: 'storage' | 'performance'
  slot: number
  /** 32 bytes, hex: the commitment hash (storage) or the measure key (performance). */
  evidenceHex: string
  /** Performance only: the grade in units above performanceMin, and the reading. */
  units: number | null
  ttfbMs: number | null
  throughputBps: number | null
}

/** A grade as an aggregate carries it: units above performanceMin, clamped to 0..aggregateUnitsMax and rounded down to a step. */
export function gradeOfUnits (units: number): number {
  const u = Math.min(RECORD_LIMITS.aggregateUnitsMax, Math.max(0, units))
  return u - (u % RECORD_LIMITS.aggregateUnitsStep)
}

const LEAF_TAG = b4a.from('datdot/leaf/1')

export function leafHash (l: Leaf): Buffer {
  const w = new Writer()
  w.uint(l.challengeId)
  w.uint(l.slot)
  w.raw(b4a.from(l.evidenceHex, 'hex'))
  if (l.kind === 'performance') { w.uint(l.units ?? 0); w.uint(l.ttfbMs ?? 0); w.uint(l.throughputBps ?? 0) }
  return hcrypto.hash(b4a.concat([LEAF_TAG, w.done()]))
}

/** The merkle root of leaf hashes in order (odd nodes carried up); 32 zero bytes for none. */
export function merkleRoot (hashes: Buffer[]): Buffer {
  if (hashes.length === 0) return b4a.alloc(32)
  let level = hashes
  while (level.length > 1) {
    const next: Buffer[] = []
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? hcrypto.hash(b4a.concat([level[i], level[i + 1]])) : level[i])
    level = next
  }
  return level[0]
}

/** The sibling hashes from leaf `i` up to the root (a level where the node is carried up adds none). */
export function merklePath (hashes: Buffer[], i: number): Buffer[] {
  if (!Number.isSafeInteger(i) || i < 0 || i >= hashes.length) throw DatdotError.invalidArgument(`leaf ${i} is not in a tree of ${hashes.length}`)
  const path: Buffer[] = []
  let level = hashes
  let idx = i
  while (level.length > 1) {
    const sib = idx ^ 1
    if (sib < level.length) path.push(level[sib])
    const next: Buffer[] = []
    for (let k = 0; k < level.length; k += 2) next.push(k + 1 < level.length ? hcrypto.hash(b4a.concat([level[k], level[k + 1]])) : level[k])
    level = next
    idx >>= 1
  }
  return path
}

/** The root a leaf hash and its path reach as leaf `i` of `n`, or null when the path has the wrong number of nodes for that place. */
export function rootOfPath (leaf: Uint8Array, i: number, n: number, path: Uint8Array[]): Buffer | null {
  if (!Number.isSafeInteger(i) || !Number.isSafeInteger(n) || i < 0 || i >= n) return null
  let h = b4a.from(leaf)
  let idx = i
  let size = n
  let k = 0
  while (size > 1) {
    const sib = idx ^ 1
    if (sib < size) {
      if (k >= path.length) return null
      const p = path[k++]
      h = hcrypto.hash(b4a.concat((idx & 1) === 0 ? [h, p] : [p, h]))
    }
    idx >>= 1
    size = (size + 1) >> 1
  }
  return k === path.length ? h : null
}

interface LeafRow { epoch: number, challenge_id: number, kind: string, slot: number, evidence: string, units: number | null, ttfb_ms: number | null, throughput_bps: number | null }

function fromRow (r: LeafRow): Leaf {
  return { epoch: r.epoch, challengeId: r.challenge_id, kind: r.kind as Leaf['kind'], slot: r.slot, evidenceHex: r.evidence, units: r.units, ttfbMs: r.ttfb_ms, throughputBps: r.throughput_bps }
}

export class EpochLeaves {
  constructor (private readonly db: Db, private readonly opts: { epochsKept: number }) {}

  /** Keeps a pass (a check walked again after a restart replaces its leaf). */
  add (l: Leaf): void {
    this.db.prepare(`INSERT INTO hosting_leaves (epoch, challenge_id, kind, slot, evidence, units, ttfb_ms, throughput_bps) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(challenge_id) DO UPDATE SET epoch = excluded.epoch, kind = excluded.kind, slot = excluded.slot, evidence = excluded.evidence,
      units = excluded.units, ttfb_ms = excluded.ttfb_ms, throughput_bps = excluded.throughput_bps`)
      .run(l.epoch, l.challengeId, l.kind, l.slot, l.evidenceHex, l.units, l.ttfbMs, l.throughputBps)
  }

  /** The passes of an epoch by challenge id. */
  ofEpoch (epoch: number): Map<number, Leaf> {
    const rows = this.db.prepare('SELECT * FROM hosting_leaves WHERE epoch = ? ORDER BY challenge_id').all(epoch) as LeafRow[]
    return new Map(rows.map((r) => [r.challenge_id, fromRow(r)]))
  }

  /** Up to `n` leaves of an epoch, for a third party re-checking a sample against the root on chain. */
  sample (epoch: number, n: number): Leaf[] {
    const rows = this.db.prepare('SELECT * FROM hosting_leaves WHERE epoch = ? ORDER BY random() LIMIT ?').all(epoch, Math.max(0, Math.floor(n))) as LeafRow[]
    return rows.map(fromRow)
  }

  /** Remembers which leaves an aggregate part's root is over, in tree order (the challenge ids of its passes). */
  keepPart (epoch: number, from: number, ids: number[]): void {
    this.db.prepare('INSERT INTO hosting_leaf_parts (epoch, from_check, ids) VALUES (?, ?, ?) ON CONFLICT(epoch, from_check) DO UPDATE SET ids = excluded.ids')
      .run(epoch, from, JSON.stringify(ids))
  }

  /** The leaves of a part in tree order, or null when this node kept no such part (or a leaf of it is gone). */
  part (epoch: number, from: number): Leaf[] | null {
    const row = this.db.prepare('SELECT ids FROM hosting_leaf_parts WHERE epoch = ? AND from_check = ?').get(epoch, from) as { ids: string } | undefined
    if (row === undefined) return null
    const byId = this.ofEpoch(epoch)
    const out: Leaf[] = []
    for (const id of JSON.parse(row.ids) as number[]) {
      const leaf = byId.get(id)
      if (leaf === undefined) return null
      out.push(leaf)
    }
    return out
  }

  /** Forgets the leaves (and parts) of epochs before the last `epochsKept` (counted back from `current`). */
  prune (current: number): void {
    this.db.prepare('DELETE FROM hosting_leaves WHERE epoch < ?').run(current - this.opts.epochsKept)
    this.db.prepare('DELETE FROM hosting_leaf_parts WHERE epoch < ?').run(current - this.opts.epochsKept)
  }

  count (): number {
    return (this.db.prepare('SELECT count(*) AS n FROM hosting_leaves').get() as { n: number }).n
  }
}
