/**
 * `datdot devnet`: the hosting network on one machine (main/hosting/devnet.ts starts it). Prints
 * how to point a daemon or the app at it, then a status line when something happens (seeders
 * ready, plans published and hosted, proofs, earnings) and at least once a minute, from the
 * nodes' and the operator's events, until Ctrl-C closes everything.
 */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import type { CliCommand, CliContext } from './types.js'
import { parseArgs, usage } from './args.js'
import { runningDevnet } from '../hosting/devnet-record.js'
import { formatTokens } from '../shared/tokens.js'
import type { Devnet, DevnetSeeder } from '../hosting/devnet.js'
import type { ProofRow } from '../hosting/config.js'
import type { LedgerEntry } from '../shared/contract.js'

/** Coalesces events into one status line: at most one every few seconds, and one a minute when quiet. */
class DevnetStatus {
  private proofsOk = 0
  private proofsFailed = 0
  private earnedPlanck = 0n
  private readonly plansSeen = new Set<number>()
  private readonly plansHosted = new Set<number>()
  private pending: NodeJS.Timeout | null = null
  private lastLineMs = 0
  private stopped = false
  private readonly heartbeat: NodeJS.Timeout

  private readonly print: (line: string) => void

  constructor (private readonly devnet: Devnet, print: (line: string) => void, private readonly token: { decimals: number, symbol: string }) {
    this.print = (line) => { if (!this.stopped) print(line) }
    devnet.on('proof', ({ seeder, proof }: { seeder: string, proof: ProofRow }) => { this.proof(seeder, proof) })
    devnet.on('earned', ({ entry }: { entry: LedgerEntry }) => { this.earnedPlanck += BigInt(entry.amount); this.soon() })
    devnet.on('block', () => { this.plans() })
    this.heartbeat = setInterval(() => { if (Date.now() - this.lastLineMs > 50_000) this.line() }, 60_000)
  }

  /** Counted; a failed one also gets a line of its own (what failed and why: the seeder's alert). */
  private proof (seeder: string, proof: ProofRow): void {
    if (proof.ok) this.proofsOk++
    else {
      this.proofsFailed++
      this.print(`${stamp()} ${seeder} attested a failed ${proof.kind} proof of contract ${proof.contractId} (hoster ${proof.hoster.slice(0, 10)}…): ${proof.reason ?? 'no reason given'}`)
    }
    this.soon()
  }

  /** New plans and plans whose every slot is hosting get a line of their own. */
  private plans (): void {
    const m = this.devnet.market
    for (const plan of Object.values(m.plans)) {
      if (!this.plansSeen.has(plan.id)) {
        this.plansSeen.add(plan.id)
        this.print(`${stamp()} plan ${plan.id} published: ${plan.contractIds.length} contract(s), ${plan.replicas} replica(s), budget ${this.tokens(plan.budgetPlanck)}`)
      }
      const hosted = plan.contractIds.length > 0 && plan.contractIds.every((id) => m.contracts[id]?.slots.every((s) => s.state === 'hosting'))
      if (hosted && !this.plansHosted.has(plan.id)) {
        this.plansHosted.add(plan.id)
        this.print(`${stamp()} plan ${plan.id} hosted: every slot of its ${plan.contractIds.length} contract(s) is on a seeder`)
        this.soon()
      }
    }
  }

  private soon (): void {
    this.pending ??= setTimeout(() => { this.pending = null; this.line() }, 5000)
  }

  line (): void {
    this.lastLineMs = Date.now()
    const head = this.devnet.operator.status().blockNumber
    this.print(`${stamp()} block #${head ?? '?'} · ${this.devnet.seeders.length} seeders · plans ${this.plansSeen.size} (${this.plansHosted.size} hosted) · proofs ${this.proofsOk} passed, ${this.proofsFailed} failed · seeders earned ${this.tokens(this.earnedPlanck)}`)
  }

  private tokens (planck: bigint): string { return `${formatTokens(planck, this.token.decimals)} ${this.token.symbol}` }

