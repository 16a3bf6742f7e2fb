/**
 * End to end: a hostile DatDot app, held in a real Hyperdrive, runs from the loopback server's
 * /run/<cap>/ route in Chromium, framed by a host page of the UI's origin the way the UI frames it
 * (<iframe sandbox="allow-scripts allow-forms allow-modals">). The runtime posts ready, its console
 * and errors reach the host with file and line, a bridge call round-trips; and the app is
 * contained: opaque origin, no access to the parent's DOM, storage or cookies, no fetch or
 * WebSocket to the API, no new windows, no top navigation, and still sandboxed when opened
 * top-level.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { chromium, type Browser, type Page } from 'playwright-core'
import { TempDirs, startEngine } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { ApiServer } from '../../main/server/server.js'
import { createHandlers } from '../../main/api/handlers.js'
import type { AppPreviewSource } from '../../main/server/app-response.js'
import { CHROMIUM_ARGS } from './ui-helpers.js'

const CAP = 'c0ffee' + 'ab'.repeat(29)
const THROW_LINE = 3

/** The hostile app's script: line THROW_LINE throws (uncaught, after the probes are logged). */
const APP_JS = `const results = {}
const violations = []
function boom () { throw new Error('boom from app.js') }
document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective))
const attempt = (f) => { try { return f() } catch (e) { return 'blocked:' + e.name } }
results.origin = self.origin
results.parentDocument = attempt(() => parent.document.title)
results.parentStorage = attempt(() => parent.localStorage.getItem('secret'))
results.cookie = attempt(() => document.cookie)
results.open = attempt(() => window.open('/run/elsewhere') === null ? 'null' : 'opened')
results.top = attempt(() => { if (top === self) return 'is top'; top.location.href = '/hijacked'; return 'navigated' })
const socket = () => new Promise((resolve) => {
  const ws = attempt(() => new WebSocket('ws://' + location.host + '/api/ws'))
  if (typeof ws === 'string') return resolve(ws)
  ws.onopen = () => resolve('open')
  ws.onerror = () => resolve('error')
})
const uiScript = () => new Promise((resolve) => {
  const el = document.createElement('script')
  el.src = '/host.js'
  el.onload = () => resolve('loaded')
  el.onerror = () => resolve('refused')
  document.head.append(el)
})
async function probe () {
  results.uiScript = await uiScript()
  results.fetch = await fetch('/api/call/getStatus', { method: 'POST', body: '{}' }).then((r) => 'status ' + r.status, (e) => 'blocked:' + e.name)
  results.websocket = await socket()
  results.listed = await datdot.vault.list('/').catch((e) => 'error ' + e.code)
  results.balance = await datdot.chain.balance().catch((e) => 'error ' + e.code + ': ' + e.message)
  results.violations = violations
  console.log('probe', results)
  setTimeout(boom, 0)
  Promise.reject(new Error('nobody catches this'))
}
probe()
`
const APP_HTML = '<!doctype html>\n<html><head><title>hostile</title><script src="app.js"></script></head><body><p>hostile app</p></body></html>\n'

/** The host page's script (the UI's CSP allows no inline script): frames the app, answers two calls. */
const HOST_JS = `window.received = []
localStorage.setItem('secret', 'ui-secret')
document.cookie = 'ui=secret-cookie; SameSite=Strict'
addEventListener('message', (e) => {
  const m = e.data
  if (!m || m.tag !== 'datdot-app/1') return
  window.received.push(m)
  if (m.type !== 'call') return
  const reply = m.method === 'vault.list'
    ? { ok: true, value: [{ name: 'note.txt' }] }
    : { ok: false, error: { code: 'FORBIDDEN', message: 'no chain permission' } }
  e.source.postMessage({ tag: 'datdot-app/1', type: 'result', id: m.id, ...reply }, '*')
})
const frame = document.createElement('iframe')
frame.setAttribute('sandbox', 'allow-scripts allow-forms allow-modals')
frame.src = '/run/' + new URLSearchParams(location.search).get('cap') + '/'
document.body.append(frame)
`
const HOST_HTML = '<!doctype html><html><head><title>host</title></head><body><script src="/host.js"></script></body></html>'

interface Received { type: string, level?: string, kind?: string, args?: string[], source?: string, line?: number, column?: number, method?: string }
interface HostGlobals { received: Received[] }

