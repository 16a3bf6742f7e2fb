/**
 * The runtime injected into app pages (main/shared/app-runtime.ts), run from the very source text
 * the server serves, in a fake frame window: its tag is the bridge's, every message it posts is a
 * valid FrameMessage, console output, errors and rejections are captured (bounded, cycles
 * handled), calls map to the bridge's call names and resolve or reject on the host's results, and
 * messages not from the parent are ignored.
 */
import { describe, it, expect } from 'vitest'
import { appRuntime, appRuntimeSource, runtimeText } from '../../main/shared/app-runtime.js'
import { BRIDGE_TAG, FrameMessage, bridgeCalls, type BridgeCallName } from '../../main/shared/app-bridge.js'

type Fn = (...args: unknown[]) => unknown
interface Posted { message: { type: string, id?: number, method?: string, args?: unknown, [k: string]: unknown }, target: string }
interface Api { [area: string]: Record<string, Fn> }

/** A window with a parent, a console and event listeners, running the served runtime source. */
function frame (): { posted: Posted[], writes: unknown[][], dispatch: (type: string, event: object) => void, parent: object, datdot: Api, console: Record<string, Fn> } {
  const posted: Posted[] = []
  const writes: unknown[][] = []
  const listeners = new Map<string, Fn[]>()
  const parent = { postMessage: (message: Posted['message'], target: string) => { posted.push({ message, target }) } }
  const level = (name: string) => (...args: unknown[]) => { writes.push([name, ...args]) }
  const win: Record<string, unknown> = {
    parent,
    console: { log: level('log'), info: level('info'), warn: level('warn'), error: level('error'), debug: level('debug') },
    addEventListener: (type: string, fn: Fn) => { listeners.set(type, [...(listeners.get(type) ?? []), fn]) }
  }
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- running the served text is the point
  const run = new Function('globalThis', appRuntimeSource()) as (w: unknown) => void
  run(win)
  const dispatch = (type: string, event: object): void => { for (const fn of listeners.get(type) ?? []) fn(event) }
  return { posted, writes, dispatch, parent, datdot: win.datdot as Api, console: win.console as Record<string, Fn> }
}

const result = (id: number, outcome: object): object => ({ tag: BRIDGE_TAG, type: 'result', id, ...outcome })

