/**
 * The Electron shell of DatDot: a thin layer around the engine. It runs the engine in-process
 * with the loopback API server (so the `datdot` CLI and the browser UI reach the same engine
 * while the app runs), and one sandboxed window that talks to the engine through preload IPC.
 *
 * Security posture (docs/desktop.md): sandboxed, context-isolated renderer without Node; the
 * UI is served from app://datdot/ with a strict CSP header; navigation, new windows, webviews,
 * permission requests and network requests from the page are refused; every IPC handler
 * checks its sender and validates its arguments with the contract schema; dropped files reach
 * main only as paths preload took from a trusted drop event, never as paths from the page.
 *
 * Closing the window keeps DatDot running in the tray (the vault and followed drives keep
 * seeding); Quit in the tray menu closes the server and the engine cleanly.
 */
import { join } from 'node:path'
import {
  app, BrowserWindow, Menu, Notification, Tray, clipboard, dialog, ipcMain, nativeImage, session, shell
} from 'electron'
import type { DatdotNode } from '../hosting/node.js'
import { defaultChain, defaultStorageDir, parseBootstrap } from '../engine/config.js'
import type { EngineHandlers } from '../api/handlers.js'
import { ApiServer } from '../server/server.js'
import { NodeHost } from '../server/node-host.js'
import type { EventData, EventName, Handlers } from '../shared/contract.js'
import { APP_ENTRY_URL, followUpdateNotification, NotificationThrottle, parseShellArgs, type ShellOptions } from './policy.js'
import { registerAppScheme, serveAppProtocol, hardenSession, hardenAllWebContents } from './security.js'
import { servePreviewScheme } from './app-scheme.js'
import { registerIpc, forwardEvent, type IpcOptions } from './ipc.js'
import { createShellMethods, type ShellMethods } from './shell-methods.js'

const APP_ID = 'org.datdot.app'

function log (msg: string): void {
  console.log(`datdot: ${msg}`)
}

// ------------------------------------------------------------------ before 'ready'

let options: ShellOptions
try {
  options = parseShellArgs(process.argv.slice(1))
} catch (err) {
  console.error(`datdot: ${(err as Error).message}`)
  process.exit(2)
}

const storage = options.storage ?? defaultStorageDir()
// A storage folder given on the command line gets its own Chromium profile and single-instance
// lock, so two DatDot windows on two storage folders can run side by side.
if (options.storage !== undefined) app.setPath('userData', join(storage, 'electron'))

app.setAppUserModelId(APP_ID)
app.enableSandbox()
registerAppScheme()
hardenAllWebContents(log)

// ------------------------------------------------------------------ state

const root = app.getAppPath()
const paths = {
  renderer: join(root, 'dist', 'renderer'),
  preload: join(root, 'dist', 'preload', 'index.cjs'),
  icon: join(root, 'resources', 'icon.png'),
  trayIcon: join(root, 'resources', 'tray.png')
}

let host: NodeHost | null = null
let engine: DatdotNode | null = null
let offEngine: (() => void) | null = null
let ipcOptions: IpcOptions | null = null
let server: ApiServer | null = null
let shellMethods: ShellMethods | null = null
let handlers: Partial<Handlers> = {}
let win: BrowserWindow | null = null
let tray: Tray | null = null
let networkPaused = false
let quitting = false
let shutDown = false
const throttle = new NotificationThrottle(10_000)
const cleanups: Array<() => void> = []

// ------------------------------------------------------------------ window

function createWindow (): BrowserWindow {
  const w = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 640,
    minHeight: 480,
    title: 'DatDot',
    icon: paths.icon,
    show: false,
    backgroundColor: '#ffffff',
    webPreferences: {
      preload: paths.preload,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true
    }
  })
  w.once('ready-to-show', () => { w.show() })
  // Closing the window hides it: DatDot keeps seeding from the tray until Quit.
  w.on('close', (event) => {
    if (!quitting && tray !== null) {
      event.preventDefault()
      w.hide()
    }
  })
  w.on('closed', () => { if (win === w) win = null })
  w.loadURL(APP_ENTRY_URL).catch((err: unknown) => { log(`could not load the UI: ${String(err)}`) })
  return w
}

function showWindow (): void {
  if (win === null || win.isDestroyed()) win = createWindow()
  if (win.isMinimized()) win.restore()
  win.show()
  win.focus()
}

// ------------------------------------------------------------------ tray

function updateTray (): void {
  if (tray === null) return
  tray.setToolTip(networkPaused ? 'DatDot (networking paused)' : 'DatDot')
  tray.setContextMenu(Menu.buildFromTemplate([
    { label: 'Open DatDot', click: () => { showWindow() } },
    { type: 'separator' },
    {
      label: networkPaused ? 'Resume networking' : 'Pause networking',
      click: () => { setPaused(!networkPaused) }
    },
    { type: 'separator' },
    { label: 'Quit DatDot', click: () => { app.quit() } }
  ]))
}

function setPaused (paused: boolean): void {
  const set = handlers.setNetworkPaused
  if (!set) return
  set({ paused })
    .then((status) => { networkPaused = status.paused; updateTray() })
    .catch((err: unknown) => { log(`could not ${paused ? 'pause' : 'resume'} networking: ${String(err)}`) })
}

function createTray (): Tray {
  let image = nativeImage.createFromPath(paths.trayIcon)
  if (process.platform === 'darwin') image = image.resize({ width: 16, height: 16 })
  const t = new Tray(image)
  t.on('click', () => { showWindow() })
  return t
}

// ------------------------------------------------------------------ engine events

