/**
 * API handlers of the chain and the ledger. Arguments arrive validated and defaulted.
 */
import type { Handlers } from '../shared/contract.js'
import type { ChainService } from '../chain/service.js'
import type { Ledger } from '../ledger/ledger.js'
import { DatdotError } from '../shared/errors.js'
import { ledgerTransactions } from '../ledger/ledger-views.js'

type ChainHandlers = Pick<Handlers, 'getChainStatus' | 'getWallet' | 'requestDevTokens' | 'ledgerEntries' | 'ledgerTransactions' | 'earnings'>

/** Longest earnings range one call may ask for (about 10 years): a limit on the rows it sums. */
const EARNINGS_RANGE_MS = 10 * 366 * 86_400_000

export function createChainHandlers (deps: { chain: ChainService, ledger: Ledger }): ChainHandlers {
  const { chain, ledger } = deps
  return {
    getChainStatus: async () => chain.status(),
    getWallet: async () => await chain.wallet(),
    requestDevTokens: async ({ amount }) => {
      const planck = BigInt(amount)
      if (planck <= 0n) throw DatdotError.invalidArgument('the amount must be positive')
      await chain.faucet(planck)
      return await chain.wallet()
    },
    ledgerEntries: async (args) => ledger.entries({ limit: args.limit, beforeId: args.beforeId, fromMs: args.fromMs, toMs: args.toMs }),
    ledgerTransactions: async (args) => {
      if (args.seeder !== undefined) throw DatdotError.notFound(`a local seeder named ${args.seeder} on this node`)
      const page = ledgerTransactions(ledger.db, { account: chain.address, limit: args.limit, beforeId: args.beforeId })
      return {
        nextBeforeId: page.nextBeforeId,
        txs: page.txs.map(({ netPlanck, legs, ...t }) => ({ ...t, net: netPlanck.toString(), legs: legs.map(({ amountPlanck, ...l }) => ({ ...l, amount: amountPlanck.toString() })) }))
      }
    },
    earnings: async (args) => {
      if (args.toMs < args.fromMs) throw DatdotError.invalidArgument('toMs is before fromMs')
      if (args.toMs - args.fromMs > EARNINGS_RANGE_MS) throw DatdotError.invalidArgument('earnings range longer than 10 years')
      return ledger.earnings({ fromMs: args.fromMs, toMs: args.toMs, account: chain.address })
    }
  }
}
