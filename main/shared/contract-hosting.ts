/**
 * The chain, ledger and hosting network section of the API contract (composed in
 * main/shared/contract.ts): chain status, wallet and dev tokens, the earnings ledger, seeding,
 * sponsored plans and proofs.
 *
 * Like every contract file, free of Node and Electron imports: bundled into preload and the renderer.
 */
import { z } from 'zod'
import { ALL, Amount, Empty, LIMITS, Ok, method } from './contract-base.js'

// chain + ledger (issue: chain and earnings ledger)
export const ChainStatus = z.object({
  connected: z.boolean(),
  endpoint: z.string(),
  chainName: z.string().nullable(),
  blockNumber: z.number().int().nonnegative().nullable(),
  tokenSymbol: z.string().nullable(),
  tokenDecimals: z.number().int().nonnegative().nullable(),
  address: z.string().nullable(),
  /**
   * The embedded chain starts on demand: 'idle' until hosting is first used (or at start when
   * seeding is on or a plan is sponsored), 'starting', 'running', 'failed' (the next call retries).
   * Absent from nodes that do not start it on demand.
   */
  state: z.enum(['idle', 'starting', 'running', 'failed']).optional(),
  /** A local dev chain with DatDot's faucet: requestDevTokens works (the UI shows "Get dev tokens"). */
  devTokens: z.boolean()
})
export type ChainStatus = z.infer<typeof ChainStatus>

export const Wallet = z.object({
  address: z.string(),
  free: Amount,
  reserved: Amount,
  tokenSymbol: z.string(),
  tokenDecimals: z.number().int().nonnegative()
})
export type Wallet = z.infer<typeof Wallet>

export const LedgerEntry = z.object({
  id: z.number().int(),
  txId: z.string(),
  /** Idempotency key from the chain: block hash + event index (+ leg). */
  key: z.string(),
  account: z.string(),
  amount: Amount,
  reason: z.string(),
  blockNumber: z.number().int().nonnegative(),
  blockHash: z.string(),
  timeMs: z.number(),
  memo: z.string().nullable()
})
export type LedgerEntry = z.infer<typeof LedgerEntry>

export const EarningsRow = z.object({
  day: z.string(),
  reason: z.string(),
  amount: Amount
})
export type EarningsRow = z.infer<typeof EarningsRow>

/** Earnings net of the fees paid to earn them (main/ledger/ledger-views.ts): the one figure the UI shows. */
export const EarningsNet = z.object({
  gross: Amount,
  /** Fees of provider records (reports, registering), net of refunds. */
  fees: Amount,
  /** gross - fees; negative when the fees were higher. */
  net: Amount,
  feeCount: z.number().int().nonnegative(),
  byReason: z.array(z.object({ reason: z.string(), amount: Amount }))
})
export type EarningsNet = z.infer<typeof EarningsNet>

/** A ledger transaction as this node sees it; `legs` are its double-entry rows (the detail view). */
export const LedgerTx = z.object({
  id: z.number().int(),
  txId: z.string(),
  timeMs: z.number(),
  blockNumber: z.number().int().nonnegative(),
  blockHash: z.string(),
  reason: z.string(),
  memo: z.string().nullable(),
  account: z.string(),
  counterparties: z.array(z.string()),
  planIds: z.array(z.number().int()),
  net: Amount,
  reversal: z.boolean(),
  legs: z.array(z.object({ id: z.number().int(), key: z.string(), account: z.string(), amount: Amount, reason: z.string(), memo: z.string().nullable() }))
})
export type LedgerTx = z.infer<typeof LedgerTx>

// hosting network (issue: hosting network)
export const HostingProof = z.object({
  id: z.number().int(),
  challengeId: z.number().int(),
  kind: z.enum(['storage', 'performance']),
  role: z.enum(['attestor', 'hoster']),
  contractId: z.number().int(),
  hoster: z.string(),
  ok: z.boolean(),
  /** Storage: a STORAGE_FAILURES reason; performance: UNREACHABLE or NO_DATA; null when ok. */
  reason: z.string().nullable(),
  /** Storage: time to the walk commitment; performance: time to first block (ms). */
  latencyMs: z.number().nullable(),
  /** Performance: measured throughput in bytes per second; null for storage. */
  throughputBps: z.number().nullable(),
  timeMs: z.number()
})
export type HostingProof = z.infer<typeof HostingProof>

