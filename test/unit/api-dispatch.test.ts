import { describe, it, expect } from 'vitest'
import { dispatch, dispatchSafe } from '../../main/api/dispatch.js'
import { methods, ENGINE_METHODS, SHELL_METHODS, METHOD_NAMES, type Handlers } from '../../main/shared/contract.js'
import { DatdotError } from '../../main/shared/errors.js'
import { parseBootstrap, defaultStorageDir } from '../../main/engine/config.js'
import { DownloadTickets } from '../../main/engine/tickets.js'

const calls: unknown[] = []
const handlers: Partial<Handlers> = {
  async listFiles (args) { calls.push(args); return { entries: [], version: 1, truncated: false, next: null, total: 0 } },
  async importPaths (args) { calls.push(args); throw DatdotError.notFound(args.paths[0]) }
}

describe('the API dispatcher', () => {
  it('applies schema defaults before calling the handler', async () => {
    calls.length = 0
    await dispatch(handlers, 'listFiles', {}, 'web')
    expect(calls[0]).toEqual({ path: '/', recursive: false, limit: 1000 })
  })

  it('refuses unknown methods, unknown fields and wrong types with INVALID_ARGUMENT', async () => {
    for (const [name, args] of [['nope', {}], ['listFiles', { path: 3 }], ['listFiles', { extra: true }], ['listFiles', { limit: 10_000_000 }], ['listFiles', 'x']] as const) {
      const r = await dispatchSafe(handlers, name, args, 'cli')
      expect(r.ok, `${name} ${JSON.stringify(args)}`).toBe(false)
      if (!r.ok) expect(r.error.code).toBe('INVALID_ARGUMENT')
    }
  })

  it('refuses path-taking methods to browser pages and shell methods to the loopback API', async () => {
    const web = await dispatchSafe(handlers, 'importPaths', { paths: ['/etc/passwd'] }, 'web')
    expect(web.ok).toBe(false)
    if (!web.ok) expect(web.error.code).toBe('FORBIDDEN')
    const shell = await dispatchSafe(handlers, 'openFile', { path: '/a' }, 'cli')
    expect(shell.ok).toBe(false)
    if (!shell.ok) expect(shell.error.code).toBe('FORBIDDEN')
  })

  it('carries a handler error code across as it was thrown', async () => {
    const r = await dispatchSafe(handlers, 'importPaths', { paths: ['/x'] }, 'cli')
    expect(r).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'Not found: /x' } })
  })

  it('splits every contract method into engine or shell methods, never both', () => {
    expect([...ENGINE_METHODS, ...SHELL_METHODS].sort()).toEqual([...METHOD_NAMES].sort())
    for (const m of SHELL_METHODS) expect(methods[m].exposure).toEqual(['ipc'])
  })
})

describe('configuration parsing', () => {
  it('parses bootstrap lists and refuses malformed ones', () => {
    expect(parseBootstrap('127.0.0.1:49737, localhost:1')).toEqual([{ host: '127.0.0.1', port: 49737 }, { host: 'localhost', port: 1 }])
    expect(parseBootstrap('[::1]:9')).toEqual([{ host: '::1', port: 9 }])
    for (const bad of ['', 'host', 'host:0', 'host:70000', 'a b:1', ',,']) {
      expect(() => parseBootstrap(bad), bad).toThrow(DatdotError)
    }
  })

  it('puts storage in the OS app-data folder unless DATDOT_STORAGE is set', () => {
    expect(defaultStorageDir({ DATDOT_STORAGE: '/srv/datdot' }, 'linux')).toBe('/srv/datdot')
    expect(defaultStorageDir({ XDG_DATA_HOME: '/x' }, 'linux')).toBe('/x/datdot')
    expect(defaultStorageDir({}, 'darwin')).toMatch(/Library\/Application Support\/DatDot$/)
  })
})

describe('download tickets', () => {
  it('are single-use and expire', () => {
    let now = 0
    const t = new DownloadTickets(() => now, 1000)
    const a = t.create({ drive: undefined, path: '/a', version: undefined })
    expect(t.take(a)?.path).toBe('/a')
    expect(t.take(a)).toBeNull()
    const b = t.create({ drive: undefined, path: '/b', version: undefined })
    now = 2000
    expect(t.take(b)).toBeNull()
  })
})
