/**
 * Third-party audits of aggregated storage passes (issue 12 item 3; docs/protocol.md "Audits").
 * The chain draws a few storage passes of each accepted aggregate and names an auditor by issuing
 * one more storage check of the slot, the audit check (main/chain/audits.ts). The auditor, after its
 * own walk of that check (a pass goes in its aggregate, a failure on chain at once and opens a dispute):
 *
 * 1. asks the audited attestor (`leaves`, wire.ts) for the sampled leaf and its merkle path, and
 *    checks the path reaches the root the chain kept from the attestor's aggregate, at the sampled
 *    position, and that the leaf is the sampled check (challenge id, slot, a storage leaf);
 * 2. has the hoster walk the sampled check's own seed again (an ordinary `challenge` with the seed
 *    of the check's block, under the same deadline, then openings verified with verifyOpening):
 *    the walk is a function of the seed and the stored chunks, so a hoster that still holds them
 *    answers the very commitment the attestor saw, and its hash must be the leaf's evidence. The
 *    hoster keeps nothing for audits but its chunks.
 *
 * The outcome is counted (HostingCounters audits*) and reported to `onAudit`; it penalises no one
 * by itself: the hoster's verdict is the audit check's storage report, and an attestor's bad leaf
 * or wrong evidence is one party's word until the chain can check it (docs/chain.md "Not done yet").
 * Performance passes are not audited: their leaves carry a measurement of a moment.
 */
import b4a from 'b4a'
import { DatdotError } from '../shared/errors.js'
import type { AuditSample } from '../chain/market-types.js'
import { challengeSeed } from './proof.js'
import { leafHash, merklePath, rootOfPath, type EpochLeaves, type Leaf } from './epoch-leaves.js'
import type { LeafProof, LeafProofsMessage, LeavesMessage } from './messages.js'
import type { HostingContext } from './context.js'
import type { Peers } from './peers.js'
import type { Attestor } from './roles.js'

export const AUDIT_FAILURE = {
  /** The attestor did not answer (unreachable, timeout, an error such as an unknown part). */
  UNANSWERED: 'UNANSWERED',
  /** The answer's leaf and path do not reach the root on chain at the sampled position (or the wrong tree size, or not the asked leaf). */
  BAD_PATH: 'BAD_PATH',
  /** The path verifies but the leaf is not the sampled check's storage pass. */
  WRONG_LEAF: 'WRONG_LEAF',
  /** The hoster failed the walk of the sampled check's seed (missing chunk, wrong commitment, late, unreachable). */
  HOSTER_FAILED: 'HOSTER_FAILED',
  /** The hoster's walk verifies but is not the walk the leaf's evidence commits to. */
  WRONG_EVIDENCE: 'WRONG_EVIDENCE'
} as const
export type AuditFailure = typeof AUDIT_FAILURE[keyof typeof AUDIT_FAILURE]

export interface AuditResult { challengeId: number, recheck: number | null, attestor: string, hoster: string, ok: boolean, reason: AuditFailure | null, message: string | null }

function fail (reason: AuditFailure, message: string): DatdotError { return DatdotError.proofFailed(reason, message) }

/** Attestor side: the leaves at the asked positions of one of its kept aggregate parts, with their paths. */
export function serveLeaves (leaves: Pick<EpochLeaves, 'part'>, msg: Pick<LeavesMessage, 'epoch' | 'from' | 'positions'>): Omit<LeafProofsMessage, 'requestId'> {
  const part = leaves.part(msg.epoch, msg.from)
  if (part === null) throw DatdotError.notFound(`aggregate of epoch ${msg.epoch} from check ${msg.from}`)
  const hashes = part.map(leafHash)
  return {
    total: part.length,
    leaves: msg.positions.map((position) => {
      if (position >= part.length) throw DatdotError.invalidArgument(`leaf ${position}: the part has ${part.length}`)
      const l = part[position]
      return {
        position, challengeId: l.challengeId, kind: l.kind === 'performance' ? 1 : 0, slot: l.slot, evidence: b4a.from(l.evidenceHex, 'hex'),
        units: l.units ?? 0, ttfbMs: l.ttfbMs ?? 0, throughputBps: l.throughputBps ?? 0, path: merklePath(hashes, position)
      }
    })
  }
}

/** The leaf a proof shows, as the attestor hashed it. */
function leafOf (epoch: number, p: LeafProof): Leaf {
  const perf = p.kind === 1
  return {
    epoch, challengeId: p.challengeId, kind: perf ? 'performance' : 'storage', slot: p.slot, evidenceHex: b4a.toString(p.evidence, 'hex'),
    units: perf ? p.units : null, ttfbMs: perf ? p.ttfbMs : null, throughputBps: perf ? p.throughputBps : null
  }
}

/**
 * Auditor side: the sampled leaf out of the attestor's answer, verified against the root the chain
 * kept. Throws PROOF_FAILED with reason BAD_PATH or WRONG_LEAF.
 */
