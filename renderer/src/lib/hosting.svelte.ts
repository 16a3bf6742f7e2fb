/**
 * Hosting network (chain status, wallet, ledger, earnings). Shown simply: each part loads on
 * its own and a missing chain ("--chain off") is a normal state, not an error toast.
 */
import type { ChainStatus, EarningsRow, LedgerEntry, Wallet } from '../../../main/api/contract.js'
import type { Client } from './client-types.js'
import { toApiError, type ApiError } from './errors.js'

export interface Section<T> {
  value: T | null
  error: ApiError | null
}

const DAY = 86_400_000

export class HostingStore {
  chain = $state<Section<ChainStatus>>({ value: null, error: null })
  wallet = $state<Section<Wallet>>({ value: null, error: null })
  ledger = $state<Section<LedgerEntry[]>>({ value: null, error: null })
  earnings = $state<Section<EarningsRow[]>>({ value: null, error: null })
  loading = $state(false)
  loaded = $state(false)

  #client: Client

  constructor (client: Client) {
    this.#client = client
  }

  async refresh (now = Date.now()): Promise<void> {
    this.loading = true
    const settle = async <T>(p: Promise<T>): Promise<Section<T>> => {
      try {
        return { value: await p, error: null }
      } catch (err) {
        return { value: null, error: toApiError(err) }
      }
    }
    const [chain, wallet, ledger, earnings] = await Promise.all([
      settle(this.#client.call('getChainStatus', {})),
      settle(this.#client.call('getWallet', {})),
      settle(this.#client.call('ledgerEntries', { limit: 50 }).then((r) => r.entries)),
      settle(this.#client.call('earnings', { fromMs: now - 30 * DAY, toMs: now }))
    ])
    this.chain = chain
    this.wallet = wallet
    this.ledger = ledger
    this.earnings = earnings
    this.loading = false
    this.loaded = true
  }

  onChainStatus (status: ChainStatus): void {
    this.chain = { value: status, error: null }
  }

  onLedgerEntry (entry: LedgerEntry): void {
    const list = this.ledger.value ?? []
    if (list.some((e) => e.id === entry.id)) return
    this.ledger = { value: [entry, ...list].slice(0, 50), error: null }
  }
}
