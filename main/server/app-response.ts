/**
 * Answers one request for a file of a running DatDot app: the pure part shared by the loopback
 * server's `/run/<cap>/<path>` route (app-route.ts) and Electron's `datdot-app://<cap>/<path>`
 * scheme (main/electron/app-scheme.ts). The preview capability (`cap`, from startAppPreview) is the
 * only credential: the engine owns it and its lifetime; an unknown cap is a plain 404.
 *
 * Every answer carries the app sandbox: a CSP whose `sandbox` directive gives the page an opaque
 * origin wherever it is loaded (even opened top-level), no network (connect-src 'none'), no
 * frames, workers, forms or <base>; nosniff, no caching, no referrer. HTML pages get the runtime
 * (main/shared/app-runtime.ts) as the first script of their <head>. See docs/apps.md.
 */
import { extname } from 'node:path'
import { appRuntimeSource } from '../shared/app-runtime.js'

/** A running app's files, as the engine hands them out for a preview capability (main/engine/apps.ts). */
export interface AppPreviewSource {
  readonly appKey: string
  readonly version: number
  read: (path: string) => Promise<Buffer | null>
  /** The page `<base>/` opens, e.g. '/index.html'. */
  entry: string
}
/** The preview a capability names, or null when it is unknown or ended. */
export type PreviewResolver = (cap: string) => AppPreviewSource | null

export interface AppRequest {
  method: string
  cap: string
  /** The request's path after the cap, still percent-encoded ('' or '/' for the entry). */
  path: string
  /** The URL path under which the app's root is served: '/run/<cap>' (server) or '' (Electron). */
  base: string
  /** Who may frame the app (CSP frame-ancestors), e.g. "'self'" or 'app://datdot'. */
  frameAncestors: string
  /**
   * The origin the app is served from (server: `http://<Host>`). When given, the CSP's sources
   * name `<origin><base>/` instead of 'self', so the app loads its own files only, not the rest
   * of the server's (the UI's bundle, other paths). Electron needs none: there each cap is a host.
   */
  origin?: string
}

export interface AppResponse { status: number, headers: Record<string, string>, body: Buffer }

/** Where the runtime is served, under the app's base; an app cannot have a file of its own there. */
export const RUNTIME_PATH = '/.datdot/runtime.js'
const MAX_PATH_CHARS = 1024
const CAP_RE = /^[A-Za-z0-9_-]{1,128}$/
const ORIGIN_RE = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/

export const APP_CSP = [
  'sandbox allow-scripts allow-forms allow-modals',
  "default-src 'none'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "object-src 'none'",
  "manifest-src 'none'",
  "form-action 'none'",
  "base-uri 'none'"
].join('; ')

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2'
}

export function appContentType (path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream'
}

/** The headers of every answer, found or not; `self` stands for the app's own files in the CSP. */
export function appHeaders (frameAncestors: string, self = "'self'"): Record<string, string> {
  return {
    'Content-Security-Policy': `${APP_CSP.replaceAll("'self'", self)}; frame-ancestors ${frameAncestors}`,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    // The page's origin is opaque, so its own scripts, styles and fonts are cross-origin loads:
    // they must be allowed to be embedded (CORP) and read by an opaque origin (CORS "null").
    'Cross-Origin-Resource-Policy': 'cross-origin',
    'Access-Control-Allow-Origin': 'null',
    'X-DNS-Prefetch-Control': 'off',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), payment=(), display-capture=()'
  }
}

/**
 * The app path a request names, decoded and checked, or null: no '..' or '.' segments, no
 * encoded slash, backslash, dot or NUL (nothing a later decoding could turn into traversal), no
 * control characters, bounded length. A path ending in '/' names that folder's index.html.
 */
export function appPath (raw: string, entry: string): string | null {
  if (raw.length > MAX_PATH_CHARS) return null
  if (raw === '' || raw === '/') return entry
  if (!raw.startsWith('/') || raw.includes('\\') || /%(2f|5c|2e|00)/i.test(raw)) return null
  let decoded: string
  try { decoded = decodeURIComponent(raw) } catch { return null }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(decoded)) return null
  const segments = decoded.slice(1).split('/')
  if (segments.slice(0, -1).some((s) => s === '' || s === '.' || s === '..')) return null
  const last = segments[segments.length - 1]
  if (last === '.' || last === '..') return null
  return '/' + segments.join('/') + (last === '' ? 'index.html' : '')
}

/**
 * Loads the page's scripts in CORS mode: a page of an opaque origin loads its own scripts as
 * cross-origin, and Chromium mutes their uncaught errors ("Script error.", no file or line) and
 * their unhandled rejections unless they were fetched with CORS (answered with
 * Access-Control-Allow-Origin: null, appHeaders). Adds `crossorigin` to each <script src> lacking it.
 */
export function corsScripts (html: string): string {
  return html.replace(/<script\b(?![^>]*\bcrossorigin\b)(?=[^>]*\bsrc\s*=)/gi, '<script crossorigin')
}

/**
 * Inserts the runtime's <script> as the first thing of <head>; without a <head>, right after the
 * doctype (before it would switch the page to quirks mode), or at the very top. The page's
 * scripts get `crossorigin` (corsScripts).
 */
export function injectRuntime (html: string, src: string): string {
  const tag = `<script crossorigin src="${src}"></script>`
  const bom = html.startsWith('\uFEFF') ? '\uFEFF' : ''
  const text = corsScripts(html.slice(bom.length))
  const head = /<head\b[^>]*>/i.exec(text)
  if (head !== null) return bom + text.slice(0, head.index + head[0].length) + tag + text.slice(head.index + head[0].length)
  const doctype = /^\s*<!doctype[^>]*>/i.exec(text)
  const at = doctype === null ? 0 : doctype[0].length
  return bom + text.slice(0, at) + tag + text.slice(at)
}

function answer (status: number, headers: Record<string, string>, body: Buffer | string, type: string, extra: Record<string, string> = {}): AppResponse {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  return {
    status,
    headers: { ...headers, 'Content-Type': type, 'Content-Length': String(bytes.length), ...extra },
    body: bytes
  }
}

/** The answer to one request for an app file (never throws for a bad request: 404 / 405). */
export async function appResponse (previews: PreviewResolver | undefined, req: AppRequest): Promise<AppResponse> {
  const text = 'text/plain; charset=utf-8'
  const validCap = CAP_RE.test(req.cap)
  const ownFiles = validCap && req.origin !== undefined && ORIGIN_RE.test(req.origin) ? `${req.origin}${req.base}/` : "'self'"
  const headers = appHeaders(req.frameAncestors, ownFiles)
  if (req.method !== 'GET') return answer(405, headers, 'Method not allowed', text, { Allow: 'GET' })
  const source = validCap ? previews?.(req.cap) ?? null : null
  if (source === null) return answer(404, headers, 'No such app preview (it ended or never was)', text)
  if (req.path === RUNTIME_PATH) return answer(200, headers, appRuntimeSource(), appContentType(RUNTIME_PATH))
  const path = appPath(req.path, source.entry)
  if (path === null) return answer(404, headers, 'Not found', text)
  const bytes = await source.read(path).catch(() => null)
  if (bytes === null) return answer(404, headers, 'Not found', text)
  const type = appContentType(path)
  if (!type.startsWith('text/html')) return answer(200, headers, bytes, type)
  return answer(200, headers, injectRuntime(bytes.toString('utf8'), req.base + RUNTIME_PATH), type)
}
