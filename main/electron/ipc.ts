/**
 * Exposes the API contract over Electron IPC: one `ipcMain.handle(IPC_PREFIX + name)` per
 * method whose exposure includes 'ipc', and the engine's events forwarded to the window.
 *
 * Every handler first checks its sender (policy.isTrustedSender: the top frame of our window,
 * showing a page of our app origin), then hands the call to dispatchSafe, which validates the
 * arguments with the method's schema and re-checks the exposure. The reply is always an
 * envelope `{ ok: true, result } | { ok: false, error: { code, message } }`, so error codes
 * survive IPC (a thrown Error would arrive as a bare message); preload revives the error.
 *
 * With `onDropPaths`, one more channel, IPC_DROP_CHANNEL, receives the paths of a trusted drop
 * from preload (`{ drop, paths }`, see drops.ts). It is no contract method: preload does not
 * put it on window.datdot, so the page cannot send a path on it; it gets the same sender check
 * and the same envelope replies.
 *
 * Only types are imported from 'electron': this module takes ipcMain and the window as
 * arguments, which keeps it testable under plain Node (test/unit/electron-ipc.test.ts).
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron'
import { METHOD_NAMES, IPC_PREFIX, IPC_EVENT_CHANNEL, IPC_DROP_CHANNEL, isExposed, type MethodName, type EventName, type Handlers } from '../shared/contract.js'
import { dispatchSafe, type CallOutcome } from '../api/dispatch.js'
import { DatdotError } from '../shared/errors.js'
import { isTrustedSender } from './policy.js'

/** The methods Electron exposes, straight from the contract. */
export const IPC_METHODS: readonly MethodName[] = METHOD_NAMES.filter((m) => isExposed(m, 'ipc'))

export interface IpcOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>
  /** Engine handlers merged with the shell methods. */
  handlers: Partial<Handlers>
  /** The webContents of our window, or null while there is none. */
  getWebContents: () => Pick<WebContents, 'id'> | null
  /** Called when a message is refused (for logging). */
  onRefused?: (channel: string, why: string) => void
  /** Receives `{ drop, paths }` from preload on IPC_DROP_CHANNEL (DropRegistry.register). */
  onDropPaths?: (args: unknown) => Promise<void>
}

/** Reads what the sender check needs from an invoke event. */
export function senderIsTrusted (event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, wc: Pick<WebContents, 'id'> | null): boolean {
  let frameUrl: string | null = null
  let isTopFrame = false
  try {
    const frame = event.senderFrame
    if (frame) {
      frameUrl = frame.url
      isTopFrame = frame.parent === null
    }
  } catch {
    // Accessing a frame that navigated away or was destroyed throws: not trusted.
    frameUrl = null
  }
  return isTrustedSender({ senderId: event.sender.id, windowId: wc?.id ?? null, frameUrl, isTopFrame })
}

/** Registers one handler per IPC method; returns a function that removes them all. */
export function registerIpc (opts: IpcOptions): () => void {
  const channels: string[] = []
  for (const name of IPC_METHODS) {
    const channel = IPC_PREFIX + name
    opts.ipcMain.handle(channel, async (event: IpcMainInvokeEvent, args: unknown): Promise<CallOutcome> => {
      if (!senderIsTrusted(event, opts.getWebContents())) {
        opts.onRefused?.(channel, 'untrusted sender')
        return { ok: false, error: DatdotError.forbidden('this page may not call DatDot').toJSON() }
      }
      return await dispatchSafe(opts.handlers, name, args, 'ipc')
    })
    channels.push(channel)
  }
  const onDropPaths = opts.onDropPaths
  if (onDropPaths) {
    opts.ipcMain.handle(IPC_DROP_CHANNEL, async (event: IpcMainInvokeEvent, args: unknown): Promise<CallOutcome> => {
      if (!senderIsTrusted(event, opts.getWebContents())) {
        opts.onRefused?.(IPC_DROP_CHANNEL, 'untrusted sender')
        return { ok: false, error: DatdotError.forbidden('this page may not call DatDot').toJSON() }
      }
      try {
        await onDropPaths(args)
        return { ok: true, result: { ok: true } }
      } catch (err) {
        return { ok: false, error: DatdotError.from(err).toJSON() }
      }
    })
    channels.push(IPC_DROP_CHANNEL)
  }
  return () => {
    for (const channel of channels) opts.ipcMain.removeHandler(channel)
  }
}

/** Sends an engine event to the window, if it is there and alive. */
export function forwardEvent (wc: Pick<WebContents, 'send' | 'isDestroyed'> | null, name: EventName, data: unknown): void {
  if (wc === null || wc.isDestroyed()) return
  wc.send(IPC_EVENT_CHANNEL, name, data)
}
