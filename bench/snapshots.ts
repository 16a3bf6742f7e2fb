/**
 * The follower's cost per block at a large marketplace state (docs/chain.md "Following the
 * chain"): LedgerSync following the same blocks with a snapshot of the whole state with every
 * block (the rule before, the baseline, measured in the same run) and with a snapshot every
 * SYNC_LIMITS.snapshotEveryBlocks blocks and each block's input (the rule now). Real SQLite and
 * the real state machine; the blocks come from the market simulation (test/sim/market-sim.ts).
 * Both write a snapshot's JSON in slices and parts before the block's transaction (state-json.ts);
 * the longest the event loop was held while following is printed for each. Last, the snapshot's
 * JSON written in one JSON.stringify (how it was written before) against slices and parts.
 * SNAPSHOT_BENCH_DUMP=file writes the start state's JSON there (for profiling).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/snapshots.js [--contracts N] [--providers N] [--blocks N] [--rounds N]
 *
 *   --contracts N   contracts (one plan each) in the state (default 20000)
 *   --providers N   providers (default 2000)
 *   --blocks N      blocks followed and measured per mode and round (default 100: one snapshot interval)
 *   --rounds N      baseline and new rule alternated this many times (default 1)
 *
 * Prints figures, never pass/fail.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execSync } from 'node:child_process'
import { performance, monitorEventLoopDelay } from 'node:perf_hooks'
import { simulate } from '../test/sim/market-sim.js'
import { createRootFixture, type RootFixture } from '../test/sim/roots-fixture.js'
import { DEFAULT_NETWORK_PARAMS, LOCAL_FUNDS } from '../main/chain/local-chain.js'
import { deserializeState, serializeState, type BlockInput } from '../main/chain/marketplace.js'
import { LedgerSync, CHAIN_MIGRATIONS, SYNC_LIMITS, type SyncCounters } from '../main/chain/ledger-sync.js'
import { encodeInput, SNAPSHOT_PART_CHARS } from '../main/chain/market-store.js'
import { streamStateSliced } from '../main/chain/state-json.js'
import type { ReadBlock } from '../main/chain/follower.js'
import { Ledger } from '../main/ledger/ledger.js'
import { openDatabase, migrate } from '../main/shared/db.js'

const args = process.argv.slice(2)
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : def
}
const contracts = opt('contracts', 20_000)
const providers = opt('providers', 2000)
const measured = opt('blocks', 100)
const rounds = opt('rounds', 1)
const load = (): string => execSync('uptime').toString().trim().replace(/^.*load average/, 'load average')

// ---------------------------------------------------------------- the blocks and the state they start from

const warm = 60
const coresN = Math.max(1, Math.ceil(contracts / 100))
const cores: RootFixture[] = []
for (let i = 0; i < coresN; i++) cores.push(await createRootFixture([DEFAULT_NETWORK_PARAMS.chunksPerContract]))
const blocks: BlockInput[] = []
let startJson = ''
const t0 = performance.now()
const sponsors = Math.max(1, Math.ceil(contracts / 50))
simulate({
  providers, sponsors, plansPerSponsor: Math.ceil(contracts / sponsors), chunksPerPlan: DEFAULT_NETWORK_PARAMS.chunksPerContract, replicas: 3,
  blocks: warm + measured, warmupBlocks: 0, churnPerBlock: 0.2 / 600, attackers: {}, lossFraction: 0.05, sybilIdentities: 3, openings: 8,
  seed: 'snapshots-bench', params: DEFAULT_NETWORK_PARAMS, unitPricePlanck: LOCAL_FUNDS.unitPricePlanck, root: cores[0], cores: cores.slice(1),
  availabilityEvery: 100, fullChecks: false,
  onBlock: (input, _out, state) => {
    blocks.push(input)
    if (blocks.length === warm) startJson = serializeState(state)
    if (blocks.length === warm && process.env.SNAPSHOT_BENCH_DUMP !== undefined) writeFileSync(process.env.SNAPSHOT_BENCH_DUMP, startJson)
  }
})
const start = deserializeState(startJson)
const follow = blocks.slice(warm, warm + measured)
console.log(`state after ${warm} blocks: ${Object.keys(start.contracts).length} contracts, ${Object.keys(start.providers).length} providers, snapshot ${(startJson.length / 2 ** 20).toFixed(1)} MiB; ` +
  `block input ${(follow.reduce((a, b) => a + encodeInput(b).length, 0) / follow.length / 1024).toFixed(1)} KiB a block on average; simulated in ${((performance.now() - t0) / 1000).toFixed(1)} s (${load()})`)

// ---------------------------------------------------------------- following them

interface Run { stallMaxMs: number, perBlockMs: number, commitMs: number, commitMedianMs: number, commitMaxMs: number, snapshots: number, dbMiB: number, restoreMs: number }

/** LedgerSync on a fresh database whose cursor is the start block (its snapshot stored), following the measured blocks. */
async function followWith (every: number, reorgDepth: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'datdot-bench-snap-'))
  try {
    const file = join(dir, 'db.sqlite')
    const db = openDatabase(file)
    migrate(db, 'chain', CHAIN_MIGRATIONS)
    const ledger = new Ledger(db)
    // the commit: the block's SQLite transaction (ledger rows, cursor, input, a snapshot when due, serialising it included)
    const commits: number[] = []
    const commit = ledger.applyBlock.bind(ledger)
    ledger.applyBlock = (...a) => {
      const t = performance.now()
      try { return commit(...a) } finally { commits.push(performance.now() - t) }
    }
    const b0 = blocks[warm - 1]
    ledger.applyBlock({ number: b0.number, hash: b0.hash, parentHash: b0.parentHash, genesisHash: 'g', timeMs: b0.timeMs }, [], () => {
      db.prepare('INSERT INTO chain_snapshots (block_number, block_hash, chain_id, state) VALUES (?, ?, ?, ?)').run(b0.number, b0.hash, 'g', startJson)
    })
    const head = b0.number + follow.length
    const chain = {
      head: async () => head,
      hashAt: async (n: number) => blocks[n - 1]?.hash ?? null,
      read: async (n: number): Promise<ReadBlock> => ({ input: blocks[n - 1], events: [], transfersByExtrinsic: new Map() }),
      balanceOf: async () => 0n
    }
    const make = (counters: SyncCounters): LedgerSync => new LedgerSync({
      db, ledger, now: () => 0, chainId: 'g', chain, formatAddress: (h) => h, tracked: () => [], faucetHex: '0x00',
      counters, onEntries: () => {}, onBlock: () => {}, onHead: () => {}, stopped: () => false, limits: { snapshotEveryBlocks: every, reorgDepth }
    })
    const counters: SyncCounters = { blocksFollowed: 0, ledgerRows: 0, reconciles: 0, reorgs: 0, resets: 0, snapshotsWritten: 0 }
    const sync = make(counters)
    commits.length = 0
    // the longest the event loop was held while following (a hoster's walk waits that long)
    const stall = monitorEventLoopDelay({ resolution: 1 })
    stall.enable()
    const t = performance.now()
    await sync.catchUp()
    const perBlockMs = (performance.now() - t) / follow.length
    stall.disable()
    // a restart: the newest snapshot and the inputs after it
    const r = performance.now()
    make({ ...counters })
    const restoreMs = performance.now() - r
    db.close()
    const size = (f: string): number => statSync(f, { throwIfNoEntry: false })?.size ?? 0
    const sorted = [...commits].sort((x, y) => x - y)
    return { stallMaxMs: stall.max / 1e6, perBlockMs, commitMs: sorted.reduce((x, y) => x + y, 0) / sorted.length, commitMedianMs: sorted[Math.floor(sorted.length / 2)], commitMaxMs: sorted[sorted.length - 1], snapshots: counters.snapshotsWritten, dbMiB: (size(file) + size(`${file}-wal`)) / 2 ** 20, restoreMs }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const every = SYNC_LIMITS.snapshotEveryBlocks
const before: Run[] = []
const after: Run[] = []
for (let i = 0; i < rounds; i++) {
  before.push(await followWith(1, 255))
  after.push(await followWith(every, SYNC_LIMITS.reorgDepth))
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
const show = (runs: Run[]): string => {
  const r = runs[0]
  return `commit ${mean(runs.map((x) => x.commitMs)).toFixed(1)} ms a block on average, median ${r.commitMedianMs.toFixed(1)}, max ${r.commitMaxMs.toFixed(0)} (followed ${mean(runs.map((x) => x.perBlockMs)).toFixed(1)} ms a block, state machine included); ` +
    `event loop held at most ${Math.max(...runs.map((x) => x.stallMaxMs)).toFixed(0)} ms; ${r.snapshots} snapshots; database ${r.dbMiB.toFixed(0)} MiB; restart ${r.restoreMs.toFixed(0)} ms`
}
console.log(`followed blocks ${warm + 1}-${warm + follow.length}, ${rounds} round(s) (${load()}):`)
console.log(`  a snapshot with every block (before): ${show(before)}`)
console.log(`  a snapshot every ${every} blocks (now):    ${show(after)} (${(warm + follow.length) % every} blocks after the last snapshot applied again)`)
const ratio = mean(after.map((x) => x.commitMs)) / mean(before.map((x) => x.commitMs))
console.log(`  now / before: commit per followed block ${ratio.toFixed(4)}; followed block ${(mean(after.map((x) => x.perBlockMs)) / mean(before.map((x) => x.perBlockMs))).toFixed(3)}`)

// ---------------------------------------------------------------- the snapshot's JSON: one piece against slices

{
  const state = deserializeState(startJson)
  const t = performance.now()
  const whole = serializeState(state)
  const wholeMs = performance.now() - t
  const stall = monitorEventLoopDelay({ resolution: 1 })
  stall.enable()
  const s = performance.now()
  // as the follower writes it: in slices, handed out in parts (kept here instead of written to SQLite)
  const parts: string[] = []
  const sliced = await streamStateSliced(state, (t) => { parts.push(t) }, { partChars: SNAPSHOT_PART_CHARS })
  const slicedMs = performance.now() - s
  stall.disable()
  console.log(`the snapshot's JSON (${(whole.length / 2 ** 20).toFixed(1)} MiB, ${load()}): one JSON.stringify ${wholeMs.toFixed(0)} ms (the event loop held as long); ` +
    `in slices and ${sliced.parts} parts ${slicedMs.toFixed(0)} ms in all (${(slicedMs / wholeMs).toFixed(2)}x), ${sliced.pauses} turns given, the event loop held at most ${(stall.max / 1e6).toFixed(0)} ms; same text: ${parts.join('') === whole}`)
}

// ---------------------------------------------------------------- reading a snapshot back: a reviver (before) against a walk after the parse (now)

{
  const reviver = (_k: string, v: unknown): unknown => (typeof v === 'string' && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)
  const times = { reviver: [] as number[], walk: [] as number[] }
  for (let i = 0; i < 3; i++) {
    let t = performance.now()
    JSON.parse(startJson, reviver)
    times.reviver.push(performance.now() - t)
    t = performance.now()
    deserializeState(startJson)
    times.walk.push(performance.now() - t)
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]
  console.log(`reading the snapshot back (3 alternations, medians; ${load()}): JSON.parse with a reviver ${med(times.reviver).toFixed(0)} ms, parse then walk (deserializeState) ${med(times.walk).toFixed(0)} ms (${(med(times.walk) / med(times.reviver)).toFixed(2)}x)`)
}
