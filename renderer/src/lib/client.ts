/**
 * The one typed client of the engine API, whichever way the UI runs:
 *  - in Electron, `window.datdot` (preload, contextBridge): one function per method + `on`;
 *  - in a browser (the daemon's web UI), a WebSocket to /api/ws (ws-client.ts).
 * Both give `call(method, args)` and `on(event, listener)`, typed by the contract.
 */
import type { Result } from '../../../main/shared/contract.js'
import type { PreloadApi } from '../../../main/api/preload-api.js'
import { DatdotError } from '../../../main/shared/errors.js'
import type { Client, ElectronClient } from './client-types.js'
import { WsClient, WS_PATH } from './ws-client.js'
import { takeToken } from './token.js'

export type { Client, ConnectionState } from './client-types.js'

export function createElectronClient (preload: PreloadApi): ElectronClient {
  return {
    kind: 'electron',
    preload,
    call: async (method, args) => {
      const fn = (preload as unknown as Record<string, ((a: unknown) => Promise<unknown>) | undefined>)[method]
      if (typeof fn !== 'function') throw DatdotError.forbidden(`${method} is not available in the app`)
      return await fn(args) as Result<typeof method>
    },
    on: (event, listener) => preload.on(event, listener),
    onConnection: (listener) => { listener('open'); return () => {} }
  }
}

function createClient (): Client {
  if (typeof window !== 'undefined' && window.datdot && window.datdot.kind === 'electron') {
    return createElectronClient(window.datdot)
  }
  const token = takeToken()
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return new WsClient({ url: `${scheme}://${location.host}${WS_PATH}`, token })
}

export const client: Client = createClient()
