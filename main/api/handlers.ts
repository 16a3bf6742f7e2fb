/**
 * The engine's implementation of the API contract, composed from one handler table per area:
 * the node (handlers-app.ts), the recovery phrase (handlers-recovery.ts), reads of any drive (handlers-drives.ts), the vault
 * (handlers-vault.ts), its spaces (handlers-spaces.ts), follows (handlers-follows.ts), apps (handlers-apps.ts), and, on a DatdotNode with a chain, the
 * chain and ledger (handlers-chain.ts) and the hosting network (handlers-hosting.ts), started on demand (handlers-on-demand.ts), the local seeders (handlers-local-seeders.ts), and the several-nodes dashboard (handlers-nodes.ts).
 * Handlers receive arguments already validated and defaulted by dispatch(); they validate what
 * the schema cannot (paths, keys) through the engine, which throws coded DatdotErrors.
 */
import type { Handlers } from '../shared/contract.js'
import type { Engine } from '../engine/engine.js'
import type { DatdotNode } from '../hosting/node.js'
import { createChainHandlers } from './handlers-chain.js'
import { createHostingHandlers } from './handlers-hosting.js'
import { createOnDemandHandlers } from './handlers-on-demand.js'
import { createAppHandlers } from './handlers-app.js'
import { createRecoveryHandlers } from './handlers-recovery.js'
import { createDriveHandlers } from './handlers-drives.js'
import { createVaultHandlers } from './handlers-vault.js'
import { createSpaceHandlers } from './handlers-spaces.js'
import { createFollowHandlers } from './handlers-follows.js'
import { createAppsHandlers } from './handlers-apps.js'
import { createNodeHandlers } from './handlers-nodes.js'
import { createLocalSeederHandlers } from './handlers-local-seeders.js'
import { dispatch } from './dispatch.js'


export type EngineHandlers = Omit<Handlers, 'pickAndImport' | 'importDropped' | 'exportWithDialog' | 'openFile' | 'copyText' | 'getChainStatus' | 'getWallet' | 'requestDevTokens' | 'ledgerEntries' | 'ledgerTransactions' | 'earnings' | HostingMethod>
  & Partial<Pick<Handlers, 'getChainStatus' | 'getWallet' | 'requestDevTokens' | 'ledgerEntries' | 'ledgerTransactions' | 'earnings' | HostingMethod>>
/** Implemented by main/api/handlers-hosting.ts when the chain is on. */
type HostingMethod = 'getHosting' | 'setSeeding' | 'sponsor' | 'quoteSponsor' | 'listPlans' | 'unpublish' | 'topUpPlan' | 'listHostingJobs' | 'listProofs' | 'getSchedule' | 'setSchedule' | 'getHostingDashboard'

/** The handlers of an engine; a DatdotNode with a chain adds the chain and hosting methods. */
export function createHandlers (engine: Engine | DatdotNode): EngineHandlers {
  const chain = 'chain' in engine ? engine.chain : null
  const hosting = 'hosting' in engine ? engine.hosting : null
  // A node with a chain configured has its chain methods before the chain starts (on demand).
  const lazy = 'lazyChain' in engine ? engine.lazyChain : null
  const handlers: EngineHandlers = {
    ...(chain && !lazy ? createChainHandlers({ chain, ledger: chain.ledger }) : {}),
    ...(hosting && !lazy ? createHostingHandlers(hosting) : {}),
    ...(lazy ? createOnDemandHandlers(engine as DatdotNode, lazy) : {}),
    ...createAppHandlers(engine),
    ...createRecoveryHandlers(engine),
    ...createDriveHandlers(engine),
    ...createVaultHandlers(engine),
    ...createSpaceHandlers(engine),
    ...createFollowHandlers(engine),
    ...createAppsHandlers(engine, async () => lazy !== null ? (await lazy.start()).chain : chain),
    ...createLocalSeederHandlers(engine),
    // The dashboard asks this node through the same handlers, as a local program would.
    ...createNodeHandlers(engine.db, async (method, args) => await dispatch(handlers, method, args, 'cli') as never, { storage: engine.storage })
  }
  return handlers
}
