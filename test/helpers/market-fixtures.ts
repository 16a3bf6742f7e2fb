/**
 * Marketplace states for the hosting roles' unit tests: providers with real Hyperswarm key
 * pairs, plans, contracts, slots and challenges built from small defaults, and MemoryMarket, an
 * in-memory MarketView (main/hosting/context.ts) whose state a test changes and whose 'block'
 * event it emits by hand.
 */
import { EventEmitter } from 'node:events'
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import { initialState, type BlockOutcome, type Challenge, type Contract, type MarketState, type Plan, type Provider, type Slot } from '../../main/chain/marketplace.js'
import type { SignedRootHex } from '../../main/chain/records.js'
import type { MarketView } from '../../main/hosting/context.js'
import type { KeyPair } from '../../main/hosting/roles.js'

/** A provider account and the Hyperswarm key pair it registered. */
export interface Party { address: string, keyPair: KeyPair, keyHex: string }

export function party (address: string): Party {
  const keyPair = hcrypto.keyPair()
  return { address, keyPair, keyHex: b4a.toString(keyPair.publicKey, 'hex') }
}

export function provider (p: Party): Provider {
  return {
    address: p.address, roles: 7, storageBytes: 1e9, bandwidthBps: 1e6, region: 'test', noiseKeyHex: p.keyHex,
    registeredAt: 1, reputation: 100, usedBytes: 0, jobs: 0, pausedUntil: 0
  }
}

/** A signed root of `length` blocks (the roles convert it; only the chain verifies its signature). */
export function rootHex (length: number): SignedRootHex {
  return { manifestHex: '00', length, fork: 0, treeHashHex: '11'.repeat(32), signatureHex: '22'.repeat(64) }
}

/** A fresh 32-byte core key, hex. */
export function coreKeyHex (): string {
  return b4a.toString(hcrypto.randomBytes(32), 'hex')
}

export function slot (s: Partial<Slot> = {}): Slot {
  return {
    hoster: null, encoder: null, state: 'unassigned', since: 1, phase: 0, receiptsRootHex: null,
    strikes: { storage: 0, performance: 0 }, accusers: { storage: [], performance: [] }, blamed: [], ...s
  }
}

export function contract (c: Partial<Contract> & { id: number, planId: number }): Contract {
  const start = c.start ?? 0
  const end = c.end ?? start + 2
  return {
    driveIndex: 0, keyHex: coreKeyHex(), start, end, root: rootHex(end), attestor: null, setupDeadline: null, slots: [], ...c
  }
}

export function plan (p: Partial<Plan> & { id: number }): Plan {
  return {
    sponsor: 'sponsor', drives: [], replicas: 1, startBlock: 1, endBlock: 100_000, budgetPlanck: 1000n, accruedPlanck: 0n,
    refundPlanck: 0n, status: 'active', contractIds: [], ...p
  }
}

export function challenge (c: Partial<Challenge> & { id: number, contractId: number, hoster: string, attestors: string[] }): Challenge {
  return { kind: 'storage', slot: 0, reports: [], chunk: 0, issuedAt: 5, deadline: 50, recheck: false, ...c }
}

export interface MarketParts {
  providers?: Party[]
  plans?: Plan[]
  contracts?: Contract[]
  challenges?: Challenge[]
  block?: number
}

/** A marketplace state holding exactly these parts (keyed by id / address as the chain keys them). */
export function marketOf (parts: MarketParts): MarketState {
  const m = initialState()
  m.block = { number: parts.block ?? 10, hash: blockHashHex(parts.block ?? 10) }
  for (const p of parts.providers ?? []) m.providers[p.address] = provider(p)
  for (const p of parts.plans ?? []) m.plans[p.id] = p
  for (const c of parts.contracts ?? []) m.contracts[c.id] = c
  for (const ch of parts.challenges ?? []) m.challenges[ch.id] = ch
  return m
}

/** A deterministic 0x-hex block hash for block `n`. */
export function blockHashHex (n: number): string {
  return '0x' + b4a.toString(hcrypto.hash(b4a.from(`block ${n}`)), 'hex')
}

export function blockOutcome (number: number, newChallenges: number[] = []): BlockOutcome {
  return { number, hash: blockHashHex(number), actions: [], notices: [], newChallenges, newAssignments: [], penalties: [] }
}

/** The chain as a role sees it, in memory: the test edits `market` and calls `advance`. */
export class MemoryMarket extends EventEmitter implements MarketView {
  constructor (public market: MarketState, readonly addressHex: string) {
    super()
  }

  /** Moves to block `number` (after `change` edits the state) and emits its 'block' event. */
  advance (number: number, change: (m: MarketState) => void = () => {}): BlockOutcome {
    change(this.market)
    this.market.block = { number, hash: blockHashHex(number) }
    const out = blockOutcome(number)
    this.emit('block', out)
    return out
  }
}
