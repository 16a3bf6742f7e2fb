/**
 * Runs the real Electron shell (main/electron/main.ts) against a stand-in for the 'electron'
 * module: the Electron binary is not available here, but the wiring can still be exercised end
 * to end with a real engine (on a loopback DHT testnet) and API server: window options, the app:// protocol with
 * its CSP header, session and web-contents hardening, IPC sender checks, a dropped file going
 * into the vault with events forwarded to the window, the tray, hiding on close, and a clean quit.
 */
import { describe, it, expect, vi, beforeAll, afterAll } from 'vitest'
import { mkdtemp, mkdir, writeFile, rm, access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import createTestnet, { type Testnet } from '@hyperswarm/testnet'
import type { BrowserWindowConstructorOptions } from 'electron'
import { IPC_PREFIX, IPC_EVENT_CHANNEL, IPC_DROP_CHANNEL, type MethodName, type Result } from '../../main/shared/contract.js'
import type { CallOutcome } from '../../main/api/dispatch.js'

// The stand-in's types: main.ts is compiled against the real 'electron' types, these describe
// only what the fake keeps and what the test calls back into.
/** An event listener: the fake's emitter calls it with whatever emit was given. */
type Listener = (...args: unknown[]) => unknown
/** What a listener can call preventDefault on (will-navigate, close, will-quit...). */
interface FakeEvent { prevented: boolean, preventDefault: () => void }
/** The sender side of an IPC invoke event, as the shell's sender check reads it. */
interface IpcEvent { sender: { id: number }, senderFrame: { url: string, parent: unknown } }
type IpcHandler = (event: IpcEvent, args: unknown) => Promise<CallOutcome>
type ProtocolHandler = (request: Request) => Promise<Response>
type PermissionRequestHandler = (contents: unknown, permission: string, callback: (granted: boolean) => void, details: unknown) => void
type PermissionCheckHandler = (contents: unknown, permission: string, origin: string, details: unknown) => boolean
type BeforeRequestHandler = (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void
type WindowOpenHandler = (details: { url: string }) => unknown
/** A tray menu entry as main.ts builds it (separators have no label or click). */
interface MenuItem { label?: string, type?: string, click?: () => void }

const fake = vi.hoisted(() => {
  class Emitter {
    listeners = new Map<string, Listener[]>()
    on (name: string, fn: Listener): this { this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn]); return this }
    once (name: string, fn: Listener): this {
      const wrap = (...a: unknown[]): unknown => { this.off(name, wrap); return fn(...a) }
      return this.on(name, wrap)
    }
    off (name: string, fn: Listener): this { this.listeners.set(name, (this.listeners.get(name) ?? []).filter((f) => f !== fn)); return this }
    emit (name: string, ...args: unknown[]): void { for (const fn of this.listeners.get(name) ?? []) fn(...args) }
  }
  function event (): FakeEvent {
    const e: FakeEvent = { prevented: false, preventDefault () { e.prevented = true } }
    return e
  }

  const state = {
    appPath: '',
    userData: '',
    sandboxEnabled: false,
    schemes: [] as unknown[],
    windows: [] as BrowserWindow[],
    trays: [] as Tray[],
    ipcHandlers: new Map<string, IpcHandler>(),
    opened: [] as string[],
    protocolHandlers: new Map<string, ProtocolHandler>(),
    permissionRequest: null as PermissionRequestHandler | null,
    permissionCheck: null as PermissionCheckHandler | null,
    beforeRequest: null as BeforeRequestHandler | null,
    exitCode: null as number | null,
    exited: null as unknown as Promise<void>,
    resolveExited: (): void => {},
    windowShown: null as unknown as Promise<BrowserWindow>,
    resolveWindowShown: (_w: BrowserWindow): void => {}
  }
  state.exited = new Promise<void>((resolve) => { state.resolveExited = resolve })
  state.windowShown = new Promise<BrowserWindow>((resolve) => { state.resolveWindowShown = resolve })

  let nextId = 1
  class WebContents extends Emitter {
    id = nextId++
    sent: unknown[][] = []
    destroyed = false
    windowOpenHandler: WindowOpenHandler | null = null
    send (...args: unknown[]): void { this.sent.push(args) }
    isDestroyed (): boolean { return this.destroyed }
    setWindowOpenHandler (fn: WindowOpenHandler): void { this.windowOpenHandler = fn }
  }

  const app = new (class extends Emitter {
    quitting = false
    setPath (name: string, p: string): void { if (name === 'userData') state.userData = p }
    setAppUserModelId (): void {}
    enableSandbox (): void { state.sandboxEnabled = true }
    getAppPath (): string { return state.appPath }
    requestSingleInstanceLock (): boolean { return true }
    async whenReady (): Promise<void> {}
    quit (): void {
      this.emit('before-quit', event())
      const e = event()
      this.emit('will-quit', e)
      if (!e.prevented) { state.exitCode = 0; state.resolveExited() }
    }

    exit (code: number): void { state.exitCode = code; state.resolveExited() }
  })()

  class BrowserWindow extends Emitter {
    webContents = new WebContents()
    url = ''
    visible = false
    destroyed = false
    constructor (readonly options: BrowserWindowConstructorOptions) {
      super()
      state.windows.push(this)
      app.emit('web-contents-created', event(), this.webContents)
    }

    async loadURL (url: string): Promise<void> { this.url = url; this.emit('ready-to-show') }
    show (): void { this.visible = true; state.resolveWindowShown(this) }
    hide (): void { this.visible = false }
    focus (): void {}
    isMinimized (): boolean { return false }
    restore (): void {}
    isDestroyed (): boolean { return this.destroyed }
    isVisible (): boolean { return this.visible }
    isFocused (): boolean { return this.visible }
  }

  class Tray extends Emitter {
    menu: MenuItem[] = []
    tooltip = ''
    destroyed = false
    constructor () { super(); state.trays.push(this) }
    setToolTip (t: string): void { this.tooltip = t }
    setContextMenu (m: MenuItem[]): void { this.menu = m }
    destroy (): void { this.destroyed = true }
  }

  const ses = new (class extends Emitter {
    protocol = { handle: (scheme: string, fn: ProtocolHandler) => { state.protocolHandlers.set(scheme, fn) } }
    webRequest = {
      onBeforeRequest: (fn: BeforeRequestHandler) => { state.beforeRequest = fn },
      onHeadersReceived: () => {}
    }

    setPermissionRequestHandler (fn: PermissionRequestHandler): void { state.permissionRequest = fn }
    setPermissionCheckHandler (fn: PermissionCheckHandler): void { state.permissionCheck = fn }
    setDevicePermissionHandler (): void {}
  })()

  const electron = {
    app,
    BrowserWindow,
    Tray,
    Menu: { buildFromTemplate: (t: MenuItem[]) => t },
    Notification: Object.assign(class extends Emitter { show (): void {} }, { isSupported: () => true }),
    nativeImage: { createFromPath: () => ({ resize: () => ({}) }) },
    clipboard: { writeText: () => {} },
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }), showErrorBox: () => {} },
    shell: {
      openExternal: async (url: string) => { state.opened.push(url) },
      openPath: async () => ''
    },
    ipcMain: {
      handle: (channel: string, fn: IpcHandler) => { state.ipcHandlers.set(channel, fn) },
      removeHandler: (channel: string) => { state.ipcHandlers.delete(channel) }
    },
    protocol: { registerSchemesAsPrivileged: (s: unknown[]) => { state.schemes.push(...s) } },
    session: { defaultSession: ses }
  }
  return { state, electron, event }
})

