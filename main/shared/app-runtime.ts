/**
 * The runtime injected into every HTML page of a running DatDot app (served as
 * `<base>/.datdot/runtime.js` by main/server/app-response.ts): it defines `window.datdot` (the app
 * API, carried to the host page by postMessage as main/shared/app-bridge.ts describes), captures
 * console output, uncaught errors and unhandled rejections for the host's console, and posts
 * 'ready'.
 *
 * These functions run in the app's frame, not here: the server serves their source text
 * (appRuntimeSource), so none of them may use anything from this module's scope; everything they
 * need comes in through their parameters. The bridge tag is duplicated for that reason
 * (test/unit/app-runtime.test.ts checks it equals BRIDGE_TAG). No DOM types in main/, so the frame
 * is described by the small interfaces below (types only: erased from the served text).
 */

interface FrameEvent { source?: unknown, data?: unknown, message?: unknown, filename?: unknown, lineno?: unknown, colno?: unknown, error?: unknown, reason?: unknown }
type Console = Record<string, (...args: unknown[]) => void>
interface FrameWindow {
  parent: { postMessage: (message: unknown, targetOrigin: string) => void }
  console: Console
  addEventListener: (type: string, listener: (event: FrameEvent) => void) => void
  datdot?: unknown
}
type Args = Record<string, unknown>
type Call = (method: string, args?: Args) => Promise<unknown>
type Watch = (method: string, event: string, key: string | null, cb: unknown) => Promise<() => void>
type Pending = Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>

/**
 * One value as bounded text for the host's console: strings as they are, errors with their stack,
 * everything else as JSON with cycles, functions, bigints and undefined spelled out; never throws.
 */
