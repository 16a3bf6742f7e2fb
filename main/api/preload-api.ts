/**
 * The shape of `window.datdot`, which preload/index.ts exposes in Electron through
 * contextBridge: one named function per method whose exposure includes 'ipc' (generated
 * from the contract), an event subscription, and `takeDrop()`, the token of what the user last
 * dropped on the window (preload keeps the paths; the page passes the token to importDropped).
 *
 * Type-only: no runtime code, safe to import from the renderer and preload.
 */
import type { Api, EventName, EventData } from '../shared/contract.js'

export type PreloadApi = Api & {
  readonly kind: 'electron'
  /** Subscribes to an engine event; returns the unsubscribe function. */
  on: <E extends EventName>(event: E, listener: (data: EventData<E>) => void) => () => void
  /**
   * The one-time token of the latest trusted drop of local files on the window, for
   * `importDropped({ drop, dest })`; null if there is none (or it was already taken, or the
   * drop held no local files). Call it synchronously from the page's drop handler.
   */
  takeDrop: () => { drop: string, items: number } | null
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
