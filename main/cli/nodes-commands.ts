/**
 * `datdot nodes` (this node and the daemons added to its dashboard, with alerts and totals),
 * `datdot nodes add NAME URL --token-file FILE` (the other node's <storage>/api-token: read from a
 * file, never from the command line, where other users and the shell history would see it) and
 * `datdot nodes remove ID`.
 */
import { readFile } from 'node:fs/promises'
import type { CliCommand, CliContext } from './types.js'
import { parseArgs, usage } from './args.js'
import { formatBytes } from '../shared/errors.js'
import { formatTokens } from '../shared/tokens.js'
import { NODE_LIMITS, type NodesOverview } from '../shared/contract-nodes.js'

function amountOf (a: string | null, decimals: number | null, symbol: string | null): string {
  if (a === null) return '-'
  return decimals === null ? a : `${formatTokens(BigInt(a), decimals)} ${symbol ?? ''}`.trim()
}

function printOverview (o: NodesOverview, ctx: CliContext): void {
  for (const n of o.nodes) {
    const id = n.id === null ? 'this node' : `#${n.id}`
    const head = `${id}  ${n.name}${n.url !== null ? `  ${n.url}` : ''}  ${n.reachable ? 'answering' : 'NOT ANSWERING'}`
    ctx.print(head)
    if (n.reachable) {
      ctx.print(`    chain ${n.chainState ?? '-'}  seeding ${n.seeding === null ? '-' : n.seeding ? 'on' : 'off'}  disk ${n.usedBytes === null ? '-' : formatBytes(n.usedBytes)}  contracts ${n.hostedContracts ?? '-'}  proofs ${n.proofsPassed ?? '-'}/${n.proofsFailed ?? '-'} failed  earned 30d ${amountOf(n.earnings30d, n.tokenDecimals, n.tokenSymbol)}`)
    }
    for (const a of n.alerts) ctx.print(`    ${a.level === 'error' ? 'ERROR' : 'warning'}: ${a.text}`)
  }
  const t = o.totals
  ctx.print(`total: ${t.reachable} of ${t.nodes} answering, ${t.seeding} seeding, ${formatBytes(t.usedBytes)} used, ${t.hostedContracts} contracts, earned 30d ${amountOf(t.earnings30d, t.tokenDecimals, t.tokenSymbol)}, ${t.alerts} alert(s)${t.earningsNote !== null ? ` (${t.earningsNote})` : ''}`)
}

const nodes: CliCommand = {
  summary: 'Your nodes on one dashboard: this node and other daemons you add (state, disk, proofs, earnings, alerts).',
  usage: 'nodes  |  nodes add NAME URL --token-file FILE  |  nodes remove ID',
  async run (argv, ctx) {
    const { positional, flags } = parseArgs(argv, { 'token-file': { type: 'string' } })
    const [sub, ...rest] = positional
    if (sub === undefined) {
      const o = await ctx.call('listNodes', {})
      if (ctx.json) ctx.print(o)
      else printOverview(o, ctx)
      return o.nodes.some((n) => !n.reachable) ? 1 : 0
    }
    if (sub === 'add') {
      if (rest.length !== 2) throw usage('nodes add takes a NAME and a URL (http://host:port)')
      const file = flags['token-file']
      if (typeof file !== 'string') throw usage('give the other node\'s token with --token-file (its <storage>/api-token), never on the command line')
      const token = (await readFile(file, 'utf8').catch(() => { throw usage(`cannot read ${file}`) })).slice(0, NODE_LIMITS.tokenChars + 2).trim()
      const r = await ctx.call('addNode', { name: rest[0], url: rest[1], token })
      if (ctx.json) ctx.print(r)
      else ctx.print(`added node #${r.id}: ${rest[0]}`)
      return 0
    }
    if (sub === 'remove') {
      const id = Number(rest[0])
      if (rest.length !== 1 || !Number.isInteger(id) || id <= 0) throw usage('nodes remove takes the node\'s number (see datdot nodes)')
      const r = await ctx.call('removeNode', { id })
      if (ctx.json) ctx.print(r)
      else ctx.print(`removed node #${id} from this dashboard (its daemon keeps running)`)
      return 0
    }
    throw usage(`unknown nodes command: ${sub}`)
  }
}

export const nodesCommands: Record<string, CliCommand> = { nodes }
