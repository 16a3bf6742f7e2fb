/**
 * Third-party audits of aggregated storage passes (issue 12 item 3; docs/chain.md "Audits"). An
 * aggregate's root commits its attestor to its leaves, but nothing on chain opens them, and with
 * epoch committees one member covers 1/K of an epoch's storage checks: a member colluding with a
 * deleting hoster could pass them unseen. So when the chain accepts an aggregate part it draws
 * `perAggregate` of the storage passes it covers, from the accepting block's randomness (the
 * attestor committed its root before that block's hash existed, so it cannot choose what is
 * audited), and keeps each as an `AuditSample`: where the leaf is in the part's merkle tree, the
 * root, and the check (contract, slot, hoster, block). At the next block the sample can be (the
 * slot still hosted by that hoster, in its hours, an attestor to draw) it issues an **audit
 * check**: one more storage check of the slot, regular (its attestor drawn from the current
 * epoch's committee, i.e. a later epoch's than the audited pass, independent of the slot and never
 * the audited attestor; its pass goes in the auditor's own aggregate, so an honest audit costs no
 * extrinsic), or individual when the slot is in a dispute. Its attestor is the auditor: a failure
 * is reported at once and opens a dispute (docs/protocol.md "Independent agreement"); it also asks
 * the audited attestor for the leaf and its path to the root kept here and has the hoster walk the
 * sampled check's seed again (main/hosting/audits.ts). Samples are forgotten `keepEpochs` epochs
 * after their epoch's aggregate deadline, or once their audit check is past its own deadline if
 * that is later.
 */
import type { AuditSample, Challenge, EpochCheck, MarketState } from './market-types.js'
import type { MarketRecord } from './record-types.js'
import type { Ctx } from './market-context.js'
import { issueChallenge } from './selection.js'
import { offHours } from './schedule.js'

export const AUDIT_PARAMS = {
  /** Storage passes drawn from each accepted aggregate part. */
  perAggregate: 2,
  /** Epochs after an epoch's aggregate deadline that its samples are kept (the attestor keeps its leaves 8). */
  keepEpochs: 2
}

type EpochReport = Extract<MarketRecord, { kind: 'epoch-report' }>

/**
 * Before an aggregate part settles: draws its audit samples among the storage passes it covers
 * that still wait for it (their check is in `awaiting`, so the chain knows what they were).
 * `covered` is the part's slice of the attestor's list; a leaf's position counts every pass of
 * the part (failed offsets have no leaf), as the attestor's builder does.
 */
export function sampleAudits (ctx: Ctx, signer: string, rec: EpochReport, covered: EpochCheck[], until: number): void {
  const { state } = ctx
  const failed = new Set(rec.failed)
  const candidates: Array<{ position: number, ch: Challenge }> = []
  let position = 0
  covered.forEach(([id, , perf], i) => {
    if (failed.has(i)) return
    const ch = state.awaiting?.[id]
    if (perf === 0 && ch !== undefined && ch.kind === 'storage' && ch.attestors.includes(signer)) candidates.push({ position, ch })
    position++
  })
  for (let k = 0; k < AUDIT_PARAMS.perAggregate && candidates.length > 0; k++) {
    const [{ position: at, ch }] = candidates.splice(Number(ctx.rng.below(BigInt(candidates.length))), 1)
    ;(state.audits ??= {})[ch.id] = {
      epoch: rec.epoch, attestor: signer, from: rec.from, position: at, leaves: position, rootHex: rec.rootHex,
      challengeId: ch.id, contractId: ch.contractId, slot: ch.slot, hoster: ch.hoster, issuedAt: ch.issuedAt,
      at: ctx.block.number, recheck: null, until
    }
    ctx.out.notices.push(`audit of attestor ${signer}'s pass of storage challenge ${ch.id} (epoch ${rec.epoch}, leaf ${at} of ${position}) drawn`)
  }
}

/**
 * Every block: issues the audit check of each sample that has none yet and can have one, and
 * forgets the samples past their time. A sample whose slot no longer has that hoster is kept
 * without one (nothing of the hoster to audit).
 */
export function runAudits (ctx: Ctx): void {
  const { state, block } = ctx
  const audits = state.audits
  if (audits === undefined) return
  const T = (state.network as NonNullable<MarketState['network']>).params.challengeTimeoutBlocks
  for (const key of Object.keys(audits)) {
    const a = audits[key]
    if (block.number >= a.until) { delete audits[key]; continue }
    if (a.recheck !== null) continue
    const contract = state.contracts[a.contractId]
    const slot = contract?.slots[a.slot]
    if (slot === undefined || slot.hoster !== a.hoster || slot.state !== 'hosting' || offHours(ctx, a.hoster)) continue
    // a regular check (its pass goes in the auditor's aggregate, so an honest audit costs no extrinsic):
    // attested by the current epoch's committee, never the audited attestor; a slot in a dispute gets an individual one
    const id = issueChallenge(ctx, contract, a.slot, 'storage', false, [a.attestor])
    if (id === null) continue
    a.recheck = id
    a.until = Math.max(a.until, block.number + T + 1)
    ctx.out.notices.push(`audit of storage challenge ${a.challengeId} (attestor ${a.attestor}): check ${id} of contract ${a.contractId} slot ${a.slot}`)
  }
  if (Object.keys(audits).length === 0) delete state.audits
}

/** The sample whose audit check is challenge `id`, if any (the hosting side's auditor looks it up). */
export function auditOfRecheck (state: MarketState, id: number): AuditSample | undefined {
  for (const a of Object.values(state.audits ?? {})) if (a.recheck === id) return a
  return undefined
}
