/**
 * Running DatDot apps in the Electron shell: the privileged `datdot-app` scheme, whose
 * `datdot-app://<cap>/<path>` URLs answer a file of the app a preview capability names, built
 * exactly as the loopback server's /run/ route builds it (main/server/app-response.ts: the
 * sandbox CSP, headers and injected runtime). The scheme is standard and secure but may NOT
 * bypass CSP, so the app's own sandbox policy holds; only the UI (app://datdot) may frame it.
 *
 * No runtime `electron` import: security.ts registers the privileges and hands the session in,
 * so this file is tested under plain Node (test/unit/electron-app-scheme.test.ts).
 */
import type { CustomScheme, Session } from 'electron'
import { appResponse, type PreviewResolver } from '../server/app-response.js'
import { APP_ORIGIN } from './policy.js'

export const PREVIEW_SCHEME = 'datdot-app'

/**
 * Registered with the app:// scheme in one registerSchemesAsPrivileged call (security.ts).
 * Standard: each capability is a host, so relative URLs and `..` resolve within the app. Secure:
 * a secure context like the UI. corsEnabled: the page's origin is opaque, so its own scripts load
 * with CORS (crossorigin, added by the builder) to keep their errors' file and line.
 * Note: standard-scheme hosts are lowercased, so capabilities must be lowercase.
 */
export const PREVIEW_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: PREVIEW_SCHEME,
  privileges: { standard: true, secure: true, bypassCSP: false, corsEnabled: true, supportFetchAPI: false, allowServiceWorkers: false, stream: false, codeCache: false }
}

/** True for a datdot-app:// URL (the only thing a sub-frame of the UI may load). */
export function isPreviewUrl (url: unknown): boolean {
  if (typeof url !== 'string' || url.length > 8192) return false
  try {
    const u = new URL(url)
    return u.protocol === `${PREVIEW_SCHEME}:` && u.hostname !== '' && u.username === '' && u.password === '' && u.port === ''
  } catch {
    return false
  }
}

/**
 * A frame navigation the shell lets happen: only a sub-frame (the preview frame) loading an app
 * URL. The top frame never navigates (security.ts), whoever asks.
 */
export function frameNavigationAllowed (url: unknown, isMainFrame: boolean): boolean {
  return !isMainFrame && isPreviewUrl(url)
}

/** The Web Response for one datdot-app:// request. */
export async function previewProtocolResponse (previews: PreviewResolver | undefined, request: { method: string, url: string }): Promise<Response> {
  let cap = ''
  let path = ''
  try {
    const u = new URL(request.url)
    cap = u.hostname
    path = u.pathname
  } catch {
    cap = ''
  }
  const answer = await appResponse(previews, { method: request.method, cap, path, base: '', frameAncestors: APP_ORIGIN })
  return new Response(answer.status === 200 ? new Uint8Array(answer.body) : answer.body.toString(), { status: answer.status, headers: answer.headers })
}

/**
 * Serves datdot-app:// in `ses` from `previews()` (a function: the node behind the shell may be
 * replaced by a restore, and with it the engine that owns the capabilities).
 */
export function servePreviewScheme (ses: Session, previews: () => PreviewResolver | undefined): void {
  ses.protocol.handle(PREVIEW_SCHEME, async (request) => await previewProtocolResponse(previews(), request))
}
