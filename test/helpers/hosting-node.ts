/**
 * One hosting node for the hosting integration tests: an engine on the loopback testnet, a chain
 * service on the shared embedded chain (not the operator), and a hosting service with the test's
 * limits and behaviour, wired as main/hosting/node.ts wires them in the app; and the embedded
 * chain with its operator that they share.
 */
import { join } from 'node:path'
import Hyperswarm from 'hyperswarm'
import type { Testnet } from '@hyperswarm/testnet'
import { startEngine, type TempDirs } from './engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { LocalChain } from '../../main/chain/local-chain.js'
import { openDatabase, type Db } from '../../main/shared/db.js'
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

/** The embedded chain (1 s blocks) with the test's network parameters, and its operator's chain service. */
export async function startHostingChain (tmp: TempDirs, networkParams: NonNullable<Parameters<typeof LocalChain.open>[0]['networkParams']>): Promise<{ chain: LocalChain, operator: ChainService, db: Db }> {
  // blocks come once a second besides the ones transactions build, as on a real chain: the
  // network is never quiet (reports and payouts build blocks), so tests wait for outcomes
  const chain = await LocalChain.open({ dir: await tmp.make('datdot-chain-'), networkParams, blockIntervalMs: 1000 })
  const db = openDatabase(join(await tmp.make('datdot-op-'), 'op.db'))
  const operator = new ChainService({ storage: await tmp.make('datdot-op-'), endpoint: 'embedded', db, localChain: chain, operator: true })
  await operator.ready()
  return { chain, operator, db }
}
