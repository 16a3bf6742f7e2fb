/**
 * The bodies of marketplace records: for each kind, how its fields are written after the kind
 * byte and read back. Two tables with one small function per kind; the envelope (prefix, kind
 * code, limits, validation) is records.ts.
 */
import { DecodeError, readAccount, readDrives, writeAccount, writeDrives, bytesToHex, hexToBytes, type Reader, type Writer } from './record-bytes.js'
import {
  RECORD_LIMITS as L, SETUP_FAILURES, STORAGE_FAILURES,
  type MarketRecord, type NetworkParams, type RecordKind, type SetupSlot
} from './record-types.js'

type Rec<K extends RecordKind> = Extract<MarketRecord, { kind: K }>

const ID_MAX = Number.MAX_SAFE_INTEGER

// ---------------------------------------------------------------- encode

function writeNetwork (w: Writer, rec: Rec<'network'>): void {
  w.uint(rec.operators.length)
  for (const o of rec.operators) writeAccount(w, o)
  w.uint(rec.threshold)
  writeAccount(w, rec.escrow)
  w.uint(rec.unitPricePlanck)
  w.uint(rec.params.chunksPerContract); w.uint(rec.params.challengeIntervalBlocks)
  w.uint(rec.params.challengeTimeoutBlocks); w.uint(rec.params.performanceAttestors)
  // written only when aggregation is on, so a network record without it keeps its bytes
  if ((rec.params.epochBlocks ?? 0) > 0) w.uint(rec.params.epochBlocks as number)
}

/**
 * An epoch aggregate's body: epoch, from, count; the failed offsets (their number, the first,
 * then each one's distance from the one before less one: strictly increasing by construction);
 * the hoster grades (their number, then two bits each, units / step 0..3, four a byte, bits past
 * the last zero); the 32-byte root. Its size depends on the failures and hosters, not the checks.
 */
function writeEpochReport (w: Writer, rec: Rec<'epoch-report'>): void {
  w.uint(rec.epoch); w.uint(rec.from); w.uint(rec.count)
  w.uint(rec.failed.length)
  rec.failed.forEach((f, i) => { w.uint(i === 0 ? f : f - rec.failed[i - 1] - 1) })
  w.uint(rec.grades.length)
  const packed = new Uint8Array(Math.ceil(rec.grades.length / 4))
  rec.grades.forEach((u, i) => { packed[i >> 2] |= (u / L.aggregateUnitsStep) << ((i & 3) * 2) })
  w.raw(packed)
  w.raw(hexToBytes(rec.rootHex, 32))
}

function readEpochReport (r: Reader): Rec<'epoch-report'> {
  const epoch = r.uint(ID_MAX)
  const from = r.uint(ID_MAX)
  const count = r.uint(L.aggregateChecksMax)
  if (count < 1) throw new DecodeError('an aggregate covers at least one check')
  const nf = r.uint(L.aggregateFailedMax)
  if (nf > count) throw new DecodeError(`${nf} failed offsets in ${count} checks`)
  const failed: number[] = []
  for (let i = 0; i < nf; i++) {
    const f = (i === 0 ? 0 : failed[i - 1] + 1) + r.uint(ID_MAX)
    if (f >= count) throw new DecodeError(`failed offset ${f} past the ${count} checks covered`)
    failed.push(f)
  }
  const ng = r.uint(L.aggregateGradesMax)
  const packed = r.bytes(Math.ceil(ng / 4))
  const grades: number[] = []
  for (let i = 0; i < ng; i++) grades.push(((packed[i >> 2] >> ((i & 3) * 2)) & 3) * L.aggregateUnitsStep)
  // canonical: the bits past the last grade are zero
  if (ng % 4 !== 0 && (packed[packed.length - 1] >> ((ng % 4) * 2)) !== 0) throw new DecodeError('grade bits set past the grades')
  const rootHex = bytesToHex(r.bytes(32)).slice(2)
  return { kind: 'epoch-report', epoch, from, count, failed, grades, rootHex }
}

function writeSetupReport (w: Writer, rec: Rec<'setup-report'>): void {
  w.uint(rec.contractId)
  w.uint(rec.slots.length)
  for (const slot of rec.slots) {
    w.bool(slot.ok)
    if (slot.ok) { w.raw(hexToBytes(slot.receiptsRootHex, 32)); w.raw(hexToBytes(slot.receiptHex, 64)) } else w.uint(SETUP_FAILURES.indexOf(slot.reason))
  }
}

/** Writes the body of a record of each kind (after the kind code). */
export const BODY_WRITERS: { [K in RecordKind]: (w: Writer, rec: Rec<K>) => void } = {
  network: writeNetwork,
  register: (w, rec) => {
    w.uint(rec.roles); w.uint(rec.storageBytes); w.uint(rec.bandwidthBps); w.string(rec.region)
    w.raw(hexToBytes(rec.noiseKeyHex, 32))
  },
  unregister: () => {},
  unpause: () => {},
  publish: (w, rec) => {
    writeDrives(w, rec.drives)
    w.uint(rec.replicas); w.uint(rec.durationBlocks); w.uint(rec.budgetPlanck)
  },
  update: (w, rec) => {
    w.uint(rec.planId)
    writeDrives(w, rec.drives)
    w.uint(rec.budgetPlanck)
  },
  unpublish: (w, rec) => { w.uint(rec.planId) },
  pause: (w, rec) => { w.uint(rec.blocks) },
  schedule: (w, rec) => { w.raw(hexToBytes(rec.hoursHex, 21)) },
  extend: (w, rec) => { w.uint(rec.planId); w.uint(rec.blocks); w.uint(rec.budgetPlanck) },
  'setup-report': writeSetupReport,
  'storage-report': (w, rec) => { w.uint(rec.challengeId); w.bool(rec.ok); w.uint(STORAGE_FAILURES.indexOf(rec.reason)) },
  'performance-report': (w, rec) => {
    w.uint(rec.challengeId); w.bool(rec.reachable); w.uint(rec.ttfbMs); w.uint(rec.throughputBps)
    w.raw(hexToBytes(rec.measureKeyHex, 32))
  },
  payout: (w, rec) => {
    w.uint(rec.items.length)
    for (const i of rec.items) w.uint(i)
  },
  'epoch-report': writeEpochReport
}

