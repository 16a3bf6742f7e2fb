/**
 * Paths of files dropped on the window, held in the main process under one-time tokens.
 *
 * "No paths from pages": the page's API (window.datdot) has no call that takes a local path.
 * When the user drops files, preload (not the page) sees the trusted `drop` event, turns its
 * File objects into paths with webUtils.getPathForFile, makes a random token and sends
 * `{ drop: token, paths }` on the preload-only channel IPC_DROP_CHANNEL; main keeps them here.
 * The page only learns the token (takeDrop()) and may ask for `importDropped({ drop })` once:
 * take() hands the paths out and forgets them. Tokens expire after `ttlMs` and at most `max`
 * drops are held (the oldest goes first), so drops that are never imported cost nothing.
 *
 * Pure apart from stat(): no 'electron' import, unit-tested in test/unit/electron-drops.test.ts.
 */
import { isAbsolute, basename } from 'node:path'
import { stat } from 'node:fs/promises'
import { LIMITS } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'

const TOKEN = /^[0-9a-f]{32}$/

export interface DropRegistryOptions {
  /** A drop not imported within this long is forgotten (default 10 minutes). */
  ttlMs?: number
  /** At most this many drops are held (default 16). */
  max?: number
  now?: () => number
}

export class DropRegistry {
  private readonly drops = new Map<string, { paths: string[], atMs: number }>()
  private readonly ttlMs: number
  private readonly max: number
  private readonly now: () => number

  constructor (opts: DropRegistryOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000
    this.max = opts.max ?? 16
    this.now = opts.now ?? Date.now
  }

  get size (): number {
    return this.drops.size
  }

  /** Records the paths of one drop (from preload). Every path must be an existing local file or folder. */
  async register (args: unknown): Promise<void> {
    const { drop, paths } = (typeof args === 'object' && args !== null ? args : {}) as { drop?: unknown, paths?: unknown }
    if (typeof drop !== 'string' || !TOKEN.test(drop)) throw DatdotError.invalidArgument('A drop token is 32 hex characters')
    if (this.drops.has(drop)) throw DatdotError.alreadyExists(`drop ${drop}`)
    if (!Array.isArray(paths) || paths.length === 0 || paths.length > LIMITS.importPaths) {
      throw DatdotError.invalidArgument(`A drop holds 1 to ${LIMITS.importPaths} items`)
    }
    for (const p of paths) {
      if (typeof p !== 'string' || p.length === 0 || p.length > LIMITS.pathBytes || p.includes('\0') || !isAbsolute(p)) {
        throw DatdotError.invalidArgument('Dropped items must be local files or folders')
      }
      const st = await stat(p).catch(() => null)
      if (st === null) throw DatdotError.notFound(p)
      if (!st.isFile() && !st.isDirectory()) throw DatdotError.invalidArgument(`Not a file or folder: ${basename(p)}`)
    }
    this.expire()
    while (this.drops.size >= this.max) this.drops.delete(this.drops.keys().next().value!)
    this.drops.set(drop, { paths: [...new Set(paths as string[])], atMs: this.now() })
  }

  /** The paths of a drop, once: the token is forgotten. NOT_FOUND if it is unknown, used or expired. */
  take (drop: string): string[] {
    this.expire()
    const found = TOKEN.test(drop) ? this.drops.get(drop) : undefined
    if (found === undefined) throw DatdotError.notFound('drop (unknown, expired or already imported; drop the files again)')
    this.drops.delete(drop)
    return found.paths
  }

  clear (): void {
    this.drops.clear()
  }

  private expire (): void {
    const cutoff = this.now() - this.ttlMs
    for (const [token, d] of this.drops) if (d.atMs < cutoff) this.drops.delete(token)
  }
}
