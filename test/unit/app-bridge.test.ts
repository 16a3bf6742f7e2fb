/**
 * The host's side of the app bridge (renderer/src/lib/app-bridge.ts) with a fake frame, a fake
 * API (`call`) and a fake user (`ask`): validation, the source check, permission prompts and
 * their persistence, consent for payments, watch events and the limit on pending calls.
 */
import { describe, it, expect } from 'vitest'
import { EventEmitter } from 'node:events'
import { AppBridge, type BridgeCallLine, type BridgeQuestion, type CallFn, type FrameTarget, type OnFn } from '../../renderer/src/lib/app-bridge.js'
import { BRIDGE_TAG, type HostMessage } from '../../main/shared/app-bridge.js'
import { APP_LIMITS, type AppPermission } from '../../main/shared/contract-apps.js'
import { deferred, waitFor } from '../helpers/wait.js'

interface Harness {
  bridge: AppBridge
  bus: EventEmitter
  frame: FrameTarget & { posted: Array<{ message: HostMessage, origin: string }> }
  calls: Array<{ method: string, args: unknown }>
  questions: BridgeQuestion[]
  lines: BridgeCallLine[]
  listeners: Map<string, Array<(data: unknown) => void>>
  send: (data: unknown, source?: unknown) => void
  result: (id: number) => Promise<HostMessage>
}

interface HarnessOptions {
  granted?: AppPermission[]
  answer?: (q: BridgeQuestion) => boolean | Promise<boolean>
  respond?: (method: string, args: unknown) => unknown
  maxPending?: number
}

function harness (opts: HarnessOptions = {}): Harness {
  const bus = new EventEmitter()
  const posted: Array<{ message: HostMessage, origin: string }> = []
  const frame = { posted, postMessage: (message: HostMessage, origin: string) => { posted.push({ message, origin }); bus.emit('posted') } }
  const calls: Array<{ method: string, args: unknown }> = []
  const questions: BridgeQuestion[] = []
  const lines: BridgeCallLine[] = []
  const listeners = new Map<string, Array<(data: unknown) => void>>()
  const call = (async (method: string, args: unknown) => {
    calls.push({ method, args })
    return await Promise.resolve(opts.respond?.(method, args) ?? { ok: true })
  }) as unknown as CallFn
  const on = ((event: string, listener: (data: unknown) => void) => {
    const list = listeners.get(event) ?? []
    list.push(listener)
    listeners.set(event, list)
    return () => { listeners.set(event, (listeners.get(event) ?? []).filter((l) => l !== listener)) }
  }) as unknown as OnFn
  const bridge = new AppBridge({
    appId: 'app-1',
    granted: opts.granted ?? [],
    target: () => frame,
    call,
    ask: async (q) => { questions.push(q); bus.emit('asked'); return await (opts.answer?.(q) ?? true) },
    on,
    onConsole: () => {},
    onCall: (line) => { lines.push(line) },
    maxPending: opts.maxPending
  })
  const send = (data: unknown, source: unknown = frame): void => { bridge.handleMessage({ source, data }) }
  const result = async (id: number): Promise<HostMessage> => {
    await waitFor([bus], () => posted.some((p) => p.message.type === 'result' && p.message.id === id), `the result of call ${id}`)
    return posted.find((p) => p.message.type === 'result' && p.message.id === id)!.message
  }
  return { bridge, bus, frame, calls, questions, lines, listeners, send, result }
}

const callMsg = (id: number, method: string, args: unknown): unknown => ({ tag: BRIDGE_TAG, type: 'call', id, method, args })