vi.mock('electron', () => ({ ...fake.electron, default: fake.electron }))

let root = ''
let storage = ''
let win: InstanceType<typeof fake.electron.BrowserWindow>
let testnet: Testnet | null = null
const originalArgv = process.argv

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'datdot-main-'))
  storage = join(root, 'storage')
  await mkdir(join(root, 'dist', 'renderer', 'assets'), { recursive: true })
  await writeFile(join(root, 'dist', 'renderer', 'index.html'), '<!doctype html><title>DatDot</title>')
  await writeFile(join(root, 'dist', 'renderer', 'assets', 'app.js'), 'console.log(1)')
  await writeFile(join(root, 'secret.txt'), 'not for the page')
  fake.state.appPath = root
  testnet = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  process.argv = ['electron', root, '--storage', storage, '--bootstrap', bootstrap, '--chain', 'off']
  await import('../../main/electron/main.js')
  win = await fake.state.windowShown
})

afterAll(async () => {
  process.argv = originalArgv
  if (fake.state.exitCode === null) fake.electron.app.quit()
  await fake.state.exited
  await testnet?.destroy()
  await rm(root, { recursive: true, force: true })
})

function trusted (): IpcEvent {
  return { sender: win.webContents, senderFrame: { url: 'app://datdot/index.html', parent: null } }
}

