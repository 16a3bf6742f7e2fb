/**
 * The marketplace state kept beside the ledger (docs/chain.md "Following the chain"): each
 * followed block's marketplace input (its actions: small, what happens in the block) with every
 * block, and a snapshot of the whole state only every `every` blocks (and at the first block).
 * Both are written inside the ledger's SQLite transaction of their block, so the rows always agree
 * with the ledger cursor.
 *
 * The state at an applied block is the newest snapshot of an applied block at or below it, with
 * the stored inputs of the blocks after it applied again (`applyBlock` only: their ledger rows are
 * in the ledger already, or were reverted). No chain round trip: it works with the chain gone, on
 * a node that pruned the blocks' state (the input needs the block's events), and synchronously
 * (at open, after a failed commit). Rows older than `keepBlocks` below the newest snapshot are
 * deleted when a snapshot is written, so a re-org within `keepBlocks - every` can always be served.
 */
import type { Db, Migration } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import type { Cursor } from '../ledger/ledger.js'
import { applyBlock, initialState, deserializeState, type Action, type BlockInput, type MarketState } from './marketplace.js'
import { streamStateSliced, type SliceOptions } from './state-json.js'

/** Characters in one part of a snapshot (a megabyte of JSON; one statement each). */
export const SNAPSHOT_PART_CHARS = 1 << 20

export const CHAIN_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'marketplace snapshots per followed block',
    up: `CREATE TABLE chain_snapshots (
      block_number INTEGER NOT NULL,
      block_hash TEXT NOT NULL PRIMARY KEY,
      chain_id TEXT NOT NULL,
      state TEXT NOT NULL
    ) STRICT;
    CREATE INDEX chain_snapshots_number ON chain_snapshots(block_number);`
  },
  {
    // A database of version 1 holds a snapshot for each of its last 256 blocks: the state at its
    // cursor (and at any of those blocks) is restored from them, and inputs are kept from here on.
    version: 2,
    description: 'marketplace input per followed block; snapshots only every N blocks',
    up: `CREATE TABLE chain_block_inputs (
      block_number INTEGER NOT NULL,
      block_hash TEXT NOT NULL PRIMARY KEY,
      chain_id TEXT NOT NULL,
      input TEXT NOT NULL
    ) STRICT;
    CREATE INDEX chain_block_inputs_number ON chain_block_inputs(block_number);`
  },
  {
    // A snapshot's JSON in parts of about a megabyte, each written in its own statement before the
    // block's transaction (the event loop turns between them); the block's transaction then writes
    // the snapshot's row, with how many parts it has. A row of the versions before holds its JSON in `state`.
    version: 3,
    description: 'marketplace snapshots written in parts',
    up: `ALTER TABLE chain_snapshots ADD COLUMN parts INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE chain_snapshot_parts (
      block_hash TEXT NOT NULL,
      block_number INTEGER NOT NULL,
      part INTEGER NOT NULL,
      text TEXT NOT NULL,
      PRIMARY KEY (block_hash, part)
    ) STRICT;
    CREATE INDEX chain_snapshot_parts_number ON chain_snapshot_parts(block_number);`
  }
]

interface StoredInput {
  number: number
  hash: string
  parentHash: string
  timeMs: number
  actions: Array<{ index: number, signer: string, remarks: string[], transfers: Array<{ from: string, to: string, amountPlanck: string }> }>
}

/** JSON of a block's marketplace input: remarks as hex, amounts as decimal strings. */
export function encodeInput (input: BlockInput): string {
  const stored: StoredInput = {
    number: input.number,
    hash: input.hash,
    parentHash: input.parentHash,
    timeMs: input.timeMs,
    actions: input.actions.map((a) => ({
      index: a.index,
      signer: a.signer,
      remarks: a.remarks.map((r) => Buffer.from(r.buffer, r.byteOffset, r.byteLength).toString('hex')),
      transfers: a.transfers.map((t) => ({ from: t.from, to: t.to, amountPlanck: t.amountPlanck.toString() }))
    }))
  }
  return JSON.stringify(stored)
}