export const HostingStatus = z.object({
  seeding: z.boolean(),
  registered: z.boolean(),
  storageBytes: z.number().int().nonnegative(),
  bandwidthBps: z.number().int().nonnegative(),
  region: z.string(),
  usedBytes: z.number().int().nonnegative(),
  hostedContracts: z.number().int().nonnegative(),
  seededPlans: z.number().int().nonnegative(),
  proofsPassed: z.number().int().nonnegative(),
  proofsFailed: z.number().int().nonnegative(),
  lastProof: HostingProof.nullable(),
  /** Free space of the storage folder's disk (statfs); the disk limit may not exceed it. Null when unknown. */
  diskFreeBytes: z.number().nonnegative().nullable()
})
export type HostingStatus = z.infer<typeof HostingStatus>

export const HostingJob = z.object({
  id: z.string(),
  role: z.enum(['encoder', 'attestor', 'hoster', 'challenge']),
  planId: z.number().int(),
  contractId: z.number().int(),
  slot: z.number().int().nullable(),
  state: z.enum(['running', 'done', 'failed']),
  detail: z.string().nullable(),
  updatedMs: z.number()
})
export type HostingJob = z.infer<typeof HostingJob>

/** Something a seeder should act on before it costs (main/hosting/alerts.ts); also the 'hosting.alert' event. */
export const HostingAlert = z.object({
  id: z.string(),
  kind: z.enum(['containment', 'offline', 'network-paused', 'disk']),
  level: z.enum(['warning', 'danger']),
  title: z.string(),
  text: z.string(),
  recheckAtMs: z.number().nullable()
})
export type HostingAlert = z.infer<typeof HostingAlert>

export const HostingOverview = z.object({
  status: HostingStatus,
  /** Plans this node sponsors, with what is left of their budgets. */
  plans: z.array(z.object({ planId: z.number().int(), status: z.string(), replicas: z.number().int(), budget: Amount, spent: Amount, endBlock: z.number().int() })),
  /** Contract slots this node hosts. */
  contracts: z.array(z.object({ contractId: z.number().int(), planId: z.number().int(), slot: z.number().int(), state: z.string(), chunks: z.number().int() })),
  lastProofs: z.array(HostingProof),
  /** Sum of this node's earnings in the ledger (all time), by reason (gross: see `net`). */
  earnings: z.array(z.object({ reason: z.string(), amount: Amount })),
  /** Earnings net of the fees paid to earn them: all time and the last 30 days. */
  net: z.object({ allTime: EarningsNet, last30Days: EarningsNet }),
  /** What to act on now (main/hosting/alerts.ts). */
  alerts: z.array(HostingAlert),
  /** What happened to this node as a provider since it started: lost slots and why, containment, penalties (newest first). */
  events: z.array(z.object({
    timeMs: z.number(),
    block: z.number().int(),
    kind: z.enum(['slot-lost', 'containment', 'penalty', 'dropped', 'plan-ended']),
    text: z.string(),
    contractId: z.number().int().nullable(),
    slot: z.number().int().nullable()
  }))
})
export type HostingOverview = z.infer<typeof HostingOverview>

/** Keep online: what a plan would cost before paying (amounts in the smallest unit, decimal strings). */
export const SponsorQuote = z.object({
  sizeBytes: z.number().int().nonnegative(),
  /** Budget into escrow + chain fee: what leaves the wallet. */
  totalPlanck: Amount,
  /** The budget per GiB of the drive per 30 days, every replica included. */
  perGiBMonthPlanck: Amount,
  feePlanck: Amount,
  balancePlanck: Amount,
  /** May be negative: the wallet cannot pay. */
  balanceAfterPlanck: Amount,
  /** Why paying would be refused (too few providers, too little balance), or null. */
  problem: z.string().nullable()
})
export type SponsorQuote = z.infer<typeof SponsorQuote>

const SlotView = z.object({
  slot: z.number().int(),
  /** The hoster's and the encoder's chain accounts (ss58, like the wallet's address); null before one is picked. */
  hoster: z.string().nullable(),
  encoder: z.string().nullable(),
  state: z.enum(['unassigned', 'setup', 'hosting']),
  containment: z.boolean(),
  storage: z.object({ timeMs: z.number(), ok: z.boolean() }).nullable(),
  performance: z.object({ timeMs: z.number(), ttfbMs: z.number(), throughputBps: z.number(), reachable: z.boolean() }).nullable()
})

