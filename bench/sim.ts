/**
 * Prints figures of the marketplace under churn and attacks (never pass/fail), at the embedded
 * chain's network parameters (DEFAULT_NETWORK_PARAMS) and unit price (LOCAL_FUNDS):
 * `npx tsc -p tsconfig.json && node dist/bench/sim.js` (docs/protocol.md section 9).
 */
import { simulate } from '../test/sim/market-sim.js'
import { createRootFixture } from '../test/sim/roots-fixture.js'
import { DEFAULT_NETWORK_PARAMS, LOCAL_FUNDS } from '../main/chain/local-chain.js'

const BLOCKS_PER_HOUR = 600
const chunksPerPlan = 4 * DEFAULT_NETWORK_PARAMS.chunksPerContract
const root = await createRootFixture([chunksPerPlan])
const hours = Number(process.env.SIM_HOURS ?? 6)
const runs = [
  { name: '2000 providers, 1% churn per hour', providers: 2000, churnPerBlock: 0.01 / BLOCKS_PER_HOUR, liars: 40 },
  { name: '2000 providers, 10% churn per hour', providers: 2000, churnPerBlock: 0.1 / BLOCKS_PER_HOUR, liars: 40 }
]
for (const run of runs) {
  const t0 = performance.now()
  const r = simulate({
    providers: run.providers, sponsors: 40, plansPerSponsor: 5, chunksPerPlan, replicas: 3, blocks: hours * BLOCKS_PER_HOUR,
    churnPerBlock: run.churnPerBlock, attackers: { deleter: 40, sybil: 40, throttler: 40, liar: run.liars }, lossFraction: 0.05, sybilIdentities: 3,
    openings: 8, seed: run.name, params: DEFAULT_NETWORK_PARAMS, unitPricePlanck: LOCAL_FUNDS.unitPricePlanck, root
  })
  const ms = performance.now() - t0
  console.log(`\n${run.name}: ${r.providers} providers, ${r.contracts} contracts, ${r.blocks} blocks = ${hours} h (${(ms / 1000).toFixed(1)} s)`)
  console.log(`availability ${(r.availability * 100).toFixed(2)}%  contracts that lost every good copy at some block ${(r.contractsEverLost * 100).toFixed(2)}%`)
  for (const [b, d] of Object.entries(r.detection)) console.log(`  ${b.padEnd(10)} challenged ${String(d.challenged).padStart(6)}  failed ${String(d.failed).padStart(6)}  detection per challenge ${(d.rate * 100).toFixed(1)}%  replaced ${d.dropped}`)
  console.log(`honest hosters replaced ${r.honestReplaced}; honest attestors contradicted ${r.honestContradicted}; liars contradicted ${r.liarsContradicted}, dropped ${r.liarsDropped}, lost the attestor role ${r.liarsLostAttestorRole} of ${run.liars}`)
  console.log(`reports ${r.reports} (${(r.reports / r.blocks).toFixed(1)} per block); paid ${r.paidPlanck} planck`)
  const tokens = (p: bigint): string => (Number(p) / 1e12).toPrecision(3)
  console.log(`cost per GiB-month of one hosted copy: ${tokens(r.steadyCostPlanckPerGiBMonth)} tokens running (second half of the run), ${tokens(r.costPlanckPerGiBMonth)} tokens with setup (encoding) over the whole run`)
  console.log(`conservation ${r.conservationOk ? 'held on every block' : 'BROKEN'}; rejected records ${JSON.stringify(r.rejected)}`)
}
