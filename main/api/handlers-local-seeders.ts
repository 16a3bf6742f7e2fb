/**
 * The local seeders methods (contract-local-seeders.ts): seeders this node runs on its own
 * embedded local dev chain (main/hosting/local-seeders.ts). Any other node (chain off, a ws://
 * chain, offline, a bare engine) answers getLocalSeeders with why not and refuses the rest with
 * FORBIDDEN. Making these handlers starts again the seeders a node still wants after a restart.
 */
import type { Handlers, LocalSeedersState } from '../shared/contract.js'
import type { Engine } from '../engine/engine.js'
import type { DatdotNode } from '../hosting/node.js'
import { DatdotError } from '../shared/errors.js'
import { localSeedersOf } from '../hosting/local-seeders.js'

export type LocalSeederHandlers = Pick<Handlers, 'getLocalSeeders' | 'startLocalSeeders' | 'stopLocalSeeders'>

const NO_CHAIN = 'this node has no hosting chain'
const NONE: LocalSeedersState = { unavailable: NO_CHAIN, state: 'off', seeders: [], providers: null, providersNeeded: 3, resumes: false, error: null }

export function createLocalSeederHandlers (engine: Engine | DatdotNode): LocalSeederHandlers {
  if (!('lazyChain' in engine)) {
    const refuse = async (): Promise<never> => { throw DatdotError.forbidden(`Local seeders run only on this node's own local dev chain: ${NO_CHAIN}`) }
    return { getLocalSeeders: async () => NONE, startLocalSeeders: refuse, stopLocalSeeders: refuse }
  }
  const seeders = localSeedersOf(engine)
  seeders.resume()
  return {
    getLocalSeeders: async () => seeders.status(),
    startLocalSeeders: async ({ count }) => await seeders.start(count),
    stopLocalSeeders: async () => {
      const why = seeders.unavailable()
      if (why !== null) throw DatdotError.forbidden(`Local seeders run only on this node's own local dev chain: ${why}`)
      return await seeders.stop()
    }
  }
}
