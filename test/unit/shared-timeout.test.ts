// The one withTimeout (main/shared/timeout.ts): settles as the promise does, TIMEOUT (or the
// caller's error) at the deadline, CLOSED when the signal aborts, and leaves no timer behind.
import { describe, it, expect, vi } from 'vitest'
import { withTimeout } from '../../main/shared/timeout.js'
import { ManualTimers } from '../helpers/manual-timers.js'
import { DatdotError } from '../../main/shared/errors.js'

const never = (): Promise<never> => new Promise<never>(() => {})
const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (err: unknown) => (err as DatdotError).code)

describe('withTimeout', () => {
  it('resolves and rejects as the promise does, clearing its timer', async () => {
    const timers = new ManualTimers()
    await expect(withTimeout(Promise.resolve(7), 1000, 'x', { timers })).resolves.toBe(7)
    await expect(withTimeout(Promise.reject(DatdotError.notFound('y')), 1000, 'x', { timers })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(timers.size).toBe(0)
  })

  it('rejects with TIMEOUT at the deadline by default', async () => {
    const timers = new ManualTimers()
    const p = withTimeout(never(), 250, 'the answer', { timers })
    timers.fireAll()
    await expect(p).rejects.toMatchObject({ code: 'TIMEOUT', message: 'Timed out after 250 ms: the answer', details: { timeoutMs: 250 } })
  })

  it('lets the caller map the timeout to its own error', async () => {
    const timers = new ManualTimers()
    const p = withTimeout(never(), 10, 'connecting', { timers, onTimeout: (what) => DatdotError.chain(`timed out ${what}`) })
    timers.fireAll()
    await expect(p).rejects.toMatchObject({ code: 'CHAIN_ERROR', message: 'timed out connecting' })
  })

  it('uses real timers when none are given', async () => {
    expect(await codeOf(withTimeout(never(), 5, 'x'))).toBe('TIMEOUT')
  })

  it('rejects with CLOSED when the signal aborts, and at once when it already has', async () => {
    const timers = new ManualTimers()
    const ac = new AbortController()
    const p = withTimeout(never(), 1000, 'x', { timers, signal: ac.signal, closed: 'hosting service' })
    ac.abort()
    await expect(p).rejects.toMatchObject({ code: 'CLOSED', message: 'The hosting service is closed' })
    expect(timers.size).toBe(0)
    expect(await codeOf(withTimeout(Promise.resolve(1), 1000, 'x', { timers, signal: ac.signal }))).toBe('CLOSED')
    expect(timers.size).toBe(0)
  })

  it('a settled wait removes its abort listener', async () => {
    const ac = new AbortController()
    const removed = vi.spyOn(ac.signal, 'removeEventListener')
    await expect(withTimeout(Promise.resolve(2), 1000, 'x', { timers: new ManualTimers(), signal: ac.signal })).resolves.toBe(2)
    expect(removed).toHaveBeenCalledWith('abort', expect.any(Function))
  })
})
