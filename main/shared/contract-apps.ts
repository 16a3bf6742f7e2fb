/**
 * The apps section of the API contract (composed in main/shared/contract.ts): DatDot apps are
 * serverless web apps whose code is a Hyperdrive (an own app is a space of kind 'app'; an app
 * opened by link is that drive followed) and whose data lives in the user's vault, in a data
 * space of its own per app (kind 'app-data'). See main/engine/apps.ts and docs/apps.md.
 *
 * The UI runs an app in a sandboxed frame with an opaque origin, served from a capability URL
 * (startAppPreview). The app talks only to its host page by postMessage (main/shared/app-bridge.ts
 * defines those messages); the host checks the app's permissions and calls the app* methods
 * below, which the engine scopes to that one app: an app never names a space, only paths in its
 * own data drive, and only drives it followed itself.
 *
 * Like every contract file, free of Node and Electron imports: bundled into preload and the renderer.
 */
import { z } from 'zod'
import { ALL, Amount, DriveKey, DrivePath, Empty, Ok, Version, method } from './contract-base.js'
import { Entry, HistoryItem } from './contract-vault.js'

export const APP_LIMITS = {
  /** Files in one app's code drive, and bytes of one code file the editor saves. */
  codeFiles: 500,
  codeFileBytes: 2 * 1024 * 1024,
  /** Bytes one app-data write may carry, and the total an app may keep in its data drive. */
  dataWriteBytes: 8 * 1024 * 1024,
  dataDriveBytes: 256 * 1024 * 1024,
  /**
   * Bytes one call of an app may carry to the engine, JSON-encoded (an 8 MiB write as base64 fits);
   * the host bridge refuses a bigger one (TOO_LARGE) and the API's WebSocket accepts messages this big.
   */
  callBytes: 12 * 1024 * 1024,
  /** Drives one app may follow. */
  appFollows: 100
} as const

/** What an app may ask for; the user grants each on first use and may revoke it. */
export const AppPermission = z.enum(['vault', 'p2p', 'chain', 'payments'])
export type AppPermission = z.infer<typeof AppPermission>

export const AppTemplate = z.enum(['blank', 'notes', 'gallery', 'social'])
export type AppTemplate = z.infer<typeof AppTemplate>

/** An app as the API names it: its id (an own app's space id, or its code drive key). */
export const AppRef = z.string().min(1).max(128)

/** manifest.json at the root of an app's code drive. */
export const AppManifest = z.object({
  name: z.string().min(1).max(128),
  version: z.string().max(64).default('0.1.0'),
  description: z.string().max(1024).default(''),
  /** The page the preview opens. */
  entry: z.string().max(512).default('/index.html'),
  permissions: z.array(AppPermission).max(8).default([])
})
export type AppManifest = z.infer<typeof AppManifest>

export const AppInfo = z.object({
  id: z.string(),
  /** Its code drive key (z-base-32). */
  key: z.string(),
  name: z.string(),
  /** Yours (editable, a space of kind 'app') or opened by link (read-only: fork it to edit). */
  own: z.boolean(),
  /** The link that shares the app's code (with #key= for an encrypted code drive). */
  link: z.string(),
  version: Version,
  /** null while the manifest is missing or invalid (manifestError says why). */
  manifest: AppManifest.nullable(),
  manifestError: z.string().nullable(),
  /** The app's data space id, once it has one (created on first run). */
  dataSpace: z.string().nullable(),
  granted: z.array(AppPermission),
  /** The app this one was forked from (its link), if any. */
  forkedFrom: z.string().nullable(),
  createdMs: z.number()
})
export type AppInfo = z.infer<typeof AppInfo>

const Data = z.object({
  /** utf8 text, or base64 for binary. */
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
  data: z.string()
})

