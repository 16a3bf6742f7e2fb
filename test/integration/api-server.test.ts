import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { request } from 'node:http'
import { stat, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import WebSocket, { type RawData } from 'ws'
import { TempDirs, startEngine } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { ApiServer } from '../../main/server/server.js'
import { createHandlers } from '../../main/api/handlers.js'

interface Reply { status: number, body: string, headers: Record<string, string | string[] | undefined> }

/** A call's reply body: `result` on success, `error` (with its code) on failure. */
interface Body<T> { result: T, error: { code: string, message: string } }
function bodyOf<T = unknown> (r: Reply): Body<T> { return JSON.parse(r.body) as Body<T> }

/** A WebSocket frame's text, whatever form ws hands it in (one Buffer, fragments, an ArrayBuffer). */
function textOf (raw: RawData): string {
  return (Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw)).toString('utf8')
}

function http (port: number, opts: { method?: string, path: string, headers?: Record<string, string>, body?: string | Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }))
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

function wsOutcome (url: string, protocols: string[], headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols, { headers })
    ws.on('open', () => { ws.close(); resolve('open') })
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0) })
    ws.on('error', () => {})
  })
}

describe('the loopback API server', () => {
  const tmp = new TempDirs()
  let engine: Engine
  let server: ApiServer
  let storage: string
  let auth: Record<string, string>
  let origin: string

  beforeAll(async () => {
    storage = await tmp.make()
    engine = await startEngine(null, storage)
    const staticDir = await tmp.make()
    const { writeFile } = await import('node:fs/promises')
    await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>DatDot</title>')
    server = new ApiServer({ engine, handlers: createHandlers(engine), storage, staticDir })
    await server.ready()
    auth = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' }
    origin = `http://127.0.0.1:${server.port}`
  })

  afterAll(async () => {
    await server.close()
    await engine.close()
    await tmp.cleanup()
  })

  const call = (method: string, args: unknown, headers: Record<string, string> = auth): Promise<Reply> =>
    http(server.port, { method: 'POST', path: `/api/call/${method}`, headers, body: JSON.stringify(args) })

  it('keeps its token in a file only the owner can read, and records its port for the CLI', async () => {
    const st = await stat(join(storage, 'api-token'))
    expect(st.mode & 0o777).toBe(0o600)
    expect((await readFile(join(storage, 'api-token'), 'utf8')).trim()).toBe(server.token)
    expect((JSON.parse(await readFile(join(storage, 'daemon.json'), 'utf8')) as { port: number }).port).toBe(server.port)
    expect(server.url).toBe(`${origin}/#token=${server.token}`)
  })

  it('answers a call that carries the token', async () => {
    const r = await call('getVault', {})
    expect(r.status).toBe(200)
    expect(bodyOf<{ key: string }>(r).result.key).toBe(engine.vault.id)
  })

  it('refuses calls without the token or with a wrong one', async () => {
    expect((await call('getVault', {}, { 'Content-Type': 'application/json' })).status).toBe(401)
    expect((await call('getVault', {}, { Authorization: 'Bearer ' + '0'.repeat(64) })).status).toBe(401)
    expect((await call('getVault', {}, { Authorization: 'Bearer short' })).status).toBe(401)
  })

  it('refuses a foreign Origin and a rebound Host even with the right token', async () => {
    const foreign = await call('getVault', {}, { ...auth, Origin: 'http://evil.example' })
    expect(foreign.status).toBe(403)
    const rebound = await call('getVault', {}, { ...auth, Host: `evil.example:${server.port}` })
    expect(rebound.status).toBe(403)
  })

  it('refuses path-taking methods to the browser UI but allows them to local programs', async () => {
    const web = await call('importPaths', { paths: ['/etc/hostname'] }, { ...auth, Origin: origin })
    expect(web.status).toBe(403)
    expect(bodyOf(web).error.code).toBe('FORBIDDEN')
    const cli = await call('importPaths', { paths: ['/definitely/missing'], wait: true })
    expect(bodyOf(cli).error.code).toBe('NOT_FOUND')
  })

  it('maps invalid arguments and bodies to 400 with a code', async () => {
    const r = await call('listFiles', { path: 42 })
    expect(r.status).toBe(400)
    expect(bodyOf(r).error.code).toBe('INVALID_ARGUMENT')
    const notJson = await http(server.port, { method: 'POST', path: '/api/call/getVault', headers: auth, body: '{nope' })
    expect(notJson.status).toBe(400)
    const huge = await http(server.port, { method: 'POST', path: '/api/call/getVault', headers: auth, body: 'x'.repeat(2 * 1024 * 1024) }).catch(() => ({ status: 413 }))
    expect(huge.status).toBe(413)
  })

  it('commits an upload session all at once and drops an aborted one entirely', async () => {
    const { result: begun } = bodyOf<{ uploadId: string }>(await call('beginUpload', { dest: '/up' }, { ...auth, Origin: origin }))
    const put = (id: string, path: string, body: string): Promise<Reply> => http(server.port, {
      method: 'PUT', path: `/api/upload/${id}?path=${encodeURIComponent(path)}`, headers: { ...auth, Origin: origin, 'Content-Type': 'application/octet-stream' }, body
    })
    expect((await put(begun.uploadId, 'a.txt', 'A')).status).toBe(200)
    expect((await put(begun.uploadId, 'dir/b.txt', 'BB')).status).toBe(200)
    expect((await put(begun.uploadId, '../escape.txt', 'x')).status).toBe(400)
    const before = bodyOf<{ entries: Array<{ path: string }> }>(await call('listFiles', { path: '/', recursive: true })).result.entries
    expect(before.map((e) => e.path)).toEqual([])
    const committed = bodyOf<{ state: string }>(await call('commitUpload', { uploadId: begun.uploadId }, { ...auth, Origin: origin })).result
    expect(committed.state).toBe('done')
    const after = bodyOf<{ entries: Array<{ path: string }> }>(await call('listFiles', { path: '/up', recursive: true })).result.entries
    expect(after.map((e) => e.path)).toEqual(['/up/a.txt', '/up/dir/b.txt'])

    const { result: second } = bodyOf<{ uploadId: string }>(await call('beginUpload', { dest: '/gone' }, { ...auth, Origin: origin }))
    expect((await put(second.uploadId, 'c.txt', 'C')).status).toBe(200)
    expect((await call('abortUpload', { uploadId: second.uploadId }, { ...auth, Origin: origin })).status).toBe(200)
    expect(bodyOf(await call('stat', { path: '/gone/c.txt' })).error.code).toBe('NOT_FOUND')
    expect((await put(second.uploadId, 'd.txt', 'D')).status).toBe(404)
  })

  it('streams a file once through a one-time download URL', async () => {
    const { result } = bodyOf<{ url: string }>(await call('createDownloadUrl', { path: '/up/dir/b.txt' }, { ...auth, Origin: origin }))
    const first = await http(server.port, { path: result.url })
    expect(first.status).toBe(200)
    expect(first.body).toBe('BB')
    expect(String(first.headers['content-disposition'])).toContain("filename*=UTF-8''b.txt")
    expect((await http(server.port, { path: result.url })).status).toBe(404)
  })

  it('serves the UI with a strict CSP and never a file outside its folder', async () => {
    const index = await http(server.port, { path: '/' })
    expect(index.status).toBe(200)
    expect(String(index.headers['content-security-policy'])).toContain("script-src 'self'")
    expect(index.headers['x-frame-options']).toBe('DENY')
    for (const path of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/%2F..%2F..%2Fetc%2Fpasswd']) {
      const r = await http(server.port, { path })
      expect(r.status, path).toBeGreaterThanOrEqual(400)
      expect(r.body).not.toContain('root:')
    }
  })

  it('accepts WebSockets only with the token, from no Origin or its own, and pushes engine events', async () => {
    const url = `ws://127.0.0.1:${server.port}/api/ws`
    expect(await wsOutcome(url, ['datdot.v1'], {})).toBe(401)
    expect(await wsOutcome(url, ['datdot.v1', 'token.' + 'f'.repeat(64)], {})).toBe(401)
    expect(await wsOutcome(url, ['datdot.v1', 'token.' + server.token], { Origin: 'http://evil.example' })).toBe(403)
    expect(await wsOutcome(url, ['datdot.v1', 'token.' + server.token], { Origin: origin })).toBe('open')

    const ws = new WebSocket(url, ['datdot.v1', 'token.' + server.token], { headers: { Origin: origin } })
    await new Promise((resolve) => ws.once('open', resolve))
    const messages: Array<{ id?: number, event?: string, result?: unknown, error?: { code: string } }> = []
    const got = (pred: (m: typeof messages[number]) => boolean): Promise<typeof messages[number]> => new Promise((resolve) => {
      const check = (): void => { const m = messages.find(pred); if (m) resolve(m); else ws.once('message', () => check()) }
      check()
    })
    ws.on('message', (raw) => messages.push(JSON.parse(textOf(raw)) as typeof messages[number]))
    ws.send(JSON.stringify({ id: 1, method: 'deletePath', args: { path: '/up/a.txt' } }))
    expect((await got((m) => m.id === 1)).result).toMatchObject({ deleted: 1 })
    expect((await got((m) => m.event === 'vault.changed')).event).toBe('vault.changed')
    ws.send(JSON.stringify({ id: 2, method: 'exportPath', args: { dest: '/tmp', path: '/' } }))
    expect((await got((m) => m.id === 2)).error?.code).toBe('FORBIDDEN')
    ws.close()
  })

  it('serves its figures to Prometheus with the token, in the text format, as the API reads them', async () => {
    await engine.spaces.resolve('Private').vault.drive.put('/metrics-probe.txt', Buffer.from('counted'))
    const r = await http(server.port, { path: '/api/metrics', headers: { Authorization: `Bearer ${server.token}` } })
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    const samples = new Map<string, string>()
    for (const line of r.body.trimEnd().split('\n')) {
      if (line.startsWith('#')) { expect(line).toMatch(/^# (HELP|TYPE) datdot_[a-z0-9_]+ .+$/); continue }
      const m = /^(datdot_[a-z0-9_]+(?:\{[^}]*\})?) (-?\d+(?:\.\d+)?)$/.exec(line)
      expect(m, `not a sample line: ${line}`).not.toBeNull()
      samples.set(m![1], m![2])
    }
    const status = bodyOf<{ vault: { files: number, bytes: number }, follows: number }>(await call('getStatus', {})).result
    expect(samples.get('datdot_up')).toBe('1')
    expect(Number(samples.get('datdot_vault_files'))).toBe(status.vault.files)
    expect(status.vault.files).toBeGreaterThan(0)
    expect(Number(samples.get('datdot_vault_bytes'))).toBe(status.vault.bytes)
    expect(Number(samples.get('datdot_follows'))).toBe(status.follows)
    // This node runs no chain: no chain, wallet or earnings figures rather than zeros.
    expect([...samples.keys()].some((k) => /chain_block|wallet|earnings/.test(k))).toBe(false)
  })

  it('refuses the metrics without the token or from a foreign page', async () => {
    expect((await http(server.port, { path: '/api/metrics' })).status).toBe(401)
    expect((await http(server.port, { path: '/api/metrics', headers: { Authorization: 'Bearer ' + '0'.repeat(64) } })).status).toBe(401)
    expect((await http(server.port, { path: '/api/metrics', headers: { Authorization: `Bearer ${server.token}`, Origin: 'http://evil.example' } })).status).toBe(403)
    expect((await http(server.port, { method: 'POST', path: '/api/metrics', headers: { Authorization: `Bearer ${server.token}` } })).status).toBe(404)
  })
})
