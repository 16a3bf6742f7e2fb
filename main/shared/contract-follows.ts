/**
 * The follows section of the API contract (composed in main/shared/contract.ts): following a
 * hyper:// link, live status of followed drives, unfollowing. Reading a followed drive goes
 * through the drive methods of contract-vault.ts.
 *
 * Like every contract file, free of Node and Electron imports: bundled into preload and the renderer.
 */
import { z } from 'zod'
import { ALL, DriveKey, DrivePath, Empty, LIMITS, Ok, Version, method } from './contract-base.js'

/**
 * What a follow downloads: 'all' (every file, every version), 'folders' (the metadata, and the
 * files of the selected folders), 'on-demand' (the metadata; a file's contents when it is read,
 * exported or pinned). Pinned paths are downloaded and kept in every mode.
 */
export const FollowMode = z.enum(['all', 'folders', 'on-demand'])
export type FollowMode = z.infer<typeof FollowMode>
/** Bytes of file contents a follow may cache beyond what it keeps (pins, selected folders); null: no limit. */
export const CacheLimit = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable()
const Folders = z.array(DrivePath).max(256)

export const FollowState = z.enum(['connecting', 'syncing', 'synced', 'offline'])
export const FollowInfo = z.object({
  key: z.string(),
  /** The name the user gave this follow (renameFollow), null when none. */
  name: z.string().nullable(),
  /** What to call it: its name, else a short readable label derived from its key (follow-names.ts). */
  label: z.string(),
  link: z.string(),
  /** Sub-folder the link pointed at, '/' for the whole drive. */
  path: z.string(),
  /** Followed with a read key (the link's #key=, then also in `link`): an encrypted drive. */
  encrypted: z.boolean(),
  /**
   * Why the drive cannot be read: 'needs-key' (encrypted, followed without its read key),
   * 'wrong-key' (the read key does not open it); null when it reads or nothing is fetched yet.
   */
  locked: z.enum(['needs-key', 'wrong-key']).nullable(),
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
  offlineSinceMs: z.number().nullable(),
  mode: FollowMode,
  /** The selected folders (mode 'folders'), else empty. */
  folders: z.array(z.string()),
  /** Pinned folders and files: downloaded and kept through cache clears. */
  pins: z.array(z.string()),
  cacheLimitBytes: CacheLimit,
  /** Bytes of this follow on disk: file contents held plus the metadata. */
  bytesLocal: z.number().int().nonnegative(),
  /** Bytes held that are kept (pinned, in a selected folder, or everything in mode 'all'). */
  bytesPinned: z.number().int().nonnegative(),
  /** Bytes held that a clear would free (cached file contents, neither pinned nor selected). */
  bytesClearable: z.number().int().nonnegative()
})
export type FollowInfo = z.infer<typeof FollowInfo>

export const followMethods = {
  follow: method({
    description: 'Follow a hyper:// link: replicate it live and get notified of every update.',
    args: z.object({
      link: z.string().max(LIMITS.linkChars),
      /** Default 'all'. */
      mode: FollowMode.optional(),
      folders: Folders.optional(),
      /** Default: none for 'all' and 'folders', 1 GiB for 'on-demand'. */
      cacheLimitBytes: CacheLimit.optional()
    }).strict(),
    result: FollowInfo,
    exposure: ALL
  }),
  setFollowMode: method({
    description: "Change what a follow downloads ('all', 'folders' with its folders, 'on-demand') and its cache limit.",
    args: z.object({ key: DriveKey, mode: FollowMode, folders: Folders.optional(), cacheLimitBytes: CacheLimit.optional() }).strict(),
    result: FollowInfo,
    exposure: ALL
  }),
  pinPath: method({
    description: 'Pin a folder or file of a followed drive: download it and keep it through cache clears.',
    args: z.object({ key: DriveKey, path: DrivePath }).strict(),
    result: FollowInfo,
    exposure: ALL
  }),
  unpinPath: method({
    description: 'Unpin a folder or file of a followed drive: its contents become cache (cleared first by the limit).',
    args: z.object({ key: DriveKey, path: DrivePath }).strict(),
    result: FollowInfo,
    exposure: ALL
  }),
  renameFollow: method({
    description: 'Name a followed drive (an empty name goes back to its label from the key).',
    args: z.object({ key: DriveKey, name: z.string().max(512) }).strict(),
    result: FollowInfo,
    exposure: ALL
  }),
  unfollow: method({
    description: 'Stop following a drive; purge deletes its local copy.',
    args: z.object({ key: DriveKey, purge: z.boolean().default(false) }).strict(),
    result: Ok,
    exposure: ALL
  }),
  listFollows: method({ description: 'Followed drives with live status.', args: Empty, result: z.array(FollowInfo), exposure: ALL })
} as const
