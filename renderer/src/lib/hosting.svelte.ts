/**
 * Hosting network (chain status, wallet, ledger, earnings, jobs, alerts). Shown simply: each part loads on
 * its own and a missing chain ("--chain off") is a normal state, not an error toast.
 * The embedded chain starts on demand (chain state 'idle' until then): refreshing never starts
 * it; `start()` does, by loading the parts that need the chain.
 */
import type { ChainStatus, EarningsRow, HostingAlert, HostingJob, HostingOverview, HostingProof, HostingStatus, LedgerEntry, LedgerTx, Wallet } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { toApiError, handleError, type ApiError } from './errors.js'

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
  /** The "rent my disk" panel: seeding mode, limits, attestations (null: hosting not available). */
  hosting = $state<Section<HostingOverview>>({ value: null, error: null })
  saving = $state(false)
  /** The last operation failed for want of tokens (INSUFFICIENT_FUNDS): its message, shown with the way out until the wallet has funds. */
  noFunds = $state<string | null>(null)
  loading = $state(false)
  loaded = $state(false)
  /** The chain is being started from this page (start()). */
  starting = $state(false)
  /** The ledger as transactions of this node (account, counterparty, plan, net; legs in the detail view). */
  txs = $state<Section<LedgerTx[]>>({ value: null, error: null })
  /** The id to page the ledger on from, null when everything is loaded. */
  txsNext = $state<number | null>(null)
  /** Encoding, attesting, hosting and challenge jobs of this node (failed ones with their reason). */
  jobs = $state<Section<HostingJob[]>>({ value: null, error: null })
  /** Browser notifications of new alerts: 'default' until asked, 'unsupported' without the API (Electron's shell notifies instead). */
  notifications = $state<NotificationPermission | 'unsupported'>('unsupported')
  /** Alert ids already notified (bookkeeping, never rendered). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- see above
  #notified = new Set<string>()
  #txsReload: Promise<void> | null = null

  #client: Client

  constructor (client: Client) {
    this.#client = client
    client.on('hosting.status', (status) => { this.onHostingStatus(status) })
    client.on('hosting.proof', (proof) => { this.onProof(proof) })
    client.on('hosting.alert', (alert) => { this.onAlert(alert) })
    if (client.kind !== 'electron' && typeof Notification !== 'undefined') this.notifications = Notification.permission
  }

  /** A new alert: listed at once, notified (browser) once per id. */
  onAlert (alert: HostingAlert): void {
    const cur = this.hosting.value
    if (cur !== null && !cur.alerts.some((a) => a.id === alert.id)) this.hosting = { value: { ...cur, alerts: [alert, ...cur.alerts] }, error: null }
    this.#notify([alert])
  }

  /** Asks the browser for permission to notify (from a click). */
  async enableNotifications (): Promise<void> {
    if (this.notifications === 'unsupported') return
    this.notifications = await Notification.requestPermission()
    this.#notify(this.hosting.value?.alerts ?? [])
  }

  #notify (alerts: HostingAlert[]): void {
    for (const a of alerts) {
      if (this.#notified.has(a.id)) continue
      this.#notified.add(a.id)
      if (this.notifications === 'granted') new Notification(a.title, { body: a.text, tag: a.id })
    }
  }

  /** The next page of ledger transactions. */
  async loadMoreTxs (): Promise<void> {
    if (this.txsNext === null) return
    try {
      const page = await this.#client.call('ledgerTransactions', { limit: 50, beforeId: this.txsNext })
      this.txs = { value: [...(this.txs.value ?? []), ...page.txs], error: null }
      this.txsNext = page.nextBeforeId
    } catch (err) {
      handleError(err, 'Could not load the ledger')
    }
  }

  /** Reloads the first page of transactions (after new ledger rows); one reload at a time. */
  reloadTxs (): void {
    if (this.#txsReload !== null) return
    this.#txsReload = this.#client.call('ledgerTransactions', { limit: 50 })
      .then((page) => { this.txs = { value: page.txs, error: null }; this.txsNext = page.nextBeforeId })
      .catch((err) => { this.txs = { value: this.txs.value, error: toApiError(err) } })
      .finally(() => { this.#txsReload = null })
  }

  /** Turns seeding mode on or off with the given limits; errors go to a toast and are returned. */
  async setSeeding (opts: { on: boolean, storageBytes: number, bandwidthBps: number, region: string }): Promise<ApiError | null> {
    this.saving = true
    try {
      return await this.#costsFee(async () => {
        const status = await this.#client.call('setSeeding', opts)
        this.onHostingStatus(status)
        return null
      })
    } catch (err) {
      const e = handleError(err, opts.on ? 'Could not start seeding' : 'Could not stop seeding')
      if (e.code === 'INSUFFICIENT_FUNDS') this.noFunds = e.message
      return e
    } finally {
      this.saving = false
    }
  }

  /**
   * Runs an operation that changes this node's balance (a transaction fee, a deposit, escrow, a
   * refund, dev tokens) and reloads the wallet as soon as it settles, whether it succeeded or
   * failed (a failed transaction may still have paid its fee). No event carries the balance,
   * so without this the wallet card would wait for the next Refresh. Every such operation of
   * this store goes through here.
   */
  async #costsFee<T> (op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } finally {
      await this.refreshWallet()
    }
  }

  /** Reloads the wallet card alone (never throws: a failure shows on the card). */
  async refreshWallet (): Promise<void> {
    try {
      this.wallet = { value: await this.#client.call('getWallet', {}), error: null }
      if (this.wallet.value !== null && BigInt(this.wallet.value.free) > 0n) this.noFunds = null
    } catch (err) {
      this.wallet = { value: null, error: toApiError(err) }
    }
  }

  onHostingStatus (status: HostingStatus): void {
    const cur = this.hosting.value
    if (cur === null) return
    this.hosting = { value: { ...cur, status }, error: null }
  }

  onProof (proof: HostingProof): void {
    const cur = this.hosting.value
    if (cur === null || cur.lastProofs.some((p) => p.id === proof.id)) return
    this.hosting = { value: { ...cur, lastProofs: [proof, ...cur.lastProofs].slice(0, 20) }, error: null }
  }

  /** True when this node's wallet holds nothing (free balance 0): fees cannot be paid. */
  get walletEmpty (): boolean {
    return this.wallet.value !== null && BigInt(this.wallet.value.free) === 0n
  }

  /** A local dev chain (embedded, `datdot chain`, a devnet): the faucet gives dev tokens. */
  get devTokens (): boolean {
    return this.chain.value?.devTokens === true
  }

  /** Local dev chains only: dev tokens from the faucet (10 whole tokens), then the wallet again. */
  async requestDevTokens (): Promise<void> {
    const decimals = this.wallet.value?.tokenDecimals ?? this.chain.value?.tokenDecimals ?? 0
    await this.#costsFee(async () => {
      await this.#client.call('requestDevTokens', { amount: (10n * 10n ** BigInt(decimals)).toString() })
    })
  }

  /** Reloads the chain's status alone (whether it is a local dev chain, for a dialog away from this page); never starts it. */
  async loadChain (): Promise<void> {
    try {
      this.chain = { value: await this.#client.call('getChainStatus', {}), error: null }
    } catch (err) {
      this.chain = { value: this.chain.value, error: toApiError(err) }
    }
  }

  /** The chain waits to be started (on demand) or its last start failed: the page offers to start it. */
  get waiting (): boolean {
    const state = this.chain.value?.state
    return state === 'idle' || state === 'failed' || (state === 'starting' && !this.starting)
  }

  /** Starts the chain (its first call that needs it does) and loads everything; a failure shows on the page. */
  async start (): Promise<void> {
    this.starting = true
    try {
      await this.refresh(Date.now(), true)
    } finally {
      this.starting = false
    }
  }

  /** Reloads every part; without `start`, a chain that waits to be started stays so (only its status loads). */
  async refresh (now = Date.now(), start = false): Promise<void> {
    this.loading = true
    const settle = async <T>(p: Promise<T>): Promise<Section<T>> => {
      try {
        return { value: await p, error: null }
      } catch (err) {
        return { value: null, error: toApiError(err) }
      }
    }
    const chain = await settle(this.#client.call('getChainStatus', {}))
    const state = chain.value?.state
    if (!start && (state === 'idle' || state === 'failed' || state === 'starting')) {
      this.chain = chain
      this.loading = false
      this.loaded = true
      return
    }
    const [wallet, ledger, earnings, hosting, txs, jobs] = await Promise.all([
      settle(this.#client.call('getWallet', {})),
      settle(this.#client.call('ledgerEntries', { limit: 50 }).then((r) => r.entries)),
      settle(this.#client.call('earnings', { fromMs: now - 30 * DAY, toMs: now })),
      settle(this.#client.call('getHosting', {})),
      settle(this.#client.call('ledgerTransactions', { limit: 50 })),
      settle(this.#client.call('listHostingJobs', {}))
    ])
    this.txs = { value: txs.value?.txs ?? null, error: txs.error }
    this.txsNext = txs.value?.nextBeforeId ?? null
    this.jobs = jobs
    this.#notify(hosting.value?.alerts ?? [])
    // after a start, the chain's status says how it went (running, or failed with the error below)
    const after = start ? await settle(this.#client.call('getChainStatus', {})) : chain
    this.hosting = hosting
    this.chain = start && after.value?.state === 'failed' ? { value: after.value, error: wallet.error } : after
    this.wallet = wallet
    this.ledger = ledger
    this.earnings = earnings
    this.loading = false
    this.loaded = true
  }

  onChainStatus (status: ChainStatus): void {
    const was = this.chain.value?.state
    this.chain = { value: status, error: status.state === 'failed' ? this.chain.error : null }
    // started elsewhere (the CLI, another window): load what the running chain shows
    if (this.loaded && !this.starting && was !== 'running' && was !== undefined && status.state === 'running') void this.refresh().catch((err) => handleError(err))
  }

  onLedgerEntry (entry: LedgerEntry): void {
    const list = this.ledger.value ?? []
    if (list.some((e) => e.id === entry.id)) return
    this.ledger = { value: [entry, ...list].slice(0, 50), error: null }
    if (this.txs.value !== null) this.reloadTxs()
  }
}
