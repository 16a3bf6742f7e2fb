import { describe, it, expect } from 'vitest'
import type { ContextBridge, IpcRenderer, WebUtils } from 'electron'
import { createPreloadApi, ipcMethodNames, type PreloadDeps } from '../../preload/generate.js'
import { methods, METHOD_NAMES, EVENT_NAMES, IPC_PREFIX, type MethodName } from '../../main/api/contract.js'
import { DatdotError } from '../../main/engine/errors.js'

// The preload's dependencies must be satisfiable by Electron's real renderer API (type check only).
type RealDeps = { invoke: IpcRenderer['invoke'], getPathForFile: WebUtils['getPathForFile'] }
const _fitsElectron: Pick<PreloadDeps, 'invoke' | 'getPathForFile'> = null as unknown as RealDeps
void _fitsElectron
const _bridge: ContextBridge['exposeInMainWorld'] | null = null
void _bridge

interface Call { channel: string, args: unknown }

/** A main process stand-in: records calls and answers with the envelopes ipc.ts sends. */
function fakeMain (reply: (channel: string, args: unknown) => unknown = (channel) => ({ ok: true, result: { echoed: channel } })) {
  const calls: Call[] = []
  let eventCallback: ((name: unknown, data: unknown) => void) | null = null
  let subscriptions = 0
  const deps: PreloadDeps = {
    invoke: async (channel, args) => {
      calls.push({ channel, args })
      return reply(channel, args)
    },
    subscribe: (cb) => {
      subscriptions++
      eventCallback = cb
      return () => { eventCallback = null }
    },
    getPathForFile: (file) => (file as unknown as { path?: string }).path ?? ''
  }
  return {
    deps,
    calls,
    emit: (name: unknown, data: unknown) => { eventCallback?.(name, data) },
    get subscribed () { return eventCallback !== null },
    get subscriptions () { return subscriptions }
  }
}

const expectedIpc = METHOD_NAMES.filter((m) => (methods[m].exposure as readonly string[]).includes('ipc'))

describe('generated preload API', () => {
  it('has one function per ipc-exposed contract method, plus on, kind and importDroppedFiles, and nothing else', () => {
    const api = createPreloadApi(fakeMain().deps) as unknown as Record<string, unknown>
    const extras = ['kind', 'on', 'importDroppedFiles']
    expect(Object.keys(api).sort()).toEqual([...expectedIpc, ...extras].sort())
    for (const m of expectedIpc) expect(typeof api[m], m).toBe('function')
    expect(api.kind).toBe('electron')
    expect(ipcMethodNames()).toEqual(expectedIpc)
  })

  it('leaves out methods that are not exposed on ipc, such as the local-path ones', () => {
    const api = createPreloadApi(fakeMain().deps) as unknown as Record<string, unknown>
    const notIpc = METHOD_NAMES.filter((m) => !expectedIpc.includes(m))
    expect(notIpc).toContain('importPaths')
    expect(notIpc).toContain('exportPath')
    for (const m of notIpc) expect(api[m], m).toBeUndefined()
    expect(api.ipcRenderer).toBeUndefined()
    expect(api.invoke).toBeUndefined()
  })

  it('is frozen so the page cannot swap a function', () => {
    const api = createPreloadApi(fakeMain().deps)
    expect(Object.isFrozen(api)).toBe(true)
  })

  it('invokes each method on its own channel with its arguments and returns the result', async () => {
    const main = fakeMain()
    const api = createPreloadApi(main.deps) as unknown as Record<MethodName, (a?: unknown) => Promise<unknown>>
    for (const m of expectedIpc) {
      await expect(api[m]({ marker: m })).resolves.toEqual({ echoed: IPC_PREFIX + m })
    }
    expect(main.calls).toEqual(expectedIpc.map((m) => ({ channel: IPC_PREFIX + m, args: { marker: m } })))
  })

  it('sends an empty object when a method is called without arguments', async () => {
    const main = fakeMain()
    const api = createPreloadApi(main.deps)
    await api.getStatus({})
    await (api.listFollows as unknown as () => Promise<unknown>)()
    expect(main.calls.map((c) => c.args)).toEqual([{}, {}])
  })

  it('revives an error envelope into a DatdotError whose code is also in its message', async () => {
    const main = fakeMain(() => ({ ok: false, error: { code: 'NOT_FOUND', message: 'Not found: /x', details: { a: 1 } } }))
    const api = createPreloadApi(main.deps)
    const err = await api.stat({ path: '/x' }).then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(DatdotError)
    expect((err as DatdotError).code).toBe('NOT_FOUND')
    expect((err as DatdotError).message).toBe('NOT_FOUND: Not found: /x')
    expect((err as DatdotError).details).toEqual({ a: 1 })
  })

  it('turns an unknown code or a malformed reply into INTERNAL', async () => {
    const weird = createPreloadApi(fakeMain(() => ({ ok: false, error: { code: 'WHAT', message: 'odd' } })).deps)
    await expect(weird.getVault({})).rejects.toMatchObject({ code: 'INTERNAL', message: 'INTERNAL: odd' })
    const broken = createPreloadApi(fakeMain(() => 'nonsense').deps)
    await expect(broken.getVault({})).rejects.toMatchObject({ code: 'INTERNAL' })
  })
})

