/**
 * `datdot chain`, `datdot wallet`, `datdot ledger`.
 */
import { join } from 'node:path'
import type { CliCommand, CliContext } from './types.js'
import { DatdotError } from '../engine/errors.js'
import { openDatabase } from '../engine/db.js'
import type { LedgerEntry } from '../api/contract.js'

function flag (argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name)
  if (i === -1) return undefined
  const v = argv[i + 1]
  if (v === undefined || v.startsWith('--')) throw DatdotError.invalidArgument(`${name} needs a value`)
  return v
}

function intFlag (argv: string[], name: string, min: number, max: number): number | undefined {
  const v = flag(argv, name)
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max) throw DatdotError.invalidArgument(`${name} must be an integer in ${min}..${max}`)
  return n
}

/** "1.5" tokens -> planck, exact (no floating point). */
export function parseTokens (s: string, decimals: number): bigint {
  const m = /^(\d{1,20})(?:\.(\d{1,40}))?$/.exec(s.trim())
  if (m === null) throw DatdotError.invalidArgument(`not an amount: ${s}`)
  const frac = m[2] ?? ''
  if (frac.length > decimals) throw DatdotError.invalidArgument(`at most ${decimals} decimals`)
  return BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0')
}

/** planck -> "1.5" tokens, exact. */
export function formatTokens (planck: bigint | string, decimals: number): string {
  let n = BigInt(planck)
  const neg = n < 0n
  if (neg) n = -n
  const base = 10n ** BigInt(decimals)
  const frac = (n % base).toString().padStart(decimals, '0').replace(/0+$/, '')
  return `${neg ? '-' : ''}${n / base}${frac.length > 0 ? '.' + frac : ''}`
}

const chain: CliCommand = {
  summary: 'Run a local chain (real Asset Hub runtime) on 127.0.0.1 for daemons to share; prints its URL',
  usage: 'chain [--port N] [--dir PATH] [--block-ms N]',
  run: async (argv, ctx) => {
    const port = intFlag(argv, '--port', 0, 65535) ?? 9944
    const blockIntervalMs = intFlag(argv, '--block-ms', 500, 3_600_000) ?? 12_000
    const dir = flag(argv, '--dir') ?? join(ctx.storage, 'local-chain')
    const { LocalChain } = await import('../chain/local-chain.js')
    const { ChainService } = await import('../chain/service.js')
    const local = await LocalChain.open({ dir, port, blockIntervalMs })
    const db = openDatabase(join(dir, 'operator.db'))
    // This process is the network operator of its chain: it follows it and pays verified work.
    const operator = new ChainService({ storage: join(dir, 'operator'), endpoint: 'embedded', db, localChain: local, operator: true })
    try {
      await operator.ready()
      const url = local.url as string
      if (ctx.json) ctx.print({ url, escrow: operator.escrowAddress, head: local.headNumber, dir })
      else {
        ctx.print(`Local chain running at ${url}`)
        ctx.print(`  start daemons with: datdot daemon --chain ${url}`)
        ctx.print(`  escrow ${operator.escrowAddress ?? '(none)'}, head #${local.headNumber}, data in ${dir}`)
        ctx.print('Press Ctrl-C to stop.')
      }
      await ctx.interrupted
    } finally {
      await operator.close()
      await local.close()
      db.close()
    }
    return 0
  }
}

