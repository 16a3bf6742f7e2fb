/**
 * The loopback server's route for running apps: GET `/run/<cap>/<path>` answers a file of the
 * app a preview capability names (app-response.ts builds the answer: its sandbox CSP, headers
 * and injected runtime). No API token: the cap is the capability. server.ts sends every request
 * under /run/ here after its Host check and before its Origin check (the app's own module
 * scripts and fonts are requested with `Origin: null`, its page having an opaque origin).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { appResponse, type PreviewResolver } from './app-response.js'

export const RUN_PREFIX = '/run/'

/** Serves one /run/ request; `pathname` is the request URL's path (still percent-encoded). */
export async function serveAppRoute (previews: PreviewResolver | undefined, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  const rest = pathname.slice(RUN_PREFIX.length)
  const slash = rest.indexOf('/')
  const cap = slash < 0 ? rest : rest.slice(0, slash)
  // Headers the server sets for its own UI that must not reach an app: the app is framed by the
  // UI (not DENY), and a sandboxed page with a COOP other than unsafe-none fails to load top-level.
  res.removeHeader('X-Frame-Options')
  res.removeHeader('Cross-Origin-Opener-Policy')
  const answer = await appResponse(previews, {
    method: req.method ?? 'GET',
    cap,
    path: slash < 0 ? '' : rest.slice(slash),
    base: RUN_PREFIX + cap,
    frameAncestors: "'self'",
    // The Host header was checked by the server (a loopback name and this port).
    origin: `http://${req.headers.host ?? ''}`
  })
  if (slash < 0 && answer.status === 200) {
    // `/run/<cap>` without its slash: the page's relative links would resolve outside the app.
    res.writeHead(308, { ...answer.headers, Location: `${RUN_PREFIX}${cap}/`, 'Content-Length': '0' })
    res.end()
    return
  }
  res.writeHead(answer.status, answer.headers)
  res.end(answer.body)
}
