/**
 * `datdot`: the command line. `datdot daemon` runs the engine headless; every other command
 * talks to the daemon of its storage folder. Failures print one line on stderr and exit 1;
 * usage errors (main/cli/args.ts) exit USAGE_EXIT_CODE (2), for every command. The commands on
 * files are in vault-commands.ts, on spaces in spaces-commands.ts, the rest of the engine's in
 * extra-commands.ts, on follows in follow-commands.ts; this file holds the daemon, status and main().
 */
import { resolve } from 'node:path'
import type { CliCommand, CliContext } from './types.js'
import { DaemonClient } from './client.js'
import { withClient } from './daemon-session.js'
import { vaultCommands } from './vault-commands.js'
import { spacesCommands } from './spaces-commands.js'
import { DatdotError, formatBytes } from '../shared/errors.js'
import { defaultStorageDir, defaultChain, defaultChainStart, parseBootstrap, APP_VERSION } from '../engine/config.js'
import { startDaemon } from '../daemon.js'
import { extraCommands } from './extra-commands.js'
import { followCommands } from './follow-commands.js'
import { devnetCommands, devnetJoin } from './devnet-commands.js'
import { parseArgs, parseGlobalArgs, usage, UsageError, USAGE_EXIT_CODE } from './args.js'

// ---------------------------------------------------------------- commands

const commands: Record<string, CliCommand> = {
  daemon: {
    summary: 'Run the engine headless with the browser UI and the local API.',
    usage: 'daemon [--bootstrap HOST:PORT,...] [--port N] [--chain off|embedded|ws://...] [--network GENESIS@BLOCK] [--devnet DIR] [--offline]',
    async run (argv, ctx) {
      const { flags } = parseArgs(argv, {
        bootstrap: { type: 'string' },
        port: { type: 'int', min: 0, max: 65535 },
        chain: { type: 'string' },
        network: { type: 'string' },
        offline: { type: 'boolean' },
        devnet: { type: 'string' }
      })
      if (flags.devnet !== undefined) Object.assign(flags, devnetJoin(flags))
      const bootstrapText = flags.bootstrap ?? process.env.DATDOT_BOOTSTRAP
      const daemon = await startDaemon({
        storage: ctx.storage,
        bootstrap: bootstrapText ? parseBootstrap(bootstrapText) : undefined,
        offline: flags.offline,
        port: flags.port ?? (process.env.DATDOT_PORT ? Number(process.env.DATDOT_PORT) : 0),
        chain: flags.chain ?? defaultChain(),
        chainStart: defaultChainStart(),
        chainNetwork: flags.network
      })
      ctx.print(`datdot daemon ready: ${daemon.server.url}`)
      if (!bootstrapText && !flags.offline) ctx.warn('networking: public DHT (set --bootstrap or DATDOT_BOOTSTRAP for a private network)')
      await ctx.interrupted
      await daemon.close()
      return 0
    }
  },
  testnet: {
    summary: 'Run a loopback DHT testnet for local experiments; prints its bootstrap address.',
    usage: 'testnet [--nodes N]',
    async run (argv, ctx) {
      const { flags: { nodes } } = parseArgs(argv, { nodes: { type: 'int', min: 1, max: 32, default: 3 } })
      const { default: createTestnet } = await import('@hyperswarm/testnet')
      const testnet = await createTestnet(nodes, { host: '127.0.0.1' })
      const b = testnet.bootstrap[0]
      ctx.print(`datdot testnet ready: ${b.host}:${b.port}`)
      await ctx.interrupted
      await testnet.destroy()
      return 0
    }
  },
  ...vaultCommands,
  ...spacesCommands,
  ...followCommands,
  status: {
    summary: 'Engine, network, vault and follow status.',
    usage: 'status [--json]',
    async run (argv, ctx) {
      parseArgs(argv, {})
      return withClient(ctx, async (client) => {
        const s = await client.call('getStatus', {})
        if (ctx.json) ctx.print(s)
        else {
          ctx.print(`DatDot ${s.appVersion} (pid ${s.pid}) storage ${s.storage}`)
          ctx.print(`vault ${s.vault.link}  v${s.vault.version}  ${s.vault.files} file(s), ${formatBytes(s.vault.bytes)}`)
          ctx.print(`network ${s.network.paused ? 'paused' : 'on'}  connections ${s.network.connections}  topics ${s.network.announcing}`)
          ctx.print(`following ${s.follows} drive(s); ${s.jobsRunning} job(s) running`)
        }
      })
    }
  },
  transfers: {
    summary: 'Recent and running imports, exports and uploads.',
    usage: 'transfers',
    async run (argv, ctx) {
      parseArgs(argv, {})
      return withClient(ctx, async (client) => {
        const jobs = await client.call('listJobs', {})
        if (ctx.json) ctx.print(jobs)
        else for (const j of jobs) ctx.print(`${j.id}  ${j.state.padEnd(9)} ${j.label}  ${formatBytes(j.bytesDone)}/${formatBytes(j.bytesTotal)}${j.error ? '  ' + j.error.message : ''}`)
      })
    }
  },
  network: {
    summary: 'Pause or resume all networking.',
    usage: 'network pause|resume',
    async run (argv, ctx) {
      const p = parseArgs(argv, {})
      const what = p.positional[0]
      if (what !== 'pause' && what !== 'resume') throw usage('network takes pause or resume')
      return withClient(ctx, async (client) => {
        const s = await client.call('setNetworkPaused', { paused: what === 'pause' })
        ctx.print(ctx.json ? s : `network ${s.paused ? 'paused' : 'on'}`)
      })
    }
  },
  ...extraCommands,
  ...devnetCommands
}

