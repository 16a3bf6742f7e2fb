/**
 * A check of this node's own local addresses that a busy process does not fail.
 *
 * hyperdht checks each local address it offers (the server's, sent in every handshake reply and
 * matched against a same-host client's) once: it sends itself one byte on it and calls the
 * address valid if the byte comes back within 500 ms; the answer, true or false, is cached for
 * the life of the DHT node. Timers run before I/O in Node's event loop, so when the process is
 * blocked for more than 500 ms right after the send (an embedded chain starting or building a
 * block in the same process, several engines encoding at once) the timer wins although the byte
 * is waiting, and from then on the node never offers a local address. Two nodes on the same host
 * then cannot take hyperdht's local shortcut and fall back to holepunching, which on loopback
 * leaves the dialler "connected" to the server's holepunch socket while the server never sees the
 * connection (the dialler times out; the server reports nothing): a reader, an attestor's
 * measurement or a follower on the same host sees the node as unreachable.
 *
 * The check here gives the event loop its chance: the wait is `timeoutMs` of time in which the
 * loop was free, so a timer that fires late (the loop was blocked) waits again, up to
 * `maxWaits` times, and every wait ends after one more I/O poll (setImmediate), so a byte that
 * arrived is seen before the answer is no. A failed check is not cached (the next handshake
 * checks again); a passed one is, as hyperdht caches it; an address this node cannot bind is
 * not its own and stays refused.
 */
import type { HostPort } from './config.js'

/** The part of a udx-native socket the check uses. */
interface ProbeSocket {
  bind: (port: number, host: string) => void
  address: () => { port: number }
  on: (event: 'message', listener: () => void) => void
  trySend: (buffer: Buffer, port: number, host: string) => void
  close: () => Promise<void>
}

/** The part of a hyperdht node the check replaces and uses. */
interface LocalAddressCheck {
  udx: { createSocket: () => ProbeSocket }
  validateLocalAddresses: (addresses: HostPort[]) => Promise<HostPort[]>
  _validatedLocalAddresses: Map<string, Promise<boolean>>
}

export interface LocalAddressCheckOptions {
  /** Time the byte gets to come back while the event loop is free (hyperdht's own: 500 ms). */
  timeoutMs?: number
  /** Waits in all before the answer is no, however busy the process (default 4). */
  maxWaits?: number
}

/**
 * Replaces `dht`'s (a hyperdht node's) check of its local addresses with one a busy process does
 * not fail (see above). Leaves anything that is not a hyperdht node as it is.
 */
export function checkLocalAddressesPatiently (dht: unknown, opts: LocalAddressCheckOptions = {}): void {
  const d = dht as Partial<LocalAddressCheck> | null
  if (d === null || typeof d !== 'object') return
  const cache = d._validatedLocalAddresses
  const udx = d.udx
  if (typeof d.validateLocalAddresses !== 'function' || !(cache instanceof Map) || typeof udx?.createSocket !== 'function') return
  const timeoutMs = opts.timeoutMs ?? 500
  const maxWaits = opts.maxWaits ?? 4
  const checkHost = (host: string): Promise<boolean> => {
    const cached = cache.get(host)
    if (cached !== undefined) return cached
    const answer: Promise<boolean> = probe(udx, host, timeoutMs, maxWaits).then((r) => {
      // a byte that did not come back may be a busy moment: the next handshake checks again
      if (r === 'silent' && cache.get(host) === answer) cache.delete(host)
      return r === 'valid'
    })
    cache.set(host, answer)
    return answer
  }
  d.validateLocalAddresses = async (addresses: HostPort[]): Promise<HostPort[]> => {
    const answers = await Promise.all(addresses.map((a) => checkHost(a.host)))
    return addresses.filter((_a, i) => answers[i])
  }
}

type ProbeResult = 'valid' | 'silent' | 'not-ours'

/** Sends one byte to itself on `host`: valid when it comes back, silent when it does not. */
async function probe (udx: LocalAddressCheck['udx'], host: string, timeoutMs: number, maxWaits: number): Promise<ProbeResult> {
  const sock = udx.createSocket()
  try {
    sock.bind(0, host)
  } catch {
    await sock.close()
    return 'not-ours'
  }
  try {
    return await new Promise<ProbeResult>((resolve) => {
      sock.on('message', () => resolve('valid'))
      waitWhileResponsive(timeoutMs, maxWaits, () => resolve('silent'))
      sock.trySend(Buffer.alloc(1), sock.address().port, host)
    })
  } finally {
    await sock.close()
  }
}

/**
 * Calls `done` after `ms` in which the event loop was free: a timer that fired more than half
 * of `ms` late means the loop was blocked, so it waits again (at most `maxWaits` waits); the
 * last step is a setImmediate, which runs after the I/O poll that follows the timer.
 */
function waitWhileResponsive (ms: number, maxWaits: number, done: () => void): void {
  let waits = 0
  const wait = (): void => {
    waits++
    const armedAt = performance.now()
    setTimeout(() => {
      const late = performance.now() - armedAt - ms
      if (late > ms / 2 && waits < maxWaits) wait()
      else setImmediate(done)
    }, ms)
  }
  wait()
}
