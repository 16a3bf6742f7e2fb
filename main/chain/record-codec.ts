/**
 * The bodies of marketplace records: for each kind, how its fields are written after the kind
 * byte and read back. Two tables with one small function per kind; the envelope (prefix, kind
 * code, limits, validation) is records.ts.
 */
import { readAccount, readDrives, writeAccount, writeDrives, bytesToHex, hexToBytes, type Reader, type Writer } from './record-bytes.js'
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
  }
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
  payout: readPayout
}
