/**
 * The follower's marketplace state on disk (main/chain/market-store.ts): a snapshot of the whole
 * state only every N blocks, each block's marketplace input with its ledger rows, and the state at
 * any followed block restored from the newest snapshot at or below it plus the inputs after it.
 * Real SQLite and the real state machine; the blocks come from the market simulation (real
 * records), served by a scripted chain reader (its faults injected).
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { openDatabase, migrate, type Db } from '../../main/shared/db.js'
import { Ledger } from '../../main/ledger/ledger.js'
import { LedgerSync, CHAIN_MIGRATIONS, SYNC_LIMITS, type SyncCounters } from '../../main/chain/ledger-sync.js'
import { applyBlock, initialState, serializeState, stateDigest, type BlockInput } from '../../main/chain/marketplace.js'
import type { ReadBlock } from '../../main/chain/follower.js'
import type { ChainReader } from '../../main/chain/connection.js'
import { simulate } from '../sim/market-sim.js'
import { createRootFixture } from '../sim/roots-fixture.js'

const ME = '0x' + '11'.repeat(32)
type Limits = { snapshotEveryBlocks: number, reorgDepth: number }

/** The simulated blocks and the digest of the simulation's own state after each (index n - 1). */
const blocks: BlockInput[] = []
const digests: string[] = []

beforeAll(async () => {
  const root = await createRootFixture([40])
  const other = await createRootFixture([40])
  simulate({
    providers: 30, sponsors: 3, plansPerSponsor: 3, chunksPerPlan: 40, replicas: 3, blocks: 240, warmupBlocks: 0,
    churnPerBlock: 0.01, attackers: { deleter: 2, liar: 1 }, lossFraction: 0.3, sybilIdentities: 3,
    openings: 8, seed: 'snapshots', unitPricePlanck: 1000n, root, cores: [other], blockMs: 20 * 60_000,
    params: { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 5, performanceAttestors: 3 },
    noise: { pause: 0.05, unpause: 0.03, unregister: 0.02, publish: 0.1, extend: 0.05, unpublish: 0.03, planBlocks: 60 },
    onBlock: (input, _out, state) => { blocks.push(input); digests.push(stateDigest(state)) }
  })
}, 120_000)

/** Another branch from block `fork` on, `length` blocks long: the same actions in blocks of other hashes (so other draws). */
function branchFrom (fork: number, length: number): BlockInput[] {
  const out = blocks.slice(0, fork)
  for (let n = fork + 1; n <= length; n++) {
    const hash = '0x' + createHash('sha256').update(`branch:${n}`).digest('hex')
    const prev = out[n - 2]
    // past the simulation's blocks: empty blocks (the market's own work: challenges, deadlines)
    const base = blocks[n - 1] ?? { number: n, timeMs: prev.timeMs + 20 * 60_000, actions: [] }
    out.push({ ...base, hash, parentHash: prev.hash })
  }
  return out
}

/** The digests a marketplace that applied `chain` from the start, never stopping, has after each block. */
function oracle (chain: BlockInput[]): string[] {
  const state = initialState()
  return chain.map((b) => { applyBlock(state, b); return stateDigest(state) })
}

/** Serves scripted blocks up to `headAt`; `failBalanceAt` makes the first balance read at that block fail (its reconciliation). */
class ScriptedChain implements ChainReader {
  failBalanceAt: number | null = null
  constructor (public blocks: BlockInput[], public headAt: number) {}
  async head (): Promise<number> { return this.headAt }
  async hashAt (n: number): Promise<string | null> { return n <= this.headAt ? this.blocks[n - 1]?.hash ?? null : null }
  async read (n: number): Promise<ReadBlock> { return { input: this.blocks[n - 1], events: [], transfersByExtrinsic: new Map() } }
  async balanceOf (_address: string, hash?: string): Promise<bigint> {
    if (this.failBalanceAt !== null && hash === this.blocks[this.failBalanceAt - 1].hash) { this.failBalanceAt = null; throw new Error('connection lost') }
    return 0n
  }
}