function onEngineEvent<E extends EventName> (name: E, data: EventData<E>): void {
  forwardEvent(win?.webContents ?? null, name, data)
  if (name === 'network.status') {
    networkPaused = (data as EventData<'network.status'>).paused
    updateTray()
  } else if (name === 'follow.updated') {
    notifyFollowUpdate(data as EventData<'follow.updated'>)
  } else if (name === 'hosting.alert') {
    notifyHostingAlert(data as EventData<'hosting.alert'>)
  }
}

/** An OS notification for each new hosting alert (a slot in containment, offline, disk), window focused or not. */
function notifyHostingAlert (data: EventData<'hosting.alert'>): void {
  if (!Notification.isSupported()) return
  const n = new Notification({ title: data.title, body: data.text.length > 200 ? data.text.slice(0, 197) + '...' : data.text, icon: paths.icon })
  n.on('click', () => { showWindow() })
  n.show()
}

function notifyFollowUpdate (data: EventData<'follow.updated'>): void {
  if (data.changes.length === 0 || !Notification.isSupported()) return
  // The open window shows updates itself; notify when the user is elsewhere.
  if (win !== null && !win.isDestroyed() && win.isVisible() && win.isFocused()) return
  if (!throttle.allow(data.key, Date.now())) return
  const { title, body } = followUpdateNotification(data)
  const n = new Notification({ title, body, icon: paths.icon })
  n.on('click', () => { showWindow() })
  n.show()
}

// ------------------------------------------------------------------ startup and shutdown

async function start (): Promise<void> {
  const bootstrapText = options.bootstrap ?? process.env.DATDOT_BOOTSTRAP
  const bootstrap = bootstrapText ? parseBootstrap(bootstrapText) : undefined

  const ses = session.defaultSession
  hardenSession(ses)
  serveAppProtocol(ses, paths.renderer)
  servePreviewScheme(ses, () => (cap) => engine?.apps.preview(cap) ?? null)

  const h = await NodeHost.start({ node: { storage, bootstrap, chain: options.chain ?? defaultChain(), offline: options.offline } })
  host = h
  shellMethods = createShellMethods({
    // the current node's handlers at each call (an in-app restore replaces the node)
    engine: {
      importPaths: async (args) => await h.handlers.importPaths(args),
      exportPath: async (args) => await h.handlers.exportPath(args),
      stat: async (args) => await h.handlers.stat(args)
    },
    showOpenDialog: async ({ kind, title, buttonLabel }) => {
      const props: Array<'openFile' | 'openDirectory' | 'multiSelections' | 'createDirectory'> =
        kind === 'files' ? ['openFile', 'multiSelections'] : ['openDirectory', 'createDirectory']
      const opts = { title, buttonLabel, properties: props }
      return win !== null && !win.isDestroyed() ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts)
    },
    writeClipboard: (text) => { clipboard.writeText(text) },
    openPath: async (p) => await shell.openPath(p)
  })
  server = new ApiServer({ engine: h.node, handlers: h.handlers, storage, port: options.port, staticDir: paths.renderer })
  await server.ready()
  log(`engine running on ${storage}; API and browser UI at ${server.url}`)

  ipcOptions = {
    ipcMain,
    handlers: {},
    getWebContents: () => (win !== null && !win.isDestroyed() ? win.webContents : null),
    onRefused: (channel, why) => { log(`refused IPC ${channel}: ${why}`) },
    onDropPaths: async (args) => { await shellMethods?.drops.register(args) }
  }
  adoptNode(h.node, h.handlers)
  cleanups.push(registerIpc(ipcOptions))
  cleanups.push(h.onNode(adoptNode))
  cleanups.push(() => { offEngine?.() })

  const status = await h.handlers.getStatus({})
  networkPaused = status?.network.paused ?? false
  tray = createTray()
  updateTray()
  showWindow()
}

/** Serves `node` from now on (at start, and when an in-app restore replaced the node): IPC, the API server, events. */
function adoptNode (node: DatdotNode, engineHandlers: EngineHandlers): void {
  engine = node
  handlers = { ...engineHandlers, ...shellMethods?.handlers }
  if (ipcOptions !== null) ipcOptions.handlers = handlers
  server?.useNode(node, engineHandlers)
  offEngine?.()
  offEngine = node.onEvent(onEngineEvent)
}

async function shutdown (): Promise<void> {
  for (const fn of cleanups.splice(0)) fn()
  tray?.destroy()
  tray = null
  const steps: Array<[string, () => Promise<void>]> = [
    ['API server', async () => { await server?.close() }],
    ['engine', async () => { await host?.close() }],
    ['temporary files', async () => { await shellMethods?.cleanup() }]
  ]
  for (const [what, step] of steps) {
    try {
      await step()
    } catch (err) {
      log(`closing the ${what} failed: ${String(err)}`)
    }
  }
}

if (!app.requestSingleInstanceLock()) {
  // Another DatDot runs on this storage folder: it gets focused (second-instance), we leave.
  app.quit()
} else {
  app.on('second-instance', () => { if (engine !== null) showWindow() })
  app.on('activate', () => { if (engine !== null) showWindow() })
  // The window only hides while the tray is there; without windows DatDot keeps running.
  app.on('window-all-closed', () => { if (tray === null) app.quit() })
  app.on('before-quit', () => { quitting = true })
  app.on('will-quit', (event) => {
    if (shutDown) return
    event.preventDefault()
    const timer = setTimeout(() => { log('shutdown took too long; exiting'); app.exit(1) }, 20_000)
    shutdown()
      .catch((err: unknown) => { log(`shutdown failed: ${String(err)}`) })
      .finally(() => { clearTimeout(timer); shutDown = true; app.quit() })
  })

  app.whenReady()
    .then(start)
    .catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err)
      log(`could not start: ${message}`)
      dialog.showErrorBox('DatDot could not start', message)
      quitting = true
      shutdown().finally(() => { shutDown = true; app.exit(1) }).catch(() => {})
    })
}
