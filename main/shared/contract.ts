/**
 * The one API contract of DatDot.
 *
 * Every method the UI, the CLI or another program can call, with the schema of
 * its arguments and of its result, and every event the engine emits. The engine
 * implements it (main/api/handlers.ts), Electron exposes it through preload as
 * named functions (preload/index.ts generates them from `methods`), the daemon
 * serves it over an authenticated loopback HTTP/WebSocket API (main/server/).
 *
 * This file must stay free of Node and Electron imports: it is bundled into the
 * preload script and the renderer too.
 *
 * Exposure says who may call a method:
 *   - 'ipc': the Electron renderer, through preload;
 *   - 'web': the browser UI over the WebSocket (a page: it never passes local file paths);
 *   - 'cli': a local program holding the token and sending no Origin (the `datdot` CLI).
 * Methods exposed only on 'ipc' are implemented by the Electron shell (dialogs, drops).
 */
import { z } from 'zod'

// ---------------------------------------------------------------- limits

export const LIMITS = {
  pathBytes: 4096,
  segmentBytes: 255,
  listEntries: 10_000,
  importPaths: 1_000,
  importFiles: 100_000,
  follows: 1_000,
  historyEntries: 1_000,
  linkChars: 8_192,
  ledgerPage: 1_000,
  uploadsOpen: 16
} as const

// ---------------------------------------------------------------- shared schemas

/** A drive key as the API carries it: z-base-32 (52 chars) or hex (64 chars). Validated by the engine. */
const DriveKey = z.string().min(1).max(128)
/** A path inside a drive. Validated by the engine (main/engine/paths.ts), not here, so errors carry a code. */
const DrivePath = z.string().max(LIMITS.pathBytes * 2)
const Version = z.number().int().nonnegative()
/** Integer amounts in the token's smallest unit, as decimal strings (JSON has no bigint). */
const Amount = z.string().regex(/^-?\d{1,40}$/)

export const ErrorShape = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional()
})

export const Entry = z.object({
  path: z.string(),
  name: z.string(),
  kind: z.enum(['file', 'folder']),
  size: z.number().int().nonnegative(),
  /** Modification time recorded in the entry's metadata (ms since epoch), null if unknown. */
  mtimeMs: z.number().nullable(),
  /** Drive version at which this entry was last written (files only; 0 for folders). */
  version: Version
})
export type Entry = z.infer<typeof Entry>

export const Change = z.object({
  type: z.enum(['put', 'del']),
  path: z.string(),
  size: z.number().int().nonnegative().nullable()
})
export type Change = z.infer<typeof Change>

export const VaultInfo = z.object({
  key: z.string(),
  link: z.string(),
  version: Version,
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative()
})
export type VaultInfo = z.infer<typeof VaultInfo>

export const FollowState = z.enum(['connecting', 'syncing', 'synced', 'offline'])
export const FollowInfo = z.object({
  key: z.string(),
  link: z.string(),
  /** Sub-folder the link pointed at, '/' for the whole drive. */
  path: z.string(),
  state: FollowState,
  version: Version,
  peers: z.number().int().nonnegative(),
  bytesDownloaded: z.number().int().nonnegative(),
  blocksHave: z.number().int().nonnegative(),
  blocksTotal: z.number().int().nonnegative(),
  addedMs: z.number(),
  lastUpdateMs: z.number().nullable(),
  /**
   * When state is 'offline' (no peer: the author's latest version is unknown, `version` is the
   * last one seen), since when; null in every other state.
   */
  offlineSinceMs: z.number().nullable()
})
export type FollowInfo = z.infer<typeof FollowInfo>

export const Job = z.object({
  id: z.string(),
  kind: z.enum(['import', 'export', 'upload']),
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  label: z.string(),
  bytesDone: z.number().int().nonnegative(),
  bytesTotal: z.number().int().nonnegative(),
  filesDone: z.number().int().nonnegative(),
  filesTotal: z.number().int().nonnegative(),
  startedMs: z.number(),
  endedMs: z.number().nullable(),
  /** Drive version after the job committed (imports and uploads). */
  version: Version.nullable(),
  error: ErrorShape.nullable()
})
export type Job = z.infer<typeof Job>

export const HistoryItem = z.object({
  version: Version,
  type: z.enum(['put', 'del']),
  path: z.string(),
  size: z.number().int().nonnegative().nullable(),
  mtimeMs: z.number().nullable()
})
export type HistoryItem = z.infer<typeof HistoryItem>

