/**
 * The hyperdht 6.34 race that opens a dead connection on one host or LAN, forced with two faults
 * injected into real parts (private hyperdht internals): the server aborts the first holepunch
 * it is asked for (as when its NAT analysis is not stable), and the dialler's local-shortcut
 * ping to that server answers only after the abort, so the dialler connects its stream to a
 * server that has just destroyed it: the dialler's connection opens and reads nothing, the
 * server never sees it. Used by measure-dead-connection and follow-dead-connection.
 */
import type Hyperswarm from 'hyperswarm'

/** The parts of a hyperdht server the fault uses. */
interface DhtServer {
  target: Buffer
  _holepunches: unknown[]
  _abort: (h: unknown) => unknown
}
/** A listening server's entry in its DHT node's router: where holepunch requests go. */
interface RouterEntry { onpeerholepunch: (msg: { id: number }, req: unknown) => Promise<unknown> }

export interface AbortedHolepunch {
  /** Resolves when the server has aborted its first holepunch. */
  aborted: Promise<void>
  /** Holepunches the server was asked for. */
  punches: () => number
  /** The server's UDP port (where a local-shortcut ping goes). */
  port: number
}

/** Fault 1: the listening `swarm` aborts the first holepunch it is asked for. */
export function abortFirstHolepunch (swarm: Hyperswarm): AbortedHolepunch {
  const server = (swarm as unknown as { server: DhtServer }).server
  const dht = swarm.dht as { _router: { get: (target: Buffer) => RouterEntry }, io: { serverSocket: { address: () => { port: number } } } }
  const entry = dht._router.get(server.target)
  const original = entry.onpeerholepunch
  let abortedFirst!: () => void
  const aborted = new Promise<void>((resolve) => { abortedFirst = resolve })
  let punches = 0
  entry.onpeerholepunch = async (msg, req) => {
    const h = server._holepunches[msg.id]
    if (punches++ > 0 || h === undefined || h === null) return await original(msg, req)
    const reply = server._abort(h)
    abortedFirst()
    return reply
  }
  return { aborted, punches: () => punches, port: dht.io.serverSocket.address().port }
}

/** Fault 2: the DHT node `dht`'s first ping to `fault.port` (its local shortcut) answers only after the abort. */
export function delayFirstShortcut (dht: unknown, fault: AbortedHolepunch): void {
  const d = dht as { ping: (addr: { port: number }, ...rest: unknown[]) => Promise<unknown> }
  const ping = d.ping.bind(d)
  let delayed = false
  d.ping = async (addr, ...rest) => {
    const r = await ping(addr, ...rest)
    if (addr.port === fault.port && !delayed) {
      delayed = true
      await fault.aborted
    }
    return r
  }
}
