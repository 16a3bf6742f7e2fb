/**
 * The one API contract of DatDot.
 *
 * Every method the UI, the CLI or another program can call, with the schema of
 * its arguments and of its result, and every event the engine emits. The engine
 * implements it (main/api/handlers.ts), Electron exposes it through preload as
 * named functions (preload/index.ts generates them from `methods`), the daemon
 * serves it over an authenticated loopback HTTP/WebSocket API (main/server/).
 *
 * This file composes the sections, one per area, in this order: the node (status, and the
 * Electron shell's methods last; contract-app.ts), the vault and drives and their jobs
 * (contract-vault.ts), spaces (contract-spaces.ts), follows (contract-follows.ts), the chain, ledger and hosting network
 * (contract-hosting.ts, the availability schedule in contract-schedule.ts, local seeders in contract-local-seeders.ts), several nodes on one dashboard (contract-nodes.ts), apps (contract-apps.ts, with the app bridge's messages in app-bridge.ts); contract-base.ts holds the limits, shared schemas and exposures.
 * Import from this file: it re-exports what the sections define.
 *
 * This file and its sections must stay free of Node and Electron imports: they are bundled
 * into the preload script and the renderer too.
 *
 * Exposure says who may call a method (see Exposure in contract-base.ts):
 *   - 'ipc': the Electron renderer, through preload;
 *   - 'web': the browser UI over the WebSocket (a page: it never passes local file paths);
 *   - 'cli': a local program holding the token and sending no Origin (the `datdot` CLI).
 * Methods exposed only on 'ipc' are implemented by the Electron shell (dialogs, drops).
 */
import { z } from 'zod'
import { Version, type Exposure } from './contract-base.js'
import { Change, Job, jobMethods, vaultMethods } from './contract-vault.js'
import { FollowInfo, followMethods } from './contract-follows.js'
import { ChainStatus, HostingAlert, HostingProof, HostingStatus, LedgerEntry, chainMethods, hostingMethods } from './contract-hosting.js'
import { NetworkStatus, recoveryMethods, shellMethods, statusMethods } from './contract-app.js'
import { spaceMethods } from './contract-spaces.js'
import { appEvents, appMethods } from './contract-apps.js'
import { nodeMethods } from './contract-nodes.js'
import { scheduleMethods } from './contract-schedule.js'
import { localSeederEvents, localSeederMethods } from './contract-local-seeders.js'

export { LIMITS, ErrorShape, type Exposure } from './contract-base.js'
export { Entry, Change, VaultInfo, Job, HistoryItem, FOLDER_MARKER } from './contract-vault.js'
export { Visibility, SpaceInfo } from './contract-spaces.js'
export { APP_LIMITS, AppPermission, AppTemplate, AppManifest, AppInfo } from './contract-apps.js'
export { FollowState, FollowInfo, FollowMode } from './contract-follows.js'
export { ChainStatus, Wallet, LedgerEntry, LedgerTx, EarningsNet, EarningsRow, HostingAlert, HostingProof, HostingStatus, HostingJob, HostingOverview, SponsorQuote, PlanView, HostingDashboard } from './contract-hosting.js'
export { NetworkStatus, Status, RecoveryPhrase } from './contract-app.js'
export { NODE_LIMITS, NodeAccess, NodeSummary, NodesOverview } from './contract-nodes.js'
export { SCHEDULE_LIMITS, AvailabilitySchedule } from './contract-schedule.js'
export { LOCAL_SEEDER_LIMITS, LocalSeeder, LocalSeedersState } from './contract-local-seeders.js'

// ---------------------------------------------------------------- methods

/** Every method, in the order preload exposes them and METHOD_NAMES lists them. */
export const methods = {
  ...statusMethods,
  ...recoveryMethods,
  ...vaultMethods,
  ...spaceMethods,
  ...jobMethods,
  ...followMethods,
  ...chainMethods,
  ...hostingMethods,
  ...scheduleMethods,
  ...localSeederMethods,
  ...appMethods,
  ...nodeMethods,
  ...shellMethods
} as const

// ---------------------------------------------------------------- events

export const events = {
  'vault.changed': z.object({ space: z.string(), version: Version, changes: z.array(Change), truncated: z.boolean() }),
  /** The list of spaces changed (created, renamed, deleted, visibility, or a restore brought it). */
  'spaces.changed': z.object({}),
  'follow.updated': z.object({ key: z.string(), version: Version, changes: z.array(Change), truncated: z.boolean() }),
  'follow.status': FollowInfo,
  'follow.removed': z.object({ key: z.string() }),
  'job.progress': Job,
  'network.status': NetworkStatus,
  'chain.status': ChainStatus,
  'ledger.entry': LedgerEntry,
  'hosting.status': HostingStatus,
  'hosting.proof': HostingProof,
  /** A new alert (a slot in containment, offline for the chain, networking paused, disk nearly full). */
  'hosting.alert': HostingAlert,
  ...appEvents,
  ...localSeederEvents
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
