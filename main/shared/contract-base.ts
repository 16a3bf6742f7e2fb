/**
 * Building blocks of the API contract (main/shared/contract.ts) that every area uses: the
 * limits, the shared argument schemas (drive keys, paths, versions, amounts), the error shape,
 * exposures and `method()`, which declares one method.
 *
 * Like every contract file, free of Node and Electron imports: bundled into preload and the renderer.
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
export const DriveKey = z.string().min(1).max(128)
/** A path inside a drive. Validated by the engine (main/engine/paths.ts), not here, so errors carry a code. */
export const DrivePath = z.string().max(LIMITS.pathBytes * 2)
export const Version = z.number().int().nonnegative()
/** Integer amounts in the token's smallest unit, as decimal strings (JSON has no bigint). */
export const Amount = z.string().regex(/^-?\d{1,40}$/)

export const ErrorShape = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional()
})

/**
 * Who may call a method:
 *   - 'ipc': the Electron renderer, through preload;
 *   - 'web': the browser UI over the WebSocket (a page: it never passes local file paths);
 *   - 'cli': a local program holding the token and sending no Origin (the `datdot` CLI).
 * Methods exposed only on 'ipc' are implemented by the Electron shell (dialogs, drops).
 */
export type Exposure = 'ipc' | 'web' | 'cli'

export interface MethodDef<A extends z.ZodType, R extends z.ZodType> {
  description: string
  args: A
  result: R
  exposure: readonly Exposure[]
}

export function method<A extends z.ZodType, R extends z.ZodType> (def: MethodDef<A, R>): MethodDef<A, R> {
  return def
}

export const ALL: readonly Exposure[] = ['ipc', 'web', 'cli']
export const LOCAL: readonly Exposure[] = ['cli']
export const SHELL: readonly Exposure[] = ['ipc']
export const Empty = z.object({}).strict()
export const Ok = z.object({ ok: z.literal(true) })