function help (): string {
  const rows = Object.entries(commands).map(([, c]) => `  datdot ${c.usage}\n      ${c.summary}`)
  return [
    `DatDot ${APP_VERSION}: own your data.`,
    '',
    'Usage:',
    ...rows,
    '',
    'Every command takes --storage DIR (default: DATDOT_STORAGE or the OS app-data folder) and --json.',
    '',
    'Spaces: your vault holds several spaces, each with its own files (datdot spaces lists them):',
    '  private  encrypted; no link exists, only you read it',
    '  shared   encrypted; whoever has its link reads every file in it (a link cannot be taken back)',
    '  public   not encrypted; anyone with its link reads every file in it',
    'A link always opens a whole space. add, ls, cat, export, rm, mv, share and history take --space NAME;',
    'without it they use your oldest private space (a new vault has one called Private).'
  ].join('\n')
}

// ---------------------------------------------------------------- main

export async function main (argv: string[]): Promise<number> {
  let g
  try {
    g = parseGlobalArgs(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`datdot: ${err.message}\n`)
    return USAGE_EXIT_CODE
  }
  const { storage, json, help: wantHelp, rest } = g
  if (g.version) { process.stdout.write(APP_VERSION + '\n'); return 0 }
  const name = rest.shift()
  if (wantHelp || name === undefined || name === 'help') {
    const c = name && name !== 'help' ? commands[name] : undefined
    process.stdout.write((c ? `datdot ${c.usage}\n  ${c.summary}\n` : help() + '\n'))
    return name === undefined && !wantHelp ? USAGE_EXIT_CODE : 0
  }
  const cmd = commands[name]
  if (!cmd) {
    process.stderr.write(`datdot: unknown command '${name.slice(0, 40)}' (see datdot --help)\n`)
    return USAGE_EXIT_CODE
  }
  let onSignal: (() => void) | null = null
  const interrupted = new Promise<void>((resolve) => {
    onSignal = () => resolve()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  })
  const ctx: CliContext = {
    storage: resolve(storage ?? defaultStorageDir()),
    json,
    call: async (method, args) => {
      const client = await DaemonClient.connect(ctx.storage)
      try { return await client.call(method, args) } finally { client.close() }
    },
    print: (v) => { process.stdout.write((typeof v === 'string' ? v : JSON.stringify(v, null, json ? 2 : 0)) + '\n') },
    warn: (l) => { process.stderr.write(l + '\n') },
    interrupted
  }
  // Last resort: if the event loop runs dry while the command still waits, nothing can ever
  // settle it (e.g. it waits on a daemon that is gone). Fail it with a line on stderr instead
  // of letting Node end the process silently (exit code 13, an unsettled top-level await).
  let onDrained: (() => void) | null = null
  const drained = new Promise<never>((_resolve, reject) => {
    onDrained = () => reject(DatdotError.internal('the command was left waiting for an answer that cannot come (did the daemon stop?)'))
    process.once('beforeExit', onDrained)
  })
  try {
    return await Promise.race([cmd.run(rest, ctx), drained])
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`datdot ${name}: ${err.message}\nusage: datdot ${cmd.usage}\n`)
      return USAGE_EXIT_CODE
    }
    const e = DatdotError.from(err)
    process.stderr.write(`datdot ${name}: ${e.message}${e.code !== 'INTERNAL' ? ` [${e.code}]` : ''}\n`)
    return 1
  } finally {
    if (onDrained) process.off('beforeExit', onDrained)
    if (onSignal) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
