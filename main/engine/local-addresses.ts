/**
 * Keeps a failed check of this node's own local addresses from lasting as long as its DHT.
 *
 * hyperdht checks each local address (the server's, sent in every handshake reply, and the
 * client's, sent in every connect) once: it sends itself one byte on it and calls the address
 * valid if the byte comes back within 500 ms; the answer, true or false, is cached for the
 * life of the DHT node. Timers run before I/O in Node's event loop, so when the process is
 * busy for more than 500 ms at that moment (an embedded chain starting or building a block in
 * the same process, a loaded machine) the check fails although the address works, and from
 * then on the node never offers or matches a local address. Two nodes on the same host then
 * cannot take hyperdht's local shortcut and fall back to holepunching, which on loopback leaves
 * the dialler "connected" to the server's holepunch socket while the server never sees the
 * connection (the dialler times out; the server reports nothing). A failed check is therefore
 * forgotten, so the next handshake checks the address again; a passed one stays cached.
 */
import type { HostPort } from './config.js'

interface LocalAddressCheck {
  validateLocalAddresses: (addresses: HostPort[]) => Promise<HostPort[]>
  _validatedLocalAddresses: Map<string, Promise<boolean>>
}

/** Makes `dht` (a hyperdht node) check a local address again after a failed check. */
export function recheckFailedLocalAddresses (dht: unknown): void {
  const d = dht as Partial<LocalAddressCheck> | null
  if (d === null || typeof d !== 'object') return
  const original = d.validateLocalAddresses
  const cache = d._validatedLocalAddresses
  if (typeof original !== 'function' || !(cache instanceof Map)) return
  d.validateLocalAddresses = async function (this: unknown, addresses: HostPort[]): Promise<HostPort[]> {
    const valid = await original.call(this, addresses)
    for (const a of addresses) {
      if (!valid.some((v) => v.host === a.host)) cache.delete(a.host)
    }
    return valid
  }
}
