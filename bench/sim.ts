/**
 * Prints figures of the marketplace under churn and attacks (never pass/fail), at the embedded
 * chain's network parameters (DEFAULT_NETWORK_PARAMS) and unit price (LOCAL_FUNDS):
 * `npx tsc -p tsconfig.json && node dist/bench/sim.js [options]` (docs/protocol.md section 9,
 * docs/chain.md "Scale").
 *
 *   --providers N        honest providers at the start (default 2000)
 *   --plans N            plans (default 200), spread over --cores cores (default plans / 100)
 *   --contracts-per-plan N  (default 1: one contract of DEFAULT_NETWORK_PARAMS.chunksPerContract blocks)
 *   --hours H            measured simulated hours (default 1; 600 blocks of 6 s an hour)
 *   --churn 1,10,20      churn per hour in percent, one run each (default 1,10,20)
 *   --attackers F        fraction of providers per attack kind (deleter, sybil, throttler, liar; default 0.02)
 *   --warmup N           warm-up blocks at most (no churn) until every slot is hosting (default 3000)
 *   --baseline           also run the old full scans (market-index.ts oracle mode) at the first churn, for the ratio
 *   --caps C,A           MARKET_PARAMS.challengesPerBlock and assignmentsPerBlock for this run (e.g. the old 256,64)
 */
import { execSync } from 'node:child_process'
import { simulate, type SimResult } from '../test/sim/market-sim.js'
import { createRootFixture, type RootFixture } from '../test/sim/roots-fixture.js'
import { DEFAULT_NETWORK_PARAMS, DEFAULT_BLOCK_INTERVAL_MS, LOCAL_FUNDS } from '../main/chain/local-chain.js'
import { MARKET_PARAMS } from '../main/chain/marketplace.js'

const BLOCKS_PER_HOUR = 600
const args = process.argv.slice(2)
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def
}
const providers = Number(opt('providers', '2000'))
const plans = Number(opt('plans', '200'))
const coresN = Number(opt('cores', String(Math.max(1, Math.ceil(plans / 100)))))
const contractsPerPlan = Number(opt('contracts-per-plan', '1'))
const hours = Number(opt('hours', '1'))
const churns = opt('churn', '1,10,20').split(',').map(Number)
const attackerFraction = Number(opt('attackers', '0.02'))
const warmup = Number(opt('warmup', '3000'))
const baseline = args.includes('--baseline')
const caps = opt('caps', '')
if (caps !== '') {
  // a what-if of the rate limits (same code at any value): the constants are set for this process
  const [c, a] = caps.split(',').map(Number)
  Object.assign(MARKET_PARAMS as { challengesPerBlock: number, assignmentsPerBlock: number }, { challengesPerBlock: c, assignmentsPerBlock: a })
}

const chunksPerPlan = contractsPerPlan * DEFAULT_NETWORK_PARAMS.chunksPerContract
const cores: RootFixture[] = []
for (let i = 0; i < coresN; i++) cores.push(await createRootFixture([chunksPerPlan]))
const load = (): string => execSync('uptime').toString().trim().replace(/^.*load average/, 'load average')
const perKind = Math.round(providers * attackerFraction)
const sponsors = Math.max(1, Math.ceil(plans / 50))

function run (churnPercent: number, scan: boolean): { r: SimResult, ms: number } {
  const t0 = performance.now()
  const r = simulate({
    providers, sponsors, plansPerSponsor: Math.ceil(plans / sponsors), chunksPerPlan, replicas: 3, blocks: hours * BLOCKS_PER_HOUR, warmupBlocks: warmup,
    churnPerBlock: churnPercent / 100 / BLOCKS_PER_HOUR, attackers: { deleter: perKind, sybil: perKind, throttler: perKind, liar: perKind }, lossFraction: 0.05, sybilIdentities: 3,
    openings: 8, seed: `scale:${churnPercent}`, params: DEFAULT_NETWORK_PARAMS, unitPricePlanck: LOCAL_FUNDS.unitPricePlanck, root: cores[0], cores: cores.slice(1),
    availabilityEvery: 10, fullChecks: false, scan, measureSnapshot: true
  })
  return { r, ms: performance.now() - t0 }
}

function print (name: string, r: SimResult, ms: number): void {
  const sm = r.stateMachine
  console.log(`\n${name}: caps ${MARKET_PARAMS.challengesPerBlock} checks, ${MARKET_PARAMS.assignmentsPerBlock} assignments a block; ${r.providers} providers (${4 * perKind} attackers), ${r.contracts} contracts of ${plans} plans on ${coresN} cores, ${r.warmup} warm-up + ${r.blocks} blocks = ${hours} h; run ${(ms / 1000).toFixed(1)} s (${load()})`)
  console.log(`availability ${(r.availability * 100).toFixed(3)}%  contracts that lost every good copy at some block ${(r.contractsEverLost * 100).toFixed(2)}%  slots waiting for providers: ${r.unassignedSlots} at the end, ${r.unassignedSlotsMax} at most`)
  for (const [b, d] of Object.entries(r.detection)) console.log(`  ${b.padEnd(10)} challenged ${String(d.challenged).padStart(7)}  failed ${String(d.failed).padStart(7)}  detection per challenge ${(d.rate * 100).toFixed(1)}%  replaced ${d.dropped}`)
  for (const n of r.honestReplacedNotices) console.log(`  honest hoster replaced: ${n}`)
  console.log(`honest hosters replaced ${r.honestReplaced}; honest attestors contradicted ${r.honestContradicted}; liars contradicted ${r.liarsContradicted}, dropped ${r.liarsDropped}, lost the attestor role ${r.liarsLostAttestorRole} of ${perKind}`)
  console.log(`state machine per block: mean ${sm.meanMs.toFixed(1)} ms (${(sm.meanMs / DEFAULT_BLOCK_INTERVAL_MS * 100).toFixed(2)}% of a ${DEFAULT_BLOCK_INTERVAL_MS / 1000} s block), max ${sm.maxMs.toFixed(0)} ms; trend by tenths of the run (ms): ${sm.trendMs.map((x) => x.toFixed(1)).join(' ')}`)
  console.log(`slowest blocks: ${sm.slowest.map((x) => `#${x.block} ${x.ms.toFixed(0)} ms`).join(', ')}; heap in use ${r.heapMiB.end.toFixed(0)} MiB at the end, ${r.heapMiB.max.toFixed(0)} MiB at most`)
  const snap = r.snapshot
  if (snap !== undefined) console.log('error' in snap ? `snapshot of the final state failed: ${snap.error}` : `snapshot of the final state (serializeState): ${snap.mib.toFixed(1)} MiB in ${(snap.ms / 1000).toFixed(1)} s`)
  console.log(`reports ${r.reports} (${(r.reports / r.blocks).toFixed(1)} per block); conservation ${r.conservationOk ? 'held' : 'BROKEN'}; rejected records ${JSON.stringify(r.rejected)}`)
}

for (const [i, churn] of churns.entries()) {
  const { r, ms } = run(churn, false)
  print(`${churn}% churn per hour`, r, ms)
  if (baseline && i === 0) {
    const old = run(churn, true)
    print(`${churn}% churn per hour, old full scans (baseline)`, old.r, old.ms)
    console.log(`indexed / full scans, state machine per block: ${(r.stateMachine.meanMs / old.r.stateMachine.meanMs).toFixed(3)}; same availability: ${r.availability === old.r.availability}`)
  }
}
