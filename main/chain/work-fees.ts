/**
 * Which transaction fees were paid to earn. A seeder pays a fee for every record it sends as a
 * provider (registering, pausing, each setup, storage and performance report); those fees are the
 * cost of its earnings, and the Hosting page shows earnings net of them. Fees of a sponsor's
 * records (publish, update, unpublish) and of plain transfers are not. A batch mixing both kinds
 * splits its fee by record count (the remainder of the division goes to the work share).
 */
import type { LegInput } from '../ledger/ledger.js'
import { recordKindOf, type RecordKind } from './records.js'

export const WORK_KINDS: ReadonlySet<RecordKind> = new Set<RecordKind>(['register', 'unregister', 'pause', 'unpause', 'setup-report', 'storage-report', 'performance-report'])

/** How many of an extrinsic's DatDot remarks are provider work, and what they are (for the memo). */
export function workOf (remarks: Uint8Array[]): { work: number, total: number, kinds: string[] } {
  const kinds = remarks.map(recordKindOf)
  const work = kinds.filter((k) => k !== null && WORK_KINDS.has(k))
  return { work: work.length, total: remarks.length, kinds: [...new Set(kinds.map((k) => k ?? 'unknown'))] }
}

/**
 * The legs of one fee event (a Withdraw, or a Deposit refunding part of it) of `account`:
 * `signed` is the change of its balance (negative for a withdrawal). The work share is booked
 * 'work-fee', the rest 'fee'; the counterparty leg is `@fees` (or `@dust`).
 */
export function feeLegs (account: string, signed: bigint, share: { work: number, total: number }, counterparty: string): LegInput[] {
  const work = share.total === 0 || share.work === 0 ? 0n : share.work === share.total ? signed : signed - (signed * BigInt(share.total - share.work)) / BigInt(share.total)
  const legs: LegInput[] = []
  if (work !== 0n) legs.push({ account, amountPlanck: work, reason: 'work-fee' })
  if (signed - work !== 0n || legs.length === 0) legs.push({ account, amountPlanck: signed - work, reason: 'fee' })
  legs.push({ account: counterparty, amountPlanck: -signed, reason: work === signed ? 'work-fee' : 'fee' })
  return legs
}
