/**
 * This node's figures in the Prometheus text format (version 0.0.4), for people who watch a fleet
 * of seeders with Prometheus and Grafana (GET /api/metrics with the API token as a bearer token;
 * main/server/server.ts). The figures are the several-nodes dashboard's (node-summary.ts) plus the
 * vault's, read through the same handlers, so they never disagree with the app.
 *
 * Amounts are exported in the chain's smallest unit (planck), named `_planck`: a float loses
 * nothing below 2^53 planck, and a larger balance is exported rounded (said in its HELP).
 */
import type { Status } from '../shared/contract.js'
import type { NodeSummary } from '../shared/contract-nodes.js'
import { summariseNode } from './node-summary.js'
import type { NodeCaller } from './remote-node.js'

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

interface Metric {
  name: string
  help: string
  type: 'gauge' | 'counter'
  value: number | bigint | boolean | null
  labels?: Record<string, string>
}

/** Reads this node's figures through `call` and renders them; never throws for a missing figure. */
export async function prometheusMetrics (call: NodeCaller, now: () => number): Promise<string> {
  const [summary, status] = await Promise.all([
    summariseNode({ id: null, name: 'This node', url: null }, call, now),
    call('getStatus', {}).catch(() => null)
  ])
  return renderPrometheus(summary, status)
}

/** The exposition text of one node's summary and status. Pure. */
export function renderPrometheus (n: NodeSummary, status: Status | null): string {
  const metrics: Metric[] = [
    { name: 'datdot_up', help: 'Whether the node answered its own status (1) or not (0).', type: 'gauge', value: n.reachable },
    { name: 'datdot_info', help: 'The app version and chain token, as labels; always 1.', type: 'gauge', value: 1, labels: { version: n.appVersion ?? '', token: n.tokenSymbol ?? '' } },
    { name: 'datdot_network_connections', help: 'Open peer connections.', type: 'gauge', value: n.connections },
    { name: 'datdot_network_paused', help: 'Whether networking is paused by the owner.', type: 'gauge', value: n.networkPaused },
    { name: 'datdot_network_announcing', help: 'Drives this node announces on the swarm.', type: 'gauge', value: status?.network.announcing ?? null },
    { name: 'datdot_vault_files', help: 'Files in the vault (every space).', type: 'gauge', value: status?.vault.files ?? null },
    { name: 'datdot_vault_bytes', help: 'Bytes of the files in the vault.', type: 'gauge', value: status?.vault.bytes ?? null },
    { name: 'datdot_follows', help: 'Drives this node follows.', type: 'gauge', value: status?.follows ?? null },
    { name: 'datdot_jobs_running', help: 'Background jobs running (imports, exports, restores).', type: 'gauge', value: status?.jobsRunning ?? null },
    { name: 'datdot_chain_running', help: 'Whether the chain connection runs (it starts when hosting is first used).', type: 'gauge', value: n.chainState === null ? null : n.chainState === 'running' },
    { name: 'datdot_chain_block', help: 'The last chain block this node followed.', type: 'gauge', value: n.blockNumber },
    { name: 'datdot_wallet_free_planck', help: 'The wallet\'s free balance in the smallest unit (rounded above 2^53).', type: 'gauge', value: amount(n.balance) },
    { name: 'datdot_seeding', help: 'Whether this node offers its disk to the hosting network.', type: 'gauge', value: n.seeding },
    { name: 'datdot_seeding_limit_bytes', help: 'Disk offered to the hosting network.', type: 'gauge', value: n.storageBytes },
    { name: 'datdot_seeding_used_bytes', help: 'Disk used by hosted data.', type: 'gauge', value: n.usedBytes },
    { name: 'datdot_hosted_contracts', help: 'Contracts this node hosts.', type: 'gauge', value: n.hostedContracts },
    { name: 'datdot_proofs_passed_total', help: 'Storage proofs this node passed.', type: 'counter', value: n.proofsPassed },
    { name: 'datdot_proofs_failed_total', help: 'Storage proofs this node failed.', type: 'counter', value: n.proofsFailed },
    { name: 'datdot_earnings_30d_planck', help: 'Ledger earnings of the last 30 days in the smallest unit (rounded above 2^53).', type: 'gauge', value: amount(n.earnings30d) },
    { name: 'datdot_alerts', help: 'Alerts on this node by level (what the Nodes page shows).', type: 'gauge', value: n.alerts.filter((a) => a.level === 'error').length, labels: { level: 'error' } },
    { name: 'datdot_alerts', help: '', type: 'gauge', value: n.alerts.filter((a) => a.level === 'warning').length, labels: { level: 'warning' } }
  ]
  const lines: string[] = []
  const described = new Set<string>()
  for (const m of metrics) {
    if (m.value === null) continue
    if (!described.has(m.name)) {
      described.add(m.name)
      lines.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`)
    }
    lines.push(`${m.name}${labelText(m.labels)} ${valueText(m.value)}`)
  }
  return lines.join('\n') + '\n'
}

function amount (s: string | null): bigint | null {
  return s === null ? null : BigInt(s)
}

function valueText (v: number | bigint | boolean): string {
  if (typeof v === 'boolean') return v ? '1' : '0'
  return v.toString()
}

function labelText (labels: Record<string, string> | undefined): string {
  if (labels === undefined) return ''
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`)
  return `{${parts.join(',')}}`
}

/** A label value: backslash, double quote and newline escaped (the format's three). */
function escapeLabel (s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** HELP text: backslash and newline escaped. */
function escapeHelp (s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}
