/**
 * `datdot chain`, `datdot wallet`, `datdot ledger`.
 */
import { join } from 'node:path'
import type { CliCommand, CliContext } from './types.js'
import { DatdotError } from '../shared/errors.js'
import { openDatabase } from '../shared/db.js'
import { parseArgs } from './args.js'
import { formatTokens } from '../shared/tokens.js'

const chain: CliCommand = {
  summary: 'Run a local chain (real Asset Hub runtime) on 127.0.0.1 for daemons to share; prints its URL',
  usage: 'chain [--port N] [--dir PATH] [--block-ms N]',
  run: async (argv, ctx) => {
    const { flags } = parseArgs(argv, {
      port: { type: 'int', min: 0, max: 65535, default: 9944 },
      'block-ms': { type: 'int', min: 500, max: 3_600_000, default: 6_000 },
      dir: { type: 'string' }
    })
    const port = flags.port
    const blockIntervalMs = flags['block-ms']
    const dir = flags.dir ?? join(ctx.storage, 'local-chain')
    const { LocalChain } = await import('../chain/local-chain.js')
    const { ChainService } = await import('../chain/service.js')
    const local = await LocalChain.open({ dir, port, blockIntervalMs })
    const db = openDatabase(join(dir, 'operator.db'))
    // This process is the network operator of its chain: it follows it and pays verified work.
    const operator = new ChainService({ storage: join(dir, 'operator'), endpoint: 'embedded', db, localChain: local, operator: true })
    try {
      await operator.ready()
      const url = local.url as string
      const ref = local.networkRef
      const network = ref === null ? null : `${ref.genesisHash}@${ref.recordBlock}`
      if (ctx.json) ctx.print({ url, network, escrow: operator.escrowAddress, head: local.headNumber, dir })
      else {
        ctx.print(`Local chain running at ${url}`)
        ctx.print(`  start daemons with: datdot daemon --chain ${url}${network === null ? '' : ` --network ${network}`}`)
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
    const { flags: { faucet } } = parseArgs(argv, { faucet: { type: 'tokens' } })
    let w = await ctx.call('getWallet', {})
    if (faucet !== undefined) {
      const amountPlanck = faucet.planck(w.tokenDecimals)
      const status = await ctx.call('getChainStatus', {})
      if (status.devTokens) {
        // A local dev chain (embedded, datdot chain, a devnet): the daemon sends the faucet transfer itself.
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
  const { WsProvider, Keyring } = await import('@polkadot/api')
  const { cryptoWaitReady } = await import('@polkadot/util-crypto')
  const { FAUCET_URI } = await import('../chain/local-chain.js')
  const { createApi } = await import('../chain/connect.js')
  await cryptoWaitReady()
  const api = await createApi(new WsProvider(endpoint), { throwOnConnect: true })
  try {
    await api.isReadyOrError
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
    const { flags } = parseArgs(argv, { limit: { type: 'int', min: 1, max: 1000, default: 100 }, json: { type: 'boolean' } })
    const limit = flags.limit
    const json = ctx.json || flags.json
    const page = await ctx.call('ledgerEntries', { limit })
    if (json) { ctx.print(page.entries); return 0 }
    const w = await ctx.call('getWallet', {}).catch(() => null)
    const decimals = w?.tokenDecimals ?? 12
    if (page.entries.length === 0) { ctx.print('(no ledger rows yet)'); return 0 }
    for (const e of page.entries) {
      const when = new Date(e.timeMs).toISOString().replace('T', ' ').slice(0, 19)
      const mine = w !== null && e.account === w.address ? '*' : ' '
      ctx.print(`${String(e.id).padStart(6)} ${when} #${e.blockNumber} ${mine}${e.account.padEnd(50)} ${formatTokens(e.amount, decimals).padStart(24)} ${e.reason}${e.memo !== null ? '  ' + e.memo : ''}`)
    }
    if (w !== null) ctx.print(`* = this node (${w.address}); balance ${formatTokens(w.free, decimals)} ${w.tokenSymbol} free`)
    return 0
  }
}

export const chainCommands: Record<string, CliCommand> = { chain, wallet, ledger }
