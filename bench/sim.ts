/**
 * Prints figures of the marketplace under churn and attacks (never pass/fail):
 * `npx tsc -p tsconfig.json && node dist/bench/sim.js` or `npx tsx bench/sim.ts`.
 */
import { simulate } from '../test/sim/market-sim.js'

const runs = [
  { name: '2000 providers, 1% churn/100 blocks', providers: 2000, churnPerBlock: 0.0001 },
  { name: '2000 providers, 10% churn/100 blocks', providers: 2000, churnPerBlock: 0.001 }
]
for (const run of runs) {
  const t0 = performance.now()
  const r = simulate({
    providers: run.providers, sponsors: 40, plansPerSponsor: 5, chunksPerPlan: 100, replicas: 3, blocks: 600,
    churnPerBlock: run.churnPerBlock, attackers: { deleter: 40, sybil: 40, throttler: 40 }, lossFraction: 0.05, sybilIdentities: 3,
    openings: 8, seed: run.name
  })
  const ms = performance.now() - t0
  console.log(`\n${run.name}: ${r.providers} providers, ${r.contracts} contracts, ${r.blocks} blocks (${(ms / 1000).toFixed(1)} s)`)
  console.log(`availability ${(r.availability * 100).toFixed(2)}%  contracts that lost every good copy at some block ${(r.contractsEverLost * 100).toFixed(2)}%`)
  for (const [b, d] of Object.entries(r.detection)) console.log(`  ${b.padEnd(10)} challenged ${String(d.challenged).padStart(6)}  failed ${String(d.failed).padStart(6)}  detection per challenge ${(d.rate * 100).toFixed(1)}%  dropped ${d.dropped}`)
  console.log(`honest providers penalised ${r.honestPenalised}; paid ${r.paidPlanck} planck; cost ${r.costPlanckPerGiBMonth} planck per GiB-month (${Number(r.costPlanckPerGiBMonth) / 1e12} tokens)`)
  console.log(`conservation ${r.conservationOk ? 'held on every block' : 'BROKEN'}; rejected records ${JSON.stringify(r.rejected)}`)
}
