/**
 * Starting the local chain and connecting to it: a port in use is one clear error that leaves
 * nothing running (so `datdot chain` exits instead of lingering without a network), and creating
 * the @polkadot/api connection prints nothing (the 'API/INIT: MetadataApi not available' line).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type Server, type AddressInfo } from 'node:net'
import { LocalChain, loadChopsticks } from '../../main/chain/local-chain.js'
import { ChainService } from '../../main/chain/service.js'
import { openDatabase } from '../../main/shared/db.js'
import { ChainStore } from '../../main/chain/chain-store.js'
import { DatdotError } from '../../main/shared/errors.js'
import { main } from '../../main/cli/index.js'

/**
 * MessagePorts of live worker threads. chopsticks' wasm executor is a worker reached through
 * comlink: while it runs there are a dozen ports (loading modules may hold one for a moment).
 */
function workerPorts (): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length
}

describe('starting the local chain', () => {
  let root: string
  let held: Server
  let port: number

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'datdot-chain-start-'))
    held = createServer()
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve))
    port = (held.address() as AddressInfo).port
    // chopsticks loaded before anything is measured: what it holds once loaded is not the chain's
    await loadChopsticks()
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => held.close(() => resolve()))
    rmSync(root, { recursive: true, force: true })
  })

  it('refuses a port in use with one clear error, builds nothing and leaves no worker running', async () => {
    const dir = join(root, 'busy')
    const err = await LocalChain.open({ dir, port }).then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(DatdotError)
    expect((err as DatdotError).code).toBe('INVALID_ARGUMENT')
    expect((err as DatdotError).message).toMatch(new RegExp(`^port ${port} is in use on 127\\.0\\.0\\.1`))
    expect((err as DatdotError).details).toEqual({ port })
    // no chopsticks executor left behind (a live worker keeps the process from exiting)
    expect(workerPorts()).toBeLessThan(2)
    // no chain was built or bootstrapped in the folder, and the folder was released: it opens on a
    // free port as a new chain with its network record
    const store = new ChainStore(join(dir, 'local-chain.sqlite'))
    try {
      expect(store.highest()).toBeNull()
      expect(store.getMeta('bootstrapped')).toBeNull()
    } finally {
      await store.close()
    }
    const local = await LocalChain.open({ dir, port: 0 })
    try {
      expect(local.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
      expect(local.store.getMeta('bootstrapped')).not.toBeNull()
    } finally {
      await local.close()
    }
  }, 120_000)

  it('makes `datdot chain` on a port in use exit 1 with one line saying so', async () => {
    const lines: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true })
    let code: number
    try {
      code = await main(['--storage', join(root, 'cli'), 'chain', '--port', String(port)])
    } finally {
      process.stderr.write = write
    }
    expect(code).toBe(1)
    expect(lines.join('')).toBe(`datdot chain: port ${port} is in use on 127.0.0.1 (another local chain or program listens there): stop it or choose another port [INVALID_ARGUMENT]\n`)
    expect(workerPorts()).toBeLessThan(2)
  }, 120_000)
})

describe('connecting to the chain', () => {
  it('prints nothing while the chain starts and services connect in process and over WebSocket', async () => {
    const root = mkdtempSync(join(tmpdir(), 'datdot-chain-quiet-'))
    const printed: string[] = []
    // Saved to be put back as they were (identity included), never called unbound.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- see above
    const orig = { warn: console.warn, error: console.error, log: console.log, info: console.info, stderr: process.stderr.write }
    const capture = (...args: unknown[]): void => { printed.push(args.map(String).join(' ')) }
    console.warn = capture
    console.error = capture
    console.log = capture
    console.info = capture
    process.stderr.write = ((chunk: string | Uint8Array) => { printed.push(String(chunk)); return true })
    const dbs = [openDatabase(join(root, 'a.db')), openDatabase(join(root, 'b.db'))]
    let local: LocalChain | null = null
    const services: ChainService[] = []
    try {
      local = await LocalChain.open({ dir: join(root, 'chain'), port: 0 })
      services.push(new ChainService({ storage: join(root, 'a'), endpoint: 'embedded', db: dbs[0], localChain: local }))
      services.push(new ChainService({ storage: join(root, 'b'), endpoint: local.url as string, db: dbs[1] }))
      for (const s of services) await s.ready()
      expect(services.every((s) => s.market.network !== null)).toBe(true)
    } finally {
      for (const s of services) await s.close()
      await local?.close()
      for (const db of dbs) db.close()
      Object.assign(console, { warn: orig.warn, error: orig.error, log: orig.log, info: orig.info })
      process.stderr.write = orig.stderr
      rmSync(root, { recursive: true, force: true })
    }
    expect(printed.filter((l) => /MetadataApi/.test(l))).toEqual([])
    expect(printed).toEqual([])
  }, 120_000)
})
