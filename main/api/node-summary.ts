/**
 * One node's line on the several-nodes dashboard, read through a NodeCaller (this node's own
 * handlers, or another daemon over HTTP) with the same calls either way: its status, its chain,
 * and, only when its chain already runs (asking must not start a node's chain), its hosting,
 * wallet and the ledger's last 30 days. Then the alerts a seeder needs to see first, and the
 * totals over all nodes. Pure over its inputs (the clock is injected), so unit-tested.
 */
import type { ChainStatus, EarningsRow, HostingOverview, Status, Wallet } from '../shared/contract.js'
import type { NodeSummary, NodesOverview } from '../shared/contract-nodes.js'
import { DatdotError, formatBytes } from '../shared/errors.js'
import type { NodeCaller } from './remote-node.js'

const DAY_MS = 24 * 3600 * 1000
/** Disk use at or above this share of the seeding limit raises a warning. */
export const DISK_WARNING_SHARE = 0.9

export interface NodeRef { id: number | null, name: string, url: string | null }

interface Figures {
  status: Status | null
  chain: ChainStatus | null
  chainOff: boolean
  hosting: HostingOverview | null
  wallet: Wallet | null
  earnings: EarningsRow[] | null
  latencyMs: number | null
  error: DatdotError | null
}

/** Asks one node everything its dashboard line shows; never throws (a failure is the line's error). */
export async function summariseNode (ref: NodeRef, call: NodeCaller, now: () => number): Promise<NodeSummary> {
  const f: Figures = { status: null, chain: null, chainOff: false, hosting: null, wallet: null, earnings: null, latencyMs: null, error: null }
  const started = now()
  try {
    f.status = await call('getStatus', {})
    f.latencyMs = Math.max(0, now() - started)
  } catch (err) {
    return lineOf(ref, { ...f, error: DatdotError.from(err) }, now())
  }
  const keep = (err: unknown): null => { f.error ??= DatdotError.from(err); return null }
  try {
    f.chain = await call('getChainStatus', {})
  } catch (err) {
    // A node started without a chain has no chain methods at all.
    if (DatdotError.from(err).code === 'FORBIDDEN') f.chainOff = true
    else keep(err)
  }
  if (f.chain !== null && (f.chain.state === undefined || f.chain.state === 'running') && f.chain.connected) {
    const toMs = now()
    ;[f.hosting, f.wallet, f.earnings] = await Promise.all([
      call('getHosting', {}).catch(keep),
      call('getWallet', {}).catch(keep),
      call('earnings', { fromMs: toMs - 30 * DAY_MS, toMs }).catch(keep)
    ])
  }
  return lineOf(ref, f, now())
}

function lineOf (ref: NodeRef, f: Figures, checkedMs: number): NodeSummary {
  const h = f.hosting?.status ?? null
  const chainState = f.chainOff ? 'offline' : (f.chain === null ? null : (f.chain.state ?? (f.chain.connected ? 'running' : 'failed')))
  const line: NodeSummary = {
    id: ref.id,
    name: ref.name,
    url: ref.url,
    reachable: f.status !== null,
    error: f.error?.toJSON() ?? null,
    checkedMs,
    latencyMs: f.latencyMs,
    appVersion: f.status?.appVersion ?? null,
    connections: f.status?.network.connections ?? null,
    networkPaused: f.status?.network.paused ?? null,
    chainState,
    blockNumber: f.chain?.blockNumber ?? null,
    tokenSymbol: f.chain?.tokenSymbol ?? f.wallet?.tokenSymbol ?? null,
    tokenDecimals: f.chain?.tokenDecimals ?? f.wallet?.tokenDecimals ?? null,
    address: f.chain?.address ?? null,
    balance: f.wallet?.free ?? null,
    seeding: h?.seeding ?? null,
    storageBytes: h?.storageBytes ?? null,
    usedBytes: h?.usedBytes ?? null,
    hostedContracts: h?.hostedContracts ?? null,
    proofsPassed: h?.proofsPassed ?? null,
    proofsFailed: h?.proofsFailed ?? null,
    earnings30d: f.earnings === null ? null : sum(f.earnings.map((r) => r.amount)),
    alerts: []
  }
  line.alerts = alertsOf(line, f.error)
  return line
}

/** What needs the owner's attention on a node, errors first. */
export function alertsOf (n: NodeSummary, error: DatdotError | null): NodeSummary['alerts'] {
  const out: NodeSummary['alerts'] = []
  if (!n.reachable) {
    out.push({ level: 'error', text: `Not answering: ${error?.message ?? 'no answer'}` })
    return out
  }
  if (n.chainState === 'failed') out.push({ level: 'error', text: 'Its chain is not reachable: it cannot be challenged or paid, and counts as offline for the network' })
  if (n.seeding === true && n.networkPaused === true) out.push({ level: 'error', text: 'Seeding with networking paused: its challenges will fail' })
  if (n.seeding === true && n.storageBytes !== null && n.usedBytes !== null && n.storageBytes > 0 && n.usedBytes >= DISK_WARNING_SHARE * n.storageBytes) {
    out.push({ level: 'warning', text: `Disk nearly full: ${formatBytes(n.usedBytes)} of its ${formatBytes(n.storageBytes)} limit` })
  }
  if ((n.proofsFailed ?? 0) > 0) out.push({ level: 'warning', text: `${n.proofsFailed} proof${n.proofsFailed === 1 ? '' : 's'} failed` })
  if (n.seeding === true && n.networkPaused !== true && n.connections === 0) out.push({ level: 'warning', text: 'Seeding but connected to no peer' })
  if (error !== null) out.push({ level: 'warning', text: `Some figures could not be read: ${error.message}` })
  return out
}

/** Totals over the nodes; earnings are summed only when every node that has them uses one token. */
export function totalsOf (nodes: NodeSummary[]): NodesOverview['totals'] {
  const withEarnings = nodes.filter((n) => n.earnings30d !== null)
  const tokens = new Set(withEarnings.map((n) => `${n.tokenSymbol ?? '?'}/${n.tokenDecimals ?? '?'}`))
  const one = tokens.size === 1 ? withEarnings[0] : null
  const add = (pick: (n: NodeSummary) => number | null): number => nodes.reduce((a, n) => a + (pick(n) ?? 0), 0)
  return {
    nodes: nodes.length,
    reachable: nodes.filter((n) => n.reachable).length,
    seeding: nodes.filter((n) => n.seeding === true).length,
    storageBytes: add((n) => n.seeding === true ? n.storageBytes : 0),
    usedBytes: add((n) => n.usedBytes),
    hostedContracts: add((n) => n.hostedContracts),
    alerts: add((n) => n.alerts.length),
    earnings30d: one !== null ? sum(withEarnings.map((n) => n.earnings30d as string)) : null,
    tokenSymbol: one?.tokenSymbol ?? null,
    tokenDecimals: one?.tokenDecimals ?? null,
    earningsNote: tokens.size > 1 ? 'The nodes are on different chains or tokens: their earnings are not added up.' : (withEarnings.length === 0 ? 'No node has its chain running yet.' : null)
  }
}

function sum (amounts: string[]): string {
  return amounts.reduce((a, x) => a + BigInt(x), 0n).toString()
}
