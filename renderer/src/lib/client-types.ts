/** Types of the renderer's API client (see client.ts). */
import type { Args, EventData, EventName, MethodName, Result } from '../../../main/shared/contract.js'
import type { PreloadApi } from '../../../main/api/preload-api.js'

export type ConnectionState = 'connecting' | 'open' | 'closed'
export type Listener<E extends EventName> = (data: EventData<E>) => void

export interface ClientBase {
  call: <M extends MethodName>(method: M, args: Args<M>) => Promise<Result<M>>
  on: <E extends EventName>(event: E, listener: Listener<E>) => () => void
  /** Connection changes (Electron is always 'open'); called at once with the current state. */
  onConnection: (listener: (state: ConnectionState) => void) => () => void
}

export interface ElectronClient extends ClientBase {
  readonly kind: 'electron'
  readonly preload: PreloadApi
}

export interface BrowserClient extends ClientBase {
  readonly kind: 'browser'
  /** API token (for upload PUTs), null when the page was opened without one. */
  readonly token: string | null
  close: () => void
}

export type Client = ElectronClient | BrowserClient

declare global {
  interface Window { datdot?: PreloadApi }
}
