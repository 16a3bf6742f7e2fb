/**
 * The several-nodes dashboard's methods (contract-nodes.ts): this node and the daemons the user
 * added (kept in nodes-store.ts), each asked now through the same calls (node-summary.ts), the
 * others over HTTP (remote-node.ts) with a timeout each, all at once. Adding a node asks it first,
 * so a wrong URL or token is refused with its reason instead of kept.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Handlers } from '../shared/contract.js'
import type { Db } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import { NodesStore } from './nodes-store.js'
import { summariseNode, totalsOf } from './node-summary.js'
import { normaliseNodeUrl, remoteCaller, type NodeCaller } from './remote-node.js'

type NodeHandlers = Pick<Handlers, 'listNodes' | 'addNode' | 'removeNode' | 'getNodeAccess'>

export interface NodeHandlerOptions {
  /** This node's storage folder, where the API server writes daemon.json and api-token (getNodeAccess). */
  storage?: string
  /** How long another node has for each call (default 5 s). */
  timeoutMs?: number
  now?: () => number
}

/** `local` calls this node's own handlers (they are composed around these ones). */
export function createNodeHandlers (db: Db, local: NodeCaller, opts: NodeHandlerOptions = {}): NodeHandlers {
  const now = opts.now ?? Date.now
  const timeoutMs = opts.timeoutMs ?? 5000
  let store: NodesStore | null = null
  const nodes = (): NodesStore => (store ??= new NodesStore(db, now))
  return {
    listNodes: async () => {
      const lines = await Promise.all([
        summariseNode({ id: null, name: 'This node', url: null }, local, now),
        ...nodes().list().map((n) => summariseNode({ id: n.id, name: n.name, url: n.url }, remoteCaller(n.url, n.token, { timeoutMs }), now))
      ])
      return { nodes: lines, totals: totalsOf(lines) }
    },
    addNode: async ({ name, url, token }) => {
      const origin = normaliseNodeUrl(url)
      const [theirs, ours] = await Promise.all([remoteCaller(origin, token, { timeoutMs })('getStatus', {}), local('getStatus', {})])
      if (theirs.storage === ours.storage && theirs.pid === ours.pid) throw DatdotError.invalidArgument(`${origin} is this node: it is on the dashboard already`)
      return { id: nodes().add({ name, url: origin, token }) }
    },
    removeNode: async ({ id }) => {
      nodes().remove(id)
      return { ok: true }
    },
    getNodeAccess: async () => await nodeAccess(opts.storage)
  }
}

/** The API server's address (daemon.json, written when it listens) and token (api-token) in the storage folder. */
async function nodeAccess (storage: string | undefined): Promise<{ url: string | null, token: string | null }> {
  if (storage === undefined) return { url: null, token: null }
  const [daemon, token] = await Promise.all([
    readFile(join(storage, 'daemon.json'), 'utf8').catch(() => null),
    readFile(join(storage, 'api-token'), 'utf8').catch(() => null)
  ])
  let url: string | null = null
  try {
    const u = (JSON.parse(daemon ?? 'null') as { url?: unknown } | null)?.url
    if (typeof u === 'string' && /^https?:\/\//.test(u)) url = u.replace(/\/+$/, '')
  } catch { url = null }
  const t = token?.trim() ?? ''
  return { url, token: /^[0-9a-f]{64}$/.test(t) ? t : null }
}
