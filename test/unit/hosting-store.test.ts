// The hosting tables (main/hosting/store.ts) on a real SQLite file: settings survive a reopen,
// proof rows are appended, listed newest first, rounded, bounded, and the limit is clamped.
import { describe, it, expect, afterEach } from 'vitest'
import { join } from 'node:path'
import { HostingStore, HOSTING_MIGRATIONS, PROOFS_LISTED_MAX } from '../../main/hosting/store.js'
import { openDatabase, type Db } from '../../main/shared/db.js'
import type { ProofRow } from '../../main/hosting/config.js'
import { TempDirs } from '../helpers/engines.js'

const tmp = new TempDirs()
const dbs: Db[] = []
afterEach(async () => {
  for (const db of dbs.splice(0)) db.close()
  await tmp.cleanup()
})

async function open (file?: string, opts: { proofsKept?: number, now?: () => number } = {}): Promise<{ store: HostingStore, db: Db, file: string }> {
  const f = file ?? join(await tmp.make('datdot-hstore-'), 'node.db')
  const db = openDatabase(f)
  dbs.push(db)
  return { store: new HostingStore(db, { now: opts.now ?? (() => 5000), proofsKept: opts.proofsKept ?? 10_000 }), db, file: f }
}

const proof = (over: Partial<Omit<ProofRow, 'id' | 'timeMs'>> = {}): Omit<ProofRow, 'id' | 'timeMs'> => ({
  challengeId: 1, kind: 'storage', role: 'attestor', contractId: 3, hoster: '0xabc', ok: true, reason: null, latencyMs: 12, throughputBps: null, ...over
})

describe('the hosting store', () => {
  it('has no settings before seeding was ever set, and keeps saved settings across a reopen', async () => {
    const { store, db, file } = await open()
    expect(store.loadSettings()).toBeNull()
    store.saveSettings({ seeding: true, storageBytes: 2 ** 30, bandwidthBps: 1_000_000, region: 'eu' })
    store.saveSettings({ seeding: false, storageBytes: 2 ** 31, bandwidthBps: 2_000_000, region: 'us' })
    db.close()
    dbs.splice(dbs.indexOf(db), 1)
    const again = await open(file)
    expect(again.store.loadSettings()).toEqual({ seeding: false, storageBytes: 2 ** 31, bandwidthBps: 2_000_000, region: 'us' })
    expect((again.db.prepare('SELECT COUNT(*) AS n FROM hosting_settings').get() as { n: number }).n).toBe(1)
  })

  it('runs its migrations once: opening twice on one database changes nothing', async () => {
    const { db } = await open()
    const version = (): number => (db.prepare("SELECT MAX(version) AS v FROM schema_migrations WHERE module = 'hosting'").get() as { v: number }).v
    expect(version()).toBe(HOSTING_MIGRATIONS.length)
     
    new HostingStore(db, { now: () => 0, proofsKept: 10 })
    expect(version()).toBe(HOSTING_MIGRATIONS.length)
  })

  it('appends proof rows with ids and the injected time, and lists them newest first', async () => {
    let t = 100
    const { store } = await open(undefined, { now: () => t })
    const a = store.recordProof(proof({ challengeId: 1 }))
    t = 200
    const b = store.recordProof(proof({ challengeId: 2, kind: 'performance', ok: false, reason: 'NO_DATA', latencyMs: null, throughputBps: 5 }))
    expect(b.id).toBeGreaterThan(a.id)
    expect(a.timeMs).toBe(100)
    expect(store.listProofs(10)).toEqual([b, a])
    expect(store.listProofs(10)[0]).toMatchObject({ kind: 'performance', ok: false, reason: 'NO_DATA', latencyMs: null, throughputBps: 5, timeMs: 200 })
  })

  it('rounds latencies and throughput to whole units in the row it returns and the one it stores', async () => {
    const { store } = await open()
    const row = store.recordProof(proof({ latencyMs: 12.6, throughputBps: 1000.4 }))
    expect(row.latencyMs).toBe(13)
    expect(row.throughputBps).toBe(1000)
    expect(store.listProofs(1)[0]).toEqual(row)
  })

  it('keeps only the newest proofsKept rows', async () => {
    const { store } = await open(undefined, { proofsKept: 3 })
    for (let i = 1; i <= 7; i++) store.recordProof(proof({ challengeId: i }))
    expect(store.listProofs(100).map((r) => r.challengeId)).toEqual([7, 6, 5])
  })

  it('clamps the list limit: at least one row, at most PROOFS_LISTED_MAX, and a non-number lists the most', async () => {
    const { store } = await open()
    for (let i = 1; i <= 4; i++) store.recordProof(proof({ challengeId: i }))
    expect(store.listProofs(0)).toHaveLength(1)
    expect(store.listProofs(-5)).toHaveLength(1)
    expect(store.listProofs(2.9)).toHaveLength(2)
    expect(store.listProofs(Number.NaN)).toHaveLength(4)
    expect(store.listProofs(Number.POSITIVE_INFINITY)).toHaveLength(4)
    expect(PROOFS_LISTED_MAX).toBe(1000)
  })
})
