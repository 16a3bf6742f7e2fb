/**
 * The on-demand start of the chain (main/hosting/lazy-chain.ts) with a fake start: one start for
 * concurrent callers, a failed start reported with a coded error and retried, the statuses it
 * reports, and the persisted reasons to start at open (seeding on, a sponsored plan).
 */
import { describe, it, expect, afterEach } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LazyChain, startsAtOpen, setSponsoring, type ChainParts } from '../../main/hosting/lazy-chain.js'
import type { ChainStatus } from '../../main/shared/contract.js'
import { DatdotError } from '../../main/shared/errors.js'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { HostingStore } from '../../main/hosting/store.js'
import { deferred } from '../helpers/wait.js'

const RUNNING: ChainStatus = { connected: true, endpoint: 'embedded', chainName: 'Local', blockNumber: 3, tokenSymbol: 'DOT', tokenDecimals: 10, address: '5F', devTokens: true }
const PARTS = { chain: { status: () => RUNNING }, hosting: null } as unknown as ChainParts

function lazyWith (open: () => Promise<ChainParts>): { lazy: LazyChain, statuses: Array<ChainStatus['state']> } {
  const statuses: Array<ChainStatus['state']> = []
  const lazy = new LazyChain({ endpoint: 'embedded', open, onStatus: (s) => { statuses.push(s.state) } })
  return { lazy, statuses }
}

describe('starting the chain on demand', () => {
  it('answers idle with no chain details until something starts it', () => {
    const { lazy } = lazyWith(async () => PARTS)
    expect(lazy.status()).toEqual({ connected: false, endpoint: 'embedded', chainName: null, blockNumber: null, tokenSymbol: null, tokenDecimals: null, address: null, devTokens: true, state: 'idle' })
    expect(lazy.counters.starts).toBe(0)
  })

  it('starts once for concurrent callers, who all get the same chain, and then reports the running chain', async () => {
    const gate = deferred()
    let opens = 0
    const { lazy, statuses } = lazyWith(async () => { opens++; await gate.promise; return PARTS })
    const calls = [lazy.start(), lazy.start(), lazy.start()]
    expect(lazy.status().state).toBe('starting')
    gate.resolve()
    const got = await Promise.all(calls)
    expect(got.every((p) => p === PARTS)).toBe(true)
    expect(await lazy.start()).toBe(PARTS)
    expect(opens).toBe(1)
    expect(lazy.status()).toEqual({ ...RUNNING, state: 'running' })
    expect(statuses).toEqual(['starting', 'running'])
  })

  it('reports a failed start to every waiting caller as a CHAIN_ERROR and starts again on the next call', async () => {
    let opens = 0
    const { lazy, statuses } = lazyWith(async () => {
      if (++opens === 1) throw new Error('chopsticks exploded')
      return PARTS
    })
    const failed = await Promise.allSettled([lazy.start(), lazy.start()])
    for (const r of failed) {
      expect(r.status).toBe('rejected')
      const err = (r as PromiseRejectedResult).reason as DatdotError
      expect(err).toBeInstanceOf(DatdotError)
      expect(err.code).toBe('CHAIN_ERROR')
      expect(err.message).toMatch(/chopsticks exploded/)
    }
    expect(lazy.status().state).toBe('failed')
    expect(lazy.lastError?.code).toBe('CHAIN_ERROR')
    expect(await lazy.start()).toBe(PARTS)
    expect(opens).toBe(2)
    expect(lazy.lastError).toBeNull()
    expect(lazy.counters).toEqual({ starts: 2, failures: 1 })
    expect(statuses).toEqual(['starting', 'failed', 'starting', 'running'])
  })

  it('keeps a failed start in the background in its status and counters, and starts again on the next call', async () => {
    let opens = 0
    const { lazy, statuses } = lazyWith(async () => {
      if (++opens === 1) throw new Error('no disk')
      return PARTS
    })
    lazy.startInBackground()
    expect(lazy.state).toBe('starting')
    await expect(lazy.start()).rejects.toMatchObject({ code: 'CHAIN_ERROR' })
    expect(lazy.lastError?.message).toMatch(/no disk/)
    expect(await lazy.start()).toBe(PARTS)
    expect(statuses).toEqual(['starting', 'failed', 'starting', 'running'])
  })

  it('keeps the code of a start that failed with a coded error', async () => {
    const { lazy } = lazyWith(async () => { throw DatdotError.invalidArgument('chain endpoint must be embedded or ws://') })
    await expect(lazy.start()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('waits for a start under way when closed and refuses to start after', async () => {
    const gate = deferred()
    const { lazy } = lazyWith(async () => { await gate.promise; return PARTS })
    const starting = lazy.start()
    let closed = false
    const closing = lazy.close().then(() => { closed = true })
    await Promise.resolve()
    expect(closed).toBe(false)
    gate.resolve()
    await closing
    expect(await starting).toBe(PARTS)
    const fresh = lazyWith(async () => PARTS).lazy
    await fresh.close()
    await expect(fresh.start()).rejects.toMatchObject({ code: 'CLOSED' })
  })
})

describe('starting the chain when the node opens', () => {
  let dir: string
  let db: Db

  afterEach(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  function openDb (): Db {
    dir = mkdtempSync(join(tmpdir(), 'datdot-lazy-chain-'))
    db = openDatabase(join(dir, 'node.sqlite'))
    // the engine's settings table (main/engine/engine.ts)
    db.exec('CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT')
    return db
  }

  it('does not start for a node that never used hosting, or that stopped seeding', () => {
    openDb()
    expect(startsAtOpen(db)).toBe(false)
    const store = new HostingStore(db, { now: Date.now, proofsKept: 10 })
    store.saveSettings({ seeding: false, storageBytes: 1e9, bandwidthBps: 1e6, region: 'eu' })
    expect(startsAtOpen(db)).toBe(false)
  })

  it('starts for a node that seeds', () => {
    openDb()
    new HostingStore(db, { now: Date.now, proofsKept: 10 }).saveSettings({ seeding: true, storageBytes: 1e9, bandwidthBps: 1e6, region: 'eu' })
    expect(startsAtOpen(db)).toBe(true)
  })

  it('starts for a node that sponsors a plan, until that is cleared', () => {
    openDb()
    setSponsoring(db, true)
    expect(startsAtOpen(db)).toBe(true)
    setSponsoring(db, false)
    expect(startsAtOpen(db)).toBe(false)
  })

  it('starts once for a node that ran its chain before sponsoring was recorded, to find out', () => {
    openDb()
    db.exec('CREATE TABLE chain_snapshots (block_hash TEXT PRIMARY KEY) STRICT')
    expect(startsAtOpen(db)).toBe(true)
    setSponsoring(db, false)
    expect(startsAtOpen(db)).toBe(false)
  })
})
