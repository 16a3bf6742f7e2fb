/**
 * The pure rules of the Electron shell: which URLs are ours, which IPC senders are trusted,
 * which links may leave for the system browser, the Content-Security-Policy, how a request
 * on the app:// protocol maps to a file, and how dialog results are read.
 *
 * No `electron` import here (and nothing with side effects), so every rule is unit-tested
 * under plain Node (test/unit/electron-policy.test.ts). main.ts, ipc.ts and security.ts
 * apply them.
 */
import { isAbsolute, join, normalize, relative, sep, extname } from 'node:path'
import type { EventData } from '../shared/contract.js'

/**
 * The renderer is served from a custom privileged scheme, never from file://: a file:// page
 * may read any other file:// URL the user can read, and its origin is opaque ("null") so it
 * cannot be told apart from another local page. app://datdot/ is a standard, secure origin
 * that serves only dist/renderer and that the IPC sender check can match exactly.
 */
export const APP_SCHEME = 'app'
export const APP_HOST = 'datdot'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`

/**
 * Sent as a response header on every app:// response, in addition to the page's own
 * <meta> CSP (renderer/index.html). Both are enforced, so the effective policy is their
 * intersection; this one adds what a <meta> cannot carry (frame-ancestors) and forbids
 * workers, frames and plugins outright. No 'unsafe-inline', no 'unsafe-eval', no remote hosts.
 * connect-src 'self': in Electron the page talks to the engine through preload, not the network.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "media-src 'self' blob:",
  "worker-src 'none'",
  "child-src 'none'",
  // Running apps only (main/electron/app-scheme.ts): sandboxed, opaque-origin frames.
  "frame-src datdot-app:",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'"
].join('; ')

/** Headers added to every app:// response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin'
}

function parseUrl (url: unknown): URL | null {
  if (typeof url !== 'string' || url.length === 0 || url.length > 8192) return null
  try {
    return new URL(url)
  } catch {
    return null
  }
}

/**
 * True for a URL of our own app origin (app://datdot/...). Compares scheme, host, port and
 * credentials rather than URL.origin, which the WHATWG parser reports as "null" for
 * non-special schemes.
 */
export function isAppUrl (url: unknown): boolean {
  const u = parseUrl(url)
  return u !== null && u.protocol === `${APP_SCHEME}:` && u.hostname === APP_HOST && u.port === '' &&
    u.username === '' && u.password === ''
}

export interface SenderFacts {
  /** webContents id of the IPC sender (event.sender.id). */
  senderId: number
  /** webContents id of our window, or null when there is no window. */
  windowId: number | null
  /** URL of the frame that sent the message (event.senderFrame.url), null when the frame is gone. */
  frameUrl: string | null
  /** True when the sending frame is the top frame of its page (senderFrame.parent === null). */
  isTopFrame: boolean
}

/**
 * An IPC message is trusted only when it comes from the top frame of our own window and that
 * frame shows a page of our app origin. Everything else (another window, an iframe, a page
 * that somehow navigated elsewhere, a destroyed frame) is refused.
 */
export function isTrustedSender (f: SenderFacts): boolean {
  if (f.windowId === null || f.senderId !== f.windowId) return false
  if (!f.isTopFrame || f.frameUrl === null) return false
  return isAppUrl(f.frameUrl)
}

/**
 * Links the renderer may hand to the system browser: http(s) only, with a host, without
 * embedded credentials, of reasonable length. Returns the normalised URL, or null to refuse.
 */
export function safeExternalUrl (url: unknown): string | null {
  if (typeof url !== 'string' || url.length > 2048) return null
  const u = parseUrl(url)
  if (u === null) return null
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null
  if (u.hostname === '' || u.username !== '' || u.password !== '') return null
  return u.href
}

/** What to do with a navigation or window.open attempt: always stay; maybe open the link outside. */
export function navigationDecision (url: unknown): { allowInApp: false, openExternally: string | null } {
  // Our own page never navigates (the UI is a single page with client-side routing).
  if (isAppUrl(url)) return { allowInApp: false, openExternally: null }
  return { allowInApp: false, openExternally: safeExternalUrl(url) }
}

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8'
}

export function mimeTypeFor (file: string): string {
  return MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
}

/**
 * Maps an app:// request URL to a file inside `rootDir` (dist/renderer), or null when the URL
 * is not ours or would leave the folder (`..`, encoded separators, NUL, absolute tricks).
 * "/" serves index.html.
 */
export function resolveAppFile (rootDir: string, url: unknown): string | null {
  if (!isAppUrl(url)) return null
  const u = new URL(url as string)
  let pathname: string
  try {
    pathname = decodeURIComponent(u.pathname)
  } catch {
    return null
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null
  if (pathname === '/' || pathname === '') pathname = '/index.html'
  const segments = pathname.split('/').filter((s) => s.length > 0)
  if (segments.some((s) => s === '..' || s === '.')) return null
  const file = normalize(join(rootDir, ...segments))
  const rel = relative(rootDir, file)
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) return null
  return file
}

/** The subset of Electron's OpenDialogReturnValue that matters here. */
export interface OpenDialogResult {
  canceled: boolean
  filePaths: string[]
}

/** Paths the user picked, or null when the dialog was cancelled or returned nothing usable. */
export function pickedPaths (result: OpenDialogResult): string[] | null {
  if (result.canceled) return null
  const paths = result.filePaths.filter((p) => typeof p === 'string' && p.length > 0 && isAbsolute(p))
  return paths.length > 0 ? paths : null
}

/** The single folder picked in a folder dialog, or null. */
export function pickedFolder (result: OpenDialogResult): string | null {
  const paths = pickedPaths(result)
  return paths === null ? null : paths[0]
}

/** Title and body of the OS notification shown when a followed drive changes. */
export function followUpdateNotification (data: EventData<'follow.updated'>, label?: string): { title: string, body: string } {
  const name = label ?? `drive ${data.key.slice(0, 8)}…`
  const title = `Update from ${name}`
  const changes = data.changes
  if (changes.length === 0) return { title, body: `Now at version ${data.version}.` }
  const puts = changes.filter((c) => c.type === 'put').length
  const dels = changes.length - puts
  const first = changes[0].path
  const parts: string[] = []
  if (puts > 0) parts.push(`${puts}${data.truncated ? '+' : ''} changed`)
  if (dels > 0) parts.push(`${dels} deleted`)
  const body = changes.length === 1
    ? `${first} ${changes[0].type === 'put' ? 'changed' : 'was deleted'} (version ${data.version}).`
    : `${parts.join(', ')}, e.g. ${first} (version ${data.version}).`
  return { title, body: body.length > 200 ? body.slice(0, 197) + '...' : body }
}

export interface ShellOptions {
  storage?: string
  bootstrap?: string
  port?: number
  chain?: string
  /** Start the engine without networking (no swarm). */
  offline?: boolean
}

const VALUE_FLAGS = ['storage', 'bootstrap', 'port', 'chain'] as const

/**
 * Reads --storage, --bootstrap, --port and --chain (as `--flag value` or `--flag=value`) and
 * --offline from the app's command line; unknown arguments (Chromium switches, the app path)
 * are ignored.
 * Throws on a flag without a value or a bad port.
 */
export function parseShellArgs (argv: readonly string[]): ShellOptions {
  const out: ShellOptions = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--offline') {
      out.offline = true
      continue
    }
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(arg)
    if (!m || !(VALUE_FLAGS as readonly string[]).includes(m[1])) continue
    const flag = m[1] as (typeof VALUE_FLAGS)[number]
    let value = m[2]
    if (value === undefined) {
      value = argv[i + 1]
      if (value === undefined || value.startsWith('--')) throw new Error(`--${flag} needs a value`)
      i++
    }
    if (flag === 'port') {
      const port = Number(value)
      if (!/^\d{1,5}$/.test(value) || port > 65535) throw new Error(`--port must be a number from 0 to 65535, got ${value.slice(0, 20)}`)
      out.port = port
    } else {
      if (value.length === 0) throw new Error(`--${flag} needs a value`)
      out[flag] = value
    }
  }
  return out
}

/** At most one notification per key (a followed drive) every `intervalMs`. */
export class NotificationThrottle {
  private readonly last = new Map<string, number>()

  constructor (private readonly intervalMs: number, private readonly maxKeys = 1000) {}

  allow (key: string, nowMs: number): boolean {
    const prev = this.last.get(key)
    if (prev !== undefined && nowMs - prev < this.intervalMs) return false
    this.last.delete(key)
    this.last.set(key, nowMs)
    if (this.last.size > this.maxKeys) this.last.delete(this.last.keys().next().value as string)
    return true
  }
}
