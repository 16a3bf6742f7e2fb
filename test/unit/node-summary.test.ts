/**
 * One node's dashboard line (main/api/node-summary.ts) from the answers of its calls, through an
 * injected caller (the narrow dependency: what a node answers), and the totals over several nodes.
 */
import { describe, it, expect } from 'vitest'
import { summariseNode, totalsOf, DISK_WARNING_SHARE } from '../../main/api/node-summary.js'
import type { NodeCaller } from '../../main/api/remote-node.js'
import { normaliseNodeUrl } from '../../main/api/remote-node.js'
import { DatdotError } from '../../main/shared/errors.js'
import type { NodeSummary } from '../../main/shared/contract-nodes.js'

const GiB = 1024 ** 3

function answers (over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    getStatus: { appVersion: '1.2.3', storage: '/s', pid: 9, network: { paused: false, connections: 4, announcing: 2 }, vault: { key: 'k', link: 'l', version: 1, files: 0, bytes: 0, restoring: null }, follows: 0, jobsRunning: 0 },
    getChainStatus: { connected: true, endpoint: 'ws://x', chainName: 'dev', blockNumber: 77, tokenSymbol: 'ROC', tokenDecimals: 12, address: 'addr', state: 'running', devTokens: true },
    getHosting: { status: { seeding: true, registered: true, storageBytes: 10 * GiB, bandwidthBps: 1, region: 'eu', usedBytes: 2 * GiB, hostedContracts: 3, seededPlans: 2, proofsPassed: 40, proofsFailed: 0, lastProof: null }, plans: [], contracts: [], lastProofs: [], earnings: [] },
    getWallet: { address: 'addr', free: '5000', reserved: '0', tokenSymbol: 'ROC', tokenDecimals: 12 },
    earnings: [{ day: '2026-11-30', reason: 'storage-proof', amount: '100' }, { day: '2026-12-01', reason: 'setup', amount: '23' }],
    ...over
  }
}

function caller (a: Record<string, unknown>, asked: string[] = []): NodeCaller {
  return (async (method: string) => {
    asked.push(method)
    const v = a[method]
    if (v instanceof Error) throw v
    if (v === undefined) throw DatdotError.forbidden(`${method} is not available here`)
    return v
  }) as NodeCaller
}

const ref = { id: 3, name: 'box', url: 'http://127.0.0.1:1' }
const now = (): number => 1_000_000

describe('a node\'s line on the dashboard', () => {
  it('adds up its 30 days of earnings as a bigint and carries its hosting figures', async () => {
    const line = await summariseNode(ref, caller(answers()), now)
    expect(line).toMatchObject({ reachable: true, chainState: 'running', seeding: true, usedBytes: 2 * GiB, hostedContracts: 3, earnings30d: '123', balance: '5000', tokenSymbol: 'ROC', alerts: [] })
  })

  it('does not ask hosting, wallet or earnings of a node whose chain is idle, so looking never starts a chain', async () => {
    const asked: string[] = []
    const a = answers({ getChainStatus: { ...(answers().getChainStatus as object), state: 'idle', connected: false } })
    const line = await summariseNode(ref, caller(a, asked), now)
    expect(asked).toEqual(['getStatus', 'getChainStatus'])
    expect(line).toMatchObject({ chainState: 'idle', seeding: null, earnings30d: null, alerts: [] })
  })

  it('warns when the disk is nearly full, proofs failed, or a seeder has no peer, and errs when networking is paused while seeding', async () => {
    const st = answers().getHosting as { status: Record<string, unknown> }
    const a = answers({
      getHosting: { ...st, status: { ...st.status, usedBytes: Math.ceil(DISK_WARNING_SHARE * 10 * GiB), proofsFailed: 2 } },
      getStatus: { ...(answers().getStatus as object), network: { paused: true, connections: 0, announcing: 0 } }
    })
    const line = await summariseNode(ref, caller(a), now)
    expect(line.alerts.map((x) => x.level)).toEqual(['error', 'warning', 'warning'])
    expect(line.alerts[0].text).toMatch(/networking paused/)
    expect(line.alerts[1].text).toMatch(/Disk nearly full: 9\.0 GiB of its 10\.0 GiB/)
    expect(line.alerts[2].text).toBe('2 proofs failed')
  })

  it('is unreachable with the reason when its status cannot be read, and asks nothing else', async () => {
    const asked: string[] = []
    const line = await summariseNode(ref, caller(answers({ getStatus: DatdotError.unreachable('http://x', 'refused') }), asked), now)
    expect(asked).toEqual(['getStatus'])
    expect(line).toMatchObject({ reachable: false, error: { code: 'UNREACHABLE' } })
    expect(line.alerts).toHaveLength(1)
    expect(line.alerts[0].level).toBe('error')
    expect(line.alerts[0].text).toMatch(/^Not answering: .*refused/)
  })

  it('keeps the figures it could read when one call fails, and says which failed', async () => {
    const line = await summariseNode(ref, caller(answers({ earnings: DatdotError.timeout('earnings', 5000) })), now)
    expect(line).toMatchObject({ reachable: true, seeding: true, earnings30d: null, error: { code: 'TIMEOUT' } })
    expect(line.alerts.at(-1)?.text).toMatch(/could not be read/)
  })

  it('says the chain failed when the node reports it', async () => {
    const line = await summariseNode(ref, caller(answers({ getChainStatus: { ...(answers().getChainStatus as object), state: 'failed', connected: false } })), now)
    expect(line.alerts[0]).toMatchObject({ level: 'error' })
  })
})

describe('the totals over nodes', () => {
  const line = (over: Partial<NodeSummary>): NodeSummary => ({
    id: 1, name: 'n', url: null, reachable: true, error: null, checkedMs: 0, latencyMs: 1, appVersion: '1', connections: 1, networkPaused: false,
    chainState: 'running', blockNumber: 1, tokenSymbol: 'ROC', tokenDecimals: 12, address: null, balance: '0', seeding: true,
    storageBytes: 100, usedBytes: 10, hostedContracts: 1, proofsPassed: 1, proofsFailed: 0, earnings30d: '1', alerts: [], ...over
  })

  it('adds earnings beyond 2^53 exactly when every node uses one token', () => {
    const t = totalsOf([line({ earnings30d: '9007199254740993' }), line({ earnings30d: '9007199254740993' }), line({ reachable: false, earnings30d: null, seeding: null, usedBytes: null })])
    expect(t).toMatchObject({ nodes: 3, reachable: 2, seeding: 2, storageBytes: 200, usedBytes: 20, earnings30d: '18014398509481986', tokenSymbol: 'ROC', earningsNote: null })
  })

  it('does not add up earnings in two different tokens, and says why', () => {
    const t = totalsOf([line({}), line({ tokenSymbol: 'DOT', tokenDecimals: 10 })])
    expect(t.earnings30d).toBeNull()
    expect(t.earningsNote).toMatch(/different chains or tokens/)
  })
})

describe('a node URL', () => {
  it('is reduced to its scheme, host and port', () => {
    expect(normaliseNodeUrl(' http://127.0.0.1:8080/ ')).toBe('http://127.0.0.1:8080')
    expect(normaliseNodeUrl('https://node.example:443')).toBe('https://node.example')
  })
})
