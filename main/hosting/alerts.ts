/**
 * Alerts before penalties: the rules that tell a seeder something is wrong while it can still act.
 * Pure (the clock is an input): the hosting service evaluates them for getHosting, the UI shows
 * them and raises a Notification for each new alert id.
 * - containment: a slot this node hosts failed a check; what failed, what is at stake (the slot
 *   and 50 reputation when the re-checks fail too) and when the re-check comes;
 * - offline: seeding, but the chain is not connected or no block came for a while: challenges
 *   this node cannot answer count against it;
 * - network-paused: seeding with networking paused: attestors cannot reach this node;
 * - disk: the disk limit nearly used up, or the disk itself nearly full.
 */
import { MARKET_PARAMS, type MarketState } from '../chain/marketplace.js'
import { formatBytes } from '../shared/errors.js'

export interface HostingAlert {
  /** Stable while the condition lasts (the UI notifies once per id). */
  id: string
  kind: 'containment' | 'offline' | 'network-paused' | 'disk'
  level: 'warning' | 'danger'
  title: string
  text: string
  /** When the deciding re-check is due (wall-clock estimate), for containment. */
  recheckAtMs: number | null
}

export interface AlertInput {
  now: number
  /** This node's account (0x). */
  me: string
  market: MarketState
  seeding: boolean
  connected: boolean
  /** Wall-clock time the last block was followed, null before the first. */
  lastBlockMs: number | null
  /** The chain's block interval (ms), to estimate when a block comes. */
  blockMs: number
  networkPaused: boolean
  disk: { limitBytes: number, usedBytes: number, freeBytes: number | null, totalBytes: number | null }
  /** Why a slot went into containment, when known. */
  whyOf: (contractId: number, slot: number, kind: 'storage' | 'performance') => string | null
}

export const ALERT_LIMITS = {
  /** Blocks without a new one before the node counts as offline for the chain (at least a minute). */
  silentBlocks: 5,
  silentMinMs: 60_000,
  /** Share of the disk limit in use that warns. */
  limitShare: 0.9,
  /** Share of the disk free below which it warns. */
  freeShare: 0.05
} as const

export function hostingAlerts (i: AlertInput): HostingAlert[] {
  return [...containmentAlerts(i), ...offlineAlerts(i), ...diskAlerts(i)]
}

/** The next block at or after `from` where `(b + offset) % interval === 0`. */
function nextScheduled (from: number, offset: number, interval: number): number {
  const r = ((from + offset) % interval + interval) % interval
  return r === 0 ? from : from + interval - r
}

/** What a failed check's reason code means, for people (codes: STORAGE_FAILURES in chain/record-types.ts). */
const FAILURE_WORDS: Record<string, string> = {
  UNREACHABLE: 'the attestor could not reach this node',
  MISSING_CHUNK: 'a stored chunk it asked for is missing',
  WRONG_COMMITMENT: 'the answer did not match the commitment',
  DEADLINE_MISSED: 'the answer came after the deadline',
  BAD_ENCODING: 'a stored chunk is not the encoding it should be',
  BAD_ENCODER_SIGNATURE: "a stored chunk lacks its encoder's signature",
  ROOT_MISMATCH: "a stored chunk does not match the drive's signed root",
  MALFORMED_PROOF: 'the proof sent was malformed',
  WRONG_STEP_COUNT: 'the walk had the wrong number of steps',
  WRONG_INDEX: 'the walk opened the wrong chunk',
  WRONG_LENGTH: 'a stored chunk has the wrong length',
  WRONG_CORE: 'a stored chunk belongs to another core',
  BAD_ROOT_SIGNATURE: 'the signed root does not verify'
}

/** "a stored chunk it asked for is missing (MISSING_CHUNK)"; unknown reasons as they are. */
export function failureWords (why: string): string {
  const words = FAILURE_WORDS[why]
  return words === undefined ? why : `${words} (${why})`
}

/** A storage dispute replaces the hoster after `disputeFails` failed verdicts (chain/disputes.ts). */
function moreFails (strikes: number): string {
  const n = Math.max(1, MARKET_PARAMS.disputeFails - strikes)
  return n === 1 ? 'one more independent re-check fails' : `${n} more independent re-checks fail`
}

