import { describe, it, expect } from 'vitest'
import type { IpcMainInvokeEvent } from 'electron'
import { registerIpc, forwardEvent, IPC_METHODS, senderIsTrusted } from '../../main/electron/ipc.js'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { METHOD_NAMES, methods, IPC_PREFIX, IPC_EVENT_CHANNEL, IPC_DROP_CHANNEL, type Handlers, type Job } from '../../main/shared/contract.js'
import { createShellMethods } from '../../main/electron/shell-methods.js'
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
    ipcMain,
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
    const { DatdotError } = await import('../../main/shared/errors.js')
    const { call } = setup({ stat: async () => { throw DatdotError.notFound('/x') } })
    await expect(call('stat', { path: '/x' })).resolves.toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'Not found: /x' } })
  })
})

describe('IPC sender check', () => {
  const handlers: Partial<Handlers> = { getVault: async () => ({ key: 'k', link: 'l', version: 1, files: 0, bytes: 0, restoring: null }) }

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

describe('dropped files over IPC', () => {
  /** The shell methods wired to registerIpc as main.ts does, with an engine stand-in recording imports. */
  function shellSetup () {
    const imported: unknown[] = []
    const shell = createShellMethods({
      engine: { importPaths: async (args) => { imported.push(args); return { id: 'j', kind: 'import', state: 'running' } as Job } },
      showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
      writeClipboard: () => {},
      openPath: async () => ''
    })
    const ipcMain = fakeIpcMain()
    registerIpc({
      ipcMain,
      handlers: shell.handlers,
      getWebContents: () => ({ id: WINDOW_ID }),
      onDropPaths: async (args) => { await shell.drops.register(args) }
    })
    const call = async (channel: string, args: unknown, ev = event()): Promise<CallOutcome> => await ipcMain.handlers.get(channel)!(ev, args)
    return { imported, call, ipcMain }
  }

  it('refuses a local path sent by the page to importDropped, importing nothing', async () => {
    const { imported, call } = shellSetup()
    const out = await call(IPC_PREFIX + 'importDropped', { files: ['/home/me/.ssh/id_ed25519'], dest: '/' })
    expect(out).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    const guessed = await call(IPC_PREFIX + 'importDropped', { drop: 'ab'.repeat(16), dest: '/' })
    expect(guessed).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    expect(imported).toEqual([])
  })

  it('imports the paths preload registered on the drop channel, by token, once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'datdot-ipc-drop-'))
    try {
      const file = join(dir, 'a.txt')
      await writeFile(file, 'a')
      const { imported, call } = shellSetup()
      const drop = 'cd'.repeat(16)
      await expect(call(IPC_DROP_CHANNEL, { drop, paths: [file] })).resolves.toEqual({ ok: true, result: { ok: true } })
      await expect(call(IPC_PREFIX + 'importDropped', { drop, dest: '/inbox' })).resolves.toMatchObject({ ok: true })
      expect(imported).toEqual([{ paths: [file], dest: '/inbox', wait: false }])
      await expect(call(IPC_PREFIX + 'importDropped', { drop, dest: '/inbox' })).resolves.toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
      await expect(call(IPC_DROP_CHANNEL, { drop: 'ef'.repeat(16), paths: [join(dir, 'gone')] })).resolves.toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('checks the sender on the drop channel too, and registers it only when asked', async () => {
    const { call } = shellSetup()
    const out = await call(IPC_DROP_CHANNEL, { drop: 'ab'.repeat(16), paths: ['/etc/passwd'] }, event({ url: 'https://evil.example/' }))
    expect(out).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(setup({}).ipcMain.handlers.has(IPC_DROP_CHANNEL)).toBe(false)
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
