/**
 * The follows section of the API contract (composed in main/shared/contract.ts): following a
 * hyper:// link, live status of followed drives, unfollowing. Reading a followed drive goes
 * through the drive methods of contract-vault.ts.
 *
 * Like every contract file, free of Node and Electron imports: bundled into preload and the renderer.
 */
import { z } from 'zod'
import { ALL, DriveKey, Empty, LIMITS, Ok, Version, method } from './contract-base.js'

export const FollowState = z.enum(['connecting', 'syncing', 'synced', 'offline'])
export const FollowInfo = z.object({
  key: z.string(),
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
  offlineSinceMs: z.number().nullable()
})
export type FollowInfo = z.infer<typeof FollowInfo>

export const followMethods = {
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
  listFollows: method({ description: 'Followed drives with live status.', args: Empty, result: z.array(FollowInfo), exposure: ALL })
} as const
