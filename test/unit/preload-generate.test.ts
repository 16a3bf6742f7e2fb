import { describe, it, expect } from 'vitest'
import type { ContextBridge, IpcRenderer, WebUtils } from 'electron'
import { createPreloadApi, ipcMethodNames, type PreloadDeps, type DropEventLike } from '../../preload/generate.js'
import { methods, METHOD_NAMES, EVENT_NAMES, IPC_PREFIX, IPC_DROP_CHANNEL, type MethodName } from '../../main/shared/contract.js'
import { DatdotError } from '../../main/shared/errors.js'

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
  let dropHandler: ((event: DropEventLike) => void) | null = null
  let subscriptions = 0
  let counter = 0
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
    getPathForFile: (file) => (file as unknown as { path?: string }).path ?? '',
    listenForDrops: (handler) => { dropHandler = handler },
    randomBytes: () => new Uint8Array(16).fill(++counter)
  }
  return {
    deps,
    calls,
    /** A drop event on the window, as preload's capture listener sees it. */
    drop: (files: Array<{ name: string, path?: string }>, isTrusted = true) => {
      dropHandler?.({ isTrusted, dataTransfer: { files: files as unknown as File[] } })
    },
    emit: (name: unknown, data: unknown) => { eventCallback?.(name, data) },
    get subscribed () { return eventCallback !== null },
    get subscriptions () { return subscriptions }
  }
}

const expectedIpc = METHOD_NAMES.filter((m) => (methods[m].exposure as readonly string[]).includes('ipc'))

describe('generated preload API', () => {
  it('has one function per ipc-exposed contract method, plus on, kind and takeDrop, and nothing else', () => {
    const api = createPreloadApi(fakeMain().deps) as unknown as Record<string, unknown>
    const extras = ['kind', 'on', 'takeDrop']
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
  const token = (n: number): string => n.toString(16).padStart(2, '0').repeat(16)

  it('sends the paths of a trusted drop to main on the preload-only channel and gives the page only a one-time token', async () => {
    const main = fakeMain((channel, args) => ({ ok: true, result: channel === IPC_DROP_CHANNEL ? { ok: true } : { channel, args } }))
    const api = createPreloadApi(main.deps)
    main.drop([{ name: 'a.txt', path: '/home/u/a.txt' }, { name: 'dir', path: '/home/u/dir' }, { name: 'a.txt', path: '/home/u/a.txt' }])
    expect(main.calls).toEqual([{ channel: IPC_DROP_CHANNEL, args: { drop: token(1), paths: ['/home/u/a.txt', '/home/u/dir'] } }])
    expect(api.takeDrop()).toEqual({ drop: token(1), items: 2 })
    expect(api.takeDrop()).toBeNull()
    const r = await api.importDropped({ drop: token(1), dest: '/inbox' })
    expect(r).toEqual({ channel: IPC_PREFIX + 'importDropped', args: { drop: token(1), dest: '/inbox' } })
    expect(JSON.stringify(main.calls.slice(1))).not.toContain('/home/u')
  })

  it('ignores drop events the page made (untrusted) and files that are not local, registering nothing', () => {
    const main = fakeMain()
    const api = createPreloadApi(main.deps)
    main.drop([{ name: 'id_ed25519', path: '/home/me/.ssh/id_ed25519' }], false)
    expect(api.takeDrop()).toBeNull()
    main.drop([{ name: 'made-by-page.txt' }])
    expect(api.takeDrop()).toBeNull()
    expect(main.calls).toEqual([])
  })

  it('forgets an earlier drop when a new drop event arrives', () => {
    const main = fakeMain()
    const api = createPreloadApi(main.deps)
    main.drop([{ name: 'a.txt', path: '/home/u/a.txt' }])
    main.drop([{ name: 'made-by-page.txt' }])
    expect(api.takeDrop()).toBeNull()
  })

  it('waits for main to hold the drop before importing it, and reports a failed registration', async () => {
    let release: (v: unknown) => void = () => {}
    const order: string[] = []
    const main = fakeMain((channel) => {
      order.push(channel)
      if (channel === IPC_DROP_CHANNEL) return new Promise((resolve) => { release = resolve })
      return { ok: true, result: 'job' }
    })
    const api = createPreloadApi(main.deps)
    main.drop([{ name: 'a.txt', path: '/home/u/a.txt' }])
    const ticket = api.takeDrop()!
    const imported = api.importDropped({ drop: ticket.drop, dest: '/' })
    await Promise.resolve()
    expect(order).toEqual([IPC_DROP_CHANNEL])
    release({ ok: true, result: { ok: true } })
    await expect(imported).resolves.toBe('job')
    expect(order).toEqual([IPC_DROP_CHANNEL, IPC_PREFIX + 'importDropped'])

    const failing = fakeMain((channel) => channel === IPC_DROP_CHANNEL
      ? { ok: false, error: { code: 'NOT_FOUND', message: 'Not found: /home/u/gone' } }
      : { ok: true, result: 'job' })
    const api2 = createPreloadApi(failing.deps)
    failing.drop([{ name: 'gone', path: '/home/u/gone' }])
    await expect(api2.importDropped({ drop: api2.takeDrop()!.drop, dest: '/' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(failing.calls.map((c) => c.channel)).toEqual([IPC_DROP_CHANNEL])
  })
})