async function invoke (method: MethodName, args: unknown, ev: IpcEvent = trusted()): Promise<CallOutcome> {
  const fn = fake.state.ipcHandlers.get(IPC_PREFIX + method)
  if (!fn) throw new Error(`${method} is not registered`)
  return await fn(ev, args)
}

/** The result of a call that succeeded, typed by the contract; a failed call fails the test with its error. */
function resultOf<M extends MethodName> (_method: M, outcome: CallOutcome): Result<M> {
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`)
  return outcome.result as Result<M>
}

describe('Electron shell (with a stand-in for electron)', () => {
  it('opens one sandboxed, isolated window on app://datdot with the bundled preload', () => {
    expect(fake.state.windows).toHaveLength(1)
    expect(fake.state.sandboxEnabled).toBe(true)
    expect(fake.state.userData).toBe(join(storage, 'electron'))
    const prefs = win.options.webPreferences
    expect(prefs).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true, webviewTag: false })
    expect(prefs?.preload).toBe(join(root, 'dist', 'preload', 'index.cjs'))
    expect(win.url).toBe('app://datdot/index.html')
    const privileges: unknown = expect.objectContaining({ standard: true, secure: true })
    expect(fake.state.schemes).toEqual([expect.objectContaining({ scheme: 'app', privileges }), expect.objectContaining({ scheme: 'datdot-app' })])
  })

  it('serves the renderer on app:// with the CSP header and nothing outside it', async () => {
    const handler = fake.state.protocolHandlers.get('app')!
    const res = await handler(new Request('app://datdot/'))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await res.text()).toContain('<title>DatDot</title>')
    const js = await handler(new Request('app://datdot/assets/app.js'))
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const escape = await handler(new Request('app://datdot/..%2F..%2Fsecret.txt'))
    expect(escape.status).toBe(404)
    const post = await handler(new Request('app://datdot/index.html', { method: 'POST', body: 'x' }))
    expect(post.status).toBe(405)
  })

  it('denies permissions and network requests from the page', () => {
    let granted: boolean | null = null
    fake.state.permissionRequest!(win.webContents, 'media', (ok: boolean) => { granted = ok }, {})
    expect(granted).toBe(false)
    expect(fake.state.permissionCheck!(win.webContents, 'notifications', 'app://datdot', {})).toBe(false)
    const decide = (url: string): unknown => { let r: unknown; fake.state.beforeRequest!({ url }, (x: unknown) => { r = x }); return r }
    expect(decide('https://example.com/x.js')).toEqual({ cancel: true })
    expect(decide('ws://127.0.0.1:1/')).toEqual({ cancel: true })
    expect(decide('file:///etc/passwd')).toEqual({ cancel: true })
    expect(decide('app://datdot/index.html')).toEqual({ cancel: false })
  })

  it('blocks navigation and new windows, sending vetted links to the system browser', () => {
    const nav = fake.event()
    win.webContents.emit('will-navigate', nav, 'https://example.com/docs')
    expect(nav.prevented).toBe(true)
    const nav2 = fake.event()
    win.webContents.emit('will-navigate', nav2, 'file:///etc/passwd')
    expect(nav2.prevented).toBe(true)
    const hook = fake.event()
    win.webContents.emit('will-attach-webview', hook, {}, {})
    expect(hook.prevented).toBe(true)
    expect(win.webContents.windowOpenHandler!({ url: 'https://example.org/' })).toEqual({ action: 'deny' })
    expect(win.webContents.windowOpenHandler!({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' })
    expect(fake.state.opened).toEqual(['https://example.com/docs', 'https://example.org/'])
  })

  it('answers IPC from its window and refuses other senders and local-path methods', async () => {
    const ok = await invoke('getStatus', {})
    expect(ok.ok).toBe(true)
    expect(resultOf('getStatus', ok).storage).toBe(storage)
    const foreign = await invoke('getStatus', {}, { sender: { id: 999 }, senderFrame: { url: 'app://datdot/index.html', parent: null } })
    expect(foreign).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    const iframe = await invoke('getStatus', {}, { sender: win.webContents, senderFrame: { url: 'app://datdot/index.html', parent: {} } })
    expect(iframe).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(fake.state.ipcHandlers.has(IPC_PREFIX + 'importPaths')).toBe(false)
    expect(fake.state.ipcHandlers.has(IPC_PREFIX + 'beginUpload')).toBe(false)
    const bad = await invoke('follow', { link: 'not a link' })
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_LINK' } })
  })

  it('imports a dropped file into the vault and forwards the engine events to the window', async () => {
    const file = join(root, 'dropped.txt')
    await writeFile(file, 'hello from the desktop')
    // What preload does on a trusted drop: the paths go to main under a token, the page sends the token.
    const drop = '5a'.repeat(16)
    const registered = await fake.state.ipcHandlers.get(IPC_DROP_CHANNEL)!(trusted(), { drop, paths: [file] })
    expect(registered).toEqual({ ok: true, result: { ok: true } })
    const byPath = await invoke('importDropped', { files: [join(root, 'secret.txt')], dest: '/' })
    expect(byPath).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    const started = await invoke('importDropped', { drop, dest: '/inbox' })
    expect(started).toMatchObject({ ok: true, result: { kind: 'import' } })
    await vi.waitFor(() => {
      const names = win.webContents.sent.filter((s: unknown[]) => s[0] === IPC_EVENT_CHANNEL).map((s: unknown[]) => s[1])
      expect(names).toContain('vault.changed')
    }, { timeout: 30_000, interval: 20 })
    const listed = await invoke('listFiles', { path: '/inbox' })
    expect(resultOf('listFiles', listed).entries.map((e) => e.name)).toEqual(['dropped.txt'])
    const again = await invoke('importDropped', { drop })
    expect(again).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    const missing = await fake.state.ipcHandlers.get(IPC_DROP_CHANNEL)!(trusted(), { drop: '6b'.repeat(16), paths: [join(root, 'nope.txt')] })
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
  })

  it('pauses and resumes networking from the tray menu', async () => {
    const tray = fake.state.trays[0]
    const item = (label: RegExp): MenuItem | undefined => tray.menu.find((m) => m.label !== undefined && label.test(m.label))
    expect(item(/^Pause networking$/)).toBeDefined()
    item(/^Pause networking$/)!.click!()
    await vi.waitFor(() => { expect(item(/^Resume networking$/)).toBeDefined() }, { timeout: 10_000, interval: 10 })
    expect(tray.tooltip).toMatch(/paused/)
    item(/^Resume networking$/)!.click!()
    await vi.waitFor(() => { expect(item(/^Pause networking$/)).toBeDefined() }, { timeout: 10_000, interval: 10 })
  })

  it('hides the window on close and keeps running', () => {
    const close = fake.event()
    win.emit('close', close)
    expect(close.prevented).toBe(true)
    expect(win.visible).toBe(false)
    expect(fake.state.exitCode).toBeNull()
    fake.state.trays[0].emit('click')
    expect(win.visible).toBe(true)
  })

  it('closes the API server and the engine when quitting', async () => {
    await access(join(storage, 'daemon.json'))
    fake.electron.app.quit()
    await fake.state.exited
    expect(fake.state.exitCode).toBe(0)
    await expect(access(join(storage, 'daemon.json'))).rejects.toThrow()
    expect(fake.state.trays[0].destroyed).toBe(true)
    expect(fake.state.ipcHandlers.size).toBe(0)
  })
})