export const NetworkStatus = z.object({
  paused: z.boolean(),
  connections: z.number().int().nonnegative(),
  announcing: z.number().int().nonnegative()
})
export type NetworkStatus = z.infer<typeof NetworkStatus>

export const Status = z.object({
  appVersion: z.string(),
  storage: z.string(),
  pid: z.number().int(),
  network: NetworkStatus,
  vault: VaultInfo,
  follows: z.number().int().nonnegative(),
  jobsRunning: z.number().int().nonnegative()
})
export type Status = z.infer<typeof Status>

// chain + ledger (issue: chain and earnings ledger)
export const ChainStatus = z.object({
  connected: z.boolean(),
  endpoint: z.string(),
  chainName: z.string().nullable(),
  blockNumber: z.number().int().nonnegative().nullable(),
  tokenSymbol: z.string().nullable(),
  tokenDecimals: z.number().int().nonnegative().nullable(),
  address: z.string().nullable()
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
  lastProof: HostingProof.nullable()
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

export const HostingOverview = z.object({
  status: HostingStatus,
  /** Plans this node sponsors, with what is left of their budgets. */
  plans: z.array(z.object({ planId: z.number().int(), status: z.string(), replicas: z.number().int(), budget: Amount, spent: Amount, endBlock: z.number().int() })),
  /** Contract slots this node hosts. */
  contracts: z.array(z.object({ contractId: z.number().int(), planId: z.number().int(), slot: z.number().int(), state: z.string(), chunks: z.number().int() })),
  lastProofs: z.array(HostingProof),
  /** Sum of this node's earnings in the ledger (all time), by reason. */
  earnings: z.array(z.object({ reason: z.string(), amount: Amount }))
})
export type HostingOverview = z.infer<typeof HostingOverview>

// ---------------------------------------------------------------- methods

export type Exposure = 'ipc' | 'web' | 'cli'

interface MethodDef<A extends z.ZodType, R extends z.ZodType> {
  description: string
  args: A
  result: R
  exposure: readonly Exposure[]
}

function method<A extends z.ZodType, R extends z.ZodType> (def: MethodDef<A, R>): MethodDef<A, R> {
  return def
}

const ALL: readonly Exposure[] = ['ipc', 'web', 'cli']
const LOCAL: readonly Exposure[] = ['cli']
const SHELL: readonly Exposure[] = ['ipc']
const Empty = z.object({}).strict()
const Ok = z.object({ ok: z.literal(true) })

export const methods = {
  // -- status
  getStatus: method({ description: 'Engine, network, vault and job summary.', args: Empty, result: Status, exposure: ALL }),
  setNetworkPaused: method({
    description: 'Pause or resume all networking (no announcing, no connections).',
    args: z.object({ paused: z.boolean() }).strict(),
    result: NetworkStatus,
    exposure: ALL
  }),

  // -- vault
  getVault: method({ description: "The user's own drive.", args: Empty, result: VaultInfo, exposure: ALL }),
  listFiles: method({
    description: 'List a folder of the vault (or of a followed drive), optionally at an older version.',
    args: z.object({
      drive: DriveKey.optional(),
      path: DrivePath.default('/'),
      version: Version.optional(),
      recursive: z.boolean().default(false),
      limit: z.number().int().positive().max(LIMITS.listEntries).default(1000)
    }).strict(),
    result: z.object({ entries: z.array(Entry), version: Version, truncated: z.boolean() }),
    exposure: ALL
  }),
  stat: method({
    description: 'One entry, or NOT_FOUND.',
    args: z.object({ drive: DriveKey.optional(), path: DrivePath, version: Version.optional() }).strict(),
    result: Entry,
    exposure: ALL
  }),
  deletePath: method({
    description: 'Delete a file or a whole folder of the vault, atomically.',
    args: z.object({ path: DrivePath }).strict(),
    result: z.object({ version: Version, deleted: z.number().int().nonnegative() }),
    exposure: ALL
  }),
  movePath: method({
    description: 'Rename or move a file or folder inside the vault, atomically (no data is copied).',
    args: z.object({ from: DrivePath, to: DrivePath, overwrite: z.boolean().default(false) }).strict(),
    result: z.object({ version: Version, moved: z.number().int().nonnegative() }),
    exposure: ALL
  }),
  history: method({
    description: 'Version history, newest first.',
    args: z.object({
      drive: DriveKey.optional(),
      limit: z.number().int().positive().max(LIMITS.historyEntries).default(100),
      beforeVersion: Version.optional()
    }).strict(),
    result: z.object({ items: z.array(HistoryItem), version: Version }),
    exposure: ALL
  }),
  diff: method({
    description: 'What changed between two versions of a drive.',
    args: z.object({ drive: DriveKey.optional(), from: Version, to: Version.optional() }).strict(),
    result: z.object({ changes: z.array(Change), from: Version, to: Version, truncated: z.boolean() }),
    exposure: ALL
  }),
  share: method({
    description: 'The hyper:// link of the vault, or of one of its folders.',
    args: z.object({ path: DrivePath.default('/') }).strict(),
    result: z.object({ link: z.string() }),
    exposure: ALL
  }),
  importPaths: method({
    description: 'Import local files and folders into the vault (streamed, all-or-nothing). Local clients only.',
    args: z.object({
      paths: z.array(z.string().min(1).max(LIMITS.pathBytes)).min(1).max(LIMITS.importPaths),
      dest: DrivePath.default('/'),
      wait: z.boolean().default(false)
    }).strict(),
    result: Job,
    exposure: LOCAL
  }),
  exportPath: method({
    description: 'Export a file or folder of a drive to a local folder. Local clients only.',
    args: z.object({
      drive: DriveKey.optional(),
      path: DrivePath.default('/'),
      version: Version.optional(),
      dest: z.string().min(1).max(LIMITS.pathBytes),
      overwrite: z.boolean().default(false),
      wait: z.boolean().default(false)
    }).strict(),
    result: Job,
    exposure: LOCAL
  }),
  beginUpload: method({
    description: 'Start an upload session (browser UI): PUT files to the returned URL, then commitUpload.',
    args: z.object({ dest: DrivePath.default('/') }).strict(),
    result: z.object({ uploadId: z.string(), job: Job }),
    exposure: ['web', 'cli']
  }),
  commitUpload: method({
    description: 'Make every file of an upload session visible at once.',
    args: z.object({ uploadId: z.string() }).strict(),
    result: Job,
    exposure: ['web', 'cli']
  }),
  abortUpload: method({
    description: 'Drop an upload session; nothing of it becomes visible.',
    args: z.object({ uploadId: z.string() }).strict(),
    result: Ok,
    exposure: ['web', 'cli']
  }),
  createDownloadUrl: method({
    description: 'A one-time URL (valid 60 s) that streams a file of a drive.',
    args: z.object({ drive: DriveKey.optional(), path: DrivePath, version: Version.optional() }).strict(),
    result: z.object({ url: z.string() }),
    exposure: ['web', 'cli']
  }),

  // -- jobs
  listJobs: method({ description: 'Recent and running jobs.', args: Empty, result: z.array(Job), exposure: ALL }),
  cancelJob: method({
    description: 'Cancel a running job; an import is rolled back.',
    args: z.object({ id: z.string() }).strict(),
    result: Job,
    exposure: ALL
  }),

  // -- follows
  follow: method({
    description: 'Follow a hyper:// link: replicate it live and get notified of every update.',
    args: z.object({ link: z.string().max(LIMITS.linkChars) }).strict(),
    result: FollowInfo,
    exposure: ALL
  }),
  unfollow: method({
    description: 'Stop following a drive; purge deletes its local copy.',
    args: z.object({ key: DriveKey, purge: z.boolean().default(false) }).strict(),
    result: Ok,
    exposure: ALL
  }),
  listFollows: method({ description: 'Followed drives with live status.', args: Empty, result: z.array(FollowInfo), exposure: ALL }),

  // -- chain and ledger
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
  earnings: method({
    description: 'Earnings of this node per day and reason, in a date range.',
    args: z.object({ fromMs: z.number(), toMs: z.number() }).strict(),
    result: z.array(EarningsRow),
    exposure: ALL
  }),

  // -- hosting network
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
    description: 'Publish a hosting plan for a drive (your vault or a followed drive); the price goes into escrow.',
    args: z.object({ link: z.string().min(1).max(LIMITS.linkChars), replicas: z.number().int().min(1).max(8).default(3), days: z.number().int().min(1).max(3650).default(30), price: Amount }).strict(),
    result: z.object({ planId: z.number().int() }),
    exposure: ALL
  }),
  unpublish: method({ description: 'Stop a plan you sponsor; the unspent budget is refunded.', args: z.object({ planId: z.number().int().positive() }).strict(), result: Ok, exposure: ALL }),
  listHostingJobs: method({ description: 'Encoding, attesting, seeding and challenge jobs of this node.', args: Empty, result: z.array(HostingJob), exposure: ALL }),
  listProofs: method({
    description: 'Storage and performance proofs this node attested, newest first.',
    args: z.object({ limit: z.number().int().positive().max(1000).default(50) }).strict(),
    result: z.array(HostingProof),
    exposure: ALL
  }),

  // -- Electron shell only (dialogs and drops; implemented in main/electron)
  pickAndImport: method({
    description: 'Show an open dialog and import what the user picked.',
    args: z.object({ kind: z.enum(['files', 'folder']), dest: DrivePath.default('/') }).strict(),
    result: Job.nullable(),
    exposure: SHELL
  }),
  importDropped: method({
    description: 'Import what the user dropped on the window. `drop` is the one-time token preload gave the page for that drop (takeDrop()); ' +
      'the paths stay between preload and main, the page never sends one.',
    args: z.object({ drop: z.string().regex(/^[0-9a-f]{32}$/, 'a drop token is 32 hex characters'), dest: DrivePath.default('/') }).strict(),
    result: Job,
    exposure: SHELL
  }),
  exportWithDialog: method({
    description: 'Show a folder dialog and export a file or folder of a drive there.',
    args: z.object({ drive: DriveKey.optional(), path: DrivePath, version: Version.optional() }).strict(),
    result: Job.nullable(),
    exposure: SHELL
  }),
  openFile: method({
    description: 'Open a file of a drive with the system application (a read-only temporary copy).',
    args: z.object({ drive: DriveKey.optional(), path: DrivePath, version: Version.optional() }).strict(),
    result: Ok,
    exposure: SHELL
  }),
  copyText: method({
    description: 'Copy text to the clipboard.',
    args: z.object({ text: z.string().max(LIMITS.linkChars) }).strict(),
    result: Ok,
    exposure: SHELL
  })
} as const

