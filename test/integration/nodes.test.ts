/**
 * The several-nodes dashboard between real daemons: two engines, each behind its own loopback
 * API server; the first adds the second by URL and token and reads it through listNodes. Hostile
 * or broken "nodes" are plain HTTP servers on loopback answering what a lying peer would.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TempDirs, startEngine } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { ApiServer } from '../../main/server/server.js'
import { createHandlers, type EngineHandlers } from '../../main/api/handlers.js'
import { createNodeHandlers } from '../../main/api/handlers-nodes.js'
import { dispatch } from '../../main/api/dispatch.js'
import { DatdotError } from '../../main/shared/errors.js'
import { NODE_LIMITS } from '../../main/shared/contract-nodes.js'

type Answer = (req: IncomingMessage, res: ServerResponse) => void

/** A loopback HTTP server answering every request with `answer`; resolves with its origin. */
async function fakeNode (answer: Answer): Promise<{ origin: string, server: Server }> {
  const server = createServer(answer)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

async function codeOf (p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    return DatdotError.from(err).code
  }
  return 'no error'
}

describe('several nodes on one dashboard', () => {
  const tmp = new TempDirs()
  let alice: Engine
  let bob: Engine
  let bobServer: ApiServer
  let aliceServer: ApiServer
  let h: EngineHandlers
  const fakes: Server[] = []

  beforeAll(async () => {
    alice = await startEngine(null, await tmp.make())
    bob = await startEngine(null, await tmp.make())
    const bobStorage = bob.storage
    bobServer = new ApiServer({ engine: bob, handlers: createHandlers(bob), storage: bobStorage })
    await bobServer.ready()
    h = createHandlers(alice)
    aliceServer = new ApiServer({ engine: alice, handlers: h, storage: alice.storage })
    await aliceServer.ready()
  })

  afterAll(async () => {
    for (const f of fakes) f.close()
    await bobServer.close()
    await aliceServer.close()
    await alice.close()
    await bob.close()
    await tmp.cleanup()
  })

  const fake = async (answer: Answer): Promise<string> => {
    const f = await fakeNode(answer)
    fakes.push(f.server)
    return f.origin
  }

  it('shows this node alone until another is added, with no chain figures on a node without a chain', async () => {
    const o = await h.listNodes({})
    expect(o.nodes).toHaveLength(1)
    expect(o.nodes[0]).toMatchObject({ id: null, name: 'This node', reachable: true, chainState: 'offline', seeding: null, earnings30d: null })
    expect(o.totals).toMatchObject({ nodes: 1, reachable: 1, earnings30d: null })
  })

  it('adds another daemon by URL and token and reads its status through its API', async () => {
    const { id } = await h.addNode({ name: 'Bob\'s box', url: `${bobServer.origin}/`, token: bobServer.token })
    const o = await h.listNodes({})
    const line = o.nodes.find((n) => n.id === id)
    expect(line).toMatchObject({ name: 'Bob\'s box', url: bobServer.origin, reachable: true, error: null, chainState: 'offline' })
    expect(line?.appVersion).toBe((await h.getStatus({})).appVersion)
    expect(o.totals).toMatchObject({ nodes: 2, reachable: 2 })
    // The token never comes back out of the API.
    expect(JSON.stringify(o)).not.toContain(bobServer.token)
    await h.removeNode({ id })
  })

  it('refuses a wrong token, a URL nobody listens on, this node itself, and the same node twice', async () => {
    expect(await codeOf(h.addNode({ name: 'x', url: bobServer.origin, token: 'not-the-token' }))).toBe('INVALID_ARGUMENT')
    const closed = await fakeNode((_req, res) => res.end())
    await new Promise<void>((resolve) => closed.server.close(() => resolve()))
    expect(await codeOf(h.addNode({ name: 'x', url: closed.origin, token: 't' }))).toBe('UNREACHABLE')
    expect(await codeOf(h.addNode({ name: 'me', url: aliceServer.origin, token: aliceServer.token }))).toBe('INVALID_ARGUMENT')
    const { id } = await h.addNode({ name: 'b', url: bobServer.origin, token: bobServer.token })
    expect(await codeOf(h.addNode({ name: 'b again', url: `${bobServer.origin}/`, token: bobServer.token }))).toBe('ALREADY_EXISTS')
    await h.removeNode({ id })
    expect(await codeOf(h.removeNode({ id }))).toBe('NOT_FOUND')
    expect((await h.listNodes({})).nodes).toHaveLength(1)
  })

  it('refuses URLs that are not http://host:port, through the API schema and the URL rules', async () => {
    for (const url of ['ftp://127.0.0.1:1', 'http://user:pw@127.0.0.1:1', 'http://127.0.0.1:1/api', 'http://127.0.0.1:1/?x=1', 'not a url', 'javascript:alert(1)']) {
      expect(await codeOf(h.addNode({ name: 'x', url, token: 't' })), url).toBe('INVALID_ARGUMENT')
    }
    const tooLong = { name: 'x', url: 'http://' + 'a'.repeat(NODE_LIMITS.urlChars), token: 't' }
    expect(await codeOf(dispatch(h, 'addNode', tooLong, 'web'))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(dispatch(h, 'addNode', { name: '', url: bobServer.origin, token: bobServer.token }, 'web'))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(dispatch(h, 'removeNode', { id: -1 }, 'web'))).toBe('INVALID_ARGUMENT')
  })

  it('keeps the added nodes across a restart of this node', async () => {
    const { id } = await h.addNode({ name: 'kept', url: bobServer.origin, token: bobServer.token })
    const storage = alice.storage
    await aliceServer.close()
    await alice.close()
    alice = await startEngine(null, storage)
    h = createHandlers(alice)
    aliceServer = new ApiServer({ engine: alice, handlers: h, storage })
    await aliceServer.ready()
    const o = await h.listNodes({})
    expect(o.nodes.map((n) => n.name)).toEqual(['This node', 'kept'])
    expect(o.nodes[1].reachable).toBe(true)
    await h.removeNode({ id })
  })

  it('shows a node that stops answering as unreachable with its reason, and the others still', async () => {
    const other = await startEngine(null, await tmp.make())
    const server = new ApiServer({ engine: other, handlers: createHandlers(other), storage: other.storage })
    await server.ready()
    const { id } = await h.addNode({ name: 'goes away', url: server.origin, token: server.token })
    await server.close()
    await other.close()
    const o = await h.listNodes({})
    const line = o.nodes.find((n) => n.id === id)
    expect(line).toMatchObject({ reachable: false, appVersion: null })
    expect(line?.error?.code).toBe('UNREACHABLE')
    expect(line?.alerts[0]).toMatchObject({ level: 'error' })
    expect(o.nodes[0].reachable).toBe(true)
    expect(o.totals).toMatchObject({ nodes: 2, reachable: 1 })
    await h.removeNode({ id })
  })

  it('reads nothing it should not from a lying or broken node: each answer gets a clear error and the dashboard still answers', async () => {
    const status = { ...(await h.getStatus({})), pid: 1 }
    const lies: Array<[string, Answer, string]> = [
      ['not JSON', (_q, s) => s.end('<html>hello</html>'), 'PROTOCOL_ERROR'],
      ['JSON of another shape', (_q, s) => s.end(JSON.stringify({ result: { appVersion: 42 } })), 'PROTOCOL_ERROR'],
      ['a number', (_q, s) => s.end('7'), 'PROTOCOL_ERROR'],
      ['a malformed error', (_q, s) => s.end(JSON.stringify({ error: { code: ['x'] } })), 'PROTOCOL_ERROR'],
      ['an error with an unknown code', (_q, s) => s.end(JSON.stringify({ error: { code: 'EVIL', message: 'x'.repeat(5000) } })), 'INTERNAL'],
      ['an answer over the size limit', (_q, s) => { s.write('{"result":"'); s.end('a'.repeat(NODE_LIMITS.answerBytes + 10)) }, 'PROTOCOL_ERROR'],
      ['its status, then junk for the chain', (q, s) => s.end(q.url?.endsWith('/getStatus') === true ? JSON.stringify({ result: status }) : '{'), 'PROTOCOL_ERROR']
    ]
    for (const [what, answer, code] of lies) {
      const origin = await fake(answer)
      expect(await codeOf(h.addNode({ name: what, url: origin, token: 't' })), what).toBe(what.startsWith('its status') ? 'no error' : code)
    }
    const o = await h.listNodes({})
    expect(o.nodes[0]).toMatchObject({ name: 'This node', reachable: true })
    const partial = o.nodes.find((n) => n.name === 'its status, then junk for the chain')
    expect(partial).toMatchObject({ reachable: true, chainState: null })
    expect(partial?.error?.code).toBe('PROTOCOL_ERROR')
    expect((partial?.error?.message.length ?? 0)).toBeLessThan(1000)
    for (const n of o.nodes) if (n.id !== null) await h.removeNode({ id: n.id })
  })

  it('gives up on a node that never answers after its timeout, without holding the others', async () => {
    const origin = await fake(() => { /* never answers */ })
    const hs = createNodeHandlers(alice.db, async (m, a) => await dispatch(h, m, a, 'cli') as never, { timeoutMs: 200 })
    expect(await codeOf(hs.addNode({ name: 'silent', url: origin, token: 't' }))).toBe('TIMEOUT')
  })
})