export function checkLeafProofs (sample: Pick<AuditSample, 'epoch' | 'position' | 'leaves' | 'rootHex' | 'challengeId' | 'slot'>, reply: Pick<LeafProofsMessage, 'total' | 'leaves'>): LeafProof {
  if (reply.total !== sample.leaves) throw fail(AUDIT_FAILURE.BAD_PATH, `the aggregate has ${sample.leaves} leaves on chain, the attestor's tree ${reply.total}`)
  if (reply.leaves.length !== 1 || reply.leaves[0].position !== sample.position) throw fail(AUDIT_FAILURE.BAD_PATH, `asked for leaf ${sample.position} only`)
  const proof = reply.leaves[0]
  if (proof.kind !== 0 && proof.kind !== 1) throw fail(AUDIT_FAILURE.BAD_PATH, `leaf of kind ${proof.kind}`)
  if (proof.kind === 0 && proof.units + proof.ttfbMs + proof.throughputBps !== 0) throw fail(AUDIT_FAILURE.BAD_PATH, 'a storage leaf carries no readings')
  const root = rootOfPath(leafHash(leafOf(sample.epoch, proof)), sample.position, sample.leaves, proof.path)
  if (root === null || b4a.toString(root, 'hex') !== sample.rootHex) throw fail(AUDIT_FAILURE.BAD_PATH, `leaf ${sample.position} and its path of ${proof.path.length} do not reach the root on chain`)
  if (proof.kind !== 0 || proof.challengeId !== sample.challengeId || proof.slot !== sample.slot) {
    throw fail(AUDIT_FAILURE.WRONG_LEAF, `leaf ${sample.position} is a ${proof.kind === 0 ? 'storage' : 'performance'} pass of check ${proof.challengeId} slot ${proof.slot}, not of storage check ${sample.challengeId} slot ${sample.slot}`)
  }
  return proof
}

export interface AuditorOptions {
  ctx: HostingContext
  peers: Pick<Peers, 'channelTo'>
  attestor: Attestor
  /** The hash (0x-hex) of block `number`. */
  blockHash: (number: number) => Promise<string>
  onAudit?: (r: AuditResult) => void
}

/** The hoster's walk of the sampled check's seed: its commitment hash, or why it failed. */
async function rewalk (o: AuditorOptions, sample: AuditSample): Promise<{ commitment: Buffer | null, failure: string | null }> {
  const { ctx } = o
  const contract = ctx.market.contracts[sample.contractId]
  const slot = contract?.slots[sample.slot]
  // the slot moved on: nothing of this hoster's to re-walk (the leaf was still checked)
  if (slot === undefined || slot.hoster !== sample.hoster) return { commitment: null, failure: null }
  const hosterKeyHex = ctx.providerKey(sample.hoster)
  const hosterKey = b4a.from(hosterKeyHex, 'hex')
  const seed = challengeSeed(b4a.from((await o.blockHash(sample.issuedAt)).slice(2), 'hex'), sample.contractId, hosterKey)
  let connected
  try { connected = await o.peers.channelTo(hosterKeyHex) } catch (err) { return { commitment: null, failure: `UNREACHABLE: ${DatdotError.from(err).message}` } }
  const report = await o.attestor.challenge(connected.channel, ctx.storageChallenge(contract, sample.slot, hosterKey, seed, connected.connectMs))
  return report.ok ? { commitment: report.commitmentHash, failure: null } : { commitment: null, failure: `${report.reason ?? 'OTHER'}: ${report.message ?? ''}` }
}

const COUNTER: Record<AuditFailure, 'auditsUnanswered' | 'auditsBadLeaf' | 'auditsHosterFailed' | 'auditsWrongEvidence'> = {
  UNANSWERED: 'auditsUnanswered', BAD_PATH: 'auditsBadLeaf', WRONG_LEAF: 'auditsBadLeaf', HOSTER_FAILED: 'auditsHosterFailed', WRONG_EVIDENCE: 'auditsWrongEvidence'
}

/** Runs one audit (the leaf from the attestor, the re-walk by the hoster) and counts its outcome. */
export async function runAudit (o: AuditorOptions, sample: AuditSample): Promise<AuditResult> {
  const { ctx } = o
  ctx.counters.auditsSent++
  let reason: AuditFailure | null = null
  let message: string | null = null
  let leaf: LeafProof | null = null
  try {
    const { channel } = await o.peers.channelTo(ctx.providerKey(sample.attestor))
    const answer = await channel.leaves(sample.epoch, sample.from, [sample.position], { timeoutMs: ctx.limits.requestTimeoutMs })
    leaf = checkLeafProofs(sample, answer.value)
  } catch (err) {
    const e = DatdotError.from(err)
    const r = e.details?.remote !== true ? e.details?.reason : undefined
    reason = r === AUDIT_FAILURE.BAD_PATH || r === AUDIT_FAILURE.WRONG_LEAF ? r : AUDIT_FAILURE.UNANSWERED
    message = e.message
  }
  const walk = await rewalk(o, sample)
  if (walk.failure !== null) {
    // the hoster's failure comes first: it is what the audit is for (the audit check's report carries the verdict)
    reason = AUDIT_FAILURE.HOSTER_FAILED
    message = walk.failure
  } else if (reason === null && leaf !== null && walk.commitment !== null && !b4a.equals(walk.commitment, leaf.evidence)) {
    reason = AUDIT_FAILURE.WRONG_EVIDENCE
    message = `the hoster's walk of check ${sample.challengeId} is not the one the leaf commits to`
  }
  if (reason === null) ctx.counters.auditsPassed++
  else ctx.counters[COUNTER[reason]]++
  const result: AuditResult = { challengeId: sample.challengeId, recheck: sample.recheck, attestor: sample.attestor, hoster: sample.hoster, ok: reason === null, reason, message }
  o.onAudit?.(result)
  return result
}
