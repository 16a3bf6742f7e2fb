/**
 * A blind peer for tests: a bare Corestore on the loopback testnet that replicates whatever cores
 * it is told the keys of, without any read key (what a seeder does for an encrypted space).
 */
import Hyperswarm from 'hyperswarm'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type { Testnet } from '@hyperswarm/testnet'

/** A swarm whose every connection replicates `store`. */
export function swarmFor (testnet: Testnet, store: Corestore): Hyperswarm {
  const swarm = new Hyperswarm({ dht: testnet.createNode() })
  swarm.on('connection', (conn: Parameters<Corestore['replicate']>[0]) => { store.replicate(conn) })
  return swarm
}

/** Downloads every block of `core` up to `length` (the length its author signed). */
export async function fetchAll (core: Hypercore, length: number): Promise<void> {
  await core.ready()
  if (core.length < length) {
    await new Promise<void>((resolve) => {
      const onAppend = (): void => { if (core.length >= length) { core.off('append', onAppend); resolve() } }
      core.on('append', onAppend)
      onAppend()
    })
  }
  await core.download({ start: 0, end: length }).done()
}
