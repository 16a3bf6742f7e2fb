/**
 * The network record (operators, escrow, unit price, parameters; once, before anything else) and
 * the providers' own records: register (or update the offer), unregister (a low reputation is
 * remembered), pause and unpause.
 */
import type { MarketRecord } from './record-types.js'
import type { Action, NetworkConfig } from './market-types.js'
import { reject, type Ctx } from './market-context.js'
import { penalise, retire, startingReputations } from './reputation.js'
import { dropProvider } from './assignments.js'
import { providerRekeyed, providerSetChanged, providerTouched } from './market-index.js'

type Rec<K extends MarketRecord['kind']> = Extract<MarketRecord, { kind: K }>

export function network (ctx: Ctx, action: Action, rec: Rec<'network'>): string {
  const { state, block } = ctx
  if (action.transfers.length > 0) reject('bad-value', 'network record moves no value')
  if (state.network !== null) reject('replayed', 'network already configured')
  state.network = { operators: rec.operators, threshold: rec.threshold, escrow: rec.escrow, unitPricePlanck: rec.unitPricePlanck, params: { ...rec.params }, sinceBlock: block.number }
  return 'network'
}

/** A new provider starts at the starting reputations (or the lower ones it left with, per role); re-registering updates the offer. */
export function register (ctx: Ctx, action: Action, rec: Rec<'register'>): string {
  const { state, block } = ctx
  const signer = action.signer
  const net = state.network as NetworkConfig
  if (signer === net.escrow) reject('wrong-signer', 'escrow cannot provide')
  const existing = state.providers[signer]
  if (existing !== undefined) {
    // Re-registering updates the offer; capacity below what is in use is refused.
    if (rec.storageBytes < existing.usedBytes) reject('not-allowed', 'storage below used bytes')
    existing.roles = rec.roles
    existing.storageBytes = rec.storageBytes
    existing.bandwidthBps = rec.bandwidthBps
    existing.region = rec.region
    providerRekeyed(state, signer, existing.noiseKeyHex, rec.noiseKeyHex)
    existing.noiseKeyHex = rec.noiseKeyHex
    providerTouched(state, signer)
    return `provider:${signer}`
  }
  const reps = startingReputations(state, signer)
  delete state.retired[signer]
  ctx.sorted = null
  state.providers[signer] = {
    address: signer,
    roles: rec.roles,
    storageBytes: rec.storageBytes,
    bandwidthBps: rec.bandwidthBps,
    region: rec.region,
    noiseKeyHex: rec.noiseKeyHex,
    registeredAt: block.number,
    reputation: reps.hoster,
    roleReputation: { encoder: reps.encoder, attestor: reps.attestor },
    usedBytes: 0,
    jobs: 0,
    pausedUntil: 0
  }
  providerSetChanged(state, state.providers[signer], true)
  return `provider:${signer}`
}

/** Leaves every assignment; reputations below the start are remembered (reputation.ts retire). */
export function unregister (ctx: Ctx, action: Action): string {
  const { state } = ctx
  const signer = action.signer
  const p = state.providers[signer]
  if (p === undefined) reject('unknown-ref', 'not a provider')
  dropProvider(ctx, signer)
  delete state.providers[signer]
  ctx.sorted = null
  providerSetChanged(state, p, false)
  retire(state, p)
  return `provider:${signer}`
}

export function pause (ctx: Ctx, action: Action, rec: Rec<'pause'>): string {
  const { state, block } = ctx
  const signer = action.signer
  const p = state.providers[signer]
  if (p === undefined) reject('unknown-ref', 'not a provider')
  if (p.pausedUntil > block.number) reject('replayed', 'already paused')
  p.pausedUntil = block.number + rec.blocks
  providerTouched(state, p.address)
  penalise(ctx, signer, 'hoster', 'pause', 'paused while holding assignments')
  return `provider:${signer}`
}

export function unpause (ctx: Ctx, action: Action): string {
  const { state, block } = ctx
  const signer = action.signer
  const p = state.providers[signer]
  if (p === undefined) reject('unknown-ref', 'not a provider')
  if (p.pausedUntil <= block.number) reject('out-of-order', 'not paused')
  p.pausedUntil = 0
  providerTouched(state, p.address)
  return `provider:${signer}`
}