export const appMethods = {
  listApps: method({ description: 'Your apps and the apps you opened by link, newest first.', args: Empty, result: z.object({ apps: z.array(AppInfo) }), exposure: ALL }),
  createApp: method({
    description: 'Create an app from a template: a new code drive with its files, saved as version 1.',
    args: z.object({ name: z.string().min(1).max(128), template: AppTemplate.default('blank') }).strict(),
    result: AppInfo,
    exposure: ALL
  }),
  openAppLink: method({
    description: "Open someone's app by its link (follows its code drive; it runs with a data drive of your own).",
    args: z.object({ link: z.string().max(8192) }).strict(),
    result: AppInfo,
    exposure: ALL
  }),
  forkApp: method({
    description: 'Edit a copy: a new app of your own with the files of this one at its current version.',
    args: z.object({ app: AppRef, name: z.string().min(1).max(128).optional() }).strict(),
    result: AppInfo,
    exposure: ALL
  }),
  removeApp: method({
    description: 'Remove an app from this list: deletes an own app\'s code drive, unfollows an opened one; keepData keeps its data space in the vault.',
    args: z.object({ app: AppRef, keepData: z.boolean().default(true), confirm: z.literal(true) }).strict(),
    result: Ok,
    exposure: ALL
  }),
  listAppFiles: method({
    description: "Every file of an app's code drive (recursive), at a version or the latest.",
    args: z.object({ app: AppRef, version: Version.optional() }).strict(),
    result: z.object({ version: Version, files: z.array(Entry) }),
    exposure: ALL
  }),
  readAppFile: method({
    description: "One file of an app's code drive as text.",
    args: z.object({ app: AppRef, path: DrivePath, version: Version.optional() }).strict(),
    result: z.object({ version: Version, text: z.string() }),
    exposure: ALL
  }),
  saveAppFiles: method({
    description: 'Save edits to an own app as one new version (all-or-nothing): files written, paths deleted.',
    args: z.object({
      app: AppRef,
      files: z.array(z.object({ path: DrivePath, text: z.string() }).strict()).max(APP_LIMITS.codeFiles),
      deleted: z.array(DrivePath).max(APP_LIMITS.codeFiles).default([])
    }).strict(),
    result: z.object({ version: Version }),
    exposure: ALL
  }),
  appHistory: method({
    description: "An app's saved versions, newest first.",
    args: z.object({ app: AppRef }).strict(),
    result: z.array(HistoryItem),
    exposure: ALL
  }),
  revertApp: method({
    description: 'Make an earlier version of an own app the current one (saved as a new version; nothing is lost).',
    args: z.object({ app: AppRef, version: Version }).strict(),
    result: z.object({ version: Version }),
    exposure: ALL
  }),
  startAppPreview: method({
    description: 'A capability to run an app: the UI loads `/run/<cap>/` (browser) or `datdot-app://<cap>/` (Electron) in a sandboxed frame. Ends with stopAppPreview or the node.',
    args: z.object({ app: AppRef, version: Version.optional() }).strict(),
    result: z.object({ cap: z.string(), entry: z.string() }),
    exposure: ALL
  }),
  stopAppPreview: method({ description: 'End a preview capability.', args: z.object({ cap: z.string().max(128) }).strict(), result: Ok, exposure: ALL }),
  setAppPermission: method({
    description: 'Grant or revoke one permission of an app (the host asks the user on first use).',
    args: z.object({ app: AppRef, permission: AppPermission, granted: z.boolean() }).strict(),
    result: AppInfo,
    exposure: ALL
  }),

  // ---- the app API, called by the host page on behalf of a running app (after its permission checks)
  appDataList: method({
    description: "List a folder of the app's own data drive.",
    args: z.object({ app: AppRef, path: DrivePath.default('/') }).strict(),
    result: z.array(Entry),
    exposure: ALL
  }),
  appDataRead: method({
    description: "Read a file of the app's own data drive.",
    args: z.object({ app: AppRef, path: DrivePath, encoding: z.enum(['utf8', 'base64']).default('utf8') }).strict(),
    result: Data,
    exposure: ALL
  }),
  appDataWrite: method({
    description: "Write a file to the app's own data drive (within APP_LIMITS).",
    args: z.object({ app: AppRef, path: DrivePath }).merge(Data).strict(),
    result: z.object({ version: Version }),
    exposure: ALL
  }),
  appDataDelete: method({
    description: "Delete a file or folder of the app's own data drive.",
    args: z.object({ app: AppRef, path: DrivePath }).strict(),
    result: z.object({ version: Version }),
    exposure: ALL
  }),
  appDataLink: method({
    description: "Share the app's data drive (its space becomes shared) and return its link, for friends' copies of the app to follow.",
    args: z.object({ app: AppRef }).strict(),
    result: z.object({ link: z.string() }),
    exposure: ALL
  }),
  appFollow: method({
    description: 'Follow a drive for an app (after the user agreed); the app may then read it.',
    args: z.object({ app: AppRef, link: z.string().max(8192) }).strict(),
    result: z.object({ key: DriveKey }),
    exposure: ALL
  }),
  appFollowedList: method({
    description: 'List a folder of a drive this app followed.',
    args: z.object({ app: AppRef, key: DriveKey, path: DrivePath.default('/') }).strict(),
    result: z.array(Entry),
    exposure: ALL
  }),
  appFollowedRead: method({
    description: 'Read a file of a drive this app followed.',
    args: z.object({ app: AppRef, key: DriveKey, path: DrivePath, encoding: z.enum(['utf8', 'base64']).default('utf8') }).strict(),
    result: Data,
    exposure: ALL
  }),
  appPay: method({
    description: "Pay an address from this node's wallet on an app's request, after the user confirmed it in the host's own dialog.",
    args: z.object({ app: AppRef, to: z.string().min(1).max(128), amount: Amount, memo: z.string().max(256).default('') }).strict(),
    result: z.object({ ok: z.literal(true), blockHash: z.string().nullable() }),
    exposure: ALL
  })
} as const

/** Events: an app's data drive changed (its own writes, or a restore), a drive it follows changed. */
export const appEvents = {
  'app.data.changed': z.object({ app: z.string(), version: Version }),
  'app.followed.changed': z.object({ app: z.string(), key: z.string(), version: Version }),
  'apps.changed': z.object({})
} as const
