/**
 * The node section of the API contract (composed in main/shared/contract.ts): status,
 * pausing the network, the recovery phrase, and the methods only the Electron shell implements (dialogs, drops,
 * opening files, the clipboard; main/electron).
 *
 * Like every contract file, free of Node and Electron imports: bundled into preload and the renderer.
 */
import { z } from 'zod'
import { ALL, DriveKey, DrivePath, Empty, LIMITS, Ok, SHELL, Version, method } from './contract-base.js'
import { Job, VaultInfo } from './contract-vault.js'
import { SpaceRef } from './contract-spaces.js'

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

export const statusMethods = {
  getStatus: method({ description: 'Engine, network, vault and job summary.', args: Empty, result: Status, exposure: ALL }),
  setNetworkPaused: method({
    description: 'Pause or resume all networking (no announcing, no connections).',
    args: z.object({ paused: z.boolean() }).strict(),
    result: NetworkStatus,
    exposure: ALL
  })
} as const

export const RecoveryPhrase = z.object({
  /** 24 words: the storage folder's primary key; restores the vault (and a derived wallet) on a new machine. */
  phrase: z.string(),
  /**
   * The chain wallet: 'derived' (the phrase restores it), 'none' (no wallet yet: it will be derived
   * from the phrase), or 'own' (made before wallets were derived: back up `walletPhrase` as well).
   */
  wallet: z.enum(['derived', 'none', 'own']),
  walletPhrase: z.string().optional()
})
export type RecoveryPhrase = z.infer<typeof RecoveryPhrase>

/** The most characters a typed recovery phrase may have (24 words of at most 8 letters, generous spacing). */
export const MAX_PHRASE_CHARS = 4096

export const BackupState = z.object({
  /** 'pending' until the user says they wrote the phrase down ('backed-up') or closes the prompt ('dismissed'). */
  backup: z.enum(['pending', 'backed-up', 'dismissed']),
  /** True while the folder is pristine (main/engine/pristine.ts): restoreFromPhrase is allowed. */
  canRestore: z.boolean(),
  /** Why restoreFromPhrase is refused, when it is. */
  restoreRefused: z.string().optional()
})
export type BackupState = z.infer<typeof BackupState>

/**
 * The recovery phrase, restoring a fresh install from one, the first-start backup prompt, and
 * ending a restore: for the app's own UI (the Electron window, the browser
 * UI the daemon serves with its token) and the CLI, each time after an explicit confirmation. A
 * holder of the API token can already read and delete the whole vault; the confirmation keeps the
 * phrase off the screen until the user asks for it.
 */
export const recoveryMethods = {
  getRecoveryPhrase: method({
    description: 'The recovery phrase of this storage folder (a secret: whoever has it has the vault). `confirm: true` is required.',
    args: z.object({ confirm: z.literal(true) }).strict(),
    result: RecoveryPhrase,
    exposure: ['ipc', 'web', 'cli']
  }),
  finishRestore: method({
    description: 'Ends a restore from the recovery phrase that has nothing more to fetch, so the vault can be written again (writing during a restore would fork it). `confirm: true` is required.',
    args: z.object({ confirm: z.literal(true) }).strict(),
    result: z.object({ ok: z.literal(true) }),
    exposure: ['ipc', 'web', 'cli']
  }),
  restoreFromPhrase: method({
    description: 'Replaces this pristine storage folder (a fresh install: no files, no history, no follows, no ledger or hosting activity) with the vault of a recovery phrase; ' +
      'the node restarts and downloads the vault from its followers and seeders. FORBIDDEN on a folder in use (restore into an empty folder with `datdot restore`); ' +
      'a wrong phrase is INVALID_ARGUMENT and changes nothing. `confirm: true` is required.',
    args: z.object({ phrase: z.string().max(MAX_PHRASE_CHARS), confirm: z.literal(true) }).strict(),
    result: z.object({ vault: VaultInfo }),
    exposure: ['ipc', 'web', 'cli']
  }),
  getBackupState: method({
    description: 'Whether the recovery phrase was written down (the first-start prompt shows while it is pending), and whether this folder can still be restored from a phrase.',
    args: Empty,
    result: BackupState,
    exposure: ALL
  }),
  setBackupState: method({
    description: "Records that the user wrote the recovery phrase down ('backed-up') or closed the first-start prompt ('dismissed').",
    args: z.object({ backup: z.enum(['backed-up', 'dismissed']) }).strict(),
    result: Ok,
    exposure: ALL
  })
} as const

/** Electron shell only (dialogs and drops; implemented in main/electron). */
export const shellMethods = {
  pickAndImport: method({
    description: 'Show an open dialog and import what the user picked into a space (omitted: the home space).',
    args: z.object({ kind: z.enum(['files', 'folder']), space: SpaceRef.optional(), dest: DrivePath.default('/') }).strict(),
    result: Job.nullable(),
    exposure: SHELL
  }),
  importDropped: method({
    description: 'Import what the user dropped on the window. `drop` is the one-time token preload gave the page for that drop (takeDrop()); ' +
      'the paths stay between preload and main, the page never sends one. Into a space (omitted: the home space).',
    args: z.object({
      drop: z.string().regex(/^[0-9a-f]{32}$/, 'a drop token is 32 hex characters'),
      space: SpaceRef.optional(),
      dest: DrivePath.default('/')
    }).strict(),
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
