/**
 * Byte ranges over the loopback API server's download URLs: what a browser's <video> or
 * <audio> asks while it plays and seeks (many Range requests on one ticket), and the answers
 * to ranges past the end.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { request } from 'node:http'
import { TempDirs, startEngine } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { ApiServer } from '../../main/server/server.js'
import { createHandlers } from '../../main/api/handlers.js'

interface Reply { status: number, body: Buffer, headers: Record<string, string | string[] | undefined> }

function get (port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, method: 'GET', path, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Deterministic bytes: byte i is (i * 7 + 3) mod 251. */
function pattern (n: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) % 251
  return b
}

describe('ranged downloads from the loopback API server', () => {
  const tmp = new TempDirs()
  let engine: Engine
  let server: ApiServer
  const data = pattern(300_000)

  beforeAll(async () => {
    const storage = await tmp.make()
    engine = await startEngine(null, storage)
    await engine.vault.drive.put('/media/clip.webm', data)
    await engine.vault.drive.put('/media/page.html', Buffer.from('<script>alert(1)</script>'))
    await engine.vault.drive.put('/media/empty.txt', Buffer.alloc(0))
    server = new ApiServer({ engine, handlers: createHandlers(engine), storage })
    await server.ready()
  })

  afterAll(async () => {
    await server.close()
    await engine.close()
    await tmp.cleanup()
  })

  const ticket = async (path: string): Promise<string> => (await createHandlers(engine).createDownloadUrl({ path })).url

  it('answers many Range requests on one ticket with 206 and the exact bytes, as a media player asks', async () => {
    const url = await ticket('/media/clip.webm')
    const first = await get(server.port, url, { Range: 'bytes=0-' })
    expect(first.status).toBe(206)
    expect(first.headers['content-range']).toBe(`bytes 0-${data.length - 1}/${data.length}`)
    expect(first.headers['accept-ranges']).toBe('bytes')
    expect(first.headers['content-type']).toBe('video/webm')
    expect(first.body.equals(data)).toBe(true)
    const middle = await get(server.port, url, { Range: 'bytes=150000-150999' })
    expect(middle.status).toBe(206)
    expect(middle.headers['content-length']).toBe('1000')
    expect(middle.headers['content-range']).toBe(`bytes 150000-150999/${data.length}`)
    expect(middle.body.equals(data.subarray(150_000, 151_000))).toBe(true)
    const tail = await get(server.port, url, { Range: 'bytes=-10' })
    expect(tail.status).toBe(206)
    expect(tail.body.equals(data.subarray(data.length - 10))).toBe(true)
    const over = await get(server.port, url, { Range: `bytes=${data.length - 5}-${data.length + 1000}` })
    expect(over.headers['content-range']).toBe(`bytes ${data.length - 5}-${data.length - 1}/${data.length}`)
    expect(over.body.equals(data.subarray(data.length - 5))).toBe(true)
  })

  it('answers a range past the end with 416 and the size, and keeps the ticket for a good range', async () => {
    const url = await ticket('/media/clip.webm')
    const bad = await get(server.port, url, { Range: `bytes=${data.length}-` })
    expect(bad.status).toBe(416)
    expect(bad.headers['content-range']).toBe(`bytes */${data.length}`)
    expect((JSON.parse(bad.body.toString()) as { error: { code: string } }).error.code).toBe('INVALID_ARGUMENT')
    expect((await get(server.port, url, { Range: 'bytes=-0' })).status).toBe(416)
    expect((await get(server.port, url, { Range: 'bytes=10-19' })).body.equals(data.subarray(10, 20))).toBe(true)
  })

  it('sends the whole file for a Range header it ignores (several ranges, malformed, backwards)', async () => {
    const url = await ticket('/media/clip.webm')
    for (const range of ['bytes=0-9,20-29', 'items=0-9', 'bytes=20-10', 'bytes=abc']) {
      const r = await get(server.port, url, { Range: range })
      expect(r.status, range).toBe(200)
      expect(r.body.length, range).toBe(data.length)
    }
  })

  it('uses a ticket up on a plain download, and refuses it afterwards', async () => {
    const url = await ticket('/media/clip.webm')
    expect((await get(server.port, url, { Range: 'bytes=0-0' })).status).toBe(206)
    const whole = await get(server.port, url)
    expect(whole.status).toBe(200)
    expect(whole.body.equals(data)).toBe(true)
    expect(String(whole.headers['content-disposition'])).toMatch(/^attachment;/)
    expect((await get(server.port, url, { Range: 'bytes=0-0' })).status).toBe(404)
  })

  it('never serves a file as a page of the UI: HTML as text, everything under a sandbox', async () => {
    const url = await ticket('/media/page.html')
    const r = await get(server.port, `${url}?inline=1`)
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(String(r.headers['content-security-policy'])).toContain('sandbox')
    expect(String(r.headers['content-disposition'])).toMatch(/^inline;/)
    expect(r.headers['x-frame-options']).toBe('DENY')
  })

  it('answers a range of an empty file with 416 and the empty file itself with 200', async () => {
    const url = await ticket('/media/empty.txt')
    expect((await get(server.port, url, { Range: 'bytes=0-' })).status).toBe(416)
    const r = await get(server.port, url)
    expect(r.status).toBe(200)
    expect(r.body.length).toBe(0)
  })

  it('reads every range of one ticket from the version it was made at, even after the file changes', async () => {
    await engine.vault.drive.put('/media/changing.bin', Buffer.from('first version'))
    const url = await ticket('/media/changing.bin')
    await engine.vault.drive.put('/media/changing.bin', Buffer.from('SECOND VERSION, longer'))
    const r = await get(server.port, url, { Range: 'bytes=0-4' })
    expect(r.status).toBe(206)
    expect(r.body.toString()).toBe('first')
    expect(r.headers['content-range']).toBe('bytes 0-4/13')
  })
})
