/**
 * Preview capabilities (apps.ts startPreview): a running app is served from `/run/<cap>/...`
 * (browser) or `datdot-app://<cap>/...` (Electron), where <cap> is 32 random bytes in hex that
 * only the page that asked for it knows. The serving side (main/server, main/electron) asks
 * `Apps.preview(cap)` for an AppPreviewSource and reads the app's files through it; it never
 * sees a drive. Capabilities are bounded in number (the oldest goes first), dropped when their
 * app is removed, and all dropped when the engine closes.
 */
import { randomBytes } from 'node:crypto'
import type Hyperdrive from 'hyperdrive'
import { drivePath } from './paths.js'
import { at } from './drive-ops.js'

/** What the preview route needs to serve one app. */
export interface AppPreviewSource {
  /** The app's code drive key (z-base-32). */
  readonly appKey: string
  /** The version served: the pinned one, or the drive's latest (it moves as the app is saved). */
  readonly version: number
  /** A file's bytes at that version; null for a missing file, a folder, or a path that is not valid. */
  read (path: string): Promise<Buffer | null>
  /** The page to open first (the manifest's entry, '/index.html' by default). */
  entry: string
}

/** At most this many live capabilities; starting one more drops the oldest. */
export const MAX_PREVIEWS = 64
const CAP_RE = /^[0-9a-f]{64}$/
/** How long a read waits for a block that is not here yet (an app opened by link still downloading). */
const READ_TIMEOUT_MS = 15_000

/** A source reading `drive` at `version` (the latest when undefined). */
export function driveSource (drive: Hyperdrive, appKey: string, version: number | undefined, entry: string): AppPreviewSource {
  return {
    appKey,
    entry,
    get version () { return version ?? drive.version },
    async read (path: string): Promise<Buffer | null> {
      let p: string
      try { p = drivePath(path) } catch { return null }
      if (p === '/' || drive.closed) return null
      let view: Hyperdrive
      try { view = at(drive, version) } catch { return null }
      try {
        const node = await view.entry(p, { timeout: READ_TIMEOUT_MS })
        if (node?.value.blob == null) return null
        return await view.get(p, { timeout: READ_TIMEOUT_MS })
      } catch {
        return null
      } finally {
        if (view !== drive) await view.close().catch(() => {})
      }
    }
  }
}

export class Previews {
  private readonly caps = new Map<string, { app: string, source: AppPreviewSource }>()

  get size (): number {
    return this.caps.size
  }

  add (app: string, source: AppPreviewSource): string {
    while (this.caps.size >= MAX_PREVIEWS) {
      const oldest = this.caps.keys().next().value
      if (oldest === undefined) break
      this.caps.delete(oldest)
    }
    const cap = randomBytes(32).toString('hex')
    this.caps.set(cap, { app, source })
    return cap
  }

  get (cap: string): AppPreviewSource | null {
    if (typeof cap !== 'string' || !CAP_RE.test(cap)) return null
    return this.caps.get(cap)?.source ?? null
  }

  stop (cap: string): boolean {
    return this.caps.delete(cap)
  }

  /** Drops every capability of one app (removed). */
  dropApp (app: string): void {
    for (const [cap, p] of this.caps) if (p.app === app) this.caps.delete(cap)
  }

  clear (): void {
    this.caps.clear()
  }
}
