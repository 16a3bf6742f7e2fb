/**
 * Field-level validation of marketplace records, shared by encode (a caller bug throws) and decode
 * (hostile bytes are refused): one small validator per record kind, each returning null when the
 * record is valid or the reason it is not.
 */
import {
  RECORD_LIMITS as L, ROLE_MASK, SETUP_FAILURES, STORAGE_FAILURES,
  type DriveRanges, type MarketRecord, type RecordKind
} from './record-types.js'
import { validateScheduleHex } from './schedule-bits.js'

const isUint = (n: number, max: number): boolean => Number.isSafeInteger(n) && n >= 0 && n <= max
const isAmount = (a: bigint): boolean => typeof a === 'bigint' && a >= 0n && a < (1n << BigInt(L.amountBits))
const isAccount = (h: string): boolean => /^0x[0-9a-f]{64}$/.test(h)
const isHex = (h: string, minBytes: number, maxBytes: number): boolean =>
  typeof h === 'string' && /^([0-9a-f]{2})*$/.test(h) && h.length >= minBytes * 2 && h.length <= maxBytes * 2

/** The drives of a publish or update record: keys, signed roots, sorted ranges within each root. */
function validateDrives (drives: DriveRanges[]): string | null {
  if (drives.length < 1 || drives.length > L.drivesPerPlan) return 'drives out of range'
  if (new Set(drives.map((d) => d.keyHex)).size !== drives.length) return 'duplicate drive key'
  for (const d of drives) {
    if (!/^[0-9a-f]{64}$/.test(d.keyHex)) return 'bad drive key'
    if (d.ranges.length < 1 || d.ranges.length > L.rangesPerDrive) return 'ranges out of range'
    const root = d.root
    if (root === undefined || root === null) return 'missing signed root'
    if (!isHex(root.manifestHex, 1, L.manifestBytes)) return 'bad manifest'
    if (!isHex(root.treeHashHex, 32, 32)) return 'bad tree hash'
    if (!isHex(root.signatureHex, 1, L.rootSignatureBytes)) return 'bad root signature'
    if (!isUint(root.length, L.chunkIndexMax) || root.length < 1) return 'bad root length'
    if (!isUint(root.fork, L.forkMax)) return 'bad fork'
    let prevEnd = -1
    for (const [s, e] of d.ranges) {
      if (!isUint(s, L.chunkIndexMax) || !isUint(e, L.chunkIndexMax) || e <= s) return 'bad range'
      if (s < prevEnd) return 'ranges overlap or unsorted'
      if (e > root.length) return 'range beyond the signed root'
      prevEnd = e
    }
  }
  return null
}

type Rec<K extends RecordKind> = Extract<MarketRecord, { kind: K }>

function validateNetwork (rec: Rec<'network'>): string | null {
  if (rec.operators.length < 1 || rec.operators.length > L.operatorsMax) return 'operators out of range'
  if (!rec.operators.every(isAccount) || !isAccount(rec.escrow)) return 'bad account'
  if (new Set(rec.operators).size !== rec.operators.length) return 'duplicate operator'
  if (!isUint(rec.threshold, rec.operators.length) || rec.threshold < 1) return 'bad threshold'
  if (!isAmount(rec.unitPricePlanck) || rec.unitPricePlanck === 0n) return 'bad unit price'
  if (rec.params === undefined || rec.params === null) return 'missing params'
  if (!isUint(rec.params.chunksPerContract, L.chunksPerContractMax) || rec.params.chunksPerContract < 1) return 'bad chunks per contract'
  if (!isUint(rec.params.challengeIntervalBlocks, L.challengeIntervalBlocksMax) || rec.params.challengeIntervalBlocks < 2) return 'bad challenge interval'
  if (!isUint(rec.params.challengeTimeoutBlocks, L.challengeTimeoutBlocksMax) || rec.params.challengeTimeoutBlocks < 1) return 'bad challenge timeout'
  if (!isUint(rec.params.performanceAttestors, L.performanceAttestorsMax) || rec.params.performanceAttestors < 1) return 'bad performance attestors'
  if (rec.params.epochBlocks !== undefined && !isUint(rec.params.epochBlocks, L.epochBlocksMax)) return 'bad epoch'
  return null
}

function validateRegister (rec: Rec<'register'>): string | null {
  if (!isUint(rec.roles, ROLE_MASK) || rec.roles === 0) return 'bad roles'
  if (!isUint(rec.storageBytes, L.storageBytesMax)) return 'bad storage'
  if (!isUint(rec.bandwidthBps, L.bandwidthBpsMax)) return 'bad bandwidth'
  if (typeof rec.region !== 'string' || [...rec.region].length > L.regionChars) return 'bad region'
  if (!/^[0-9a-f]{64}$/.test(rec.noiseKeyHex)) return 'bad noise key'
  return null
}

function validatePublish (rec: Rec<'publish'>): string | null {
  const bad = validateDrives(rec.drives)
  if (bad !== null) return bad
  if (!isUint(rec.replicas, L.replicasMax) || rec.replicas < 1) return 'bad replicas'
  if (!isUint(rec.durationBlocks, L.durationBlocksMax) || rec.durationBlocks < 1) return 'bad duration'
  if (!isAmount(rec.budgetPlanck) || rec.budgetPlanck === 0n) return 'bad budget'
  return null
}

function validateUpdate (rec: Rec<'update'>): string | null {
  if (!isUint(rec.planId, Number.MAX_SAFE_INTEGER)) return 'bad plan id'
  const bad = validateDrives(rec.drives)
  if (bad !== null) return bad
  if (!isAmount(rec.budgetPlanck)) return 'bad budget'
  return null
}

