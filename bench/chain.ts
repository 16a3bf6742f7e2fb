/**
 * Chain figures:
 *  1. the marketplace state machine: records per block it applies per second (synthetic log:
 *     providers, plans, setup reports and challenge reports, at several records per block);
 *  2. the ledger alone: catch-up rows per second (SQLite, one transaction per block);
 *  3. end to end on the embedded Asset Hub runtime: a fresh daemon catching up on a chain of
 *     blocks with transfers (read block + events + balances over @polkadot/api, ledger write).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/chain.js [--seconds N] [--chain-blocks N]
 *
 * Prints figures, never pass/fail.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeRecord, type MarketRecord, type SetupSlot } from '../main/chain/records.js'
import { applyBlock, initialState, type Action, type BlockInput, type MarketState } from '../main/chain/marketplace.js'
import { Ledger, type TxInput } from '../main/ledger/ledger.js'
import { openDatabase } from '../main/shared/db.js'
import { createRootFixture, providerKeys, signReceipt, type RootFixture } from '../test/sim/roots-fixture.js'

function arg (name: string, def: number): number {
  const i = process.argv.indexOf(name)
  return i === -1 ? def : Number(process.argv[i + 1])
}

const SECONDS = arg('--seconds', 2)
const CHAIN_BLOCKS = arg('--chain-blocks', 30)
const acct = (s: string): string => '0x' + createHash('sha256').update(s).digest('hex')

function fmt (n: number): string { return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1) }

// ---------------------------------------------------------------- 1. state machine

function benchMarketplace (recordsPerBlock: number, root: RootFixture): { recordsPerSec: number, blocksPerSec: number, applied: number, rejected: number } {
  const ESCROW = acct('escrow')
  const OP = acct('op')
  const providers = Array.from({ length: 300 }, (_, i) => acct(`p${i}`))
  const keys = new Map(providers.map((p, i) => [p, providerKeys(`p${i}`)]))
  const sponsors = Array.from({ length: 50 }, (_, i) => acct(`s${i}`))
  const state: MarketState = initialState()
  let number = 0
  let hash = '0x' + '00'.repeat(32)
  const next = (actions: Array<Omit<Action, 'index'>>): void => {
    number++
    const h = '0x' + createHash('sha256').update(`${number}`).digest('hex')
    const b: BlockInput = { number, hash: h, parentHash: hash, timeMs: number * 12_000, actions: actions.map((a, i) => ({ ...a, index: i + 1 })) }
    hash = h
    applyBlock(state, b)
  }
  const rec = (signer: string, r: MarketRecord, transfers: Action['transfers'] = []): Omit<Action, 'index'> => ({ signer, remarks: [encodeRecord(r)], transfers })
  next([rec(OP, { kind: 'network', operators: [OP], threshold: 1, escrow: ESCROW, unitPricePlanck: 1000n, params: { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 10, performanceAttestors: 3 } })])
  next(providers.map((p) => rec(p, { kind: 'register', roles: 7, storageBytes: 2 ** 40, bandwidthBps: 1e8, region: 'eu', noiseKeyHex: keys.get(p)?.publicKeyHex ?? '' })))
  // Plans: enough contracts that there are always challenges to answer.
  for (const s of sponsors) {
    const budget = 10n ** 15n
    next([rec(s, { kind: 'publish', drives: [{ keyHex: root.keyHex, ranges: [[0, 400]], root: root.roots[0] }], replicas: 3, durationBlocks: 1_000_000, budgetPlanck: budget }, [{ from: s, to: ESCROW, amountPlanck: budget }])])
  }
  const t0 = performance.now()
  let records = 0
  let blocks = 0
  while (performance.now() - t0 < SECONDS * 1000) {
    const actions: Array<Omit<Action, 'index'>> = []
    for (const c of Object.values(state.contracts)) {
      if (actions.length >= recordsPerBlock) break
      if (c.attestor === null || !c.slots.some((s) => s.state === 'setup')) continue
      const slots: SetupSlot[] = c.slots.map((s) => {
        const k = s.hoster === null ? undefined : keys.get(s.hoster)
        if (k === undefined) return { ok: false, reason: 'hoster-missing' }
        return { ok: true, receiptsRootHex: 'aa'.repeat(32), receiptHex: signReceipt(k.secretKey, c.id, c.keyHex, c.root.length, 'aa'.repeat(32)) }
      })
      actions.push(rec(c.attestor, { kind: 'setup-report', contractId: c.id, slots }))
    }
    for (const ch of Object.values(state.challenges)) {
      if (actions.length >= recordsPerBlock) break
      if (ch.kind === 'storage') actions.push(rec(ch.attestors[0], { kind: 'storage-report', challengeId: ch.id, ok: true, reason: 'NONE' }))
      else {
        ch.attestors.forEach((a, i) => {
          if (!ch.reports.some((r) => r.attestor === a)) actions.push(rec(a, { kind: 'performance-report', challengeId: ch.id, reachable: true, ttfbMs: 120, throughputBps: 4e6, measureKeyHex: createHash('sha256').update(`m${ch.id}:${i}`).digest('hex') }))
        })
      }
    }
    // Fill the rest with hostile records (replays of closed challenges): they cost work too.
    while (actions.length < recordsPerBlock) actions.push(rec(providers[actions.length % providers.length], { kind: 'storage-report', challengeId: 1, ok: true, reason: 'NONE' }))
    next(actions)
    records += actions.length
    blocks++
  }
  const secs = (performance.now() - t0) / 1000
  const rejected = Object.values(state.counters.rejected).reduce((a, b) => a + b, 0)
  return { recordsPerSec: records / secs, blocksPerSec: blocks / secs, applied: state.counters.applied, rejected }
}

// ---------------------------------------------------------------- 2. ledger alone

function benchLedger (txsPerBlock: number): { rowsPerSec: number, blocksPerSec: number } {
  const dir = mkdtempSync(join(tmpdir(), 'datdot-bench-ledger-'))
  const db = openDatabase(join(dir, 'db.sqlite'))
  try {
    const ledger = new Ledger(db)
    let parent = 'h0'
    let rows = 0
    let n = 0
    const t0 = performance.now()
    while (performance.now() - t0 < SECONDS * 1000) {
      n++
      const hash = `h${n}`
      const txs: TxInput[] = Array.from({ length: txsPerBlock }, (_, i) => ({
        key: `${hash}:${i}`, reason: 'storage-proof', legs: [{ account: 'escrow', amountPlanck: -BigInt(i + 1) }, { account: `p${i % 50}`, amountPlanck: BigInt(i + 1) }]
      }))
      ledger.applyBlock({ number: n, hash, parentHash: parent, genesisHash: 'g', timeMs: n * 12_000 }, txs)
      rows += txsPerBlock * 2
      parent = hash
    }
    const secs = (performance.now() - t0) / 1000
    const t1 = performance.now()
    ledger.checkInvariants()
    const checkMs = performance.now() - t1
    console.log(`  ledger, ${txsPerBlock} transactions a block: ${fmt(rows / secs)} rows/s, ${fmt(n / secs)} blocks/s; invariant check over ${rows.toLocaleString('en-US')} rows: ${fmt(checkMs)} ms`)
    return { rowsPerSec: rows / secs, blocksPerSec: n / secs }
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- 3. end to end

async function benchChainCatchUp (): Promise<void> {
  const { LocalChain } = await import('../main/chain/local-chain.js')
  const { ChainService } = await import('../main/chain/service.js')
  const dir = mkdtempSync(join(tmpdir(), 'datdot-bench-chain-'))
  const chain = await LocalChain.open({ dir: join(dir, 'chain'), blockIntervalMs: 0 })
  const opDb = openDatabase(join(dir, 'op.db'))
  const op = new ChainService({ storage: join(dir, 'op'), endpoint: 'embedded', db: opDb, localChain: chain, operator: true })
  try {
    await op.ready()
    const seedDb = openDatabase(join(dir, 'f.db'))
    const seed = new ChainService({ storage: join(dir, 'f'), endpoint: 'embedded', db: seedDb, localChain: chain, operator: false })
    await seed.ready()
    const to = seed.address
    await seed.close()
    seedDb.close()
    const t0 = performance.now()
    for (let i = 0; i < CHAIN_BLOCKS; i++) await op.faucet(10n ** 12n, to)
    const buildSecs = (performance.now() - t0) / 1000
    console.log(`  embedded chain: ${CHAIN_BLOCKS} blocks with a signed transfer each, submitted and followed: ${fmt(buildSecs * 1000 / CHAIN_BLOCKS)} ms a block; RSS ${fmt(process.memoryUsage().rss / 2 ** 20)} MiB`)
    const db = openDatabase(join(dir, 'f.db'))
    const follower = new ChainService({ storage: join(dir, 'f'), endpoint: 'embedded', db, localChain: chain, operator: false })
    const t1 = performance.now()
    await follower.ready()
    const secs = (performance.now() - t1) / 1000
    const c = follower.ledger.counts()
    console.log(`  daemon catch-up from its last block (includes connecting): ${follower.counters.blocksFollowed} blocks, ${c.entries} rows in ${fmt(secs * 1000)} ms = ${fmt(follower.counters.blocksFollowed / secs)} blocks/s, ${fmt(c.entries / secs)} rows/s`)
    await follower.close()
    db.close()
  } finally {
    await op.close()
    await chain.close()
    opDb.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

console.log('chain: marketplace state machine (records applied per second, by records per block; receipts and roots verified)')
const root = await createRootFixture([400])
for (const k of [10, 100, 1000]) {
  const r = benchMarketplace(k, root)
  console.log(`  ${k} records a block: ${fmt(r.recordsPerSec)} records/s (${fmt(r.blocksPerSec)} blocks/s); applied ${r.applied.toLocaleString('en-US')}, rejected ${r.rejected.toLocaleString('en-US')}`)
}
console.log('chain: ledger catch-up (SQLite, one transaction a block)')
for (const k of [1, 10, 100]) benchLedger(k)
console.log('chain: end to end on the embedded Asset Hub runtime (chopsticks)')
await benchChainCatchUp()
