/**
 * The several-nodes dashboard (the Nodes page): this node and the daemons the user added, as the
 * engine reads them (listNodes asks every node itself; the page never talks to another origin).
 * Another daemon sends no events here, so while the page is open the list is read again every
 * `refreshMs` and on demand; one read at a time.
 */
import type { Args, NodesOverview } from '../../../main/shared/contract.js'
import type { Client } from './client-types.js'
import { toApiError, type ApiError } from './errors.js'

export const NODES_REFRESH_MS = 30_000

export class NodesStore {
  overview = $state<NodesOverview | null>(null)
  error = $state<ApiError | null>(null)
  loading = $state(false)
  #loading: Promise<void> | null = null
  #client: Client

  constructor (client: Client) {
    this.#client = client
  }

  /** Reads the list now and every refreshMs until the returned function is called. */
  watch (refreshMs = NODES_REFRESH_MS): () => void {
    void this.load()
    const timer = setInterval(() => { void this.load() }, refreshMs)
    return () => clearInterval(timer)
  }

  async load (): Promise<void> {
    if (this.#loading !== null) return await this.#loading
    this.loading = true
    this.#loading = (async () => {
      try {
        this.overview = await this.#client.call('listNodes', {})
        this.error = null
      } catch (err) {
        this.error = toApiError(err)
      } finally {
        this.loading = false
        this.#loading = null
      }
    })()
    return await this.#loading
  }

  /** Adds a node (the engine asks it first; its refusal is thrown to the form). */
  async add (args: Args<'addNode'>): Promise<void> {
    await this.#client.call('addNode', args)
    await this.load()
  }

  async remove (id: number): Promise<void> {
    await this.#client.call('removeNode', { id })
    await this.load()
  }
}
