/**
 * One-time download tickets: the browser UI cannot add an Authorization header to a plain
 * link, so it asks (authenticated) for a ticket and navigates to /api/download/<ticket>.
 * A ticket is random, single-use, expires after `ttlMs`, and at most `max` are live.
 */
import { randomBytes } from 'node:crypto'
import { DatdotError } from './errors.js'

export interface Ticket { drive: string | undefined, path: string, version: number | undefined, expiresMs: number }

export class DownloadTickets {
  private readonly tickets = new Map<string, Ticket>()

  constructor (private readonly now: () => number = Date.now, private readonly ttlMs = 60_000, private readonly max = 256) {}

  create (t: Omit<Ticket, 'expiresMs'>): string {
    this.prune()
    if (this.tickets.size >= this.max) throw DatdotError.limitReached('pending downloads', this.max)
    const id = randomBytes(24).toString('hex')
    this.tickets.set(id, { ...t, expiresMs: this.now() + this.ttlMs })
    return id
  }

  /** Returns and removes the ticket; null if unknown or expired. */
  take (id: string): Ticket | null {
    const t = this.tickets.get(id)
    if (!t) return null
    this.tickets.delete(id)
    return t.expiresMs >= this.now() ? t : null
  }

  private prune (): void {
    const now = this.now()
    for (const [id, t] of this.tickets) if (t.expiresMs < now) this.tickets.delete(id)
  }
}
