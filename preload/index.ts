/**
 * The preload script of the DatDot window (sandboxed, context-isolated). It exposes exactly
 * one object, `window.datdot` (PreloadApi), generated from the API contract by generate.ts:
 * named functions over ipcRenderer.invoke, an event subscription and takeDrop() (the token of
 * the latest trusted drop; preload sends its paths to main itself). ipcRenderer itself never
 * reaches the page.
 *
 * Built by Vite (preload/vite.config.ts) into one CommonJS file, dist/preload/index.cjs, as
 * sandboxed preloads require; 'electron' stays external, everything else is bundled.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron'
import { IPC_EVENT_CHANNEL } from '../main/shared/contract.js'
import { createPreloadApi } from './generate.js'

const api = createPreloadApi({
  invoke: async (channel, args) => { const reply: unknown = await ipcRenderer.invoke(channel, args); return reply },
  subscribe: (callback) => {
    const listener = (_event: unknown, name: unknown, data: unknown): void => callback(name, data)
    ipcRenderer.on(IPC_EVENT_CHANNEL, listener)
    return () => { ipcRenderer.removeListener(IPC_EVENT_CHANNEL, listener) }
  },
  getPathForFile: (file) => webUtils.getPathForFile(file),
  // Capture phase on window, added before any page script runs: this sees a drop before the
  // page's handlers do (and whether the page stops it or not).
  listenForDrops: (handler) => { window.addEventListener('drop', (event) => { handler(event) }, true) },
  randomBytes: () => crypto.getRandomValues(new Uint8Array(16))
})

contextBridge.exposeInMainWorld('datdot', api)
