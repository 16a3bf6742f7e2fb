/**
 * Applies the shell's security policy (policy.ts) to Electron: the app:// protocol that serves
 * dist/renderer with a strict CSP header, session hardening (permissions denied, no network
 * requests from the page, CSP header on anything else), and the web-contents rules (no
 * navigation, no new windows, no <webview>; vetted http(s) links go to the system browser).
 */
import { readFile } from 'node:fs/promises'
import { app, protocol, shell, type Session, type WebContents } from 'electron'
import {
  APP_SCHEME, SECURITY_HEADERS, CONTENT_SECURITY_POLICY,
  resolveAppFile, mimeTypeFor, navigationDecision, safeExternalUrl
} from './policy.js'
import { PREVIEW_SCHEME, PREVIEW_SCHEME_PRIVILEGES, frameNavigationAllowed } from './app-scheme.js'

/** Must run before app 'ready': makes app:// a standard, secure scheme (a real origin). */
export function registerAppScheme (): void {
  protocol.registerSchemesAsPrivileged([{
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true }
  }, PREVIEW_SCHEME_PRIVILEGES])
}

/** Serves `rendererDir` (dist/renderer) on app://datdot/, read-only, with the security headers. */
export function serveAppProtocol (ses: Session, rendererDir: string): void {
  ses.protocol.handle(APP_SCHEME, async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response('Method not allowed', { status: 405, headers: SECURITY_HEADERS })
    }
    const file = resolveAppFile(rendererDir, request.url)
    if (file === null) return new Response('Not found', { status: 404, headers: SECURITY_HEADERS })
    try {
      const body = await readFile(file)
      return new Response(request.method === 'HEAD' ? null : body, {
        status: 200,
        headers: { ...SECURITY_HEADERS, 'Content-Type': mimeTypeFor(file), 'Cache-Control': 'no-cache' }
      })
    } catch {
      return new Response('Not found', { status: 404, headers: SECURITY_HEADERS })
    }
  })
}

/** Schemes the page may load from at all; everything else (http, https, ws, file...) is cancelled. */
const ALLOWED_REQUEST_SCHEMES = new Set([`${APP_SCHEME}:`, `${PREVIEW_SCHEME}:`, 'data:', 'blob:', 'devtools:', 'chrome-extension:'])

export function hardenSession (ses: Session): void {
  ses.setPermissionRequestHandler((_wc, _permission, callback) => { callback(false) })
  ses.setPermissionCheckHandler(() => false)
  ses.setDevicePermissionHandler(() => false)
  ses.on('will-download', (event) => { event.preventDefault() })
  // In Electron the page reaches the engine through preload only: no network from the page.
  ses.webRequest.onBeforeRequest((details, callback) => {
    let scheme = ''
    try {
      scheme = new URL(details.url).protocol
    } catch {
      scheme = ''
    }
    callback({ cancel: !ALLOWED_REQUEST_SCHEMES.has(scheme) })
  })
  // Defence in depth: any response that reaches the page through the network stack carries the
  // CSP too (app:// responses get it from serveAppProtocol).
  ses.webRequest.onHeadersReceived((details, callback) => {
    // A running app keeps its own sandbox CSP (main/electron/app-scheme.ts); the UI's would break it.
    if (details.url.startsWith(`${PREVIEW_SCHEME}:`)) { callback({}); return }
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
        'X-Content-Type-Options': ['nosniff']
      }
    })
  })
}

/** Opens a vetted http(s) link in the system browser; anything else is dropped. */
export function openExternally (url: unknown, log: (msg: string) => void): void {
  const safe = safeExternalUrl(url)
  if (safe === null) {
    log(`refused to open ${String(url).slice(0, 100)}`)
    return
  }
  shell.openExternal(safe).catch((err: unknown) => { log(`could not open ${safe}: ${String(err)}`) })
}

function hardenWebContents (contents: WebContents, log: (msg: string) => void): void {
  contents.on('will-navigate', (event, url) => {
    event.preventDefault()
    const decision = navigationDecision(url)
    if (decision.openExternally !== null) openExternally(decision.openExternally, log)
    else log(`blocked navigation to ${String(url).slice(0, 100)}`)
  })
  contents.on('will-frame-navigate', (event) => {
    // The only sub-frame allowed is a running app's (datdot-app://, which the CSP's frame-src
    // allows); refuse any other frame navigation. The top frame is held by will-navigate.
    if (!event.isMainFrame && !frameNavigationAllowed(event.url, event.isMainFrame)) event.preventDefault()
  })
  contents.on('will-redirect', (event) => { event.preventDefault() })
  contents.on('will-attach-webview', (event) => { event.preventDefault() })
  contents.setWindowOpenHandler(({ url }) => {
    const decision = navigationDecision(url)
    if (decision.openExternally !== null) openExternally(decision.openExternally, log)
    return { action: 'deny' }
  })
}

/** Applies hardenWebContents to every web contents the app ever creates. */
export function hardenAllWebContents (log: (msg: string) => void): void {
  app.on('web-contents-created', (_event, contents) => { hardenWebContents(contents, log) })
}