/** A plan this node sponsors as the Plans page shows it (proofs and events since the node started). */
export const PlanView = z.object({
  planId: z.number().int(),
  status: z.enum(['active', 'ended', 'unpublished', 'exhausted']),
  phase: z.enum(['published', 'selecting', 'encoding', 'hosted', 'ended']),
  keyHex: z.string(),
  /** The same key as SpaceInfo.key and FollowInfo.key (z-base-32): the UI names the plan from it. */
  driveKey: z.string(),
  sizeBytes: z.number().int().nonnegative().nullable(),
  replicas: z.number().int(),
  hosting: z.number().int(),
  startBlock: z.number().int(),
  endBlock: z.number().int(),
  budget: Amount,
  spent: Amount,
  left: Amount,
  /** What unpublishing now refunds. */
  refund: Amount,
  daysCovered: z.number().nonnegative(),
  limitedBy: z.enum(['end', 'budget', 'ended']),
  contracts: z.array(z.object({ contractId: z.number().int(), driveIndex: z.number().int(), start: z.number().int(), end: z.number().int(), slots: z.array(SlotView) })),
  events: z.array(z.object({ timeMs: z.number(), block: z.number().int(), text: z.string() }))
})
export type PlanView = z.infer<typeof PlanView>

/** A local seeder's name (getLocalSeeders): the call answers for that seeder (its own wallet and ledger) instead of this node. */
const SeederName = z.string().min(1).max(64).optional()

/** The seeder dashboard: earnings over time by reason, per plan, the month's estimate, metrics over time, reputation, hosted slots. */
const ReasonAmount = z.object({ reason: z.string(), amount: Amount })
export const HostingDashboard = z.object({
  /** The range shown (an "all" request starts at the first data). */
  fromMs: z.number(),
  toMs: z.number(),
  /** Earnings buckets (UTC-aligned starts, bucketMs long), one row per bucket and reason with a non-zero sum. */
  bucketMs: z.number().int().positive(),
  earnings: z.array(z.object({ t: z.number(), reason: z.string(), amount: Amount })),
  totals: z.array(ReasonAmount),
  total: Amount,
  /** Earnings in the range per plan (planId null: rows that name no plan), largest first. */
  byPlan: z.array(z.object({ planId: z.number().int().nullable(), total: Amount, byReason: z.array(ReasonAmount) })),
  /** The current month (UTC): earned so far and projected at the recent rate; null before any earning. */
  estimate: z.object({ monthStartMs: z.number(), monthEndMs: z.number(), earned: Amount, perDay: Amount, projected: Amount, windowMs: z.number() }).nullable(),
  /** Sampled once a minute, downsampled (minute, hour, day points): aligned columns, null where no sample exists. */
  metrics: z.object({
    stepMs: z.number().int().positive(),
    t: z.array(z.number()),
    usedBytes: z.array(z.number().nullable()),
    servedBytes: z.array(z.number().nullable()),
    reputation: z.array(z.number().nullable())
  }),
  reputation: z.object({ current: z.number().nullable(), start: z.number(), floor: z.number(), max: z.number() }),
  /**
   * The node's upload now: the limit (bytes/s, 0: none; the bandwidth while seeding), the rate
   * achieved over the last seconds, bytes sent and time spent throttled since the node started.
   */
  upload: z.object({ limitBps: z.number(), rateBps: z.number(), sentBytes: z.number(), throttledMs: z.number() }),
  /**
   * On a network that aggregates attestations, rewards are paid once an epoch: its length, the
   * block of the next payout and the chain's block now and block time (to say when). Null when
   * every reward is paid as it comes.
   */
  payouts: z.object({ epochBlocks: z.number().int().positive(), nextBlock: z.number().int().nonnegative(), blockNumber: z.number().int().nonnegative(), blockMs: z.number().positive() }).nullable(),
  /** Every slot this node hosts or sets up, with its last proof seen by this node. */
  slots: z.array(z.object({
    contractId: z.number().int(),
    planId: z.number().int(),
    slot: z.number().int(),
    state: z.enum(['unassigned', 'setup', 'hosting']),
    containment: z.boolean(),
    chunks: z.number().int(),
    lastProof: z.object({ kind: z.enum(['storage', 'performance']), ok: z.boolean(), timeMs: z.number() }).nullable()
  }))
})
export type HostingDashboard = z.infer<typeof HostingDashboard>

const SponsorArgs = z.object({ link: z.string().min(1).max(LIMITS.linkChars), replicas: z.number().int().min(1).max(8).default(3), days: z.number().int().min(1).max(3650).default(30), price: Amount }).strict()

