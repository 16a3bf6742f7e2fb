/**
 * What happened to this node as a provider, in words a seeder reads: a slot it lost and why
 * (a failed challenge, a failed setup, the reputation floor, the plan ended), a slot put in
 * containment and why, each reputation penalty. Kept from the followed blocks since the node
 * started (the newest EVENTS_KEPT), and the reason of each slot's containment for the alerts.
 */
import type { BlockOutcome, MarketState } from '../chain/marketplace.js'

export interface ProviderEvent {
  timeMs: number
  block: number
  kind: 'slot-lost' | 'containment' | 'penalty' | 'dropped' | 'plan-ended'
  text: string
  contractId: number | null
  slot: number | null
}

const EVENTS_KEPT = 100

const PENALTY_WORDS: Record<string, string> = {
  failedProof: 'a failed proof',
  failedSetup: 'a failed setup',
  missedReport: 'a missed report',
  pause: 'pausing',
  lostDispute: 'a storage verdict independent attestors contradicted'
}

export class ProviderWatch {
  private readonly events: ProviderEvent[] = []
  /** `contract:slot:kind` -> why the slot is in containment (from the notice that put it there). */
  private readonly why = new Map<string, string>()

  constructor (private readonly me: () => string, private readonly now: () => number) {}

  /** Reads one block's notices and penalties; `before` is the market as it was before the block (for the slots this node held). */
  onBlock (out: BlockOutcome, market: MarketState, heldBefore: Map<number, number[]>): void {
    const me = this.me()
    const add = (kind: ProviderEvent['kind'], text: string, contractId: number | null = null, slot: number | null = null): void => {
      this.events.push({ timeMs: this.now(), block: out.number, kind, text, contractId, slot })
      if (this.events.length > EVENTS_KEPT) this.events.shift()
    }
    for (const n of out.notices) {
      let m = new RegExp(`^hoster ${me} of contract (\\d+) slot (\\d+) in (storage|performance) containment \\((.*)\\): (.*)$`).exec(n)
      if (m !== null) {
        this.why.set(`${m[1]}:${m[2]}:${m[3]}`, m[4])
        add('containment', `Contract ${m[1]} slot ${m[2]} failed a ${m[3]} check (${m[4]}): it is in containment and ${m[5]}.`, Number(m[1]), Number(m[2]))
        continue
      }
      m = new RegExp(`^hoster ${me} of contract (\\d+) failed a (storage|performance) challenge: replaced$`).exec(n)
      if (m !== null) { add('slot-lost', `Lost a slot of contract ${m[1]}: it failed its ${m[2]} re-check too, so another hoster takes it.`, Number(m[1])); continue }
      m = new RegExp(`^(hoster|encoder) ${me} failed slot (\\d+) of contract (\\d+) \\((.*)\\): replaced$`).exec(n)
      if (m !== null) { add('slot-lost', `Lost slot ${m[2]} of contract ${m[3]} as ${m[1]}: its setup failed (${m[4]}).`, Number(m[3]), Number(m[2])); continue }
      if (n.startsWith(`provider ${me} fell below the reputation floor`)) { add('dropped', 'Your hosting reputation fell below the floor (250): every slot you hosted went to other hosters.'); continue }
      m = new RegExp(`^provider ${me} fell below the (encoder|attestor) reputation floor`).exec(n)
      if (m !== null) { add('dropped', `Your ${m[1]} reputation fell below the floor (250): you are no longer chosen as ${m[1]}; your other roles go on.`); continue }
      m = /^plan (\d+) (ended|unpublished|exhausted)$/.exec(n)
      if (m !== null) {
        for (const [contractId, slots] of heldBefore) {
          if (market.contracts[contractId]?.planId === Number(m[1])) add('plan-ended', `Plan ${m[1]} ${m[2] === 'exhausted' ? 'ran out of budget' : m[2] === 'unpublished' ? 'was unpublished by its sponsor' : 'reached its end'}: contract ${contractId} (${slots.length} slot${slots.length === 1 ? '' : 's'}) is no longer hosted.`, contractId)
        }
      }
    }
    for (const p of out.penalties) {
      if (p.address === me) add('penalty', `${p.role === 'hoster' ? 'Reputation' : `${p.role[0].toUpperCase()}${p.role.slice(1)} reputation`} −${p.amount} for ${PENALTY_WORDS[p.reason] ?? p.reason} (${p.detail}).`)
    }
    this.forgetCleared(market)
  }

  /** The reason the slot went into containment of `kind`, when this node saw it happen. */
  whyOf (contractId: number, slot: number, kind: 'storage' | 'performance'): string | null {
    return this.why.get(`${contractId}:${slot}:${kind}`) ?? null
  }

  /** Newest first. */
  list (): ProviderEvent[] { return [...this.events].reverse() }

  private forgetCleared (market: MarketState): void {
    for (const key of this.why.keys()) {
      const [c, s, kind] = key.split(':')
      const slot = market.contracts[c]?.slots[Number(s)]
      if (slot === undefined || slot.hoster !== this.me() || slot.strikes[kind as 'storage' | 'performance'] === 0) this.why.delete(key)
    }
  }
}

/** The slots `me` hosts, by contract (taken before a block is applied, to name what it lost). */
export function slotsHeld (market: MarketState, me: string): Map<number, number[]> {
  const held = new Map<number, number[]>()
  for (const c of Object.values(market.contracts)) {
    c.slots.forEach((s, i) => { if (s.hoster === me) held.set(c.id, [...(held.get(c.id) ?? []), i]) })
  }
  return held
}
