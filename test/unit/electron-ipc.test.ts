import { describe, it, expect } from 'vitest'
import type { IpcMainInvokeEvent } from 'electron'
import { registerIpc, forwardEvent, IPC_METHODS, senderIsTrusted } from '../../main/electron/ipc.js'
import { METHOD_NAMES, methods, IPC_PREFIX, IPC_EVENT_CHANNEL, type Handlers } from '../../main/api/contract.js'
import type { CallOutcome } from '../../main/api/dispatch.js'

type Listener = (event: IpcMainInvokeEvent, args: unknown) => Promise<CallOutcome>

/** ipcMain stand-in that keeps the registered handlers so the test can invoke them. */
function fakeIpcMain () {
  const handlers = new Map<string, Listener>()
  return {
    handlers,
    handle: (channel: string, fn: Listener) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`)
      handlers.set(channel, fn)
    },
    removeHandler: (channel: string) => { handlers.delete(channel) }
  }
}

const WINDOW_ID = 3

function event (over: { senderId?: number, url?: string | null, parent?: unknown, throws?: boolean } = {}): IpcMainInvokeEvent {
  const frame = over.throws
    ? { get url (): string { throw new Error('Render frame was disposed') }, parent: null }
    : over.url === null ? null : { url: over.url ?? 'app://datdot/index.html', parent: over.parent ?? null }
  return { sender: { id: over.senderId ?? WINDOW_ID }, senderFrame: frame } as unknown as IpcMainInvokeEvent
}

function setup (handlers: Partial<Handlers>) {
  const ipcMain = fakeIpcMain()
  const refused: string[] = []
  const unregister = registerIpc({
    ipcMain: ipcMain as never,
    handlers,
    getWebContents: () => ({ id: WINDOW_ID }),
    onRefused: (channel) => { refused.push(channel) }
  })
  const call = async (name: string, args: unknown, ev = event()): Promise<CallOutcome> => {
    const fn = ipcMain.handlers.get(IPC_PREFIX + name)
    if (!fn) throw new Error(`no handler for ${name}`)
    return await fn(ev, args)
  }
  return { ipcMain, refused, unregister, call }
}

describe('IPC registration', () => {
  it('registers exactly one handler per ipc-exposed method and removes them all again', () => {
    const { ipcMain, unregister } = setup({})
    const expected = METHOD_NAMES.filter((m) => (methods[m].exposure as readonly string[]).includes('ipc'))
    expect([...IPC_METHODS]).toEqual(expected)
    expect([...ipcMain.handlers.keys()].sort()).toEqual(expected.map((m) => IPC_PREFIX + m).sort())
    expect(ipcMain.handlers.has(IPC_PREFIX + 'importPaths')).toBe(false)
    unregister()
    expect(ipcMain.handlers.size).toBe(0)
  })

  it('passes validated, defaulted arguments to the handler and returns an ok envelope', async () => {
    const seen: unknown[] = []
    const { call } = setup({
      share: async (args) => { seen.push(args); return { link: 'hyper://x' } }
    })
    await expect(call('share', {})).resolves.toEqual({ ok: true, result: { link: 'hyper://x' } })
    expect(seen).toEqual([{ path: '/' }])
  })

  it('answers invalid arguments with an INVALID_ARGUMENT envelope without calling the handler', async () => {
    let called = false
    const { call } = setup({ follow: async () => { called = true; throw new Error('unreachable') } })
    const out = await call('follow', { link: 42, extra: true })
    expect(out.ok).toBe(false)
    expect(out.ok === false && out.error.code).toBe('INVALID_ARGUMENT')
    expect(called).toBe(false)
  })

  it('keeps the error code of a failing handler', async () => {
    const { DatdotError } = await import('../../main/engine/errors.js')
    const { call } = setup({ stat: async () => { throw DatdotError.notFound('/x') } })
    await expect(call('stat', { path: '/x' })).resolves.toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'Not found: /x' } })
  })
})

describe('IPC sender check', () => {
  const handlers: Partial<Handlers> = { getVault: async () => ({ key: 'k', link: 'l', version: 1, files: 0, bytes: 0 }) }

  it('serves the top frame of our window on our origin', async () => {
    const { call, refused } = setup(handlers)
    await expect(call('getVault', {})).resolves.toMatchObject({ ok: true })
    expect(refused).toEqual([])
  })

  it('refuses other windows, sub-frames, foreign pages and destroyed frames with FORBIDDEN', async () => {
    const { call, refused } = setup(handlers)
    const bad = [
      event({ senderId: 99 }),
      event({ parent: { url: 'app://datdot/index.html' } }),
      event({ url: 'https://evil.example/' }),
      event({ url: 'file:///tmp/page.html' }),
      event({ url: null }),
      event({ throws: true })
    ]
    for (const ev of bad) {
      const out = await call('getVault', {}, ev)
      expect(out.ok).toBe(false)
      expect(out.ok === false && out.error.code).toBe('FORBIDDEN')
    }
    expect(refused).toHaveLength(bad.length)
  })

  it('refuses everything while there is no window', () => {
    expect(senderIsTrusted(event(), null)).toBe(false)
    expect(senderIsTrusted(event(), { id: WINDOW_ID })).toBe(true)
  })
})

describe('event forwarding', () => {
  it('sends (name, data) on the event channel to a live window only', () => {
    const sent: unknown[][] = []
    const wc = { destroyed: false, isDestroyed () { return this.destroyed }, send: (...a: unknown[]) => { sent.push(a) } }
    forwardEvent(wc, 'follow.removed', { key: 'k' })
    wc.destroyed = true
    forwardEvent(wc, 'follow.removed', { key: 'j' })
    forwardEvent(null, 'follow.removed', { key: 'i' })
    expect(sent).toEqual([[IPC_EVENT_CHANNEL, 'follow.removed', { key: 'k' }]])
  })
})
