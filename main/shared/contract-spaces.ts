/**
 * The spaces section of the API contract (composed in main/shared/contract.ts): a vault holds
 * several drives ("spaces"), each private (encrypted, no link given out), shared (encrypted, its
 * link carries the read key) or public (plain). See main/engine/spaces.ts.
 *
 * Like every contract file, free of Node and Electron imports: bundled into preload and the renderer.
 */
import { z } from 'zod'
import { ALL, DrivePath, Empty, Ok, Version, method } from './contract-base.js'
import { Job } from './contract-vault.js'

export const Visibility = z.enum(['private', 'shared', 'public'])
export type Visibility = z.infer<typeof Visibility>

/** A space as the API names it: its id, its name (any case) or its drive key. Omitted: the home space. */
export const SpaceRef = z.string().min(1).max(128)

export const SpaceInfo = z.object({
  id: z.string(),
  name: z.string(),
  visibility: Visibility,
  /** Its blocks are encrypted (private and shared spaces). */
  encrypted: z.boolean(),
  /** Its drive key (z-base-32): pass it as `drive` to read the space. */
  key: z.string(),
  /** What to give a reader: null for a private space; with `#key=` for a shared one (a secret). */
  link: z.string().nullable(),
  version: Version,
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  createdMs: z.number(),
  /** Peers replicating this space right now (followers, seeders, your other machines). */
  peers: z.number().int().nonnegative(),
  restoring: z.object({ blocksHere: z.number().int().nonnegative(), blocksKnown: z.number().int().nonnegative() }).nullable(),
  /** What it holds: files, or an app's data ('app-data', see contract-apps.ts); absent means files. */
  kind: z.enum(['files', 'app', 'app-data']).optional(),
  /** An 'app-data' space: the name of its app ("App data: Notes"). */
  appName: z.string().optional()
})
export type SpaceInfo = z.infer<typeof SpaceInfo>

export const spaceMethods = {
  listSpaces: method({
    description: "The vault's spaces, oldest first; restoringList while a restore still waits for the list itself.",
    args: Empty,
    result: z.object({ spaces: z.array(SpaceInfo), restoringList: z.boolean() }),
    exposure: ALL
  }),
  createSpace: method({
    description: 'Create a space: private and shared ones are encrypted, public ones are not (fixed for the life of the space).',
    args: z.object({ name: z.string().max(512), visibility: Visibility.default('private') }).strict(),
    result: SpaceInfo,
    exposure: ALL
  }),
  updateSpace: method({
    description: 'Rename a space, or make it shared or private again (making it private does not take its link back from those who have it).',
    args: z.object({ space: SpaceRef, name: z.string().max(512).optional(), visibility: Visibility.optional() }).strict(),
    result: SpaceInfo,
    exposure: ALL
  }),
  deleteSpace: method({
    description: 'Delete a space and clear its blocks from this disk (copies its followers and seeders made stay with them).',
    args: z.object({ space: SpaceRef, confirm: z.literal(true) }).strict(),
    result: Ok,
    exposure: ALL
  }),
  transferPath: method({
    description: 'Copy or move a file or folder from one space into a folder of another, as a job (all-or-nothing; never overwrites).',
    args: z.object({
      from: SpaceRef.optional(),
      path: DrivePath,
      to: SpaceRef.optional(),
      into: DrivePath.default('/'),
      move: z.boolean().default(false),
      wait: z.boolean().default(false)
    }).strict(),
    result: Job,
    exposure: ALL
  })
} as const
