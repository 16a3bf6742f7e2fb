/**
 * The command line when its daemon goes away mid-command: it must print one line on stderr
 * and exit non-zero, never hang or end silently (Node's exit code 13, an unsettled top-level
 * await). A local stand-in daemon answers the first calls, then drops its connections; the CLI
 * runs from the sources in a child process, as bin/datdot.js runs it.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Socket } from 'node:net'
import { WebSocketServer } from 'ws'
import { TempDirs } from '../helpers/engines.js'
import { runNode, type Run } from '../helpers/run-process.js'

const CHILD = join(import.meta.dirname, '..', 'fixtures', 'cli-child.mjs')

function datdot (args: string[]): Promise<Run> {
  return runNode(CHILD, args)
}

const RUNNING_JOB = { id: 'job-1', kind: 'import', label: 'Import', state: 'running', bytesDone: 0, bytesTotal: 10, filesDone: 0, filesTotal: 1, startedMs: 0, endedMs: null, version: null, error: null }

/** The spaces the stand-in daemon lists: the commands resolve their default space from them first. */
const SPACES = {
  restoringList: false,
  spaces: [{ id: 'p1', name: 'Private', visibility: 'private', encrypted: true, key: 'y'.repeat(52), link: null, version: 1, files: 0, bytes: 0, createdMs: 0, peers: 0, restoring: null }]
}

/** A reply after which the stand-in daemon dies. */
class DropAfter { constructor (readonly result: unknown) {} }

/**
 * A stand-in daemon: `answer` decides each call; 'drop' destroys every connection at once (the
 * daemon died), a DropAfter answers and then dies, a function writes the response itself.
 */
async function fakeDaemon (storage: string, answer: (method: string) => unknown): Promise<{ server: Server, close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('datdot.v1') ? 'datdot.v1' : false) })
  const die = (): void => {
    for (const ws of wss.clients) ws.terminate()
    for (const s of sockets) s.destroy()
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    req.on('end', () => {
      const method = decodeURIComponent((req.url ?? '').replace(/^\/api\/call\//, ''))
      const reply = answer(method)
      if (reply === 'drop') { die(); return }
      if (typeof reply === 'function') { (reply as (res: ServerResponse) => void)(res); return }
      const text = JSON.stringify({ result: reply instanceof DropAfter ? reply.result : reply })
      if (reply instanceof DropAfter) res.on('finish', die)
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
      res.end(text)
    })
  })
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  server.on('upgrade', (req, socket, head) => { wss.handleUpgrade(req, socket, head, () => {}) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await writeFile(join(storage, 'daemon.json'), JSON.stringify({ port, pid: process.pid, url: `http://127.0.0.1:${port}/` }))
  await writeFile(join(storage, 'api-token'), 'a'.repeat(64) + '\n')
  return {
    server,
    close: async () => {
      die()
      wss.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

describe('the command line when the daemon dies mid-command', () => {
  const tmp = new TempDirs()
  let storage: string
  let daemon: Awaited<ReturnType<typeof fakeDaemon>> | null = null

  beforeEach(async () => { storage = await tmp.make() })
  afterEach(async () => {
    await daemon?.close()
    daemon = null
    await tmp.cleanup()
  })

  it('prints one line and exits 1 when the daemon goes away while an import job runs', async () => {
    let listed = false
    daemon = await fakeDaemon(storage, (method) => {
      if (method === 'getStatus') return {}
      if (method === 'listSpaces') return SPACES
      if (method === 'importPaths') return RUNNING_JOB
      // The daemon answers listJobs with a running job, then dies: the CLI is left waiting
      // on job events from a WebSocket that is gone.
      if (method === 'listJobs' && !listed) { listed = true; return new DropAfter([RUNNING_JOB]) }
      return 'drop'
    })
    const run = await datdot(['--storage', storage, 'add', storage])
    expect(run.code).toBe(1)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toMatch(/^datdot add: .*daemon.*\[CLOSED\]\n$/)
  })

  it('prints one line and exits 1 when the daemon dies in the middle of a download', async () => {
    daemon = await fakeDaemon(storage, (method) => {
      if (method === 'getStatus') return {}
      if (method === 'listSpaces') return SPACES
      if (method === 'createDownloadUrl') return { url: '/api/download/t1' }
      if (method === '/api/download/t1') {
        return (res: ServerResponse) => {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': '100000' })
          res.write(Buffer.alloc(10, 120), () => res.socket?.destroy())
        }
      }
      return 'drop'
    })
    const run = await datdot(['--storage', storage, 'cat', '/a.bin'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^datdot cat: [^\n]+\n$/)
  })

  it('prints one line and exits 1 when the daemon accepts a call and then drops the connection', async () => {
    let first = true
    daemon = await fakeDaemon(storage, (method) => {
      if (method === 'getStatus' && first) { first = false; return {} }
      return 'drop'
    })
    const run = await datdot(['--storage', storage, 'status'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^datdot status: [^\n]+\n$/)
  })
})
