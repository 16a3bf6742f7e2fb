/**
 * The plans this node sponsors (Keep online and the Plans page): the list, reloaded on the
 * chain's own events (a new block in 'chain.status'), never on a timer, and only while someone
 * watches (the Plans page, or a Keep online dialog following its plan); the quote of a new plan;
 * sponsoring and unpublishing. Amounts stay decimal strings in the smallest unit; the token's
 * symbol and decimals come from the wallet (loading it starts the chain on demand).
 */
import type { Args, PlanView, SponsorQuote } from '../../../main/shared/contract.js'
import { parseTokens } from '../../../main/shared/tokens.js'
import type { Client } from './client-types.js'
import { toApiError, type ApiError } from './errors.js'

export interface Token { symbol: string, decimals: number }

export type SponsorArgs = Args<'sponsor'>

export class PlansStore {
  items = $state<PlanView[]>([])
  error = $state<ApiError | null>(null)
  loaded = $state(false)
  token = $state<Token | null>(null)
  /** Free balance (smallest unit), from the last wallet load. */
  free = $state<string | null>(null)
  /** Who watches the list live (the page, a dialog): a new block reloads it while > 0. */
  #watchers = 0
  #loading: Promise<void> | null = null
  #again = false
  #lastBlock: number | null = null
  #client: Client

  constructor (client: Client) {
    this.#client = client
    client.on('chain.status', (s) => {
      if (s.blockNumber === this.#lastBlock) return
      this.#lastBlock = s.blockNumber
      if (this.#watchers > 0) void this.load()
    })
  }

  /** Follows the list live until the returned function is called. */
  watch (): () => void {
    this.#watchers++
    void this.load()
    let done = false
    return () => { if (!done) { done = true; this.#watchers-- } }
  }

  /** Reloads the list: one call at a time, once more after when asked again meanwhile (errors show on the page). */
  async load (): Promise<void> {
    if (this.#loading !== null) { this.#again = true; return await this.#loading }
    this.#loading = (async () => {
      do {
        this.#again = false
        try {
          this.items = await this.#client.call('listPlans', {})
          this.error = null
        } catch (err) {
          this.error = toApiError(err)
        }
      } while (this.#again)
      this.loaded = true
    })()
    try { await this.#loading } finally { this.#loading = null }
  }

  /** The token and the balance (starts the chain when it waits). Throws the API error. */
  async loadWallet (): Promise<Token> {
    const w = await this.#client.call('getWallet', {})
    this.token = { symbol: w.tokenSymbol, decimals: w.tokenDecimals }
    this.free = w.free
    return this.token
  }

  /** A price typed in tokens ("1.5") in the smallest unit; throws a clear INVALID_ARGUMENT. */
  priceOf (text: string): string {
    if (this.token === null) throw new Error('the wallet is not loaded yet')
    return parseTokens(text, this.token.decimals).toString()
  }

  async quote (args: SponsorArgs): Promise<SponsorQuote> { return await this.#client.call('quoteSponsor', args) }

  async sponsor (args: SponsorArgs): Promise<number> {
    const { planId } = await this.#client.call('sponsor', args)
    this.#settled()
    return planId
  }

  /** Tops a plan up: `amount` (smallest unit) more budget and/or `days` more. */
  async topUp (planId: number, days: number, amount: string): Promise<void> {
    await this.#client.call('topUpPlan', { planId, days, amount })
    this.#settled()
  }

  async unpublish (planId: number): Promise<void> {
    await this.#client.call('unpublish', { planId })
    this.#settled()
  }

  /**
   * After paying or a refund: the list and the balance reload in the background (not awaited: while
   * blocks keep coming the list may reload again and again, and the caller's dialog closes now).
   */
  #settled (): void {
    void this.load()
    void this.loadWallet().catch(() => null)
  }

  byId (planId: number | null): PlanView | null {
    return planId === null ? null : this.items.find((p) => p.planId === planId) ?? null
  }
}