function containmentAlerts (i: AlertInput): HostingAlert[] {
  const out: HostingAlert[] = []
  const head = i.market.block?.number ?? 0
  const interval = i.market.network?.params.challengeIntervalBlocks ?? 600
  const rep = i.market.providers[i.me]?.reputation ?? null
  const at = (block: number): number => i.now + Math.max(0, block - head) * i.blockMs
  for (const c of Object.values(i.market.contracts)) {
    c.slots.forEach((slot, n) => {
      if (slot.hoster !== i.me) return
      for (const kind of ['storage', 'performance'] as const) {
        if (slot.strikes[kind] === 0) continue
        const open = Object.values(i.market.challenges).find((ch) => ch.contractId === c.id && ch.slot === n && ch.kind === kind)
        const due = open !== undefined ? open.deadline : nextScheduled(head + 1, slot.phase + (kind === 'performance' ? Math.floor(interval / 2) : 0), interval)
        const why = i.whyOf(c.id, n, kind)
        const size = formatBytes((c.end - c.start) * MARKET_PARAMS.chunkBytes)
        const after = rep === null ? '' : ` (you have ${rep}; below ${MARKET_PARAMS.reputationFloor} you lose every slot)`
        out.push({
          id: `containment:${c.id}:${n}:${kind}`,
          kind: 'containment',
          level: 'danger',
          title: `Contract ${c.id} slot ${n} failed a ${kind} check`,
          text: `${why !== null ? `Why: ${failureWords(why)}. ` : ''}At stake: if ${kind === 'storage' ? moreFails(slot.strikes.storage) : 'the re-check fails'} too, this slot (${size} of plan ${c.planId}) goes to another hoster and you lose ${MARKET_PARAMS.penalties.failedProof} reputation${after}. ` +
            `${open !== undefined ? 'The re-check is under way; it must be answered by block' : 'The re-check comes at block'} ${due}. Keep DatDot running and online.`,
          recheckAtMs: at(due)
        })
      }
    })
  }
  return out
}

function offlineAlerts (i: AlertInput): HostingAlert[] {
  if (!i.seeding) return []
  const out: HostingAlert[] = []
  const silentMs = Math.max(ALERT_LIMITS.silentMinMs, ALERT_LIMITS.silentBlocks * i.blockMs)
  const silent = i.lastBlockMs !== null && i.now - i.lastBlockMs > silentMs
  if (!i.connected || silent) {
    const since = i.lastBlockMs === null ? '' : ` No new block for ${Math.round((i.now - i.lastBlockMs) / 60_000)} min.`
    out.push({ id: 'offline', kind: 'offline', level: 'danger', title: 'Not in touch with the chain', text: `You are seeding, but this node ${i.connected ? 'gets no new blocks' : 'is not connected to the chain'}.${since} Challenges it cannot answer count as failed and cost reputation.`, recheckAtMs: null })
  }
  if (i.networkPaused) {
    out.push({ id: 'network-paused', kind: 'network-paused', level: 'danger', title: 'Networking is paused while you seed', text: 'Attestors cannot reach this node, so its storage and performance checks fail: after two failures in a row a slot goes to another hoster and costs 50 reputation. Resume networking, or stop seeding first.', recheckAtMs: null })
  }
  return out
}

function diskAlerts (i: AlertInput): HostingAlert[] {
  if (!i.seeding) return []
  const { limitBytes, usedBytes, freeBytes, totalBytes } = i.disk
  const texts: string[] = []
  if (limitBytes > 0 && usedBytes >= ALERT_LIMITS.limitShare * limitBytes) texts.push(`Hosting uses ${formatBytes(usedBytes)} of your ${formatBytes(limitBytes)} limit: raise the limit to take new contracts.`)
  if (freeBytes !== null && totalBytes !== null && totalBytes > 0 && freeBytes < ALERT_LIMITS.freeShare * totalBytes) texts.push(`The disk of the storage folder has only ${formatBytes(freeBytes)} free: a hoster that cannot store its chunks fails its checks.`)
  else if (freeBytes !== null && limitBytes - usedBytes > freeBytes) texts.push(`Your limit promises ${formatBytes(limitBytes - usedBytes)} more, but the disk has only ${formatBytes(freeBytes)} free: lower the limit.`)
  if (texts.length === 0) return []
  return [{ id: 'disk', kind: 'disk', level: 'warning', title: 'Disk nearly full', text: texts.join(' '), recheckAtMs: null }]
}
