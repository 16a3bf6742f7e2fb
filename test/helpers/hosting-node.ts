/**
 * One hosting node for the hosting integration tests: an engine on the loopback testnet, a chain
 * service on the shared embedded chain (not the operator), and a hosting service with the test's
 * limits and behaviour, wired as main/hosting/node.ts wires them in the app.
 */
import { join } from 'node:path'
import Hyperswarm from 'hyperswarm'
import type { Testnet } from '@hyperswarm/testnet'
import { startEngine } from './engines.js'
import type { Engine } from '../../main/engine/engine.js'
import type { LocalChain } from '../../main/chain/local-chain.js'
import { ChainService } from '../../main/chain/service.js'
import { HostingService, type HostingServiceOptions } from '../../main/hosting/service.js'
import { hostingDepsOf } from '../../main/hosting/node.js'

export interface HostingNode { storage: string, engine: Engine, chain: ChainService, hosting: HostingService }

export async function startHostingNode (o: { testnet: Testnet, chain: LocalChain, storage: string, limits: HostingServiceOptions['limits'], behaviour?: HostingServiceOptions['behaviour'] }): Promise<HostingNode> {
  const engine = await startEngine(o.testnet, o.storage)
  const chain = new ChainService({ storage: o.storage, endpoint: 'embedded', db: engine.db, localChain: o.chain, operator: false })
  await chain.ready()
  const hosting = new HostingService({
    ...hostingDepsOf(engine),
    chain,
    storageDir: join(o.storage, 'hosting'),
    limits: o.limits,
    createMeasureSwarm: (keyPair) => new Hyperswarm({ keyPair, dht: o.testnet.createNode() }),
    ...(o.behaviour === undefined ? {} : { behaviour: o.behaviour })
  })
  await hosting.ready()
  return { storage: o.storage, engine, chain, hosting }
}
