/**
 * The application state: one instance of each store, wired to the client's events, plus the
 * current page and the connection to the engine. Components import `app` and read its fields.
 */
import type { Client, ConnectionState } from './client-types.js'
import { VaultStore } from './vault.svelte.js'
import { FollowsStore } from './follows.svelte.js'
import { JobsStore } from './jobs.svelte.js'
import { HostingStore } from './hosting.svelte.js'
import { BackupStore } from './backup.svelte.js'
import { AppsStore } from './apps.svelte.js'
import { PlansStore } from './plans.svelte.js'
import { NodesStore } from './nodes.svelte.js'
import { ScheduleStore } from './schedule.svelte.js'
import { DashboardStore } from './dashboard.svelte.js'
import { LocalSeedersStore } from './local-seeders.svelte.js'
import { handleError } from './errors.js'
import { toasts } from './toasts.svelte.js'
import { collectEntries, droppedEntries, type PickedFile } from './files.js'
import { importDrop, importFiles, type Destination } from './transfer.js'
import type { Job, NetworkStatus } from '../../../main/shared/contract.js'
import { DatdotError } from '../../../main/shared/errors.js'

export type Page = 'vault' | 'peers' | 'apps' | 'hosting' | 'plans' | 'nodes' | 'backup'
export const PAGES: Array<{ id: Page, label: string }> = [
  { id: 'vault', label: 'Vault' },
  { id: 'peers', label: 'Peers' },
  { id: 'apps', label: 'Apps' },
  { id: 'hosting', label: 'Hosting' },
  { id: 'plans', label: 'Plans' },
  { id: 'nodes', label: 'Nodes' },
  { id: 'backup', label: 'Backup' }
]

export class AppState {
  readonly client: Client
  readonly vault: VaultStore
  readonly follows: FollowsStore
  readonly jobs: JobsStore
  readonly hosting: HostingStore
  readonly backup: BackupStore
  readonly apps: AppsStore
  readonly plans: PlansStore
  readonly nodes: NodesStore
  readonly schedule: ScheduleStore
  /** The seeder dashboard on the Hosting page (charts, per plan, metrics). */
  readonly dashboard: DashboardStore
  /** Seeders started on this machine from the Hosting page (local dev chain). */
  readonly localSeeders: LocalSeedersStore
  page = $state<Page>('vault')
  connection = $state<ConnectionState>('connecting')
  /** True once the engine answered at least once (distinguishes "starting" from "lost"). */
  connectedOnce = $state(false)
  network = $state<NetworkStatus | null>(null)
  /** Files are being collected or sent (before the engine's job takes over). */
  preparing = $state(0)
  readonly hasToken: boolean

  #unsubscribe: Array<() => void> = []

  constructor (client: Client) {
    this.client = client
    this.hasToken = client.kind === 'electron' || client.token !== null
    this.vault = new VaultStore(client)
    this.follows = new FollowsStore(client)
    this.jobs = new JobsStore(client)
    this.hosting = new HostingStore(client)
    this.backup = new BackupStore(client)
    this.apps = new AppsStore(client)
    this.plans = new PlansStore(client)
    this.nodes = new NodesStore(client)
    this.schedule = new ScheduleStore(client)
    this.dashboard = new DashboardStore(client)
    this.localSeeders = new LocalSeedersStore(client)
  }

