/**
 * Running apps in the Electron shell (main/electron/app-scheme.ts and its wiring in
 * security.ts), against a stand-in for the 'electron' module (the binary cannot run here) and a
 * real Hyperdrive as the app: the datdot-app scheme's privileges (no CSP bypass), its answers
 * (the same sandbox as the server's route, framed by app://datdot only), and the shell's rules:
 * the UI may frame datdot-app:// and nothing else, its requests are allowed, its CSP is not
 * overwritten, and the top frame still never navigates.
 */
import { describe, it, expect, vi, beforeAll, afterAll } from 'vitest'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { TempDirs } from '../helpers/engines.js'
import type { AppPreviewSource, PreviewResolver } from '../../main/server/app-response.js'

type Listener = (...args: unknown[]) => void
const fake = vi.hoisted(() => ({
  schemes: [] as Array<{ scheme: string, privileges: Record<string, boolean> }>,
  contentsListeners: new Map<string, (...args: unknown[]) => void>(),
  appListeners: new Map<string, (...args: unknown[]) => void>()
}))
vi.mock('electron', () => ({
  app: { on: (name: string, fn: Listener) => { fake.appListeners.set(name, fn) } },
  protocol: { registerSchemesAsPrivileged: (s: typeof fake.schemes) => { fake.schemes.push(...s) } },
  shell: { openExternal: async () => {} }
}))

const { PREVIEW_SCHEME_PRIVILEGES, frameNavigationAllowed, previewProtocolResponse, servePreviewScheme } = await import('../../main/electron/app-scheme.js')
const { registerAppScheme, hardenSession, hardenAllWebContents } = await import('../../main/electron/security.js')
const { CONTENT_SECURITY_POLICY } = await import('../../main/electron/policy.js')
const { APP_CSP, RUNTIME_PATH } = await import('../../main/server/app-response.js')

const CAP = 'f00d' + '12'.repeat(30)

describe('the datdot-app scheme', () => {
  const tmp = new TempDirs()
  let store: Corestore
  let previews: PreviewResolver

  beforeAll(async () => {
    store = new Corestore(await tmp.make())
    const drive = new Hyperdrive(store)
    await drive.ready()
    await drive.put('/index.html', Buffer.from('<html><head><title>app</title></head></html>'))
    await drive.put('/img/a.png', Buffer.from([0x89, 0x50, 0x4e, 0x47]))
    const source: AppPreviewSource = { appKey: drive.key.toString('hex'), version: drive.version, entry: '/index.html', read: async (p) => await drive.get(p) }
    previews = (cap) => (cap === CAP ? source : null)
  })

  afterAll(async () => {
    await store.close()
    await tmp.cleanup()
  })

  it('is registered with app:// as standard and secure, and may not bypass the CSP', () => {
    registerAppScheme()
    expect(fake.schemes.map((s) => s.scheme)).toEqual(['app', 'datdot-app'])
    expect(fake.schemes[1]).toBe(PREVIEW_SCHEME_PRIVILEGES)
    expect(PREVIEW_SCHEME_PRIVILEGES.privileges).toMatchObject({ standard: true, secure: true, bypassCSP: false, allowServiceWorkers: false })
  })

  it('answers an app page with the runtime injected and the sandbox CSP, framed by the UI only', async () => {
    const r = await previewProtocolResponse(previews, { method: 'GET', url: `datdot-app://${CAP}/` })
    expect(r.status).toBe(200)
    expect(await r.text()).toBe(`<html><head><script crossorigin src="${RUNTIME_PATH}"></script><title>app</title></head></html>`)
    expect(r.headers.get('content-security-policy')).toBe(`${APP_CSP}; frame-ancestors app://datdot`)
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    const png = await previewProtocolResponse(previews, { method: 'GET', url: `datdot-app://${CAP}/img/a.png` })
    expect([png.status, png.headers.get('content-type'), Buffer.from(await png.arrayBuffer()).toString('hex')]).toEqual([200, 'image/png', '89504e47'])
    const runtime = await previewProtocolResponse(previews, { method: 'GET', url: `datdot-app://${CAP}${RUNTIME_PATH}` })
    expect(await runtime.text()).toContain('datdot-app/1')
  })

  it('answers an unknown cap, a missing file, encoded traversal and other methods with 404 / 405', async () => {
    const status = async (method: string, url: string): Promise<number> => (await previewProtocolResponse(previews, { method, url })).status
    expect(await status('GET', 'datdot-app://unknown/')).toBe(404)
    expect(await status('GET', `datdot-app://${CAP}/missing.js`)).toBe(404)
    expect(await status('GET', `datdot-app://${CAP}/img%2f..%2findex.html`)).toBe(404)
    expect(await status('GET', 'not a url')).toBe(404)
    expect(await status('POST', `datdot-app://${CAP}/`)).toBe(405)
    expect(await status('GET', `datdot-app://${CAP}/`)).toBe(200)
  })

  it('is served in the session from the current resolver', async () => {
    let handler: ((r: { method: string, url: string }) => Promise<Response>) | null = null
    const ses = { protocol: { handle: (scheme: string, fn: typeof handler) => { expect(scheme).toBe('datdot-app'); handler = fn } } }
    const current: { resolver?: PreviewResolver } = {}
    servePreviewScheme(ses as never, () => current.resolver)
    expect((await handler!({ method: 'GET', url: `datdot-app://${CAP}/` })).status).toBe(404)
    current.resolver = previews
    expect((await handler!({ method: 'GET', url: `datdot-app://${CAP}/` })).status).toBe(200)
  })
})