const wallet: CliCommand = {
  summary: "This node's chain address and balance (--faucet AMOUNT: dev tokens on a local chain)",
  usage: 'wallet [--faucet AMOUNT]',
  run: async (argv, ctx) => {
    let w = await ctx.call('getWallet', {})
    const faucet = flag(argv, '--faucet')
    if (faucet !== undefined) {
      const amountPlanck = parseTokens(faucet, w.tokenDecimals)
      const status = await ctx.call('getChainStatus', {})
      if (status.endpoint === 'embedded') {
        // The daemon's own in-process chain: it sends the faucet transfer itself.
        w = await ctx.call('requestDevTokens', { amount: amountPlanck.toString() })
      } else {
        await faucetTransfer(status.endpoint, w.address, amountPlanck, ctx)
        w = await ctx.call('getWallet', {})
      }
    }
    if (ctx.json) ctx.print(w)
    else {
      ctx.print(`address  ${w.address}`)
      ctx.print(`free     ${formatTokens(w.free, w.tokenDecimals)} ${w.tokenSymbol}`)
      ctx.print(`reserved ${formatTokens(w.reserved, w.tokenDecimals)} ${w.tokenSymbol}`)
    }
    return 0
  }
}

/** A signed transfer from the local chain's well-known faucet key; refused unless the chain is local. */
async function faucetTransfer (endpoint: string, to: string, amountPlanck: bigint, ctx: CliContext): Promise<void> {
  if (!/^ws:\/\/127\.0\.0\.1:\d+$/.test(endpoint)) {
    throw DatdotError.forbidden(`the faucet needs a local chain served on ws://127.0.0.1 (this daemon uses ${endpoint}; run \`datdot chain\` and start the daemon with --chain <url>)`)
  }
  const { ApiPromise, WsProvider, Keyring } = await import('@polkadot/api')
  const { cryptoWaitReady } = await import('@polkadot/util-crypto')
  const { FAUCET_URI } = await import('../chain/local-chain.js')
  await cryptoWaitReady()
  const api = await ApiPromise.create({ provider: new WsProvider(endpoint), noInitWarn: true, throwOnConnect: true })
  try {
    const methods = (await api.rpc.rpc.methods()).methods.map(String)
    if (!methods.includes('dev_newBlock')) throw DatdotError.forbidden('the faucet exists only on a local chain')
    const pair = new Keyring({ type: 'sr25519' }).addFromUri(FAUCET_URI)
    await new Promise<void>((resolve, reject) => {
      api.tx.balances.transferKeepAlive(to, amountPlanck).signAndSend(pair, { nonce: -1 }, (r) => {
        if (r.dispatchError !== undefined) reject(DatdotError.chain(`faucet transfer failed: ${r.dispatchError.toString()}`))
        else if (r.status.isInBlock || r.status.isFinalized) resolve()
      }).catch((err: unknown) => reject(DatdotError.chain(`faucet transfer refused: ${(err as Error).message}`, err)))
    })
    if (!ctx.json) ctx.warn(`faucet: sent ${amountPlanck} planck to ${to}`)
  } finally {
    await api.disconnect()
  }
}

const ledger: CliCommand = {
  summary: 'Ledger rows of this node (double-entry, newest first)',
  usage: 'ledger [--json] [--limit N]',
  run: async (argv, ctx) => {
    const limit = intFlag(argv, '--limit', 1, 1000) ?? 100
    const json = ctx.json || argv.includes('--json')
    const page = await ctx.call('ledgerEntries', { limit })
    if (json) { ctx.print(page.entries); return 0 }
    const w = await ctx.call('getWallet', {}).catch(() => null)
    const decimals = w?.tokenDecimals ?? 12
    if (page.entries.length === 0) { ctx.print('(no ledger rows yet)'); return 0 }
    for (const e of page.entries as LedgerEntry[]) {
      const when = new Date(e.timeMs).toISOString().replace('T', ' ').slice(0, 19)
      const mine = w !== null && e.account === w.address ? '*' : ' '
      ctx.print(`${String(e.id).padStart(6)} ${when} #${e.blockNumber} ${mine}${e.account.padEnd(50)} ${formatTokens(e.amount, decimals).padStart(24)} ${e.reason}${e.memo !== null ? '  ' + e.memo : ''}`)
    }
    if (w !== null) ctx.print(`* = this node (${w.address}); balance ${formatTokens(w.free, decimals)} ${w.tokenSymbol} free`)
    return 0
  }
}

export const chainCommands: Record<string, CliCommand> = { chain, wallet, ledger }