  start (): void {
    const c = this.client
    this.#unsubscribe.push(
      c.on('vault.changed', (ev) => { void this.vault.onChanged(ev).catch((err) => handleError(err)) }),
      c.on('spaces.changed', () => { void this.vault.onSpacesChanged().catch((err) => handleError(err)) }),
      c.on('follow.status', (info) => { this.follows.upsert(info) }),
      c.on('follow.updated', (ev) => { void this.follows.onUpdated(ev).catch((err) => handleError(err)) }),
      c.on('follow.removed', ({ key }) => { this.follows.remove(key) }),
      c.on('job.progress', (job) => { this.jobs.update(job) }),
      c.on('network.status', (status) => { this.network = status }),
      c.on('chain.status', (status) => { this.hosting.onChainStatus(status) }),
      c.on('ledger.entry', (entry) => { this.hosting.onLedgerEntry(entry); if (this.page === 'hosting') this.dashboard.onEvent({ mine: true }) }),
      c.on('hosting.proof', () => { if (this.page === 'hosting') this.dashboard.onEvent({ mine: true }) }),
      c.on('seeders.status', (status) => { this.localSeeders.onStatus(status); if (this.page === 'hosting') this.dashboard.onEvent({ seeders: status }) }),
      c.on('apps.changed', () => { if (this.page === 'apps') void this.apps.load() }),
      c.onConnection((state) => {
        const wasOpen = this.connection === 'open'
        this.connection = state
        if (state === 'open' && !wasOpen) {
          this.connectedOnce = true
          void this.refreshAll()
        }
      })
    )
  }

  stop (): void {
    for (const u of this.#unsubscribe.splice(0)) u()
  }

  /** Loads everything (at start and after a reconnect, since events were missed meanwhile). */
  async refreshAll (): Promise<void> {
    try {
      const [status] = await Promise.all([
        this.client.call('getStatus', {}),
        this.vault.refresh(),
        this.follows.refresh(),
        this.jobs.refresh(),
        this.page === 'hosting' ? this.hosting.refresh() : Promise.resolve(),
        this.page === 'hosting' ? this.localSeeders.load() : Promise.resolve(),
        this.page === 'apps' ? this.apps.load() : Promise.resolve()
      ])
      this.network = status.network
    } catch (err) {
      handleError(err)
    }
  }

  async go (page: Page): Promise<void> {
    // Leaving the apps page ends the running preview.
    if (page !== 'apps' && this.apps.editor) await this.apps.close().catch((err) => handleError(err))
    this.page = page
    if (page === 'hosting') await Promise.all([this.hosting.refresh(), this.localSeeders.load()])
    if (page === 'apps') await this.apps.load()
  }

  onJob = (job: Job): void => { this.jobs.update(job) }

  /** Where the Vault page adds files: the selected space, its folder shown (the top when read-only). */
  get destination (): Destination {
    const b = this.vault.browser
    return { space: this.vault.spaces.selectedId ?? undefined, dest: b.readOnly ? '/' : b.path }
  }

  /** Imports files into the folder of the space the vault page is showing. */
  async importInto (files: PickedFile[], to: Destination = this.destination): Promise<void> {
    if (files.length === 0) return
    this.preparing++
    try {
      await importFiles(this.client, files, to, this.onJob)
      // The files are committed: show them now if that folder is on screen (the vault.changed
      // event does too, but a page that missed it, e.g. while its socket reconnected, would not).
      await this.vault.reloadIfShown(to.space, to.dest)
    } catch (err) {
      handleError(err, 'Adding files failed')
    } finally {
      this.preparing--
    }
  }

  /** A drop anywhere on the window. Must be called synchronously from the drop handler. */
  drop (dt: DataTransfer): void {
    const to = this.destination
    if (this.client.kind === 'electron') {
      // Preload saw this drop first and handed its paths to main; the page only gets a token.
      const ticket = this.client.preload.takeDrop()
      if (ticket === null) {
        handleError(DatdotError.invalidArgument('only files and folders from this computer can be added'), 'Adding files failed')
        return
      }
      const client = this.client
      this.preparing++
      void importDrop(client, ticket.drop, to, this.onJob)
        .catch((err) => handleError(err, 'Adding files failed'))
        .finally(() => { this.preparing-- })
      return
    }
    const roots = droppedEntries(dt)
    this.preparing++
    void collectEntries(roots)
      .then(async (files) => { await this.importInto(files, to) })
      .catch((err) => handleError(err, 'Reading the dropped files failed'))
      .finally(() => { this.preparing-- })
  }

  async setNetworkPaused (paused: boolean): Promise<void> {
    try {
      this.network = await this.client.call('setNetworkPaused', { paused })
      // Pausing while seeding: attestors cannot reach this node and its checks fail (the engine raises the alert too).
      if (paused && this.hosting.hosting.value?.status.seeding === true) {
        toasts.error('Networking paused while you seed', { body: 'Storage and performance checks of your slots will fail: two failures in a row lose a slot and 50 reputation.', action: { label: 'Resume networking', run: () => { void this.setNetworkPaused(false) } } })
      }
    } catch (err) {
      handleError(err)
    }
  }
}