// ---------------------------------------------------------------- events

export const events = {
  'vault.changed': z.object({ version: Version, changes: z.array(Change), truncated: z.boolean() }),
  'follow.updated': z.object({ key: z.string(), version: Version, changes: z.array(Change), truncated: z.boolean() }),
  'follow.status': FollowInfo,
  'follow.removed': z.object({ key: z.string() }),
  'job.progress': Job,
  'network.status': NetworkStatus,
  'chain.status': ChainStatus,
  'ledger.entry': LedgerEntry,
  'hosting.status': HostingStatus,
  'hosting.proof': HostingProof
} as const

// ---------------------------------------------------------------- derived types

export type Methods = typeof methods
export type MethodName = keyof Methods
export type Args<M extends MethodName> = z.input<Methods[M]['args']>
export type ParsedArgs<M extends MethodName> = z.output<Methods[M]['args']>
export type Result<M extends MethodName> = z.output<Methods[M]['result']>
export type Events = typeof events
export type EventName = keyof Events
export type EventData<E extends EventName> = z.output<Events[E]>

/** What a client sees: one async function per method. */
export type Api = { [M in MethodName]: (args: Args<M>) => Promise<Result<M>> }
/** What an implementation provides: receives validated, defaulted arguments. */
export type Handlers<M extends MethodName = MethodName> = { [K in M]: (args: ParsedArgs<K>) => Promise<Result<K>> }


export const METHOD_NAMES = Object.keys(methods) as MethodName[]
export const EVENT_NAMES = Object.keys(events) as EventName[]

export function isMethodName (name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name)
}

export function isExposed (name: MethodName, how: Exposure): boolean {
  return methods[name].exposure.includes(how)
}

/** Methods the engine implements (everything not shell-only). */
export const ENGINE_METHODS = METHOD_NAMES.filter((m) => !(methods[m].exposure.length === 1 && methods[m].exposure[0] === 'ipc'))
export const SHELL_METHODS = METHOD_NAMES.filter((m) => !ENGINE_METHODS.includes(m))

/** The IPC channel name of a method or of the event stream. */
export const IPC_PREFIX = 'datdot:'
export const IPC_EVENT_CHANNEL = 'datdot:event'
/**
 * Preload-only channel (not a method, not on window.datdot): preload hands main the paths of a
 * trusted drop event under a one-time token, `{ drop, paths }` (main/electron/drops.ts).
 */
export const IPC_DROP_CHANNEL = 'datdot:drop-paths'