  /** Prints nothing more (events of the closing nodes included). */
  stop (): void {
    this.stopped = true
    clearInterval(this.heartbeat)
    if (this.pending !== null) clearTimeout(this.pending)
  }
}

function stamp (): string { return `[${new Date().toISOString().slice(11, 19)}]` }

/** How to join: one flag for the daemon (it reads devnet.json), the environment for the app. */
function printHowToJoin (ctx: CliContext, devnet: Devnet, dir: string): void {
  const bootstrap = devnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  const vault = join(dir, 'you')
  ctx.print('')
  ctx.print(`DatDot devnet running: chain ${devnet.chainUrl}, DHT bootstrap ${bootstrap}, ${devnet.seeders.length} seeders, data in ${dir}`)
  ctx.print('')
  ctx.print('Point a daemon at it (it reads devnet.json, so this line works after a devnet restart too):')
  ctx.print(`  datdot --storage ${vault} daemon --devnet ${dir}`)
  ctx.print('  then open the URL it prints, Hosting page: "Get 10 dev tokens", then keep your vault online.')
  ctx.print('Or the desktop app:')
  ctx.print(`  DATDOT_STORAGE=${vault} DATDOT_CHAIN=${devnet.chainUrl} DATDOT_BOOTSTRAP=${bootstrap} npm start`)
  ctx.print('')
  ctx.print('Press Ctrl-C to stop the devnet.')
}

const devnet: CliCommand = {
  summary: 'Run the hosting network on this machine: a local chain, a loopback DHT and N seeders; prints how to join it.',
  usage: 'devnet [--seeders N] [--dir DIR] [--port N] [--block-ms N]',
  async run (argv, ctx) {
    const { flags } = parseArgs(argv, {
      seeders: { type: 'int', min: 5, max: 16, default: 6 },
      dir: { type: 'string' },
      port: { type: 'int', min: 0, max: 65535, default: 9944 },
      'block-ms': { type: 'int', min: 500, max: 60_000 }
    })
    const dir = resolve(flags.dir ?? join(homedir(), '.datdot-devnet'))
    const { startDevnet } = await import('../hosting/devnet.js')
    if (!ctx.json) ctx.print(`${stamp()} starting the devnet in ${dir}: local chain, DHT testnet, ${flags.seeders} seeders…`)
    const onSeederReady = (s: DevnetSeeder): void => { if (!ctx.json) ctx.print(`${stamp()} ${s.name} ready: funded and seeding (${s.storage})`) }
    const net = await startDevnet({ dir, seeders: flags.seeders, port: flags.port, blockIntervalMs: flags['block-ms'], onSeederReady })
    let status: DevnetStatus | null = null
    try {
      if (ctx.json) ctx.print({ dir, chain: net.chainUrl, bootstrap: net.bootstrap, seeders: net.seeders.map((s) => s.storage) })
      else {
        printHowToJoin(ctx, net, dir)
        const s = net.operator.status()
        status = new DevnetStatus(net, (l) => ctx.print(l), { decimals: s.tokenDecimals ?? 12, symbol: s.tokenSymbol ?? '' })
        status.line()
      }
      await ctx.interrupted
      status?.stop()
      if (!ctx.json) ctx.print(`${stamp()} stopping: seeders, operator, chain, DHT…`)
    } finally {
      status?.stop()
      await net.close()
    }
    if (!ctx.json) ctx.print(`${stamp()} devnet stopped; its data stays in ${dir} (run datdot devnet --dir ${dir} to resume it)`)
    return 0
  }
}

/**
 * `datdot daemon --devnet DIR`: the chain URL and bootstrap of the devnet running in DIR, in place
 * of --chain and --bootstrap (given together, they are a usage error).
 */
export function devnetJoin (flags: { devnet?: string, chain?: string, bootstrap?: string }): { chain: string, bootstrap: string } {
  if (flags.chain !== undefined || flags.bootstrap !== undefined) throw usage('--devnet sets the chain and the bootstrap: give it without --chain and --bootstrap')
  return runningDevnet(resolve(flags.devnet ?? ''))
}

export const devnetCommands: Record<string, CliCommand> = { devnet }