const dirs: string[] = []
const dbs: Db[] = []
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function dbFile (): string {
  const dir = mkdtempSync(join(tmpdir(), 'datdot-snap-'))
  dirs.push(dir)
  return join(dir, 'db.sqlite')
}

function openDb (file: string): Db {
  const db = openDatabase(file)
  dbs.push(db)
  migrate(db, 'chain', CHAIN_MIGRATIONS)
  return db
}

interface Follower { sync: LedgerSync, ledger: Ledger, counters: SyncCounters, db: Db, digests: Map<number, string> }

/** A follower on the database `file` (its state restored from it); `digests` has its state after each block it follows. */
function follower (file: string, chain: ChainReader, limits?: Limits, chainId = 'g'): Follower {
  const db = openDb(file)
  const ledger = new Ledger(db)
  const counters: SyncCounters = { blocksFollowed: 0, ledgerRows: 0, reconciles: 0, reorgs: 0, resets: 0, snapshotsWritten: 0 }
  const digests = new Map<number, string>()
  const f: Follower = { sync: undefined as unknown as LedgerSync, ledger, counters, db, digests }
  f.sync = new LedgerSync({
    db, ledger, now: () => Date.UTC(2026, 5, 1), chainId, chain, formatAddress: (hex) => hex, tracked: () => [ME], faucetHex: '0x' + '33'.repeat(32),
    counters, onEntries: () => {}, onBlock: (o) => { digests.set(o.number, stateDigest(f.sync.state)) }, onHead: () => {}, stopped: () => false, limits
  })
  return f
}

function reopen (f: Follower, chain: ChainReader, limits?: Limits): Follower {
  const file = f.db.name
  f.db.close()
  return follower(file, chain, limits)
}

const count = (db: Db, table: string): number => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n

function corruptOf (fn: () => unknown): { code: string, message: string } | null {
  try { fn(); return null } catch (err) { return err as { code: string, message: string } }
}

