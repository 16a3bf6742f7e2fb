/**
 * One-time download tickets: the browser UI cannot add an Authorization header to a plain
 * link, so it asks (authenticated) for a ticket and navigates to /api/download/<ticket>.
 * A ticket is random, names one file (drive, path, version) and expires after `ttlMs`; at most
 * `max` are live. A plain download uses it up. A ranged one (a media player asks for many ranges
 * of one file while it plays, pauses and seeks) keeps it, renewing its expiry by `rangedIdleMs`
 * each time but never past `maxLifeMs` after its creation.
 *
 * Fairness: every ticket has an owner (the API server names one per WebSocket connection and
 * per kind of HTTP caller). Creating a ticket never fails for lack of room, and one owner
 * cannot starve another: an owner holding `maxPerOwner` tickets loses its own oldest one, and
 * when the whole pool is full the owner holding the most tickets loses its oldest one. A
 * flooding client therefore only ever evicts its own unused tickets.
 */
import { randomBytes } from 'node:crypto'

export interface Ticket { drive: string | undefined, path: string, version: number | undefined, expiresMs: number }

/** The owner of tickets created without one (e.g. by an in-process caller). */
export const LOCAL_OWNER = 'local'

interface Held extends Ticket { owner: string, createdMs: number }

function publicPart (t: Held): Ticket {
  const { owner: _owner, createdMs: _created, ...ticket } = t
  return ticket
}

export class DownloadTickets {
  /** Insertion order is creation order, so the first ticket of an owner is its oldest. */
  private readonly tickets = new Map<string, Held>()
  private readonly perOwner = new Map<string, number>()
  /** Tickets dropped to make room (a flooding owner's unused ones). */
  evicted = 0

  constructor (
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 60_000,
    private readonly max = 256,
    private readonly maxPerOwner = 64,
    private readonly maxLifeMs = 6 * 3600_000,
    private readonly rangedIdleMs = 10 * 60_000
  ) {}

  get size (): number {
    return this.tickets.size
  }

  create (t: Omit<Ticket, 'expiresMs'>, owner: string = LOCAL_OWNER): string {
    this.prune()
    if ((this.perOwner.get(owner) ?? 0) >= this.maxPerOwner) this.evictOldestOf(owner)
    if (this.tickets.size >= this.max) this.evictOldestOf(this.largestOwner())
    const id = randomBytes(24).toString('hex')
    const now = this.now()
    this.tickets.set(id, { ...t, expiresMs: now + this.ttlMs, owner, createdMs: now })
    this.perOwner.set(owner, (this.perOwner.get(owner) ?? 0) + 1)
    return id
  }

  /** Returns and removes the ticket; null if unknown or expired. */
  take (id: string): Ticket | null {
    const t = this.tickets.get(id)
    if (!t) return null
    this.remove(id, t)
    if (t.expiresMs < this.now()) return null
    return publicPart(t)
  }

  /**
   * The ticket for one request: a plain one takes it (single use); a ranged one (`ranged`, it
   * carries a Range header) leaves it for the next range and renews its expiry. Null if unknown
   * or expired.
   */
  use (id: string, ranged: boolean): Ticket | null {
    if (!ranged) return this.take(id)
    const t = this.tickets.get(id)
    if (!t) return null
    const now = this.now()
    if (t.expiresMs < now) { this.remove(id, t); return null }
    t.expiresMs = Math.max(t.expiresMs, Math.min(now + this.rangedIdleMs, t.createdMs + this.maxLifeMs))
    return publicPart(t)
  }

  private remove (id: string, t: Held): void {
    this.tickets.delete(id)
    const n = (this.perOwner.get(t.owner) ?? 1) - 1
    if (n <= 0) this.perOwner.delete(t.owner)
    else this.perOwner.set(t.owner, n)
  }

  private evictOldestOf (owner: string): void {
    for (const [id, t] of this.tickets) {
      if (t.owner !== owner) continue
      this.remove(id, t)
      this.evicted++
      return
    }
  }

  private largestOwner (): string {
    let best = LOCAL_OWNER
    let most = -1
    for (const [owner, n] of this.perOwner) if (n > most) { best = owner; most = n }
    return best
  }

  private prune (): void {
    const now = this.now()
    for (const [id, t] of this.tickets) if (t.expiresMs < now) this.remove(id, t)
  }
}
