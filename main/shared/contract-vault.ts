/**
 * The vault and drives section of the API contract (composed in main/shared/contract.ts): the
 * user's own drive and reading any drive (list, stat, history, diff, share, import, export,
 * upload sessions, download links), and the jobs that imports, exports and uploads run as.
 *
 * Like every contract file, free of Node and Electron imports: bundled into preload and the renderer.
 */
import { z } from 'zod'
import { ALL, DriveKey, DrivePath, Empty, ErrorShape, LIMITS, LOCAL, Ok, Version, method } from './contract-base.js'

/** A space as the write methods name it: its id, name or drive key (contract-spaces.ts). Omitted: the home space. */
const Space = z.string().min(1).max(128).optional()

/**
 * The empty file that keeps a new, empty folder in a drive (a Hyperdrive folder exists while a
 * file is under it; main/engine/vault-folders.ts). The app's listings do not show it.
 */
export const FOLDER_MARKER = '.datdot-folder'

export const Entry = z.object({
  path: z.string(),
  name: z.string(),
  kind: z.enum(['file', 'folder']),
  size: z.number().int().nonnegative(),
  /** Modification time recorded in the entry's metadata (ms since epoch), null if unknown. */
  mtimeMs: z.number().nullable(),
  /** Drive version at which this entry was last written (files only; 0 for folders). */
  version: Version,
  /**
   * Folders of a listing, when their contents were counted (folder-totals.ts): how many files
   * they hold; `size` is then their bytes and `mtimeMs` their newest file's. Absent: not counted.
   */
  files: z.number().int().nonnegative().optional()
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
  bytes: z.number().int().nonnegative(),
  /**
   * A restore from the recovery phrase still downloading the vault (writes are refused until it
   * ends): metadata blocks here and known so far. Null when no restore runs.
   */
  restoring: z.object({ blocksHere: z.number().int().nonnegative(), blocksKnown: z.number().int().nonnegative() }).nullable()
})
export type VaultInfo = z.infer<typeof VaultInfo>

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

export const vaultMethods = {
  getVault: method({ description: "The vault's home space (listSpaces gives every space).", args: Empty, result: VaultInfo, exposure: ALL }),
  listFiles: method({
    description: 'List a folder of the vault (or of a followed drive), optionally at an older version, a page at a time: pass `next` back as `cursor` for the following page.',
    args: z.object({
      drive: DriveKey.optional(),
      path: DrivePath.default('/'),
      version: Version.optional(),
      recursive: z.boolean().default(false),
      limit: z.number().int().positive().max(LIMITS.listEntries).default(1000),
      /** The `next` of the previous page (opaque; checked by the engine, main/engine/drive-list.ts). */
      cursor: z.string().min(1).max(16_384).optional()
    }).strict(),
    result: z.object({
      entries: z.array(Entry),
      version: Version,
      /** More entries follow (`next` is set). */
      truncated: z.boolean(),
      /** Pass as `cursor` for the next page; null on the last page. Pages come in stored (name) order. */
      next: z.string().nullable(),
      /** How many entries the folder holds, when the listing is one page; null when not counted. */
      total: z.number().int().nonnegative().nullable()
    }),
    exposure: ALL
  }),
  stat: method({
    description: 'One entry, or NOT_FOUND.',
    args: z.object({ drive: DriveKey.optional(), path: DrivePath, version: Version.optional() }).strict(),
    result: Entry,
    exposure: ALL
  }),
  deletePath: method({
    description: 'Delete a file or a whole folder of a space, atomically.',
    args: z.object({ space: Space, path: DrivePath }).strict(),
    /** `before`: the version just before the delete (restorePath at it undoes the delete). */
    result: z.object({ version: Version, deleted: z.number().int().nonnegative(), before: Version }),
    exposure: ALL
  }),
  restorePath: method({
    description: 'Put a file or folder of a space back as it was at an older version (files added since stay), in one commit.',
    args: z.object({ space: Space, path: DrivePath, version: Version }).strict(),
    result: z.object({ version: Version, restored: z.number().int().nonnegative() }),
    exposure: ALL
  }),
  createFolder: method({
    description: `Create an empty folder named \`name\` in the folder \`parent\` of a space (kept by an empty ${FOLDER_MARKER} file). A name that is empty, '.' or '..', holds '/', is too long or is taken is refused with the reason.`,
    args: z.object({ space: Space, parent: DrivePath.default('/'), name: z.string().max(1024) }).strict(),
    result: z.object({ version: Version, path: z.string() }),
    exposure: ALL
  }),
  movePath: method({
    description: 'Rename or move a file or folder inside a space, atomically (no data is copied).',
    args: z.object({ space: Space, from: DrivePath, to: DrivePath, overwrite: z.boolean().default(false) }).strict(),
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
    description: 'The hyper:// link of a shared or public space (a link always opens the whole space).',
    args: z.object({ space: Space, path: DrivePath.default('/') }).strict(),
    result: z.object({ link: z.string() }),
    exposure: ALL
  }),
  importPaths: method({
    description: 'Import local files and folders into a space (streamed, all-or-nothing). Local clients only.',
    args: z.object({
      space: Space,
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
    args: z.object({
      space: Space,
      dest: DrivePath.default('/'),
      /** What the page is about to send (the job's totals from the start); more is counted as it comes. */
      files: z.number().int().nonnegative().max(LIMITS.importFiles).optional(),
      bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional()
    }).strict(),
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
  })
} as const

export const jobMethods = {
  listJobs: method({ description: 'Recent and running jobs.', args: Empty, result: z.array(Job), exposure: ALL }),
  cancelJob: method({
    description: 'Cancel a running job; an import is rolled back.',
    args: z.object({ id: z.string() }).strict(),
    result: Job,
    exposure: ALL
  })
} as const
