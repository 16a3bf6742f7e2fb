/**
 * The chain and hosting methods of a node whose chain starts on demand (main/hosting/lazy-chain.ts):
 * they exist from the node's start, and the first call that needs the chain starts it (concurrent
 * callers share the start; a failed start fails the call with its coded error and the next call
 * tries again). getChainStatus never starts it: until then it answers the state ('idle', ...);
 * nor does listPlans on a node whose chain never ran (it has no plans: the Plans page must not
 * start a 200 MB chain for a user who only looked).
 * A published plan is recorded so the node starts its chain at open next time.
 */
import type { Handlers } from '../shared/contract.js'
import type { DatdotNode } from '../hosting/node.js'
import type { LazyChain } from '../hosting/lazy-chain.js'
import { chainEverRan, setSponsoring } from '../hosting/lazy-chain.js'
import { DatdotError } from '../shared/errors.js'
import { createChainHandlers } from './handlers-chain.js'
import { createHostingHandlers, type HostingHandlers } from './handlers-hosting.js'
import { createDashboardHandler } from './handlers-dashboard.js'
import { localSeedersOf } from '../hosting/local-seeders.js'

type ChainMethod = 'getChainStatus' | 'getWallet' | 'requestDevTokens' | 'ledgerEntries' | 'ledgerTransactions' | 'earnings'
type OnDemandHandlers = Pick<Handlers, ChainMethod> & Partial<HostingHandlers>

const HOSTING_METHODS = ['getHosting', 'setSeeding', 'sponsor', 'quoteSponsor', 'listPlans', 'unpublish', 'topUpPlan', 'listHostingJobs', 'listProofs', 'getSchedule', 'setSchedule', 'getHostingDashboard'] as const

export function createOnDemandHandlers (node: DatdotNode, lazy: LazyChain): OnDemandHandlers {
  /** The real handlers, made once the chain runs. */
  let started: (Pick<Handlers, ChainMethod> & Partial<HostingHandlers>) | null = null
  const real = async (): Promise<NonNullable<typeof started>> => {
    const { chain, hosting } = await lazy.start()
    started ??= { ...createChainHandlers({ chain, ledger: chain.ledger }), ...(hosting !== null ? createHostingHandlers(hosting) : {}) }
    return started
  }
  const out: OnDemandHandlers = {
    getChainStatus: async () => lazy.status(),
    getWallet: async (args) => await (await real()).getWallet(args),
    requestDevTokens: async (args) => await (await real()).requestDevTokens(args),
    ledgerEntries: async (args) => await (await real()).ledgerEntries(args),
    ledgerTransactions: async (args) => await (await real()).ledgerTransactions(args),
    earnings: async (args) => await (await real()).earnings(args)
  }
  if (node.options.offline === true) return out
  const hosting = out as Required<OnDemandHandlers>
  for (const name of HOSTING_METHODS) {
    hosting[name] = (async (args: never) => {
      const h = (await real())[name]
      if (h === undefined) throw DatdotError.internal(`${name}: the chain started without its hosting service`)
      return await (h as (a: never) => Promise<unknown>)(args)
    }) as never
  }
  forLocalSeeders(node, hosting)
  const listPlans = hosting.listPlans
  hosting.listPlans = async (args) => lazy.state === 'idle' && !chainEverRan(node.db) ? [] : await listPlans(args)
  const sponsor = hosting.sponsor
  hosting.sponsor = async (args) => {
    const r = await sponsor(args)
    setSponsoring(node.db, true)
    return r
  }
  return out
}

/**
 * The dashboard and the ledger of a local seeder (their `seeder` argument): the seeders run in
 * this process, each with its own wallet and ledger in its folder, which only this node can read.
 */
function forLocalSeeders (node: DatdotNode, h: Required<OnDemandHandlers>): void {
  const seeders = localSeedersOf(node)
  const own = { dashboard: h.getHostingDashboard, txs: h.ledgerTransactions }
  h.getHostingDashboard = async (args) => {
    if (args.seeder === undefined) return await own.dashboard(args)
    return await createDashboardHandler(seeders.seederParts(args.seeder).hosting)({ fromMs: args.fromMs, toMs: args.toMs })
  }
  h.ledgerTransactions = async (args) => {
    if (args.seeder === undefined) return await own.txs(args)
    const { chain } = seeders.seederParts(args.seeder)
    return await createChainHandlers({ chain, ledger: chain.ledger }).ledgerTransactions({ limit: args.limit, beforeId: args.beforeId })
  }
}
