/**
 * The several-nodes section of the API contract (composed in main/shared/contract.ts): a seeder
 * who runs more than one daemon adds the others by URL and API token and sees each node's state,
 * storage, proofs, earnings and alerts, with totals, on one page (issue 10 item 6; the anchor is
 * Storj's multinode dashboard). The daemon asks the other nodes itself (main/api/handlers-nodes.ts):
 * the page never talks to another origin, and the tokens never come back out of the API.
 *
 * Like every contract file, free of Node and Electron imports: bundled into preload and the renderer.
 */
import { z } from 'zod'
import { ALL, Amount, ErrorShape, Ok, method } from './contract-base.js'

export const NODE_LIMITS = {
  /** Other nodes one node keeps. */
  nodes: 32,
  nameChars: 64,
  urlChars: 256,
  tokenChars: 256,
  /** Largest answer read from another node, per call. */
  answerBytes: 4 * 1024 * 1024
} as const

/** What one node looks like on the dashboard. Figures are null when the node did not answer them. */
export const NodeSummary = z.object({
  /** null for this node; the id addNode returned for another. */
  id: z.number().int().positive().nullable(),
  name: z.string(),
  /** null for this node. */
  url: z.string().nullable(),
  reachable: z.boolean(),
  /** Why the node (or one of its figures) could not be read. */
  error: ErrorShape.nullable(),
  checkedMs: z.number(),
  /** How long the node took to answer its status, ms. */
  latencyMs: z.number().nonnegative().nullable(),
  appVersion: z.string().nullable(),
  connections: z.number().int().nonnegative().nullable(),
  networkPaused: z.boolean().nullable(),
  /** The chain: 'idle' until the node uses hosting (its figures below stay null then). */
  chainState: z.enum(['idle', 'starting', 'running', 'failed', 'offline']).nullable(),
  blockNumber: z.number().int().nonnegative().nullable(),
  tokenSymbol: z.string().nullable(),
  tokenDecimals: z.number().int().nonnegative().nullable(),
  address: z.string().nullable(),
  balance: Amount.nullable(),
  seeding: z.boolean().nullable(),
  storageBytes: z.number().int().nonnegative().nullable(),
  usedBytes: z.number().int().nonnegative().nullable(),
  hostedContracts: z.number().int().nonnegative().nullable(),
  proofsPassed: z.number().int().nonnegative().nullable(),
  proofsFailed: z.number().int().nonnegative().nullable(),
  /** Ledger earnings of the last 30 days (all reasons), smallest unit. */
  earnings30d: Amount.nullable(),
  /** Short sentences, worst first: what needs the owner's attention on this node. */
  alerts: z.array(z.object({ level: z.enum(['error', 'warning']), text: z.string() }))
})
export type NodeSummary = z.infer<typeof NodeSummary>

export const NodesOverview = z.object({
  nodes: z.array(NodeSummary),
  totals: z.object({
    nodes: z.number().int().nonnegative(),
    reachable: z.number().int().nonnegative(),
    seeding: z.number().int().nonnegative(),
    storageBytes: z.number().int().nonnegative(),
    usedBytes: z.number().int().nonnegative(),
    hostedContracts: z.number().int().nonnegative(),
    alerts: z.number().int().nonnegative(),
    /** Sum over the nodes that answered, when they all use one token; null otherwise (see earningsNote). */
    earnings30d: Amount.nullable(),
    tokenSymbol: z.string().nullable(),
    tokenDecimals: z.number().int().nonnegative().nullable(),
    earningsNote: z.string().nullable()
  })
})
export type NodesOverview = z.infer<typeof NodesOverview>

/** How another node's app reaches this one (its Nodes page shows them, the token behind a click). */
export const NodeAccess = z.object({
  /** The address this node's API answers on (http://127.0.0.1:port), null when it runs no API server. */
  url: z.string().nullable(),
  /** Its API token (the file api-token in its storage folder), null when it has none yet. */
  token: z.string().nullable()
})
export type NodeAccess = z.infer<typeof NodeAccess>

export const nodeMethods = {
  getNodeAccess: method({
    description: "This node's API address and token, which another DatDot adds it with (Nodes page, \"Add a node\"). Callers already hold the token.",
    args: z.object({}).strict(),
    result: NodeAccess,
    exposure: ALL
  }),
  listNodes: method({
    description: 'This node and the other nodes you added: state, storage, proofs, earnings of the last 30 days, alerts, and totals. Asks every node now (a node that does not answer in time is shown unreachable).',
    args: z.object({}).strict(),
    result: NodesOverview,
    exposure: ALL
  }),
  addNode: method({
    description: 'Add another DatDot daemon to the dashboard by its URL (http://host:port) and API token (its <storage>/api-token). The node is asked once before it is kept: a wrong token or an unreachable URL is refused.',
    args: z.object({
      name: z.string().trim().min(1).max(NODE_LIMITS.nameChars),
      url: z.string().trim().min(1).max(NODE_LIMITS.urlChars),
      token: z.string().trim().min(1).max(NODE_LIMITS.tokenChars)
    }).strict(),
    result: z.object({ id: z.number().int().positive() }),
    exposure: ALL
  }),
  removeNode: method({
    description: 'Forget a node you added (its daemon is not touched).',
    args: z.object({ id: z.number().int().positive() }).strict(),
    result: Ok,
    exposure: ALL
  })
} as const