describe('the marketplace state a follower keeps on disk', () => {
  it('restores, after a restart at any block between snapshots, the state of a follower that never stopped', async () => {
    const M = blocks.length
    const chain = new ScriptedChain(blocks, M)
    const steady = follower(dbFile(), chain)
    await steady.sync.catchUp()
    expect(steady.counters.blocksFollowed).toBe(M)
    expect(steady.digests.get(M)).toBe(digests[M - 1])

    const partial = new ScriptedChain(blocks, 0)
    let f = follower(dbFile(), partial)
    for (const at of [37, 99, 100, 101, 137, 199, M]) {
      partial.headAt = at
      await f.sync.catchUp()
      f = reopen(f, partial)
      expect(stateDigest(f.sync.state), `restarted at ${at}`).toBe(steady.digests.get(at))
    }
    expect(stateDigest(f.sync.state)).toBe(digests[M - 1])
  })

  it('writes a snapshot every N blocks (about M/N over M blocks) and keeps only what a re-org within reorgDepth needs', async () => {
    const M = blocks.length
    const f = follower(dbFile(), new ScriptedChain(blocks, M))
    await f.sync.catchUp()
    const every = SYNC_LIMITS.snapshotEveryBlocks
    expect(f.counters.snapshotsWritten).toBe(1 + Math.floor(M / every)) // the first block's, then one each `every`
    expect(count(f.db, 'chain_snapshots')).toBe(1 + Math.floor(M / every))
    expect(count(f.db, 'chain_block_inputs')).toBe(M)

    const small = { snapshotEveryBlocks: 20, reorgDepth: 60 }
    const g = follower(dbFile(), new ScriptedChain(blocks, M), small)
    await g.sync.catchUp()
    expect(g.counters.snapshotsWritten).toBe(1 + Math.floor(M / 20))
    const last = Math.floor(M / 20) * 20
    const kept = (table: string): number[] => (g.db.prepare(`SELECT block_number AS n FROM ${table} ORDER BY n`).all() as Array<{ n: number }>).map((r) => r.n)
    expect(kept('chain_snapshots')).toEqual([last - 80, last - 60, last - 40, last - 20, last])
    expect(kept('chain_block_inputs')[0]).toBe(last - 80)
    expect(kept('chain_block_inputs')).toHaveLength(M - (last - 80) + 1)
    // each kept snapshot's parts, and no others
    expect([...new Set(kept('chain_snapshot_parts'))]).toEqual(kept('chain_snapshots'))
    expect(count(g.db, 'chain_snapshot_parts')).toBe((g.db.prepare('SELECT SUM(parts) AS n FROM chain_snapshots').get() as { n: number }).n)
  })

  it('undoes a re-org deeper than the distance to the last snapshot, within reorgDepth, to the state of a follower of the new branch', async () => {
    const M = blocks.length
    const small = { snapshotEveryBlocks: 20, reorgDepth: 60 }
    const chain = new ScriptedChain(blocks, M)
    let f = follower(dbFile(), chain, small)
    await f.sync.catchUp()
    const lastSnapshot = Math.floor(M / 20) * 20
    const fork = lastSnapshot - 27 // between two snapshots, deeper than the last one
    expect(M - fork).toBeLessThan(small.reorgDepth)
    const branch = branchFrom(fork, M + 10)
    const expected = oracle(branch)
    expect(expected[M - 1]).not.toBe(digests[M - 1])

    chain.blocks = branch
    chain.headAt = M + 10
    await f.sync.catchUp()
    expect(f.counters.reorgs).toBe(1)
    expect(f.digests.get(fork + 1)).toBe(expected[fork])
    expect(stateDigest(f.sync.state)).toBe(expected[M + 9])
    const fresh = follower(dbFile(), new ScriptedChain(branch, M + 10), small)
    await fresh.sync.catchUp()
    expect(stateDigest(fresh.sync.state)).toBe(expected[M + 9])
    f.ledger.checkInvariants()
    f = reopen(f, chain, small)
    expect(stateDigest(f.sync.state)).toBe(expected[M + 9])
  })

  it('refuses to open with a corrupt or missing snapshot or block input, with a clear CORRUPT error, and loses nothing', async () => {
    const chain = new ScriptedChain(blocks, 137)
    let f = follower(dbFile(), chain)
    await f.sync.catchUp()
    const file = f.db.name
    f.db.close()
    const raw = openDatabase(file)
    dbs.push(raw)
    const rows = (): string => JSON.stringify([
      raw.prepare('SELECT * FROM ledger_blocks ORDER BY id').all(), raw.prepare('SELECT * FROM ledger_entries ORDER BY id').all(),
      raw.prepare('SELECT block_number, block_hash FROM chain_snapshots ORDER BY block_number').all(), count(raw, 'chain_block_inputs')
    ])
    const before = rows()
    // a snapshot is written in parts (a megabyte each; this small state's is one part)
    const header = raw.prepare('SELECT block_hash, parts FROM chain_snapshots WHERE block_number = 100').get() as { block_hash: string, parts: number }
    const parts = raw.prepare('SELECT part, text FROM chain_snapshot_parts WHERE block_hash = ? ORDER BY part').all(header.block_hash) as Array<{ part: number, text: string }>
    expect(header.parts).toBeGreaterThan(0)
    expect(parts.length).toBe(header.parts)
    const snapshot = parts.map((p) => p.text).join('')
    const input = raw.prepare('SELECT * FROM chain_block_inputs WHERE block_number = 120').get() as { block_number: number, block_hash: string, chain_id: string, input: string }
    const opening = (): { code: string, message: string } | null => corruptOf(() => { f = follower(file, chain) })
    const setPart = (text: string): void => { raw.prepare('UPDATE chain_snapshot_parts SET text = ? WHERE block_hash = ? AND part = 0').run(text, header.block_hash) }

    setPart(snapshot.slice(0, 1000))
    expect(opening()).toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/marketplace snapshot of block 100 .* cannot be read/) as unknown })
    setPart(serializeState({ ...initialState(), block: { number: 99, hash: blocks[98].hash } }))
    expect(opening()).toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/snapshot of block 100 .* holds the state of another block/) as unknown })
    setPart(parts[0].text)
    raw.prepare('DELETE FROM chain_snapshot_parts WHERE block_hash = ? AND part = 0').run(header.block_hash)
    expect(opening()).toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(new RegExp(`snapshot of block 100 .* has ${header.parts - 1} of its ${header.parts} parts`)) as unknown })
    raw.prepare('INSERT INTO chain_snapshot_parts (block_hash, block_number, part, text) VALUES (?, 100, 0, ?)').run(header.block_hash, parts[0].text)

    raw.prepare('DELETE FROM chain_block_inputs WHERE block_number = 120').run()
    expect(opening()).toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/no stored marketplace input of block 120 /) as unknown })
    const garbled = JSON.parse(input.input) as { actions: unknown[] }
    garbled.actions.push({ index: 'x' })
    raw.prepare('INSERT INTO chain_block_inputs (block_number, block_hash, chain_id, input) VALUES (?, ?, ?, ?)').run(input.block_number, input.block_hash, input.chain_id, JSON.stringify(garbled))
    expect(opening()).toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/input of block 120 .* cannot be read: malformed action/) as unknown })
    raw.prepare('UPDATE chain_block_inputs SET input = ? WHERE block_number = 120').run(input.input.replace(blocks[118].hash, blocks[117].hash))
    expect(opening()).toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/input of block 120 does not apply/) as unknown })
    raw.prepare('UPDATE chain_block_inputs SET input = ? WHERE block_number = 120').run(input.input)

    raw.prepare('DELETE FROM chain_snapshots WHERE block_number <= 100').run()
    expect(opening()).toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/no marketplace snapshot .* at or below the ledger cursor 137/) as unknown })
    raw.prepare("INSERT INTO chain_snapshots (block_number, block_hash, chain_id, state, parts) VALUES (?, ?, ?, '', ?)").run(100, blocks[99].hash, 'g', header.parts)
    raw.prepare('INSERT INTO chain_snapshots (block_number, block_hash, chain_id, state) VALUES (?, ?, ?, ?)').run(1, blocks[0].hash, 'g', serializeState((() => { const s = initialState(); applyBlock(s, blocks[0]); return s })()))

    // nothing was written while it refused: with the rows put back it opens at the same state and goes on
    expect(rows()).toBe(before)
    expect(opening()).toBeNull()
    expect(stateDigest(f.sync.state)).toBe(digests[136])
    chain.headAt = blocks.length
    await f.sync.catchUp()
    expect(stateDigest(f.sync.state)).toBe(digests[blocks.length - 1])
  })

  it('keeps saying why when a re-org needs an input that is gone, and follows again once it is back', async () => {
    const M = blocks.length
    const chain = new ScriptedChain(blocks, M)
    const f = follower(dbFile(), chain)
    await f.sync.catchUp()
    const fork = 150
    const input = f.db.prepare('SELECT * FROM chain_block_inputs WHERE block_number = 120').get() as { block_number: number, block_hash: string, chain_id: string, input: string }
    f.db.prepare('DELETE FROM chain_block_inputs WHERE block_number = 120').run()
    const branch = branchFrom(fork, M + 5)
    chain.blocks = branch
    chain.headAt = M + 5
    await expect(f.sync.catchUp()).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/input of block 120/) as unknown })
    expect(f.ledger.cursor()?.number).toBe(fork)
    await expect(f.sync.catchUp()).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/input of block 120/) as unknown })
    expect(f.ledger.cursor()?.number).toBe(fork)
    f.db.prepare('INSERT INTO chain_block_inputs (block_number, block_hash, chain_id, input) VALUES (?, ?, ?, ?)').run(input.block_number, input.block_hash, input.chain_id, input.input)
    await f.sync.catchUp()
    expect(stateDigest(f.sync.state)).toBe(oracle(branch)[M + 4])
  })

  it('leaves the state at the cursor when a block fails half-way (a chain read, the commit), and follows it at the next catch-up', async () => {
    const M = blocks.length
    const chain = new ScriptedChain(blocks, M)
    const f = follower(dbFile(), chain)
    chain.failBalanceAt = 60
    await expect(f.sync.catchUp()).rejects.toThrow(/connection lost/)
    expect(f.ledger.cursor()?.number).toBe(59)
    expect(stateDigest(f.sync.state)).toBe(digests[58])

    f.db.exec("CREATE TEMP TRIGGER fail_input BEFORE INSERT ON chain_block_inputs WHEN NEW.block_number = 105 BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    await expect(f.sync.catchUp()).rejects.toThrow(/disk full/)
    expect(f.ledger.cursor()?.number).toBe(104)
    expect(stateDigest(f.sync.state)).toBe(digests[103])
    f.db.exec('DROP TRIGGER fail_input')

    // the snapshot block's commit fails after its parts are written: they are never read, and replaced at the next try
    f.db.exec("CREATE TEMP TRIGGER fail_snapshot BEFORE INSERT ON chain_snapshots WHEN NEW.block_number = 200 BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    await expect(f.sync.catchUp()).rejects.toThrow(/disk full/)
    expect(f.ledger.cursor()?.number).toBe(199)
    expect(stateDigest(f.sync.state)).toBe(digests[198])
    expect(count(f.db, 'chain_snapshot_parts')).toBeGreaterThan((f.db.prepare('SELECT SUM(parts) AS n FROM chain_snapshots').get() as { n: number }).n)
    const g = reopen(f, chain) // (the trigger was the closed connection's)
    expect(stateDigest(g.sync.state)).toBe(digests[198])
    await g.sync.catchUp()
    expect(count(g.db, 'chain_snapshot_parts')).toBe((g.db.prepare('SELECT SUM(parts) AS n FROM chain_snapshots').get() as { n: number }).n)
    expect(stateDigest(g.sync.state)).toBe(digests[M - 1])
    expect(reopen(g, chain).sync.state.block?.number).toBe(M)
  })

  it('opens on a reset chain (another genesis) with the rows of the old one, starts again from the first block and drops the old rows', async () => {
    const chain = new ScriptedChain(blocks, 137)
    let f = follower(dbFile(), chain)
    await f.sync.catchUp()
    const file = f.db.name
    f.db.close()
    f = follower(file, new ScriptedChain(blocks, 150), undefined, 'h')
    await f.sync.catchUp()
    expect(f.counters.resets).toBe(1)
    expect(stateDigest(f.sync.state)).toBe(digests[149])
    expect(f.db.prepare("SELECT COUNT(*) AS n FROM chain_snapshots WHERE chain_id = 'g'").get()).toEqual({ n: 0 })
    expect(f.db.prepare("SELECT COUNT(*) AS n FROM chain_block_inputs WHERE chain_id = 'g'").get()).toEqual({ n: 0 })
  })

  it('opens a database of the previous version, with a snapshot of every block, and restores and re-orgs from it', async () => {
    // the previous version: chain migration 1 only, a snapshot written with each block (the last 256 kept)
    const file = dbFile()
    const old = openDatabase(file)
    migrate(old, 'chain', CHAIN_MIGRATIONS.slice(0, 1))
    const ledger = new Ledger(old)
    const state = initialState()
    for (const b of blocks.slice(0, 137)) {
      applyBlock(state, b)
      ledger.applyBlock({ number: b.number, hash: b.hash, parentHash: b.parentHash, genesisHash: 'g', timeMs: b.timeMs }, [], () => {
        old.prepare('INSERT OR REPLACE INTO chain_snapshots (block_number, block_hash, chain_id, state) VALUES (?, ?, ?, ?)').run(b.number, b.hash, 'g', serializeState(state))
      })
    }
    old.close()

    const M = blocks.length
    const chain = new ScriptedChain(blocks, 137)
    const f = follower(file, chain)
    expect(stateDigest(f.sync.state)).toBe(digests[136])
    chain.headAt = M
    await f.sync.catchUp()
    expect(stateDigest(f.sync.state)).toBe(digests[M - 1])
    // a re-org back into the blocks followed by the previous version
    const fork = 130
    const branch = branchFrom(fork, M + 3)
    chain.blocks = branch
    chain.headAt = M + 3
    await f.sync.catchUp()
    expect(f.counters.reorgs).toBe(1)
    expect(stateDigest(f.sync.state)).toBe(oracle(branch)[M + 2])
  })
})
