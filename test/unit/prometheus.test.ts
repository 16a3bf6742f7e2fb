/**
 * The Prometheus exposition of a node's figures (main/api/prometheus.ts): every known figure as a
 * sample, unknown ones left out (not exported as zero), amounts exact in the smallest unit,
 * labels escaped, each metric described once.
 */
import { describe, it, expect } from 'vitest'
import { renderPrometheus } from '../../main/api/prometheus.js'
import type { NodeSummary } from '../../main/shared/contract-nodes.js'
import type { Status } from '../../main/shared/contract.js'

function summary (over: Partial<NodeSummary> = {}): NodeSummary {
  return {
    id: null, name: 'This node', url: null, reachable: true, error: null, checkedMs: 0, latencyMs: 3,
    appVersion: '0.9.0', connections: 4, networkPaused: false, chainState: 'running', blockNumber: 1234,
    tokenSymbol: 'ROC', tokenDecimals: 12, address: '5Grw…utQY', balance: '12345678901234567890',
    seeding: true, storageBytes: 2 ** 30, usedBytes: 2 ** 20, hostedContracts: 7, proofsPassed: 40, proofsFailed: 1,
    earnings30d: '250000', alerts: [{ level: 'warning', text: '1 proof failed' }],
    ...over
  }
}

const status: Status = {
  appVersion: '0.9.0', storage: '/tmp/x', pid: 1, network: { paused: false, connections: 4, announcing: 2 },
  vault: { key: 'k', link: 'l', version: 3, files: 12, bytes: 3456, restoring: null }, follows: 2, jobsRunning: 0
}

function samples (text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), line.slice(at + 1))
  }
  return out
}

describe('the Prometheus exposition', () => {
  it('exports a seeding node\'s figures, amounts exact in planck and booleans as 0 or 1', () => {
    const s = samples(renderPrometheus(summary(), status))
    expect(s.get('datdot_up')).toBe('1')
    expect(s.get('datdot_wallet_free_planck')).toBe('12345678901234567890')
    expect(s.get('datdot_earnings_30d_planck')).toBe('250000')
    expect(s.get('datdot_chain_running')).toBe('1')
    expect(s.get('datdot_network_paused')).toBe('0')
    expect(s.get('datdot_seeding_limit_bytes')).toBe(String(2 ** 30))
    expect(s.get('datdot_proofs_failed_total')).toBe('1')
    expect(s.get('datdot_vault_files')).toBe('12')
    expect(s.get('datdot_network_announcing')).toBe('2')
    expect(s.get('datdot_alerts{level="warning"}')).toBe('1')
    expect(s.get('datdot_alerts{level="error"}')).toBe('0')
  })

  it('leaves out what the node does not know instead of exporting zeros', () => {
    const text = renderPrometheus(summary({ chainState: null, blockNumber: null, balance: null, earnings30d: null, seeding: null, hostedContracts: null }), null)
    const s = samples(text)
    for (const name of ['datdot_chain_running', 'datdot_chain_block', 'datdot_wallet_free_planck', 'datdot_earnings_30d_planck', 'datdot_seeding', 'datdot_hosted_contracts', 'datdot_vault_files']) {
      expect(s.has(name), name).toBe(false)
      expect(text).not.toContain(`# TYPE ${name} `)
    }
    expect(s.get('datdot_up')).toBe('1')
  })

  it('describes each metric once and types counters as counters', () => {
    const text = renderPrometheus(summary(), status)
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '))
    expect(new Set(types).size).toBe(types.length)
    expect(types.filter((l) => l.startsWith('# TYPE datdot_alerts '))).toHaveLength(1)
    expect(text).toContain('# TYPE datdot_proofs_passed_total counter')
    expect(text.endsWith('\n')).toBe(true)
  })

  it('escapes hostile label values so they cannot forge samples', () => {
    const text = renderPrometheus(summary({ appVersion: 'x"} 1\ndatdot_up 0\\', tokenSymbol: 'R"C' }), status)
    const info = text.split('\n').filter((l) => l.startsWith('datdot_info'))
    expect(info).toEqual(['datdot_info{version="x\\"} 1\\ndatdot_up 0\\\\",token="R\\"C"} 1'])
    expect(text.split('\n').filter((l) => l.startsWith('datdot_up '))).toEqual(['datdot_up 1'])
  })
})
