/**
 * The shape of `window.datdot`, which preload/index.ts exposes in Electron through
 * contextBridge: one named function per method whose exposure includes 'ipc' (generated
 * from the contract), an event subscription, and the one function that needs the preload's
 * privileges (turning dropped File objects into paths with webUtils.getPathForFile).
 *
 * Type-only: no runtime code, safe to import from the renderer and preload.
 */
import type { Api, EventName, EventData, Job } from './contract.js'

export type PreloadApi = Api & {
  readonly kind: 'electron'
  /** Subscribes to an engine event; returns the unsubscribe function. */
  on: <E extends EventName>(event: E, listener: (data: EventData<E>) => void) => () => void
  /** Imports files/folders dropped on the window into the vault folder `dest`. */
  importDroppedFiles: (files: File[], dest: string) => Promise<Job>
}

/** Wire format of the loopback WebSocket API (/api/ws, subprotocols ['datdot.v1', 'token.<hex>']). */
export type WsClientMessage = { id: number, method: string, args: unknown }
export type WsServerMessage =
  | { id: number, result: unknown }
  | { id: number, error: { code: string, message: string, details?: Record<string, unknown> } }
  | { event: string, data: unknown }

export const WS_PATH = '/api/ws'
export const WS_PROTOCOL = 'datdot.v1'
export const WS_TOKEN_PREFIX = 'token.'