describe('a hostile app running in the sandboxed preview frame', () => {
  const tmp = new TempDirs()
  let engine: Engine
  let server: ApiServer
  let store: Corestore
  let browser: Browser
  let page: Page
  let origin = ''

  beforeAll(async () => {
    store = new Corestore(await tmp.make())
    const drive = new Hyperdrive(store)
    await drive.ready()
    await drive.put('/index.html', Buffer.from(APP_HTML))
    await drive.put('/app.js', Buffer.from(APP_JS))
    const source: AppPreviewSource = { appKey: drive.key.toString('hex'), version: drive.version, entry: '/index.html', read: async (p) => await drive.get(p) }
    const staticDir = await tmp.make()
    await writeFile(join(staticDir, 'host.html'), HOST_HTML)
    await writeFile(join(staticDir, 'host.js'), HOST_JS)
    const storage = await tmp.make()
    engine = await startEngine(null, storage)
    server = new ApiServer({ engine, handlers: createHandlers(engine), storage, staticDir, previews: (cap) => (cap === CAP ? source : null) })
    await server.ready()
    origin = server.origin
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    page = await browser.newPage()
    page.setDefaultTimeout(60_000)
    await page.goto(`${origin}/host.html?cap=${CAP}`)
    await page.waitForFunction(() => {
      const got = (globalThis as unknown as HostGlobals).received
      return got.some((m) => m.kind === 'error') && got.some((m) => m.kind === 'rejection')
    })
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await engine?.close()
    await store?.close()
    await tmp.cleanup()
  })

  const received = async (): Promise<Received[]> => await page.evaluate(() => (globalThis as unknown as HostGlobals).received)
  const probe = async (): Promise<Record<string, unknown>> => {
    const log = (await received()).find((m) => m.type === 'console' && m.args?.[0] === 'probe')
    expect(log).toBeDefined()
    return JSON.parse(log!.args![1]) as Record<string, unknown>
  }

  it('posts ready, its console output and a bridge call to the host', async () => {
    const got = await received()
    expect(got[0]).toEqual({ tag: 'datdot-app/1', type: 'ready' })
    expect(got.filter((m) => m.type === 'call').map((m) => m.method)).toEqual(['vault.list', 'chain.balance'])
    const results = await probe()
    expect(results.listed).toEqual([{ name: 'note.txt' }])
    expect(results.balance).toBe('error FORBIDDEN: no chain permission')
  })

  it('reports an uncaught error with its file and line, and an unhandled rejection', async () => {
    const got = await received()
    const error = got.find((m) => m.kind === 'error')
    expect(error).toMatchObject({ type: 'console', level: 'error', line: THROW_LINE })
    expect(error?.source).toBe(`${origin}/run/${CAP}/app.js`)
    expect(error?.args?.[0]).toContain('boom from app.js')
    expect(got.find((m) => m.kind === 'rejection')?.args?.[0]).toContain('nobody catches this')
  })

  it('runs with an opaque origin and cannot reach the parent page, its storage or its cookies', async () => {
    const results = await probe()
    expect(results.origin).toBe('null')
    expect(results.parentDocument).toBe('blocked:SecurityError')
    expect(results.parentStorage).toBe('blocked:SecurityError')
    expect(results.cookie).toBe('blocked:SecurityError')
  })

  it('cannot call the API: fetch and WebSocket are refused by the CSP', async () => {
    const results = await probe()
    expect(results.fetch).toBe('blocked:TypeError')
    expect(results.websocket).not.toBe('open')
    expect(results.violations).toEqual(expect.arrayContaining(['connect-src']))
  })

  it("cannot load the server's other files, the UI's scripts included", async () => {
    const results = await probe()
    expect(results.uiScript).toBe('refused')
    expect(results.violations).toEqual(expect.arrayContaining(['script-src-elem']))
  })

  it('cannot open windows or navigate the top window', async () => {
    const results = await probe()
    expect(results.open).toBe('null')
    expect(results.top).toBe('blocked:SecurityError')
    expect(page.url()).toBe(`${origin}/host.html?cap=${CAP}`)
    expect(browser.contexts()[0].pages()).toHaveLength(1)
  })

  it('stays sandboxed when opened top-level, and an unknown capability is a 404', async () => {
    const top = await browser.newPage()
    await top.goto(`${origin}/run/${CAP}/`)
    expect(await top.evaluate(() => (globalThis as unknown as { origin: string }).origin)).toBe('null')
    expect(await top.title()).toBe('hostile')
    expect(await top.evaluate(() => { try { return (globalThis as unknown as { document: { cookie: string } }).document.cookie } catch (e) { return (e as Error).name } })).toBe('SecurityError')
    const missing = await top.goto(`${origin}/run/${'0'.repeat(64)}/`)
    expect(missing?.status()).toBe(404)
    await top.close()
  })
})
