/**
 * recheckFailedLocalAddresses: a failed check of a local address is forgotten (checked again on
 * the next call), a passed one stays cached, as hyperdht's validateLocalAddresses caches it. The
 * fake is the narrow part of a hyperdht node the wrapper touches: the method and its cache.
 */
import { describe, it, expect } from 'vitest'
import { recheckFailedLocalAddresses } from '../../main/engine/local-addresses.js'

interface Addr { host: string, port: number }

/** hyperdht's caching shape: one cached promise per host; `answers` says what each new check finds. */
function fakeDht (answers: boolean[]): { validateLocalAddresses: (a: Addr[]) => Promise<Addr[]>, _validatedLocalAddresses: Map<string, Promise<boolean>>, checks: number } {
  const dht = {
    checks: 0,
    _validatedLocalAddresses: new Map<string, Promise<boolean>>(),
    async validateLocalAddresses (addresses: Addr[]): Promise<Addr[]> {
      const list: Addr[] = []
      for (const a of addresses) {
        let p = this._validatedLocalAddresses.get(a.host)
        if (p === undefined) {
          p = Promise.resolve(answers[this.checks++] ?? true)
          this._validatedLocalAddresses.set(a.host, p)
        }
        if (await p) list.push(a)
      }
      return list
    }
  }
  return dht
}

describe('rechecking a failed local address check', () => {
  it('a failed check is made again on the next call and a passed one is kept', async () => {
    const dht = fakeDht([false, true])
    recheckFailedLocalAddresses(dht)
    const addr = { host: '127.0.0.1', port: 4000 }
    expect(await dht.validateLocalAddresses([addr])).toEqual([])
    expect(dht._validatedLocalAddresses.has('127.0.0.1')).toBe(false)
    expect(await dht.validateLocalAddresses([addr])).toEqual([addr])
    expect(await dht.validateLocalAddresses([addr])).toEqual([addr])
    expect(dht.checks).toBe(2)
  })

  it('leaves a node without the method or its cache as it is', () => {
    const other = { validateLocalAddresses: 1 }
    recheckFailedLocalAddresses(other)
    recheckFailedLocalAddresses(null)
    expect(other.validateLocalAddresses).toBe(1)
  })
})