// ---------------------------------------------------------------- decode

function readNetwork (r: Reader): Rec<'network'> {
  const n = r.uint(L.operatorsMax)
  const operators: string[] = []
  for (let i = 0; i < n; i++) operators.push(readAccount(r))
  const threshold = r.uint(L.operatorsMax)
  const escrow = readAccount(r)
  const unitPricePlanck = r.uintBig(L.amountBits)
  const params: NetworkParams = {
    chunksPerContract: r.uint(L.chunksPerContractMax),
    challengeIntervalBlocks: r.uint(L.challengeIntervalBlocksMax),
    challengeTimeoutBlocks: r.uint(L.challengeTimeoutBlocksMax),
    performanceAttestors: r.uint(L.performanceAttestorsMax)
  }
  if (r.more()) {
    const epochBlocks = r.uint(L.epochBlocksMax)
    if (epochBlocks === 0) throw new DecodeError('epochBlocks 0 is written by leaving it out')
    params.epochBlocks = epochBlocks
  }
  return { kind: 'network', operators, threshold, escrow, unitPricePlanck, params }
}

function readRegister (r: Reader): Rec<'register'> {
  const roles = r.uint(255)
  const storageBytes = r.uint(L.storageBytesMax)
  const bandwidthBps = r.uint(L.bandwidthBpsMax)
  const region = r.string(L.regionChars)
  const noiseKeyHex = bytesToHex(r.bytes(32)).slice(2)
  return { kind: 'register', roles, storageBytes, bandwidthBps, region, noiseKeyHex }
}

function readPublish (r: Reader): Rec<'publish'> {
  const drives = readDrives(r)
  const replicas = r.uint(L.replicasMax)
  const durationBlocks = r.uint(L.durationBlocksMax)
  const budgetPlanck = r.uintBig(L.amountBits)
  return { kind: 'publish', drives, replicas, durationBlocks, budgetPlanck }
}

function readUpdate (r: Reader): Rec<'update'> {
  const planId = r.uint(ID_MAX)
  const drives = readDrives(r)
  const budgetPlanck = r.uintBig(L.amountBits)
  return { kind: 'update', planId, drives, budgetPlanck }
}

function readSetupReport (r: Reader): Rec<'setup-report'> {
  const contractId = r.uint(ID_MAX)
  const n = r.uint(L.slotsPerSetupReport)
  const slots: SetupSlot[] = []
  for (let i = 0; i < n; i++) {
    if (r.bool()) slots.push({ ok: true, receiptsRootHex: bytesToHex(r.bytes(32)).slice(2), receiptHex: bytesToHex(r.bytes(64)).slice(2) })
    else slots.push({ ok: false, reason: SETUP_FAILURES[r.uint(SETUP_FAILURES.length - 1)] })
  }
  return { kind: 'setup-report', contractId, slots }
}

function readStorageReport (r: Reader): Rec<'storage-report'> {
  const challengeId = r.uint(ID_MAX)
  const ok = r.bool()
  const reason = STORAGE_FAILURES[r.uint(STORAGE_FAILURES.length - 1)]
  return { kind: 'storage-report', challengeId, ok, reason }
}

function readPerformanceReport (r: Reader): Rec<'performance-report'> {
  const challengeId = r.uint(ID_MAX)
  const reachable = r.bool()
  const ttfbMs = r.uint(L.latencyMsMax)
  const throughputBps = r.uint(L.throughputBpsMax)
  const measureKeyHex = bytesToHex(r.bytes(32)).slice(2)
  return { kind: 'performance-report', challengeId, reachable, ttfbMs, throughputBps, measureKeyHex }
}

function readPayout (r: Reader): Rec<'payout'> {
  const n = r.uint(L.payoutItems)
  const items: number[] = []
  for (let i = 0; i < n; i++) items.push(r.uint(ID_MAX))
  return { kind: 'payout', items }
}

/** Reads the body of a record of each kind (after the kind code); a Reader throws DecodeError on bad bytes. */
export const BODY_READERS: { [K in RecordKind]: (r: Reader) => Rec<K> } = {
  network: readNetwork,
  register: readRegister,
  unregister: () => ({ kind: 'unregister' }),
  unpause: () => ({ kind: 'unpause' }),
  publish: readPublish,
  update: readUpdate,
  unpublish: (r) => ({ kind: 'unpublish', planId: r.uint(ID_MAX) }),
  pause: (r) => ({ kind: 'pause', blocks: r.uint(L.pauseBlocksMax) }),
  schedule: (r) => ({ kind: 'schedule', hoursHex: bytesToHex(r.bytes(21)).slice(2) }),
  extend: (r) => ({ kind: 'extend', planId: r.uint(ID_MAX), blocks: r.uint(L.durationBlocksMax), budgetPlanck: r.uintBig(L.amountBits) }),
  'setup-report': readSetupReport,
  'storage-report': readStorageReport,
  'performance-report': readPerformanceReport,
  payout: readPayout,
  'epoch-report': readEpochReport
}