const HEX = /^(?:[0-9a-f]{2})*$/
const isStr = (x: unknown): x is string => typeof x === 'string'
const isInt = (x: unknown): x is number => Number.isSafeInteger(x)

function decodeAction (a: StoredInput['actions'][number]): Action {
  if (!isInt(a.index) || !isStr(a.signer) || !Array.isArray(a.remarks) || !Array.isArray(a.transfers)) throw new Error('malformed action')
  return {
    index: a.index,
    signer: a.signer,
    remarks: a.remarks.map((r) => {
      if (!isStr(r) || !HEX.test(r)) throw new Error('malformed remark')
      return Uint8Array.from(Buffer.from(r, 'hex'))
    }),
    transfers: a.transfers.map((t) => {
      if (!isStr(t.from) || !isStr(t.to) || !isStr(t.amountPlanck) || !/^\d{1,40}$/.test(t.amountPlanck)) throw new Error('malformed transfer')
      return { from: t.from, to: t.to, amountPlanck: BigInt(t.amountPlanck) }
    })
  }
}

/** The input stored for block `number` (`hash`); CORRUPT when it is not one. */
export function decodeInput (json: string, number: number, hash: string): BlockInput {
  try {
    const s = JSON.parse(json) as StoredInput
    if (s.number !== number || s.hash !== hash) throw new Error(`it is the input of block ${String(s.number)} ${String(s.hash)}`)
    if (!isStr(s.parentHash) || !isInt(s.timeMs) || !Array.isArray(s.actions)) throw new Error('malformed block')
    return { number, hash, parentHash: s.parentHash, timeMs: s.timeMs, actions: s.actions.map(decodeAction) }
  } catch (err) {
    throw DatdotError.corrupt(`the stored marketplace input of block ${number} (${hash}) cannot be read: ${(err as Error).message}`, err)
  }
}

export interface MarketStoreOptions {
  db: Db
  chainId: string
  /** A snapshot every this many blocks (block numbers that are a multiple of it). */
  every: number
  /** Snapshots and inputs kept below the newest snapshot (a re-org as deep as `keepBlocks - every` is served). */
  keepBlocks: number
}

export class MarketStore {
  constructor (private readonly o: MarketStoreOptions) {}

  /** Whether block `number` gets a snapshot of the state after it (`first`: the first block followed). */
  snapshotDue (number: number, first: boolean): boolean {
    return first || number % this.o.every === 0
  }

  /**
   * Writes the JSON of `state` (the state after block `number`, `hash`) as parts, each in its own
   * statement, giving the event loop turns (state-json.ts): before the block's transaction, which
   * then makes them a snapshot (`writeBlock`). Parts without a snapshot row (a crash, a failed
   * block) are never read, are replaced by the next try and go with the window. The state must not
   * change until the promise settles. Returns how many parts there are.
   */
  async writeSnapshotParts (number: number, hash: string, state: MarketState, opts: SliceOptions = {}): Promise<number> {
    const { db } = this.o
    db.prepare('DELETE FROM chain_snapshot_parts WHERE block_hash = ?').run(hash)
    const insert = db.prepare('INSERT INTO chain_snapshot_parts (block_hash, block_number, part, text) VALUES (?, ?, ?, ?)')
    let part = 0
    const { parts } = await streamStateSliced(state, (text) => { insert.run(hash, number, part++, text) }, { ...opts, partChars: SNAPSHOT_PART_CHARS })
    return parts
  }

