/**
 * The app preview's answers (main/server/app-response.ts) and its HTTP route
 * (main/server/app-route.ts), over a real Hyperdrive holding an app: content types, the sandbox
 * headers on every answer, path validation against traversal, the runtime injected into HTML,
 * unknown capabilities and methods.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createServer, request, type Server } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { TempDirs } from '../helpers/engines.js'
import {
  APP_CSP, RUNTIME_PATH, appPath, appResponse, injectRuntime, corsScripts,
  type AppPreviewSource, type AppRequest, type PreviewResolver
} from '../../main/server/app-response.js'
import { serveAppRoute } from '../../main/server/app-route.js'
import { appRuntimeSource } from '../../main/shared/app-runtime.js'

const CAP = 'abc123'
const FILES: Record<string, string | Buffer> = {
  '/index.html': '<!doctype html>\n<html><head><meta charset="utf-8"><title>t</title><script src="app.js"></script></head><body></body></html>',
  '/app.js': 'console.log(1)',
  '/lib/util.mjs': 'export const x = 1',
  '/style.css': 'body{}',
  '/data.json': '{}',
  '/logo.svg': '<svg/>',
  '/a.png': Buffer.from([0x89, 0x50]),
  '/b.jpg': Buffer.from([0xff, 0xd8]),
  '/c.gif': 'GIF89a',
  '/d.webp': 'RIFF',
  '/favicon.ico': Buffer.from([0]),
  '/m.wasm': Buffer.from([0, 0x61, 0x73, 0x6d]),
  '/readme.txt': 'hi',
  '/f.woff2': 'wOF2',
  '/blob.bin': 'x',
  '/sub/index.html': '<p>no head here</p>'
}

describe('the app preview answers', () => {
  const tmp = new TempDirs()
  let store: Corestore
  let source: AppPreviewSource
  let previews: PreviewResolver
  const get = (path: string, extra: Partial<AppRequest> = {}): ReturnType<typeof appResponse> =>
    appResponse(previews, { method: 'GET', cap: CAP, path, base: `/run/${CAP}`, frameAncestors: "'self'", ...extra })

  beforeAll(async () => {
    store = new Corestore(await tmp.make())
    const drive = new Hyperdrive(store)
    await drive.ready()
    for (const [path, data] of Object.entries(FILES)) await drive.put(path, Buffer.from(data))
    source = { appKey: drive.key.toString('hex'), version: drive.version, entry: '/index.html', read: async (p) => await drive.get(p) }
    previews = (cap) => (cap === CAP ? source : null)
  })

  afterAll(async () => {
    await store.close()
    await tmp.cleanup()
  })

  it('serves each file with the content type of its extension', async () => {
    const types: Record<string, string> = {
      '/app.js': 'text/javascript; charset=utf-8', '/lib/util.mjs': 'text/javascript; charset=utf-8', '/style.css': 'text/css; charset=utf-8',
      '/data.json': 'application/json; charset=utf-8', '/logo.svg': 'image/svg+xml', '/a.png': 'image/png', '/b.jpg': 'image/jpeg',
      '/c.gif': 'image/gif', '/d.webp': 'image/webp', '/favicon.ico': 'image/x-icon', '/m.wasm': 'application/wasm',
      '/readme.txt': 'text/plain; charset=utf-8', '/f.woff2': 'font/woff2', '/blob.bin': 'application/octet-stream'
    }
    for (const [path, type] of Object.entries(types)) {
      const r = await get(path)
      expect([path, r.status, r.headers['Content-Type']]).toEqual([path, 200, type])
      expect(r.body.equals(Buffer.from(FILES[path]))).toBe(true)
    }
  })

  it('puts the sandbox CSP and the no-sniff, no-store, no-referrer headers on every answer', async () => {
    for (const r of [await get('/app.js'), await get('/missing.js'), await get('/', { cap: 'nope' }), await get('/', { method: 'POST' })]) {
      expect(r.headers['Content-Security-Policy']).toBe(`${APP_CSP}; frame-ancestors 'self'`)
      expect(r.headers['X-Content-Type-Options']).toBe('nosniff')
      expect(r.headers['Cache-Control']).toBe('no-store')
      expect(r.headers['Referrer-Policy']).toBe('no-referrer')
      expect(r.headers['X-DNS-Prefetch-Control']).toBe('off')
    }
    expect(APP_CSP).toMatch(/^sandbox allow-scripts allow-forms allow-modals; default-src 'none'; /)
    expect(APP_CSP).toContain("connect-src 'none'")
    expect(APP_CSP).not.toMatch(/allow-same-origin|allow-popups|allow-top-navigation/)
  })

  it("names the app's own files instead of 'self' when it knows the origin, and never a bad origin", async () => {
    const own = (await get('/app.js', { origin: 'http://127.0.0.1:4000' })).headers['Content-Security-Policy']
    expect(own).toContain(`script-src http://127.0.0.1:4000/run/${CAP}/ 'unsafe-inline'; style-src http://127.0.0.1:4000/run/${CAP}/ 'unsafe-inline'`)
    expect(own).toContain(`img-src http://127.0.0.1:4000/run/${CAP}/ data: blob:`)
    expect(own).toMatch(/frame-ancestors 'self'$/)
    expect(own.split("'self'")).toHaveLength(2)
    for (const origin of ['http://a b', "http://x'; script-src *", 'javascript:1']) {
      expect((await get('/app.js', { origin })).headers['Content-Security-Policy']).toBe(`${APP_CSP}; frame-ancestors 'self'`)
    }
  })

  it('serves the entry for the bare path and the runtime under .datdot, injected first in <head>', async () => {
    const r = await get('/')
    expect(r.status).toBe(200)
    expect(r.headers['Content-Type']).toBe('text/html; charset=utf-8')
    expect(r.body.toString()).toBe(`<!doctype html>\n<html><head><script crossorigin src="/run/${CAP}${RUNTIME_PATH}"></script><meta charset="utf-8"><title>t</title><script crossorigin src="app.js"></script></head><body></body></html>`)
    expect(r.headers['Content-Length']).toBe(String(r.body.length))
    const runtime = await get(RUNTIME_PATH)
    expect([runtime.status, runtime.headers['Content-Type'], runtime.body.toString()]).toEqual([200, 'text/javascript; charset=utf-8', appRuntimeSource()])
    const electron = await get('/', { base: '' })
    expect(electron.body.toString()).toContain(`<script crossorigin src="${RUNTIME_PATH}"></script>`)
  })

  it('serves a folder index and injects at the top of a page without <head>', async () => {
    const r = await get('/sub/')
    expect(r.body.toString()).toBe(`<script crossorigin src="/run/${CAP}${RUNTIME_PATH}"></script><p>no head here</p>`)
  })

  it('refuses traversal, encoded separators and dots, control characters and long paths with a 404', async () => {
    const bad = ['/../index.html', '/sub/../app.js', '/./app.js', '/%2e%2e/index.html', '/sub%2f..%2fapp.js', '/sub%5capp.js',
      '/app.js%00', '/a\\b', '//app.js', 'app.js', '/%E0%A4%A', '/app%0a.js', '/' + 'a'.repeat(1100), '/sub/..']
    for (const path of bad) {
      expect([path, appPath(path, '/index.html')]).toEqual([path, null])
      expect([path, (await get(path)).status]).toEqual([path, 404])
    }
    expect(appPath('/my%20notes/a.js', '/index.html')).toBe('/my notes/a.js')
    expect(appPath('', '/start.html')).toBe('/start.html')
  })

  it('answers an unknown or malformed capability, and a missing file, with a 404 and no content of the app', async () => {
    for (const cap of ['unknown', '', 'a/b', 'x'.repeat(129), '../abc123']) {
      const r = await get('/index.html', { cap })
      expect([cap, r.status, r.body.toString()]).toEqual([cap, 404, 'No such app preview (it ended or never was)'])
    }
    expect((await get('/nope.html')).status).toBe(404)
    expect((await appResponse(undefined, { method: 'GET', cap: CAP, path: '/', base: '', frameAncestors: "'self'" })).status).toBe(404)
  })

  it('answers every method but GET with a 405', async () => {
    for (const method of ['HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await get('/', { method })
      expect([method, r.status, r.headers.Allow]).toEqual([method, 405, 'GET'])
    }
  })

  it('injects after a doctype when there is no head, keeps a BOM first, and leaves module and crossorigin scripts alone', () => {
    expect(injectRuntime('<!DOCTYPE html><body>x</body>', '/r.js')).toBe('<!DOCTYPE html><script crossorigin src="/r.js"></script><body>x</body>')
    expect(injectRuntime('\uFEFF<html><HEAD lang="en">', '/r.js')).toBe('\uFEFF<html><HEAD lang="en"><script crossorigin src="/r.js"></script>')
    expect(injectRuntime('<header>h</header>', '/r.js')).toBe('<script crossorigin src="/r.js"></script><header>h</header>')
    expect(corsScripts('<script>1</script><script type="module" crossorigin="anonymous" src="a.mjs"></script><SCRIPT SRC=b.js>'))
      .toBe('<script>1</script><script type="module" crossorigin="anonymous" src="a.mjs"></script><script crossorigin SRC=b.js>')
  })
})

describe('the /run/ route of the loopback server', () => {
  let server: Server
  let port = 0
  const source: AppPreviewSource = { appKey: 'k', version: 1, entry: '/index.html', read: async (p) => (p === '/index.html' ? Buffer.from('<head></head>') : null) }

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.setHeader('X-Frame-Options', 'DENY')
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
      serveAppRoute((cap) => (cap === CAP ? source : null), req, res, new URL(req.url ?? '/', 'http://x').pathname).catch(() => res.destroy())
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })

  afterAll(async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) })

  const http = (method: string, path: string): Promise<{ status: number, headers: Record<string, unknown>, body: string }> => new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })

  it('serves the app frameable by the UI only: no X-Frame-Options DENY, no COOP, frame-ancestors self', async () => {
    const r = await http('GET', `/run/${CAP}/`)
    expect(r.status).toBe(200)
    expect(r.body).toContain(`/run/${CAP}${RUNTIME_PATH}`)
    expect(r.headers['x-frame-options']).toBeUndefined()
    expect(r.headers['cross-origin-opener-policy']).toBeUndefined()
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'self'")
    expect(r.headers['content-security-policy']).toContain(`script-src http://127.0.0.1:${port}/run/${CAP}/ 'unsafe-inline'`)
  })

  it('redirects the cap without its slash, and refuses HEAD and POST with a 405', async () => {
    const r = await http('GET', `/run/${CAP}`)
    expect([r.status, r.headers.location]).toEqual([308, `/run/${CAP}/`])
    expect((await http('HEAD', `/run/${CAP}/`)).status).toBe(405)
    expect((await http('POST', `/run/${CAP}/`)).status).toBe(405)
    expect((await http('GET', '/run/other/')).status).toBe(404)
    expect((await http('GET', `/run/${CAP}/%2e%2e/x`)).status).toBe(404)
  })
})
