/**
 * The follower's cost per block at a large marketplace state (docs/chain.md "Following the
 * chain"): LedgerSync following the same blocks with a snapshot of the whole state with every
 * block (the rule before, the baseline, measured in the same run) and with a snapshot every
 * SYNC_LIMITS.snapshotEveryBlocks blocks and each block's input (the rule now). Real SQLite and
 * the real state machine; the blocks come from the market simulation (test/sim/market-sim.ts).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/snapshots.js [--contracts N] [--providers N] [--blocks N] [--rounds N]
 *
 *   --contracts N   contracts (one plan each) in the state (default 20000)
 *   --providers N   providers (default 2000)
 *   --blocks N      blocks followed and measured per mode and round (default 200)
 *   --rounds N      baseline and new rule alternated this many times (default 2)
 *
 * Prints figures, never pass/fail.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { simulate } from '../test/sim/market-sim.js'
import { createRootFixture, type RootFixture } from '../test/sim/roots-fixture.js'
import { DEFAULT_NETWORK_PARAMS, LOCAL_FUNDS } from '../main/chain/local-chain.js'
import { applyBlock, deserializeState, serializeState, type BlockInput } from '../main/chain/marketplace.js'
import { LedgerSync, CHAIN_MIGRATIONS, SYNC_LIMITS, type SyncCounters } from '../main/chain/ledger-sync.js'
import { encodeInput } from '../main/chain/market-store.js'
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
const measured = opt('blocks', 200)
const rounds = opt('rounds', 2)
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
  }
})
const start = deserializeState(startJson)
const follow = blocks.slice(warm, warm + measured)
console.log(`state after ${warm} blocks: ${Object.keys(start.contracts).length} contracts, ${Object.keys(start.providers).length} providers, snapshot ${(startJson.length / 2 ** 20).toFixed(1)} MiB; ` +
  `block input ${(follow.reduce((a, b) => a + encodeInput(b).length, 0) / follow.length / 1024).toFixed(1)} KiB a block on average; simulated in ${((performance.now() - t0) / 1000).toFixed(1)} s (${load()})`)

// ---------------------------------------------------------------- following them

/** The state machine alone on the same blocks: what is not the commit. */
function applyOnly (): number {
  const state = deserializeState(startJson)
  const t = performance.now()
  for (const b of follow) applyBlock(state, b)
  return (performance.now() - t) / follow.length
}

interface Run { perBlockMs: number, snapshots: number, dbMiB: number, restoreMs: number }

/** LedgerSync on a fresh database whose cursor is the start block (its snapshot stored), following the measured blocks. */
async function followWith (every: number, reorgDepth: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'datdot-bench-snap-'))
  try {
    const file = join(dir, 'db.sqlite')
    const db = openDatabase(file)
    migrate(db, 'chain', CHAIN_MIGRATIONS)
    const ledger = new Ledger(db)
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
    const t = performance.now()
    await sync.catchUp()
    const perBlockMs = (performance.now() - t) / follow.length
    // a restart: the newest snapshot and the inputs after it
    const r = performance.now()
    make({ ...counters })
    const restoreMs = performance.now() - r
    db.close()
    const size = (f: string): number => statSync(f, { throwIfNoEntry: false })?.size ?? 0
    return { perBlockMs, snapshots: counters.snapshotsWritten, dbMiB: (size(file) + size(`${file}-wal`)) / 2 ** 20, restoreMs }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const every = SYNC_LIMITS.snapshotEveryBlocks
const before: Run[] = []
const after: Run[] = []
const apply: number[] = []
for (let i = 0; i < rounds; i++) {
  before.push(await followWith(1, 255))
  after.push(await followWith(every, SYNC_LIMITS.reorgDepth))
  apply.push(applyOnly())
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
const b = mean(before.map((r) => r.perBlockMs))
const a = mean(after.map((r) => r.perBlockMs))
const s = mean(apply)
console.log(`followed ${follow.length} blocks x ${rounds} rounds (${load()}):`)
console.log(`  a snapshot with every block (before): ${b.toFixed(1)} ms a block, of which the state machine ${s.toFixed(1)} ms, the rest (snapshot, input, ledger) ${(b - s).toFixed(1)} ms; ${before[0].snapshots} snapshots; database ${before[0].dbMiB.toFixed(0)} MiB; restart ${before[0].restoreMs.toFixed(0)} ms`)
console.log(`  a snapshot every ${every} blocks (now):    ${a.toFixed(1)} ms a block, the rest ${(a - s).toFixed(1)} ms; ${after[0].snapshots} snapshots; database ${after[0].dbMiB.toFixed(0)} MiB; restart ${after[0].restoreMs.toFixed(0)} ms (${(warm + follow.length) % every} blocks after the last snapshot applied again)`)
console.log(`  now / before, per followed block: ${(a / b).toFixed(3)}; the part besides the state machine: ${((a - s) / (b - s)).toFixed(3)}`)