function validateSetupReport (rec: Rec<'setup-report'>): string | null {
  if (!isUint(rec.contractId, Number.MAX_SAFE_INTEGER)) return 'bad contract id'
  if (rec.slots.length < 1 || rec.slots.length > L.slotsPerSetupReport) return 'bad slots'
  for (const slot of rec.slots) {
    if (slot.ok) {
      if (!/^[0-9a-f]{64}$/.test(slot.receiptsRootHex) || !/^[0-9a-f]{128}$/.test(slot.receiptHex)) return 'bad receipt'
    } else if (!SETUP_FAILURES.includes(slot.reason)) return 'bad setup failure'
  }
  return null
}

function validateStorageReport (rec: Rec<'storage-report'>): string | null {
  if (!isUint(rec.challengeId, Number.MAX_SAFE_INTEGER)) return 'bad challenge id'
  if (!STORAGE_FAILURES.includes(rec.reason)) return 'bad reason'
  if (rec.ok !== (rec.reason === 'NONE')) return 'reason must be NONE exactly when ok'
  return null
}

function validatePerformanceReport (rec: Rec<'performance-report'>): string | null {
  if (!isUint(rec.challengeId, Number.MAX_SAFE_INTEGER)) return 'bad challenge id'
  if (!isUint(rec.ttfbMs, L.latencyMsMax)) return 'bad time to first byte'
  if (!isUint(rec.throughputBps, L.throughputBpsMax)) return 'bad throughput'
  if (!/^[0-9a-f]{64}$/.test(rec.measureKeyHex)) return 'bad measure key'
  return null
}

function validatePayout (rec: Rec<'payout'>): string | null {
  if (rec.items.length < 1 || rec.items.length > L.payoutItems) return 'bad item count'
  if (!rec.items.every((i) => isUint(i, Number.MAX_SAFE_INTEGER))) return 'bad item'
  if (new Set(rec.items).size !== rec.items.length) return 'duplicate item'
  return null
}

/**
 * The failed offsets of an epoch aggregate covering `count` checks: at most aggregateFailedMax,
 * each below `count`, strictly increasing; null when they are (shared with the chain's check).
 */
export function failedOffsetsProblem (failed: number[], count: number): string | null {
  if (!Array.isArray(failed)) return 'bad failed offsets'
  if (failed.length > L.aggregateFailedMax) return `an aggregate lists at most ${L.aggregateFailedMax} failed checks (${failed.length}): split it by from`
  for (let i = 0; i < failed.length; i++) {
    const f = failed[i]
    if (!isUint(f, Number.MAX_SAFE_INTEGER) || f >= count) return `failed offset ${String(f)} is not one of the ${count} checks covered (0..${count - 1})`
    if (i > 0 && f <= failed[i - 1]) return `failed offsets must be strictly increasing (${failed[i - 1]}, then ${f})`
  }
  return null
}

/** An epoch aggregate: 1..aggregateChecksMax checks, failed offsets among them, grades within limits. */
function validateEpochReport (rec: Rec<'epoch-report'>): string | null {
  if (!isUint(rec.epoch, Number.MAX_SAFE_INTEGER) || !isUint(rec.from, Number.MAX_SAFE_INTEGER)) return 'bad epoch'
  if (!isUint(rec.count, Number.MAX_SAFE_INTEGER) || rec.count < 1) return 'an aggregate covers at least one check'
  if (rec.count > L.aggregateChecksMax) return `an aggregate covers at most ${L.aggregateChecksMax} checks (${rec.count}): split it by from`
  const failed = failedOffsetsProblem(rec.failed, rec.count)
  if (failed !== null) return failed
  if (!Array.isArray(rec.grades)) return 'bad grades'
  if (rec.grades.length > L.aggregateGradesMax) return `an aggregate grades at most ${L.aggregateGradesMax} hosters (${rec.grades.length}): split it by from`
  if (!rec.grades.every((u) => isUint(u, L.aggregateUnitsMax) && u % L.aggregateUnitsStep === 0)) return `bad grades (0 to ${L.aggregateUnitsMax} in steps of ${L.aggregateUnitsStep})`
  if (typeof rec.rootHex !== 'string' || !/^[0-9a-f]{64}$/.test(rec.rootHex)) return 'bad root'
  return null
}

const VALIDATORS: { [K in RecordKind]: (rec: Rec<K>) => string | null } = {
  network: validateNetwork,
  register: validateRegister,
  unregister: () => null,
  unpause: () => null,
  publish: validatePublish,
  update: validateUpdate,
  unpublish: (rec) => (isUint(rec.planId, Number.MAX_SAFE_INTEGER) ? null : 'bad plan id'),
  pause: (rec) => (isUint(rec.blocks, L.pauseBlocksMax) && rec.blocks > 0 ? null : 'bad pause'),
  schedule: (rec) => validateScheduleHex(rec.hoursHex),
  extend: (rec) => {
    if (!isUint(rec.planId, Number.MAX_SAFE_INTEGER)) return 'bad plan id'
    if (!isUint(rec.blocks, L.durationBlocksMax)) return 'bad blocks'
    if (!isAmount(rec.budgetPlanck)) return 'bad budget'
    return rec.blocks === 0 && rec.budgetPlanck === 0n ? 'an extension adds blocks or budget' : null
  },
  'setup-report': validateSetupReport,
  'storage-report': validateStorageReport,
  'performance-report': validatePerformanceReport,
  payout: validatePayout,
  'epoch-report': validateEpochReport
}

/** Field-level checks shared by encode and decode; null when valid. */
export function validateRecord (rec: MarketRecord): string | null {
  if (!Object.hasOwn(VALIDATORS, rec.kind)) return 'unknown kind'
  const validate = VALIDATORS[rec.kind] as (rec: MarketRecord) => string | null
  return validate(rec)
}
