/**
 * checkLocalAddressesPatiently on a real hyperdht node: a process blocked right after the check's
 * send (as an embedded chain building a block blocks it) still finds its own loopback address
 * valid, where hyperdht's own check says no; a passed check is kept, a failed one is made again,
 * an address the node cannot bind stays refused. The only fault injected is a dropped send.
 */
import { describe, it, expect, afterEach } from 'vitest'
import DHT from 'hyperdht'
import { checkLocalAddressesPatiently } from '../../main/engine/local-addresses.js'

interface Addr { host: string, port: number }
interface Probe { trySend: (b: Buffer, port: number, host: string) => void }
interface Checked { validateLocalAddresses: (a: Addr[]) => Promise<Addr[]>, _validatedLocalAddresses: Map<string, Promise<boolean>>, udx: { createSocket: () => Probe } }

/** Keeps the event loop busy for `ms` (a block being built in the same process). */
function blockFor (ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) { /* busy */ }
}

const nodes: DHT[] = []
async function node (): Promise<Checked> {
  const d = new DHT({ bootstrap: [], ephemeral: true, host: '127.0.0.1' })
  nodes.push(d)
  await d.ready()
  return d as unknown as Checked
}

/** Counts the probe sockets made, and drops the next `drop` sends (a byte lost). */
function watchProbes (d: Checked, drop = 0): { made: () => number } {
  let made = 0
  const create = d.udx.createSocket.bind(d.udx)
  d.udx.createSocket = () => {
    made++
    const sock = create()
    if (drop > 0) {
      drop--
      sock.trySend = () => {}
    }
    return sock
  }
  return { made: () => made }
}

const loopback = { host: '127.0.0.1', port: 4000 }

afterEach(async () => {
  for (const d of nodes.splice(0)) await d.destroy()
})

describe('checking this node’s own local addresses', () => {
  it('hyperdht’s own check calls the loopback address invalid when the process is blocked right after the send', async () => {
    const d = await node()
    const check = d.validateLocalAddresses([loopback])
    blockFor(700)
    expect(await check).toEqual([])
  })

  it('finds the loopback address valid although the process was blocked right after the send', async () => {
    const d = await node()
    checkLocalAddressesPatiently(d)
    const check = d.validateLocalAddresses([loopback])
    blockFor(700)
    expect(await check).toEqual([loopback])
  })

  it('keeps a passed check: the next handshake does not probe again', async () => {
    const d = await node()
    checkLocalAddressesPatiently(d)
    const probes = watchProbes(d)
    expect(await d.validateLocalAddresses([loopback])).toEqual([loopback])
    expect(await d.validateLocalAddresses([loopback])).toEqual([loopback])
    expect(probes.made()).toBe(1)
  })

  it('forgets a failed check: a byte that did not come back is checked again at the next handshake', async () => {
    const d = await node()
    checkLocalAddressesPatiently(d, { timeoutMs: 50 })
    const probes = watchProbes(d, 1)
    expect(await d.validateLocalAddresses([loopback])).toEqual([])
    expect(d._validatedLocalAddresses.has(loopback.host)).toBe(false)
    expect(await d.validateLocalAddresses([loopback])).toEqual([loopback])
    expect(probes.made()).toBe(2)
  })

  it('refuses an address this node cannot bind, for good, and keeps the ones it can', async () => {
    const d = await node()
    checkLocalAddressesPatiently(d)
    const probes = watchProbes(d)
    const foreign = { host: '192.0.2.1', port: 4000 }
    expect(await d.validateLocalAddresses([foreign, loopback])).toEqual([loopback])
    expect(await d.validateLocalAddresses([foreign])).toEqual([])
    expect(probes.made()).toBe(2)
  })

  it('gives up after its waits when the process stays blocked, and says no', async () => {
    const d = await node()
    checkLocalAddressesPatiently(d, { timeoutMs: 20, maxWaits: 2 })
    watchProbes(d, 1)
    expect(await d.validateLocalAddresses([loopback])).toEqual([])
  })

  it('leaves anything that is not a hyperdht node as it is', () => {
    const other = { validateLocalAddresses: 1 }
    checkLocalAddressesPatiently(other)
    checkLocalAddressesPatiently(null)
    expect(other.validateLocalAddresses).toBe(1)
  })
})