describe('preload events', () => {
  it('delivers only the subscribed event to its listener, without the IPC event object', () => {
    const main = fakeMain()
    const api = createPreloadApi(main.deps)
    const got: unknown[] = []
    api.on('vault.changed', (data) => { got.push(data) })
    main.emit('follow.removed', { key: 'k' })
    main.emit('vault.changed', { version: 2, changes: [], truncated: false })
    expect(got).toEqual([{ version: 2, changes: [], truncated: false }])
  })

  it('uses one IPC subscription for all listeners and drops it after the last unsubscribe', () => {
    const main = fakeMain()
    const api = createPreloadApi(main.deps)
    const a: unknown[] = []
    const b: unknown[] = []
    const offA = api.on('job.progress', (d) => { a.push(d) })
    const offB = api.on('network.status', (d) => { b.push(d) })
    expect(main.subscriptions).toBe(1)
    offA()
    offA()
    main.emit('job.progress', { id: '1' })
    main.emit('network.status', { paused: true })
    expect(a).toEqual([])
    expect(b).toEqual([{ paused: true }])
    expect(main.subscribed).toBe(true)
    offB()
    expect(main.subscribed).toBe(false)
  })

  it('keeps delivering to other listeners when one throws', () => {
    const main = fakeMain()
    const api = createPreloadApi(main.deps)
    const got: unknown[] = []
    const original = console.error
    console.error = () => {}
    try {
      api.on('follow.removed', () => { throw new Error('boom') })
      api.on('follow.removed', (d) => { got.push(d) })
      main.emit('follow.removed', { key: 'k' })
    } finally {
      console.error = original
    }
    expect(got).toEqual([{ key: 'k' }])
  })

  it('accepts every contract event and refuses other names and non-function listeners', () => {
    const api = createPreloadApi(fakeMain().deps)
    for (const e of EVENT_NAMES) api.on(e, () => {})()
    expect(() => api.on('nope' as never, () => {})).toThrow(/INVALID_ARGUMENT: Unknown event/)
    expect(() => api.on('vault.changed', 'x' as never)).toThrow(/INVALID_ARGUMENT/)
  })
})

describe('dropped files', () => {
  it('maps File objects to their paths and invokes importDropped', async () => {
    const main = fakeMain((channel, args) => ({ ok: true, result: { channel, args } }))
    const api = createPreloadApi(main.deps)
    const files = [{ name: 'a.txt', path: '/home/u/a.txt' }, { name: 'dir', path: '/home/u/dir' }] as unknown as File[]
    const r = await api.importDroppedFiles(files, '/inbox')
    expect(r).toEqual({ channel: IPC_PREFIX + 'importDropped', args: { files: ['/home/u/a.txt', '/home/u/dir'], dest: '/inbox' } })
  })

  it('refuses files without a local path and an empty drop, without calling the main process', async () => {
    const main = fakeMain()
    const api = createPreloadApi(main.deps)
    const made = [{ name: 'made-by-page.txt' }] as unknown as File[]
    await expect(api.importDroppedFiles(made, '/')).rejects.toThrow(/made-by-page.txt is not a local file/)
    await expect(api.importDroppedFiles([], '/')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(api.importDroppedFiles('x' as never, '/')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(main.calls).toEqual([])
  })
})