describe('the app bridge', () => {
  it('answers an unknown method with INVALID_ARGUMENT, logs it and calls nothing', async () => {
    const h = harness({ granted: ['vault'] })
    h.send(callMsg(1, 'vault.format', {}))
    const r = await h.result(1)
    expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    expect(r.type === 'result' && !r.ok && r.error.message).toContain('Unknown call "vault.format"')
    expect(h.calls).toEqual([])
    expect(h.lines).toHaveLength(1)
    expect(h.lines[0]).toMatchObject({ method: 'vault.format', ok: false, error: { code: 'INVALID_ARGUMENT' } })
  })

  it('answers bad arguments with INVALID_ARGUMENT naming the field, and calls nothing', async () => {
    const h = harness({ granted: ['vault'] })
    h.send(callMsg(2, 'vault.write', { path: '/a.txt', data: 42 }))
    const r = await h.result(2)
    expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    expect(r.type === 'result' && !r.ok && r.error.message).toContain('data')
    expect(h.calls).toEqual([])
    expect(h.questions).toEqual([])
  })

  it('answers a write over the limit with TOO_LARGE before asking anything or calling the API', async () => {
    const h = harness()
    h.send(callMsg(1, 'vault.write', { path: '/big.txt', data: 'x'.repeat(APP_LIMITS.dataWriteBytes + 1) }))
    h.send(callMsg(2, 'vault.write', { path: '/big.bin', encoding: 'base64', data: 'AAAA'.repeat(APP_LIMITS.dataWriteBytes / 3 + 1) }))
    // Under the length limit but over it in UTF-8 bytes (3 each).
    h.send(callMsg(3, 'vault.write', { path: '/big.txt', data: '€'.repeat(APP_LIMITS.dataWriteBytes / 3 + 1) }))
    for (const id of [1, 2, 3]) expect(await h.result(id)).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } })
    expect(h.calls).toEqual([])
    expect(h.questions).toEqual([])
  })

  it('ignores messages from any window but the preview frame, and anything that is not a FrameMessage', async () => {
    const h = harness({ granted: ['vault'] })
    h.send(callMsg(3, 'vault.list', {}), { postMessage: () => {} })
    h.send({ type: 'call', id: 4, method: 'vault.list', args: {} })
    h.send('hello')
    h.send(callMsg(5, 'vault.list', {}))
    await h.result(5)
    expect(h.frame.posted.map((p) => p.message.type === 'result' && p.message.id)).toEqual([5])
    expect(h.calls).toEqual([{ method: 'appDataList', args: { app: 'app-1', path: '/' } }])
  })

  it('maps a granted call to the app* method with the app id and posts the result to the frame only, with target origin *', async () => {
    const h = harness({ granted: ['vault'], respond: () => ({ version: 7 }) })
    h.send(callMsg(6, 'vault.write', { path: '/notes/a.txt', data: 'hi' }))
    expect(await h.result(6)).toEqual({ tag: BRIDGE_TAG, type: 'result', id: 6, ok: true, value: { version: 7 } })
    expect(h.calls).toEqual([{ method: 'appDataWrite', args: { app: 'app-1', path: '/notes/a.txt', data: 'hi', encoding: 'utf8' } }])
    expect(h.frame.posted[0].origin).toBe('*')
  })

  it('asks once for a permission not yet granted, persists the grant and does not ask again', async () => {
    const gate = deferred<boolean>()
    const h = harness({ answer: async () => await gate.promise })
    h.send(callMsg(7, 'vault.list', {}))
    h.send(callMsg(8, 'vault.read', { path: '/a' }))
    await waitFor([h.bus], () => h.questions.length === 1, 'the permission prompt')
    gate.resolve(true)
    await h.result(7)
    await h.result(8)
    h.send(callMsg(9, 'vault.delete', { path: '/a' }))
    await h.result(9)
    expect(h.questions).toEqual([{ kind: 'permission', permission: 'vault' }])
    expect(h.calls[0]).toEqual({ method: 'setAppPermission', args: { app: 'app-1', permission: 'vault', granted: true } })
    expect(h.calls.filter((c) => c.method === 'setAppPermission')).toHaveLength(1)
    expect(h.calls.map((c) => c.method)).toEqual(['setAppPermission', 'appDataList', 'appDataRead', 'appDataDelete'])
  })

  it('answers FORBIDDEN when the user denies, persists nothing, and does not ask again this session', async () => {
    const h = harness({ answer: () => false })
    h.send(callMsg(10, 'chain.balance', {}))
    expect(await h.result(10)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    h.send(callMsg(11, 'chain.status', {}))
    expect(await h.result(11)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(h.questions).toHaveLength(1)
    expect(h.calls).toEqual([])
  })

  it('shows its own confirmation for every payment, even with the payments permission granted', async () => {
    let pay = false
    const h = harness({ granted: ['payments'], answer: () => pay, respond: () => ({ ok: true, blockHash: '0xab' }) })
    h.send(callMsg(12, 'chain.requestPayment', { to: '5Abc', amount: '1000', memo: 'coffee' }))
    expect(await h.result(12)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } })
    expect(h.calls).toEqual([])
    pay = true
    h.send(callMsg(13, 'chain.requestPayment', { to: '5Abc', amount: '1000', memo: 'coffee' }))
    expect(await h.result(13)).toMatchObject({ ok: true, value: { blockHash: '0xab' } })
    expect(h.questions).toEqual([
      { kind: 'payment', to: '5Abc', amount: '1000', memo: 'coffee' },
      { kind: 'payment', to: '5Abc', amount: '1000', memo: 'coffee' }
    ])
    expect(h.calls).toEqual([{ method: 'appPay', args: { app: 'app-1', to: '5Abc', amount: '1000', memo: 'coffee' } }])
  })

  it('confirms a sponsorship with its replicas, days and price, then sponsors the app\'s data drive by its link', async () => {
    const h = harness({ granted: ['payments'], respond: (method) => (method === 'appDataLink' ? { link: 'hyper://data' } : { planId: 4 }) })
    h.send(callMsg(20, 'chain.requestSponsor', { price: '500' }))
    expect(await h.result(20)).toMatchObject({ ok: true, value: { planId: 4 } })
    expect(h.questions).toEqual([{ kind: 'sponsor', replicas: 3, days: 30, price: '500' }])
    expect(h.calls).toEqual([
      { method: 'appDataLink', args: { app: 'app-1' } },
      { method: 'sponsor', args: { link: 'hyper://data', replicas: 3, days: 30, price: '500' } }
    ])
  })

  it('asks consent for a follow, showing the link, before following', async () => {
    const h = harness({ granted: ['p2p'], answer: () => true, respond: () => ({ key: 'k'.repeat(52) }) })
    h.send(callMsg(14, 'p2p.follow', { link: 'hyper://friend' }))
    await h.result(14)
    expect(h.questions).toEqual([{ kind: 'follow', link: 'hyper://friend' }])
    expect(h.calls).toEqual([{ method: 'appFollow', args: { app: 'app-1', link: 'hyper://friend' } }])
  })

  it('posts an event for each change of this app\'s data drive once watched, and none after a reset', async () => {
    const h = harness({ granted: ['vault'] })
    h.send(callMsg(15, 'vault.watch', {}))
    await h.result(15)
    const emit = (data: unknown): void => { for (const l of h.listeners.get('app.data.changed') ?? []) l(data) }
    emit({ app: 'other-app', version: 3 })
    emit({ app: 'app-1', version: 4 })
    const events = h.frame.posted.filter((p) => p.message.type === 'event').map((p) => p.message)
    expect(events).toEqual([{ tag: BRIDGE_TAG, type: 'event', name: 'vault.changed', data: { version: 4 } }])
    h.bridge.reset()
    expect(h.listeners.get('app.data.changed')).toEqual([])
  })

  it('refuses calls beyond the pending limit with a clear error', async () => {
    const gate = deferred<void>()
    const h = harness({ granted: ['vault'], maxPending: 2, respond: async () => { await gate.promise; return [] } })
    h.send(callMsg(16, 'vault.list', {}))
    h.send(callMsg(17, 'vault.list', {}))
    h.send(callMsg(18, 'vault.list', {}))
    const r = await h.result(18)
    expect(r).toMatchObject({ ok: false, error: { code: 'LIMIT_REACHED' } })
    expect(r.type === 'result' && !r.ok && r.error.message).toContain('at most 2')
    gate.resolve()
    await h.result(17)
    expect(h.bridge.pending).toBe(0)
    h.send(callMsg(19, 'vault.list', {}))
    expect(await h.result(19)).toMatchObject({ ok: true })
  })
})