describe("the shell's rules for the preview frame", () => {
  it('lets the UI frame datdot-app:// only, in its CSP', () => {
    expect(CONTENT_SECURITY_POLICY).toContain('frame-src datdot-app:;')
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'")
  })

  it('lets a sub-frame load an app, and nothing navigate the top frame', () => {
    hardenAllWebContents(() => {})
    const contents = { on: (name: string, fn: Listener) => { fake.contentsListeners.set(name, fn) }, setWindowOpenHandler: () => {} }
    fake.appListeners.get('web-contents-created')!({}, contents)
    const frameNavigation = (url: string, isMainFrame: boolean): boolean => {
      const event = { url, isMainFrame, prevented: false, preventDefault () { event.prevented = true } }
      fake.contentsListeners.get('will-frame-navigate')!(event)
      return !event.prevented
    }
    expect(frameNavigation(`datdot-app://${CAP}/`, false)).toBe(true)
    expect(frameNavigation('http://127.0.0.1:1234/api/call/getStatus', false)).toBe(false)
    expect(frameNavigation('app://datdot/index.html', false)).toBe(false)
    const topEvent = { prevented: false, preventDefault () { topEvent.prevented = true } }
    fake.contentsListeners.get('will-navigate')!(topEvent, `datdot-app://${CAP}/`)
    expect(topEvent.prevented).toBe(true)
    expect(frameNavigationAllowed(`datdot-app://${CAP}/`, true)).toBe(false)
    expect(frameNavigationAllowed('datdot-app://user:pw@x/', false)).toBe(false)
  })

  it("allows the app's requests and keeps its own CSP in the session", () => {
    let beforeRequest: Listener = () => {}
    let headersReceived: Listener = () => {}
    const ses = {
      setPermissionRequestHandler: () => {},
      setPermissionCheckHandler: () => {},
      setDevicePermissionHandler: () => {},
      on: () => {},
      webRequest: { onBeforeRequest: (fn: Listener) => { beforeRequest = fn }, onHeadersReceived: (fn: Listener) => { headersReceived = fn } }
    }
    hardenSession(ses as never)
    const cancelled = (url: string): boolean => { let c = true; beforeRequest({ url }, (r: { cancel: boolean }) => { c = r.cancel }); return c }
    expect(cancelled(`datdot-app://${CAP}/app.js`)).toBe(false)
    expect(cancelled('http://127.0.0.1:1/api/call/getStatus')).toBe(true)
    const headers = (url: string): unknown => {
      let out: unknown = null
      headersReceived({ url, responseHeaders: { 'Content-Security-Policy': ['x'] } }, (r: unknown) => { out = r })
      return out
    }
    expect(headers(`datdot-app://${CAP}/`)).toEqual({})
    expect(headers('app://datdot/index.html')).toMatchObject({ responseHeaders: { 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } })
  })
})
