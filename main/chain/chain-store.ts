/**
 * Our block store for the local chopsticks chain (implements chopsticks-core's `Database`).
 *
 * Why not chopsticks' own `--db`/`--resume`: resuming through `setup()` builds a fresh block #1
 * (with a new timestamp, so a new hash) and its store keeps the 1.2 MB runtime once per block.
 * Here: blocks (header, extrinsics, parent) and their storage diffs go to SQLite, values
 * content-addressed (the runtime is stored once), and on restart the head is loaded as one
 * squashed layer over genesis (the merged diffs of its ancestors), so reads stay O(1) layers.
 */
import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import type { HexString } from '@polkadot/util/types'

export interface StoreBlockEntry {
  hash: HexString
  number: number
  header: HexString
  parentHash: HexString | null
  extrinsics: HexString[]
  storageDiff: Record<HexString, HexString | null> | null
}

export class ChainStore {
  readonly db: Database.Database
  /** When set, queryBlock for this hash returns the squashed state over genesis. */
  private squash: { hash: string, genesisHash: HexString } | null = null

  constructor (file: string) {
    this.db = new Database(file, { timeout: 5000 })
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS blocks (hash TEXT PRIMARY KEY, number INTEGER NOT NULL, header TEXT NOT NULL, parent_hash TEXT, extrinsics TEXT NOT NULL) STRICT;
      CREATE INDEX IF NOT EXISTS blocks_number ON blocks(number);
      CREATE TABLE IF NOT EXISTS diffs (block_hash TEXT NOT NULL, key TEXT NOT NULL, value_hash TEXT, PRIMARY KEY (block_hash, key)) STRICT;
      CREATE TABLE IF NOT EXISTS vals (hash TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    `)
  }

  getMeta (name: string): string | null {
    const r = this.db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: string } | undefined
    return r?.value ?? null
  }

  setMeta (name: string, value: string): void {
    this.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value').run(name, value)
  }

  setSquash (hash: string, genesisHash: HexString): void { this.squash = { hash, genesisHash } }

  // ---------------------------------------------------------------- chopsticks Database interface

  close = async (): Promise<void> => { if (this.db.open) this.db.close() }

  saveBlock = async (block: StoreBlockEntry): Promise<void> => {
    // A block finished after close is dropped: the store's head stays the last saved block and
    // followers treat the lost block as a re-org.
    if (!this.db.open) return
    const putVal = this.db.prepare('INSERT OR IGNORE INTO vals (hash, value) VALUES (?, ?)')
    const putDiff = this.db.prepare('INSERT OR REPLACE INTO diffs (block_hash, key, value_hash) VALUES (?, ?, ?)')
    this.db.transaction(() => {
      // A saved block is the new head: one block per number, nothing above it (after dev_setHead
      // moved the head back, the abandoned branch goes).
      const old = this.db.prepare('SELECT hash FROM blocks WHERE number >= ? AND hash != ?').all(block.number, block.hash) as Array<{ hash: string }>
      for (const o of old) {
        this.db.prepare('DELETE FROM diffs WHERE block_hash = ?').run(o.hash)
        this.db.prepare('DELETE FROM blocks WHERE hash = ?').run(o.hash)
      }
      this.db.prepare('INSERT OR REPLACE INTO blocks (hash, number, header, parent_hash, extrinsics) VALUES (?, ?, ?, ?, ?)')
        .run(block.hash, block.number, block.header, block.parentHash, JSON.stringify(block.extrinsics))
      this.db.prepare('DELETE FROM diffs WHERE block_hash = ?').run(block.hash)
      for (const [key, value] of Object.entries(block.storageDiff ?? {}) as Array<[string, string | null | undefined]>) {
        let vh: string | null = null
        if (value !== null && value !== undefined) {
          vh = createHash('sha256').update(value).digest('hex')
          putVal.run(vh, value)
        }
        putDiff.run(block.hash, key, vh)
      }
    })()
  }

  private rowToEntry (r: { hash: string, number: number, header: string, parent_hash: string | null, extrinsics: string }): StoreBlockEntry {
    if (this.squash !== null && r.hash === this.squash.hash) {
      return {
        hash: r.hash as HexString,
        number: r.number,
        header: r.header as HexString,
        parentHash: this.squash.genesisHash,
        extrinsics: JSON.parse(r.extrinsics) as HexString[],
        storageDiff: this.mergedDiff(r.hash)
      }
    }
    return {
      hash: r.hash as HexString,
      number: r.number,
      header: r.header as HexString,
      parentHash: r.parent_hash as HexString | null,
      extrinsics: JSON.parse(r.extrinsics) as HexString[],
      storageDiff: this.diffOf(r.hash)
    }
  }

  private diffOf (hash: string): Record<HexString, HexString | null> {
    const rows = this.db.prepare('SELECT d.key, v.value FROM diffs d LEFT JOIN vals v ON v.hash = d.value_hash WHERE d.block_hash = ?').all(hash) as Array<{ key: string, value: string | null }>
    const out: Record<HexString, HexString | null> = {}
    for (const r of rows) out[r.key as HexString] = r.value as HexString | null
    return out
  }

  /** Diffs of `hash` and all its stored ancestors, merged oldest to newest. */
  mergedDiff (hash: string): Record<HexString, HexString | null> {
    const chain: string[] = []
    let cur: string | null = hash
    while (cur !== null) {
      const r = this.db.prepare('SELECT parent_hash FROM blocks WHERE hash = ?').get(cur) as { parent_hash: string | null } | undefined
      if (r === undefined) break
      chain.push(cur)
      cur = r.parent_hash
    }
    const out: Record<HexString, HexString | null> = {}
    for (const h of chain.reverse()) Object.assign(out, this.diffOf(h))
    return out
  }

  queryBlock = async (hash: HexString): Promise<StoreBlockEntry | null> => {
    const r = this.db.prepare('SELECT * FROM blocks WHERE hash = ?').get(hash) as Parameters<ChainStore['rowToEntry']>[0] | undefined
    return r === undefined ? null : this.rowToEntry(r)
  }

  queryBlockByNumber = async (number: number): Promise<StoreBlockEntry | null> => {
    const r = this.db.prepare('SELECT * FROM blocks WHERE number = ? LIMIT 1').get(number) as Parameters<ChainStore['rowToEntry']>[0] | undefined
    return r === undefined ? null : this.rowToEntry(r)
  }

  queryHighestBlock = async (): Promise<StoreBlockEntry | null> => {
    const r = this.db.prepare('SELECT * FROM blocks ORDER BY number DESC LIMIT 1').get() as Parameters<ChainStore['rowToEntry']>[0] | undefined
    return r === undefined ? null : this.rowToEntry(r)
  }

  highest (): { hash: string, number: number } | null {
    return (this.db.prepare('SELECT hash, number FROM blocks ORDER BY number DESC LIMIT 1').get() as { hash: string, number: number } | undefined) ?? null
  }

  deleteBlock = async (hash: HexString): Promise<void> => {
    this.db.prepare('DELETE FROM diffs WHERE block_hash = ?').run(hash)
    this.db.prepare('DELETE FROM blocks WHERE hash = ?').run(hash)
  }

  blocksCount = async (): Promise<number> => (this.db.prepare('SELECT COUNT(*) AS n FROM blocks').get() as { n: number }).n

  // Storage cache of a remote endpoint: unused for a chain started from genesis.
  saveStorage = async (): Promise<void> => {}
  queryStorage = async (): Promise<null> => null

  sizes (): { blocks: number, values: number, valueBytes: number } {
    const b = (this.db.prepare('SELECT COUNT(*) AS n FROM blocks').get() as { n: number }).n
    const v = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(value)), 0) AS s FROM vals').get() as { n: number, s: number }
    return { blocks: b, values: v.n, valueBytes: v.s }
  }
}