export function runtimeText (value: unknown, max: number): string {
  const cut = (s: string): string => (s.length > max ? s.slice(0, max - 1) + '…' : s)
  const errorText = (e: { name?: unknown, message?: unknown, stack?: unknown }): string =>
    typeof e.stack === 'string' && e.stack !== '' ? e.stack : `${String(e.name)}: ${String(e.message)}`
  try {
    if (typeof value === 'string') return cut(value)
    if (value instanceof Error) return cut(errorText(value))
    if (value === undefined || typeof value === 'symbol' || typeof value === 'bigint') return cut(String(value))
    if (typeof value === 'function') return cut(`[Function ${value.name}]`)
    const seen = new WeakSet<object>()
    const json = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`
      if (typeof v === 'function') return `[Function ${(v as { name?: string }).name ?? ''}]`
      if (typeof v === 'symbol' || v === undefined) return String(v)
      if (v instanceof Error) return errorText(v)
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[Circular]'
        seen.add(v)
      }
      return v
    })
    return cut(json ?? 'undefined')
  } catch {
    try { return cut(Object.prototype.toString.call(value)) } catch { return '[unprintable]' }
  }
}

/**
 * The `datdot` object (runs in the frame): each method one bridge call of app-bridge.ts's bridgeCalls.
 * Each takes its arguments either positionally (`read(path, { encoding })`) or as the call's one
 * object (`read({ path, encoding })`), the shape bridgeCalls names; the templates use the object.
 */
export function runtimeApi (call: Call, watch: Watch): object {
  const isArgs = (x: unknown): x is Args => typeof x === 'object' && x !== null
  /** The call's object: the first argument when it is one, else the positional ones named. */
  const args = (first: unknown, named: () => Args): Args => isArgs(first) ? first : named()
  const keyOf = (first: unknown): string | null => {
    const key = isArgs(first) ? first.key : first
    return typeof key === 'string' ? key : null
  }
  return Object.freeze({
    vault: Object.freeze({
      list: (path?: unknown) => call('vault.list', args(path, () => path === undefined ? {} : { path })),
      read: (path: unknown, opts: Args = {}) => call('vault.read', args(path, () => ({ ...opts, path }))),
      write: (path: unknown, data?: string, opts: Args = {}) => call('vault.write', args(path, () => ({ ...opts, path, data }))),
      delete: (path: unknown) => call('vault.delete', args(path, () => ({ path }))),
      link: () => call('vault.link'),
      watch: (cb: unknown) => watch('vault.watch', 'vault.changed', null, cb)
    }),
    p2p: Object.freeze({
      follow: (link: unknown) => call('p2p.follow', args(link, () => ({ link }))),
      list: (key: unknown, path?: string) => call('p2p.list', args(key, () => path === undefined ? { key } : { key, path })),
      read: (key: unknown, path?: string, opts: Args = {}) => call('p2p.read', args(key, () => ({ ...opts, key, path }))),
      watch: (key: unknown, cb: unknown) => watch('p2p.watch', 'p2p.changed', keyOf(key), cb)
    }),
    chain: Object.freeze({
      status: () => call('chain.status'),
      balance: () => call('chain.balance'),
      requestPayment: (a: Args) => call('chain.requestPayment', a),
      requestSponsor: (a: Args) => call('chain.requestSponsor', a)
    })
  })
}

/** Runs in the frame: `toText` is runtimeText and `api` runtimeApi, handed in as parameters (see appRuntimeSource). */
export function appRuntime (toText: (value: unknown, max: number) => string, api: typeof runtimeApi): void {
  const TAG = 'datdot-app/1'
  const MAX_ARGS = 32
  const MAX_ARG_CHARS = 16_384
  const w = globalThis as unknown as FrameWindow
  const parent = w.parent
  const post = (message: Record<string, unknown>): void => { parent.postMessage({ tag: TAG, ...message }, '*') }
  const texts = (args: unknown[]): string[] => args.slice(0, MAX_ARGS).map((a) => toText(a, MAX_ARG_CHARS))
  const place = (e: FrameEvent): Record<string, unknown> => ({
    ...(typeof e.filename === 'string' && e.filename !== '' ? { source: e.filename.slice(0, 1024) } : {}),
    ...(typeof e.lineno === 'number' && e.lineno >= 0 ? { line: Math.floor(e.lineno) } : {}),
    ...(typeof e.colno === 'number' && e.colno >= 0 ? { column: Math.floor(e.colno) } : {})
  })

  const con = w.console
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    const write = con[level]
    con[level] = (...args: unknown[]) => {
      post({ type: 'console', level, kind: 'console', args: texts(args) })
      if (typeof write === 'function') write.apply(con, args)
    }
  }
  w.addEventListener('error', (e) => { post({ type: 'console', level: 'error', kind: 'error', args: texts([e.error ?? e.message]), ...place(e) }) })
  w.addEventListener('unhandledrejection', (e) => { post({ type: 'console', level: 'error', kind: 'rejection', args: texts([e.reason]) }) })

  const pending: Pending = new Map()
  const watchers: Array<{ event: string, key: string | null, cb: (data: unknown) => void }> = []
  let nextId = 0
  const call = (method: string, args: Record<string, unknown> = {}): Promise<unknown> => new Promise((resolve, reject) => {
    const id = nextId++
    pending.set(id, { resolve, reject })
    post({ type: 'call', id, method, args })
  })
  const watch = async (method: string, event: string, key: string | null, cb: unknown): Promise<() => void> => {
    if (typeof cb !== 'function') throw new TypeError(`${method} needs a callback function`)
    await call(method, key === null ? {} : { key })
    const watcher = { event, key, cb: cb as (data: unknown) => void }
    watchers.push(watcher)
    return () => { const i = watchers.indexOf(watcher); if (i >= 0) watchers.splice(i, 1) }
  }
  w.addEventListener('message', (e) => {
    const m = e.data as { tag?: unknown, type?: unknown, id?: unknown, ok?: unknown, value?: unknown, error?: { code?: unknown, message?: unknown }, name?: unknown, data?: unknown } | null
    if (e.source !== parent || m === null || typeof m !== 'object' || m.tag !== TAG) return
    if (m.type === 'result' && typeof m.id === 'number') {
      const p = pending.get(m.id)
      if (p === undefined) return
      pending.delete(m.id)
      if (m.ok === true) p.resolve(m.value)
      else {
        const message = typeof m.error?.message === 'string' ? m.error.message : 'the call failed'
        p.reject(Object.assign(new Error(message), { code: typeof m.error?.code === 'string' ? m.error.code : 'UNKNOWN' }))
      }
    } else if (m.type === 'event' && typeof m.name === 'string') {
      const key = (m.data as { key?: unknown } | null)?.key
      for (const x of watchers.slice()) if (x.event === m.name && (x.key === null || x.key === key)) x.cb(m.data)
    }
  })

  w.datdot = api(call, watch)
  post({ type: 'ready' })
}

/** The runtime as the JavaScript the server serves: both functions' text, run once in the frame. */
export function appRuntimeSource (): string {
  return `'use strict';\n(${appRuntime.toString()})(${runtimeText.toString()}, ${runtimeApi.toString()});\n`
}
