/**
 * `datdot seed`, `datdot sponsor`, `datdot unpublish`, `datdot jobs`, `datdot proofs`: the hosting
 * network from the command line (main/hosting/service.ts through the daemon's API).
 */
import type { CliCommand, CliContext } from './types.js'
import { formatBytes } from '../shared/errors.js'
import { parseArgs, usage } from './args.js'

function seedLine (s: { seeding: boolean, registered: boolean, storageBytes: number, usedBytes: number, bandwidthBps: number, region: string, proofsPassed: number, proofsFailed: number }): string {
  return `seeding ${s.seeding ? 'on' : 'off'}${s.registered ? ' (registered)' : ''}  disk ${formatBytes(s.usedBytes)} / ${formatBytes(s.storageBytes)}  bandwidth ${(s.bandwidthBps * 8 / 1e6).toFixed(1)} Mbit/s  region ${s.region}  proofs ${s.proofsPassed} passed, ${s.proofsFailed} failed`
}

async function printStatus (ctx: CliContext): Promise<void> {
  const h = await ctx.call('getHosting', {})
  if (ctx.json) { ctx.print(h); return }
  ctx.print(seedLine(h.status))
  for (const p of h.plans) ctx.print(`plan ${p.planId}  ${p.status}  replicas ${p.replicas}  spent ${p.spent} of ${p.budget}`)
  for (const c of h.contracts) ctx.print(`hosting contract ${c.contractId} (plan ${c.planId}, slot ${c.slot})  ${c.state}  ${c.chunks} chunk(s)`)
  for (const e of h.earnings) ctx.print(`earned ${e.amount} (${e.reason})`)
}

export const hostingCommands: Record<string, CliCommand> = {
  seed: {
    summary: 'Seeding mode: rent your disk to the hosting network (on|off), or show it.',
    usage: 'seed [on|off] [--storage-gb N] [--bandwidth-mbps N] [--region R]',
    async run (argv, ctx) {
      const f = parseArgs(argv, {
        'storage-gb': { type: 'number' },
        'bandwidth-mbps': { type: 'number' },
        region: { type: 'string' }
      })
      const what = f.positional[0]
      if (what === undefined) { await printStatus(ctx); return 0 }
      if (what !== 'on' && what !== 'off') throw usage('seed takes on or off')
      const gb = f.flags['storage-gb']
      const mbps = f.flags['bandwidth-mbps']
      const s = await ctx.call('setSeeding', {
        on: what === 'on',
        storageBytes: gb === undefined ? (what === 'on' ? 10 * 2 ** 30 : undefined) : Math.round(gb * 2 ** 30),
        bandwidthBps: mbps === undefined ? (what === 'on' ? 1_250_000 : undefined) : Math.round(mbps * 1e6 / 8),
        region: f.flags.region
      })
      ctx.print(ctx.json ? s : seedLine(s))
      return 0
    }
  },
  sponsor: {
    summary: 'Pay seeders to keep a drive available: publish a hosting plan (price in tokens).',
    usage: 'sponsor LINK [--replicas 3] [--days 30] --price AMOUNT',
    async run (argv, ctx) {
      const f = parseArgs(argv, {
        replicas: { type: 'int', min: 1, max: 8, default: 3 },
        days: { type: 'int', min: 1, max: 3650, default: 30 },
        price: { type: 'tokens' }
      })
      const link = f.positional[0]
      if (link === undefined) throw usage('sponsor needs a hyper:// link')
      const price = f.flags.price
      if (price === undefined) throw usage('sponsor needs --price AMOUNT')
      const chain = await ctx.call('getChainStatus', {})
      const planck = price.planck(chain.tokenDecimals ?? 12)
      const r = await ctx.call('sponsor', { link, replicas: f.flags.replicas, days: f.flags.days, price: planck.toString() })
      ctx.print(ctx.json ? r : `published plan ${r.planId}: ${price.text} ${chain.tokenSymbol ?? ''} in escrow`)
      return 0
    }
  },
  unpublish: {
    summary: 'Stop a plan you sponsor; the unspent budget comes back.',
    usage: 'unpublish PLAN',
    async run (argv, ctx) {
      const f = parseArgs(argv, {})
      const id = Number(f.positional[0])
      if (f.positional.length !== 1 || !/^\d+$/.test(f.positional[0]) || !Number.isSafeInteger(id) || id < 1) throw usage('unpublish needs a plan number')
      await ctx.call('unpublish', { planId: id })
      ctx.print(ctx.json ? { ok: true } : `unpublished plan ${id}`)
      return 0
    }
  },
  jobs: {
    summary: 'Hosting jobs of this node: encoding, attesting, seeding, challenges.',
    usage: 'jobs',
    async run (argv, ctx) {
      parseArgs(argv, {})
      const jobs = await ctx.call('listHostingJobs', {})
      if (ctx.json) ctx.print(jobs)
      else if (jobs.length === 0) ctx.print('(no hosting jobs)')
      else for (const j of jobs) ctx.print(`${j.state.padEnd(7)} ${j.role.padEnd(9)} plan ${j.planId} contract ${j.contractId}${j.slot === null ? '' : ' slot ' + j.slot}${j.detail ? '  ' + j.detail : ''}`)
      return 0
    }
  },
  proofs: {
    summary: 'Storage and performance proofs this node attested, newest first.',
    usage: 'proofs [--limit N]',
    async run (argv, ctx) {
      const f = parseArgs(argv, { limit: { type: 'int', min: 1, max: 1000, default: 50 } })
      const rows = await ctx.call('listProofs', { limit: f.flags.limit })
      if (ctx.json) ctx.print(rows)
      else if (rows.length === 0) ctx.print('(no proofs yet)')
      else for (const r of rows) ctx.print(`${new Date(r.timeMs).toISOString()}  ${r.kind.padEnd(11)} challenge ${r.challengeId} contract ${r.contractId}  ${r.ok ? 'passed' : 'FAILED ' + (r.reason ?? '')}${r.latencyMs === null ? '' : `  ${r.latencyMs} ms`}`)
      return 0
    }
  }
}
