/**
 * The attestors' records: the setup report of a contract (receipts verified against each hoster's
 * key; failed slots blame their encoder or hoster), storage reports and performance reports of
 * open challenges. Settling a failure or a pass is challenges.ts.
 */
import hypercoreCrypto from 'hypercore-crypto'
import b4a from 'b4a'
import { receiptMessage } from './records.js'
import type { MarketRecord } from './record-types.js'
import { MARKET_PARAMS, type Challenge, type Contract } from './market-types.js'
import { reject, type Ctx } from './market-context.js'
import { accrue } from './accounting.js'
import { penalise, reward } from './reputation.js'
import { blame, markPending, release, vacateSlot } from './assignments.js'
import { settlePerformance } from './challenges.js'
import { MOMENT_FAILURES, storageVerdict } from './disputes.js'
import { offHours } from './schedule.js'
import { setSetupDeadline } from './market-index.js'

/** True when `receiptHex` is the hoster's signature of the slot's receipt message. */
function receiptValid (contract: Contract, noiseKeyHex: string, receiptsRootHex: string, receiptHex: string): boolean {
  try {
    const msg = receiptMessage(contract.id, contract.keyHex, contract.root.length, receiptsRootHex)
    return hypercoreCrypto.verify(b4a.from(msg), b4a.from(receiptHex, 'hex'), b4a.from(noiseKeyHex, 'hex'))
  } catch {
    return false
  }
}

/**
 * The contract attestor's setup report: ok slots carry the hoster's signed receipt (the whole
 * record is rejected 'bad-proof' when one does not verify against the hoster's registered key);
 * failed slots blame the encoder (bad-encoding, encoder-missing: the slot keeps its hoster and
 * gets a new encoder) or the hoster (hoster-refused, hoster-missing: new hoster and encoder).
 */
export function setupReport (ctx: Ctx, signer: string, rec: Extract<MarketRecord, { kind: 'setup-report' }>): string {
  const { state, block } = ctx
  const contract = state.contracts[rec.contractId]
  if (contract === undefined) reject(rec.contractId >= state.next.contract ? 'out-of-order' : 'replayed', `no contract ${rec.contractId}`)
  if (contract.attestor !== signer) reject('wrong-signer', 'only the contract attestor reports setup')
  if (rec.slots.length !== contract.slots.length) reject('malformed', 'slot count mismatch')
  const inSetup = contract.slots.map((s) => s.state === 'setup' && s.hoster !== null && s.encoder !== null)
  if (!inSetup.some(Boolean)) reject('replayed', 'no slot is in setup')
  rec.slots.forEach((r, i) => {
    if (!inSetup[i] || !r.ok) return
    const hoster = state.providers[contract.slots[i].hoster as string]
    if (hoster === undefined || !receiptValid(contract, hoster.noiseKeyHex, r.receiptsRootHex, r.receiptHex)) {
      reject('bad-proof', `slot ${i}: the receipt is not the hoster's signature`)
    }
  })

  const plan = state.plans[contract.planId]
  const chunks = BigInt(contract.end - contract.start)
  contract.slots.forEach((slot, i) => {
    if (!inSetup[i]) return
    const r = rec.slots[i]
    const hoster = slot.hoster as string
    const encoder = slot.encoder as string
    if (r.ok) {
      slot.state = 'hosting'
      slot.since = block.number
      slot.receiptsRootHex = r.receiptsRootHex
      accrue(ctx, plan, encoder, MARKET_PARAMS.units.encoding * chunks, 'encoding')
      reward(state, hoster, 'hoster', MARKET_PARAMS.rewardsOnSuccess)
      reward(state, encoder, 'encoder', MARKET_PARAMS.rewardsOnSuccess)
    } else if (r.reason === 'bad-encoding' || r.reason === 'encoder-missing') {
      penalise(ctx, encoder, 'encoder', 'failedSetup', `slot ${i} of contract ${contract.id}: ${r.reason}`)
      blame(slot, encoder)
      release(state, encoder, 0)
      slot.encoder = null
      slot.state = 'unassigned'
      ctx.out.notices.push(`encoder ${encoder} failed slot ${i} of contract ${contract.id} (${r.reason}): replaced`)
    } else {
      penalise(ctx, hoster, 'hoster', 'failedSetup', `slot ${i} of contract ${contract.id}: ${r.reason}`)
      blame(slot, hoster)
      vacateSlot(state, contract, i)
      ctx.out.notices.push(`hoster ${hoster} failed slot ${i} of contract ${contract.id} (${r.reason}): replaced`)
    }
  })
  accrue(ctx, plan, signer, MARKET_PARAMS.units.setupAttest, 'setup')
  setSetupDeadline(state, contract, contract.slots.some((s) => s.state === 'setup') ? block.number + MARKET_PARAMS.setupTimeoutBlocks : null)
  markPending(state, contract)
  return `contract:${contract.id}`
}