describe('the app runtime', () => {
  it('uses the bridge tag (duplicated in its source, which cannot import)', () => {
    expect(/const TAG = (['"])([^'"]+)\1/.exec(appRuntime.toString())?.[2]).toBe(BRIDGE_TAG)
  })

  it('posts ready to its parent once loaded, as a valid frame message', () => {
    const f = frame()
    expect(f.posted).toEqual([{ message: { tag: BRIDGE_TAG, type: 'ready' }, target: '*' }])
    expect(() => FrameMessage.parse(f.posted[0].message)).not.toThrow()
  })

  it('forwards console output as bounded text and still writes to the real console', () => {
    const f = frame()
    const cyclic: Record<string, unknown> = { n: 1, big: 2n, f: function named () {} }
    cyclic.self = cyclic
    // The captured console is the frame's own console object, patched in place.
    const log = (level: string, ...args: unknown[]): void => { f.console[level](...args) }
    log('log', 'hello', cyclic, undefined, new Error('bad'))
    log('warn', ...Array.from({ length: 40 }, (_, i) => i))
    log('debug', 'x'.repeat(20_000))
    const msgs = f.posted.slice(1).map((p) => FrameMessage.parse(p.message))
    expect(msgs.map((m) => m.type === 'console' && [m.level, m.kind])).toEqual([['log', 'console'], ['warn', 'console'], ['debug', 'console']])
    const [first, second, third] = msgs as Array<{ args: string[] }>
    expect(first.args.slice(0, 3)).toEqual(['hello', '{"n":1,"big":"2n","f":"[Function named]","self":"[Circular]"}', 'undefined'])
    expect(first.args[3]).toMatch(/^Error: bad/)
    expect(second.args).toHaveLength(32)
    expect(third.args[0]).toHaveLength(16_384)
    expect(f.writes.map((w) => w[0])).toEqual(['log', 'warn', 'debug'])
    expect(f.writes[0][1]).toBe('hello')
  })

  it('reports uncaught errors with file, line and column, and unhandled rejections', () => {
    const f = frame()
    f.dispatch('error', { message: 'Uncaught Error: boom', filename: 'http://h/run/c/app.js', lineno: 12, colno: 5, error: new Error('boom') })
    f.dispatch('error', { message: 'Script error.', filename: '', lineno: 0, colno: 0, error: null })
    f.dispatch('unhandledrejection', { reason: { why: 'nobody caught me' } })
    const [err, muted, rejection] = f.posted.slice(1).map((p) => FrameMessage.parse(p.message))
    expect(err).toMatchObject({ type: 'console', level: 'error', kind: 'error', source: 'http://h/run/c/app.js', line: 12, column: 5 })
    expect((err as { args: string[] }).args[0]).toMatch(/^Error: boom/)
    expect(muted).toMatchObject({ kind: 'error', args: ['Script error.'], line: 0, column: 0 })
    expect(muted).not.toHaveProperty('source')
    expect(rejection).toMatchObject({ level: 'error', kind: 'rejection', args: ['{"why":"nobody caught me"}'] })
  })

  it('maps every datdot method to its bridge call, with arguments the bridge accepts', () => {
    const f = frame()
    const calls: Array<[string, () => unknown, BridgeCallName]> = [
      ['vault.list', () => f.datdot.vault.list('/notes'), 'vault.list'],
      ['vault.read', () => f.datdot.vault.read('/a.txt', { encoding: 'base64' }), 'vault.read'],
      ['vault.write', () => f.datdot.vault.write('/a.txt', 'hi'), 'vault.write'],
      ['vault.delete', () => f.datdot.vault.delete('/a.txt'), 'vault.delete'],
      ['vault.link', () => f.datdot.vault.link(), 'vault.link'],
      ['p2p.follow', () => f.datdot.p2p.follow('hyper://abc'), 'p2p.follow'],
      ['p2p.list', () => f.datdot.p2p.list('k1'), 'p2p.list'],
      ['p2p.read', () => f.datdot.p2p.read('k1', '/x'), 'p2p.read'],
      ['chain.status', () => f.datdot.chain.status(), 'chain.status'],
      ['chain.balance', () => f.datdot.chain.balance(), 'chain.balance'],
      ['chain.requestPayment', () => f.datdot.chain.requestPayment({ to: 'addr', amount: '5' }), 'chain.requestPayment'],
      ['chain.requestSponsor', () => f.datdot.chain.requestSponsor({ price: '1' }), 'chain.requestSponsor']
    ]
    for (const [, run] of calls) void run()
    void f.datdot.vault.watch(() => {})
    void f.datdot.p2p.watch('k1', () => {})
    const posted = f.posted.slice(1).map((p) => FrameMessage.parse(p.message) as { type: string, id: number, method: BridgeCallName, args: unknown })
    expect(posted.map((m) => m.method)).toEqual([...calls.map((c) => c[2]), 'vault.watch', 'p2p.watch'])
    expect(new Set(posted.map((m) => m.id)).size).toBe(posted.length)
    for (const m of posted) expect(() => bridgeCalls[m.method].parse(m.args)).not.toThrow()
    expect(Object.keys(bridgeCalls).sort()).toEqual(posted.map((m) => m.method).sort())
  })

  it('takes each call\'s arguments as one object too, the shape the templates pass', () => {
    const f = frame()
    void f.datdot.vault.read({ path: '/n.json', encoding: 'base64' })
    void f.datdot.vault.write({ path: '/n.json', data: 'e30=' })
    void f.datdot.p2p.list({ key: 'k1', path: '/posts' })
    void f.datdot.p2p.watch({ key: 'k2' }, () => {})
    const posted = f.posted.slice(1).map((p) => FrameMessage.parse(p.message) as { method: BridgeCallName, args: unknown })
    expect(posted.map((m) => [m.method, m.args])).toEqual([
      ['vault.read', { path: '/n.json', encoding: 'base64' }],
      ['vault.write', { path: '/n.json', data: 'e30=' }],
      ['p2p.list', { key: 'k1', path: '/posts' }],
      ['p2p.watch', { key: 'k2' }]
    ])
  })

  it("settles a call on the parent's result and ignores messages from anyone else", async () => {
    const f = frame()
    const read = f.datdot.vault.read('/a.txt') as Promise<unknown>
    const balance = f.datdot.chain.balance() as Promise<unknown>
    const [readId, balanceId] = f.posted.slice(1).map((p) => p.message.id!)
    const stranger = {}
    f.dispatch('message', { source: stranger, data: result(readId, { ok: true, value: 'forged' }) })
    f.dispatch('message', { source: f.parent, data: { tag: 'other', type: 'result', id: readId, ok: true, value: 'untagged' } })
    f.dispatch('message', { source: f.parent, data: result(readId, { ok: true, value: { encoding: 'utf8', data: 'real' } }) })
    f.dispatch('message', { source: f.parent, data: result(balanceId, { ok: false, error: { code: 'FORBIDDEN', message: 'no chain permission' } }) })
    expect(await read).toEqual({ encoding: 'utf8', data: 'real' })
    await expect(balance).rejects.toMatchObject({ message: 'no chain permission', code: 'FORBIDDEN' })
    expect((await balance.catch((e: unknown) => e)) instanceof Error).toBe(true)
  })

  it("delivers the host's events to watch callbacks of that drive, and stops after unsubscribing", async () => {
    const f = frame()
    const seen: unknown[] = []
    const watching = f.datdot.p2p.watch('k1', (d: unknown) => seen.push(d)) as Promise<() => void>
    const vaultSeen: unknown[] = []
    const watchingVault = f.datdot.vault.watch((d: unknown) => vaultSeen.push(d)) as Promise<() => void>
    for (const p of f.posted.slice(1)) f.dispatch('message', { source: f.parent, data: result(p.message.id!, { ok: true, value: null }) })
    const stop = await watching
    await watchingVault
    const event = (name: string, data: object): void => { f.dispatch('message', { source: f.parent, data: { tag: BRIDGE_TAG, type: 'event', name, data } }) }
    event('p2p.changed', { key: 'k2', version: 3 })
    event('p2p.changed', { key: 'k1', version: 4 })
    event('vault.changed', { version: 9 })
    f.dispatch('message', { source: {}, data: { tag: BRIDGE_TAG, type: 'event', name: 'p2p.changed', data: { key: 'k1', version: 99 } } })
    stop()
    event('p2p.changed', { key: 'k1', version: 5 })
    expect(seen).toEqual([{ key: 'k1', version: 4 }])
    expect(vaultSeen).toEqual([{ version: 9 }])
    await expect(f.datdot.vault.watch('not a function') as Promise<unknown>).rejects.toThrow('vault.watch needs a callback function')
  })

  it('turns any value into bounded text without throwing', () => {
    const hostile = { get boom (): never { throw new Error('getter') } }
    expect(runtimeText(hostile, 100)).toBe('[object Object]')
    expect(runtimeText(Symbol('s'), 100)).toBe('Symbol(s)')
    expect(runtimeText('abcdef', 4)).toBe('abc…')
    expect(runtimeText(null, 10)).toBe('null')
  })
})
