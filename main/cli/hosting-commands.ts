/**
 * `datdot seed`, `datdot sponsor`, `datdot unpublish`, `datdot jobs`, `datdot proofs`: the hosting
 * network from the command line (main/hosting/service.ts through the daemon's API).
 */
import type { CliCommand, CliContext } from './types.js'
import { DatdotError, formatBytes } from '../engine/errors.js'
import { parseTokens } from './chain-commands.js'

interface Flags { positional: string[], flags: Map<string, string> }

function parse (argv: string[]): Flags {
  const positional: string[] = []
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (!a.startsWith('--')) { positional.push(a); continue }
    const eq = a.indexOf('=')
    if (eq !== -1) { flags.set(a.slice(2, eq), a.slice(eq + 1)); continue }
    const v = argv[i + 1]
    if (v === undefined || v.startsWith('--')) throw DatdotError.invalidArgument(`${a} needs a value`)
    flags.set(a.slice(2), v)
    i++
  }
  return { positional, flags }
}

function num (f: Flags, name: string): number | undefined {
  const v = f.flags.get(name)
  if (v === undefined) return undefined
  if (!/^\d+(\.\d+)?$/.test(v)) throw DatdotError.invalidArgument(`--${name} takes a number`)
  return Number(v)
}

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
      const f = parse(argv)
      const what = f.positional[0]
      if (what === undefined) { await printStatus(ctx); return 0 }
      if (what !== 'on' && what !== 'off') throw DatdotError.invalidArgument('seed takes on or off')
      const gb = num(f, 'storage-gb')
      const mbps = num(f, 'bandwidth-mbps')
      const s = await ctx.call('setSeeding', {
        on: what === 'on',
        storageBytes: gb === undefined ? (what === 'on' ? 10 * 2 ** 30 : undefined) : Math.round(gb * 2 ** 30),
        bandwidthBps: mbps === undefined ? (what === 'on' ? 1_250_000 : undefined) : Math.round(mbps * 1e6 / 8),
        region: f.flags.get('region')
      })
      ctx.print(ctx.json ? s : seedLine(s))
      return 0
    }
  },
  sponsor: {
    summary: 'Pay seeders to keep a drive available: publish a hosting plan (price in tokens).',
    usage: 'sponsor LINK [--replicas 3] [--days 30] --price AMOUNT',
    async run (argv, ctx) {
      const f = parse(argv)
      const link = f.positional[0]
      if (link === undefined) throw DatdotError.invalidArgument('sponsor needs a hyper:// link')
      const price = f.flags.get('price')
      if (price === undefined) throw DatdotError.invalidArgument('sponsor needs --price AMOUNT')
      const chain = await ctx.call('getChainStatus', {})
      const planck = parseTokens(price, chain.tokenDecimals ?? 12)
      const r = await ctx.call('sponsor', { link, replicas: num(f, 'replicas') ?? 3, days: num(f, 'days') ?? 30, price: planck.toString() })
      ctx.print(ctx.json ? r : `published plan ${r.planId}: ${price} ${chain.tokenSymbol ?? ''} in escrow`)
      return 0
    }
  },
  unpublish: {
    summary: 'Stop a plan you sponsor; the unspent budget comes back.',
    usage: 'unpublish PLAN',
    async run (argv, ctx) {
      const id = Number(argv[0])
      if (!Number.isSafeInteger(id) || id < 1) throw DatdotError.invalidArgument('unpublish needs a plan number')
      await ctx.call('unpublish', { planId: id })
      ctx.print(ctx.json ? { ok: true } : `unpublished plan ${id}`)
      return 0
    }
  },
  jobs: {
    summary: 'Hosting jobs of this node: encoding, attesting, seeding, challenges.',
    usage: 'jobs',
    async run (_argv, ctx) {
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
      const f = parse(argv)
      const rows = await ctx.call('listProofs', { limit: num(f, 'limit') ?? 50 })
      if (ctx.json) ctx.print(rows)
      else if (rows.length === 0) ctx.print('(no proofs yet)')
      else for (const r of rows) ctx.print(`${new Date(r.timeMs).toISOString()}  ${r.kind.padEnd(11)} challenge ${r.challengeId} contract ${r.contractId}  ${r.ok ? 'passed' : 'FAILED ' + (r.reason ?? '')}${r.latencyMs === null ? '' : `  ${r.latencyMs} ms`}`)
      return 0
    }
  }
}