function openChallenge (ctx: Ctx, id: number, kind: Challenge['kind'], signer: string): Challenge {
  const { state } = ctx
  const ch = state.challenges[id]
  if (ch === undefined) reject(id >= state.next.challenge ? 'out-of-order' : 'replayed', `no open challenge ${id}`)
  if (ch.kind !== kind) reject('malformed', `challenge ${ch.id} is a ${ch.kind} challenge`)
  if (!ch.attestors.includes(signer)) reject('wrong-signer', `not an attestor of challenge ${ch.id}`)
  return ch
}

/**
 * A storage report: paid, and a verdict on the slot (disputes.ts): a failure opens a dispute or
 * adds to it, re-checked at once by an independent attestor; only independent agreement replaces
 * the hoster or clears it.
 */
export function storageReport (ctx: Ctx, signer: string, rec: Extract<MarketRecord, { kind: 'storage-report' }>): string {
  const { state } = ctx
  const ch = openChallenge(ctx, rec.challengeId, 'storage', signer)
  if (rec.ok && ch.epoch !== undefined) reject('not-allowed', `challenge ${ch.id}: a pass of a regular check goes in the attestor's aggregate of epoch ${ch.epoch}`)
  delete state.challenges[ch.id]
  const contract = state.contracts[ch.contractId]
  const plan = state.plans[contract.planId]
  const slot = contract.slots[ch.slot]
  accrue(ctx, plan, signer, MARKET_PARAMS.units.challengeAttest, 'storage-proof')
  reward(state, signer, 'attestor', MARKET_PARAMS.rewardsOnReport)
  if (rec.ok) {
    accrue(ctx, plan, ch.hoster, MARKET_PARAMS.units.storageProof, 'storage-proof')
    reward(state, ch.hoster, 'hoster', MARKET_PARAMS.rewardsOnSuccess)
  }
  if (slot.hoster !== ch.hoster || slot.state !== 'hosting') return `challenge:${ch.id}`
  if (!rec.ok && MOMENT_FAILURES.includes(rec.reason) && offHours(ctx, ch.hoster)) {
    // issued in the hoster's hours, reported after them: off its hours it owes no answer
    ctx.out.notices.push(`storage challenge ${ch.id} of contract ${contract.id} slot ${ch.slot} reported ${rec.reason} after the hoster's hours ended: no verdict`)
  } else storageVerdict(ctx, contract, ch.slot, signer, rec.ok, rec.reason)
  return `challenge:${ch.id}`
}

/**
 * A performance report: each of the check's attestors reports once, with a measure key not used
 * by another report of the check. The check settles when all reported (or at its deadline).
 */
export function performanceReport (ctx: Ctx, signer: string, rec: Extract<MarketRecord, { kind: 'performance-report' }>): string {
  const { state } = ctx
  const ch = openChallenge(ctx, rec.challengeId, 'performance', signer)
  if (rec.reachable && ch.epoch !== undefined) reject('not-allowed', `challenge ${ch.id}: a pass of a regular check goes in the attestor's aggregate of epoch ${ch.epoch}`)
  if (ch.reports.some((r) => r.attestor === signer)) reject('replayed', `already reported challenge ${ch.id}`)
  if (ch.reports.some((r) => r.measureKeyHex === rec.measureKeyHex)) reject('bad-value', 'measure key already used in this check')
  ch.reports.push({ attestor: signer, reachable: rec.reachable, ttfbMs: rec.ttfbMs, throughputBps: rec.throughputBps, measureKeyHex: rec.measureKeyHex })
  const contract = state.contracts[ch.contractId]
  accrue(ctx, state.plans[contract.planId], signer, MARKET_PARAMS.units.challengeAttest, 'performance-proof')
  reward(state, signer, 'attestor', MARKET_PARAMS.rewardsOnReport)
  if (ch.reports.length >= ch.attestors.length) settlePerformance(ctx, ch)
  return `challenge:${ch.id}`
}