  /**
   * Writes the block's input, and the snapshot row of the state after it when `snapshotParts`
   * (from `writeSnapshotParts`) is given; called inside the block's ledger transaction. True when
   * a snapshot was written.
   */
  writeBlock (input: BlockInput, snapshotParts: number | null): boolean {
    const { db, chainId, keepBlocks } = this.o
    const { number, hash } = input
    db.prepare('INSERT OR REPLACE INTO chain_block_inputs (block_number, block_hash, chain_id, input) VALUES (?, ?, ?, ?)').run(number, hash, chainId, encodeInput(input))
    if (snapshotParts === null) return false
    db.prepare("INSERT OR REPLACE INTO chain_snapshots (block_number, block_hash, chain_id, state, parts) VALUES (?, ?, ?, '', ?)").run(number, hash, chainId, snapshotParts)
    // rows of another chain (a reset local chain) and the ones below the window go
    db.prepare('DELETE FROM chain_snapshots WHERE block_number < ? OR chain_id != ?').run(number - keepBlocks, chainId)
    db.prepare('DELETE FROM chain_snapshot_parts WHERE block_number < ? OR block_hash NOT IN (SELECT block_hash FROM chain_snapshots) AND block_number < ?').run(number - keepBlocks, number)
    db.prepare('DELETE FROM chain_block_inputs WHERE block_number < ? OR chain_id != ?').run(number - keepBlocks, chainId)
    return true
  }

  /**
   * The state at the applied block `cur` (null: nothing applied): the newest snapshot of an applied
   * block at or below it, then the stored inputs of the applied blocks after it. CORRUPT, writing
   * nothing, when a snapshot or an input is missing or unreadable. The initial state for a cursor
   * of another chain: the follower reverses all of it before it follows anything.
   */
  restore (cur: Cursor | null, appliedHashAt: (number: number) => string | null): MarketState {
    // nothing followed, or a cursor of another chain (a reset local chain), reversed entirely before anything is followed
    if (cur === null || cur.genesisHash !== this.o.chainId) return initialState()
    const { db, chainId } = this.o
    const candidates = db.prepare('SELECT block_number AS number, block_hash AS hash FROM chain_snapshots WHERE chain_id = ? AND block_number <= ? ORDER BY block_number DESC')
      .all(chainId, cur.number) as Array<{ number: number, hash: string }>
    const base = candidates.find((s) => appliedHashAt(s.number) === s.hash)
    if (base === undefined) throw DatdotError.corrupt(`no marketplace snapshot of a followed block at or below the ledger cursor ${cur.number}: the marketplace state cannot be restored`)
    const state = this.snapshot(base.number, base.hash)
    for (let n = base.number + 1; n <= cur.number; n++) {
      const hash = appliedHashAt(n)
      const row = hash === null ? undefined : db.prepare('SELECT input FROM chain_block_inputs WHERE block_hash = ?').get(hash) as { input: string } | undefined
      if (hash === null || row === undefined) throw DatdotError.corrupt(`no stored marketplace input of block ${n} (between the snapshot of block ${base.number} and the ledger cursor ${cur.number})`)
      try {
        applyBlock(state, decodeInput(row.input, n, hash))
      } catch (err) {
        if (err instanceof DatdotError && err.code === 'CORRUPT') throw err
        throw DatdotError.corrupt(`the stored marketplace input of block ${n} does not apply to the state before it: ${(err as Error).message}`, err)
      }
    }
    return state
  }

  /** The snapshot's JSON: its parts in order, or (a row of the versions before) its `state`. */
  private snapshotJson (number: number, hash: string): string {
    const { db } = this.o
    const row = db.prepare('SELECT state, parts FROM chain_snapshots WHERE block_hash = ?').get(hash) as { state: string, parts: number }
    if (row.parts === 0) return row.state
    const parts = db.prepare('SELECT part, text FROM chain_snapshot_parts WHERE block_hash = ? ORDER BY part').all(hash) as Array<{ part: number, text: string }>
    if (parts.length !== row.parts || parts.some((p, i) => p.part !== i)) {
      throw DatdotError.corrupt(`the marketplace snapshot of block ${number} (${hash}) has ${parts.length} of its ${row.parts} parts`)
    }
    return parts.map((p) => p.text).join('')
  }

  private snapshot (number: number, hash: string): MarketState {
    const json = this.snapshotJson(number, hash)
    let state: MarketState
    try {
      state = deserializeState(json)
    } catch (err) {
      throw DatdotError.corrupt(`the marketplace snapshot of block ${number} (${hash}) cannot be read: ${(err as Error).message}`, err)
    }
    if (state?.block?.number !== number || state.block.hash !== hash) throw DatdotError.corrupt(`the marketplace snapshot of block ${number} (${hash}) holds the state of another block`)
    return state
  }
}
