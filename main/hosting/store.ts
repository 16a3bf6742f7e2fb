/**
 * The hosting service's SQLite tables: the seeding settings (one row) and the proof rows this
 * node recorded as an attestor (the newest `proofsKept` are kept). Runs its own migrations
 * ('hosting') on the node's database.
 */
import { migrate, type Db, type Migration } from '../shared/db.js'
import type { HostingSettings, ProofRow } from './config.js'

export const HOSTING_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'hosting settings and proofs',
    up: `CREATE TABLE hosting_settings (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      seeding INTEGER NOT NULL,
      storage_bytes INTEGER NOT NULL,
      bandwidth_bps INTEGER NOT NULL,
      region TEXT NOT NULL,
      updated_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE hosting_proofs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      challenge_id INTEGER NOT NULL,
      kind TEXT NOT NULL,
      role TEXT NOT NULL,
      contract_id INTEGER NOT NULL,
      hoster TEXT NOT NULL,
      ok INTEGER NOT NULL,
      reason TEXT,
      latency_ms INTEGER,
      time_ms INTEGER NOT NULL
    ) STRICT;`
  },
  {
    version: 2,
    description: 'performance measurements in proof rows',
    up: 'ALTER TABLE hosting_proofs ADD COLUMN throughput_bps INTEGER;'
  },
  {
    version: 3,
    description: 'passing reports kept for epoch aggregates (epoch-leaves.ts)',
    up: `CREATE TABLE hosting_leaves (
      challenge_id INTEGER PRIMARY KEY,
      epoch INTEGER NOT NULL,
      kind TEXT NOT NULL,
      slot INTEGER NOT NULL,
      evidence TEXT NOT NULL,
      units INTEGER,
      ttfb_ms INTEGER,
      throughput_bps INTEGER
    ) STRICT;
    CREATE INDEX hosting_leaves_epoch ON hosting_leaves (epoch);`
  },
  {
    version: 4,
    description: 'the leaves of each aggregate part, in tree order, for audits (epoch-leaves.ts)',
    up: `CREATE TABLE hosting_leaf_parts (
      epoch INTEGER NOT NULL,
      from_check INTEGER NOT NULL,
      ids TEXT NOT NULL,
      PRIMARY KEY (epoch, from_check)
    ) STRICT;`
  }
]

/** Most proof rows one listProofs call returns. */
export const PROOFS_LISTED_MAX = 1000

interface ProofDbRow {
  id: number
  challenge_id: number
  kind: string
  role: string
  contract_id: number
  hoster: string
  ok: number
  reason: string | null
  latency_ms: number | null
  throughput_bps: number | null
  time_ms: number
}

export class HostingStore {
  constructor (private readonly db: Db, private readonly opts: { now: () => number, proofsKept: number }) {
    migrate(db, 'hosting', HOSTING_MIGRATIONS, opts.now)
  }

  /** The saved settings, or null before seeding was ever set. */
  loadSettings (): HostingSettings | null {
    const row = this.db.prepare('SELECT seeding, storage_bytes, bandwidth_bps, region FROM hosting_settings WHERE id = 1').get() as
      { seeding: number, storage_bytes: number, bandwidth_bps: number, region: string } | undefined
    if (row === undefined) return null
    return { seeding: row.seeding === 1, storageBytes: row.storage_bytes, bandwidthBps: row.bandwidth_bps, region: row.region }
  }

  saveSettings (s: HostingSettings): void {
    this.db.prepare(`INSERT INTO hosting_settings (id, seeding, storage_bytes, bandwidth_bps, region, updated_ms) VALUES (1, ?, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET seeding = excluded.seeding, storage_bytes = excluded.storage_bytes, bandwidth_bps = excluded.bandwidth_bps, region = excluded.region, updated_ms = excluded.updated_ms`)
      .run(s.seeding ? 1 : 0, s.storageBytes, s.bandwidthBps, s.region, this.opts.now())
  }

  /** Appends a proof row (latencies rounded to whole units) and drops rows past `proofsKept`. */
  recordProof (p: Omit<ProofRow, 'id' | 'timeMs'>): ProofRow {
    const timeMs = this.opts.now()
    const round = (n: number | null): number | null => n === null ? null : Math.round(n)
    const res = this.db.prepare('INSERT INTO hosting_proofs (challenge_id, kind, role, contract_id, hoster, ok, reason, latency_ms, throughput_bps, time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(p.challengeId, p.kind, p.role, p.contractId, p.hoster, p.ok ? 1 : 0, p.reason, round(p.latencyMs), round(p.throughputBps), timeMs)
    const id = Number(res.lastInsertRowid)
    this.db.prepare('DELETE FROM hosting_proofs WHERE id <= ?').run(id - this.opts.proofsKept)
    return { ...p, latencyMs: round(p.latencyMs), throughputBps: round(p.throughputBps), id, timeMs }
  }

  /** The newest proof rows first; `limit` is clamped to 1..PROOFS_LISTED_MAX. */
  listProofs (limit: number): ProofRow[] {
    const n = Number.isFinite(limit) ? Math.max(1, Math.min(PROOFS_LISTED_MAX, Math.floor(limit))) : PROOFS_LISTED_MAX
    const rows = this.db.prepare('SELECT * FROM hosting_proofs ORDER BY id DESC LIMIT ?').all(n) as ProofDbRow[]
    return rows.map((r) => ({
      id: r.id,
      challengeId: r.challenge_id,
      kind: r.kind as ProofRow['kind'],
      role: r.role as ProofRow['role'],
      contractId: r.contract_id,
      hoster: r.hoster,
      ok: r.ok === 1,
      reason: r.reason,
      latencyMs: r.latency_ms,
      throughputBps: r.throughput_bps,
      timeMs: r.time_ms
    }))
  }
}