export const chainMethods = {
  getChainStatus: method({ description: 'Connection to the chain.', args: Empty, result: ChainStatus, exposure: ALL }),
  getWallet: method({ description: "This node's chain account and balance.", args: Empty, result: Wallet, exposure: ALL }),
  requestDevTokens: method({
    description: 'Local (embedded or dev) chains only: dev tokens from the faucet for this node, in the smallest unit.',
    args: z.object({ amount: Amount }).strict(),
    result: Wallet,
    exposure: ALL
  }),
  ledgerEntries: method({
    description: 'Ledger rows of this node, newest first, paged.',
    args: z.object({
      limit: z.number().int().positive().max(LIMITS.ledgerPage).default(100),
      beforeId: z.number().int().positive().optional(),
      fromMs: z.number().optional(),
      toMs: z.number().optional()
    }).strict(),
    result: z.object({ entries: z.array(LedgerEntry), nextBeforeId: z.number().int().nullable() }),
    exposure: ALL
  }),
  ledgerTransactions: method({
    description: 'Ledger transactions of this node, newest first, paged: per transaction the account, counterparties, plans, net, and its double-entry legs.',
    args: z.object({
      limit: z.number().int().positive().max(500).default(50),
      beforeId: z.number().int().positive().optional(),
      seeder: SeederName
    }).strict(),
    result: z.object({ txs: z.array(LedgerTx), nextBeforeId: z.number().int().nullable() }),
    exposure: ALL
  }),
  earnings: method({
    description: 'Earnings of this node per day and reason, in a date range.',
    args: z.object({ fromMs: z.number(), toMs: z.number() }).strict(),
    result: z.array(EarningsRow),
    exposure: ALL
  })
} as const

export const hostingMethods = {
  getHosting: method({ description: 'Seeding mode, limits, hosted contracts, sponsored plans, last attestations, earnings.', args: Empty, result: HostingOverview, exposure: ALL }),
  setSeeding: method({
    description: 'Turn seeding mode on (register as a provider with these limits) or off (unregister).',
    args: z.object({
      on: z.boolean(),
      storageBytes: z.number().int().positive().max(2 ** 50).optional(),
      bandwidthBps: z.number().int().positive().max(2 ** 40).optional(),
      region: z.string().min(1).max(32).optional()
    }).strict(),
    result: HostingStatus,
    exposure: ALL
  }),
  sponsor: method({
    description: 'Publish a hosting plan for a drive: a space of your vault (its link, or its drive key: a private space has no link; the plan also holds your list of spaces, encrypted) or a followed drive. The price goes into escrow.',
    args: SponsorArgs,
    result: z.object({ planId: z.number().int() }),
    exposure: ALL
  }),
  quoteSponsor: method({
    description: 'What a plan for sponsor(args) would cost, before paying: the size, the total (budget + chain fee), the price per GiB-month, the fee, the balance after, and why paying would be refused.',
    args: SponsorArgs,
    result: SponsorQuote,
    exposure: ALL
  }),
  listPlans: method({ description: 'Every plan you sponsor: phase, budget, days covered, refund on unpublish, contracts and slots with their last proofs, events.', args: Empty, result: z.array(PlanView), exposure: ALL }),
  topUpPlan: method({
    description: 'Top up a plan you sponsor: more budget into escrow (amount, smallest unit) and/or more days before it ends; at least one of them.',
    args: z.object({ planId: z.number().int().positive(), days: z.number().int().min(0).max(3650).default(0), amount: Amount.default('0') }).strict(),
    result: Ok,
    exposure: ALL
  }),
  unpublish: method({ description: 'Stop a plan you sponsor; the unspent budget is refunded.', args: z.object({ planId: z.number().int().positive() }).strict(), result: Ok, exposure: ALL }),
  listHostingJobs: method({ description: 'Encoding, attesting, seeding and challenge jobs of this node.', args: Empty, result: z.array(HostingJob), exposure: ALL }),
  getHostingDashboard: method({
    description: 'The seeder dashboard for a time range: earnings over time by reason and per plan, the current month estimated from the recent rate, disk used, bytes served and reputation over time, hosted slots.',
    args: z.object({ fromMs: z.number().nonnegative(), toMs: z.number().positive(), seeder: SeederName }).strict(),
    result: HostingDashboard,
    exposure: ALL
  }),
  listProofs: method({
    description: 'Storage and performance proofs this node attested, newest first.',
    args: z.object({ limit: z.number().int().positive().max(1000).default(50) }).strict(),
    result: z.array(HostingProof),
    exposure: ALL
  })
} as const
