/**
 * Applies one action (one extrinsic's DatDot records and transfers) of a block: limits, decoding,
 * one handler per record kind (a dispatch table), rejects counted with their reason, value no
 * valid record claims accounted as unattributed, providers below the reputation floor dropped
 * after each record.
 */
import { decodeRecord, isDatdotRemark } from './records.js'
import type { MarketRecord, RecordKind } from './record-types.js'
import { MARKET_PARAMS, type Action, type ActionOutcome, type MarketState, type RejectReason } from './market-types.js'
import { Reject, reject, type Ctx } from './market-context.js'
import { accountUnclaimed } from './accounting.js'
import { applyFloorDrops } from './reputation.js'
import { network, pause, register, unpause, unregister } from './provider-records.js'
import { extend, publish, unpublish, update } from './plan-records.js'
import { performanceReport, setupReport, storageReport } from './report-records.js'
import { payout } from './payout-record.js'
import { schedule } from './schedule.js'
import { epochReport } from './epoch-records.js'

type Handler<R extends MarketRecord> = (ctx: Ctx, action: Action, rec: R, res: ActionOutcome) => string

/** The handler of each record kind but `network` (which comes before any other). */
const HANDLERS: { [K in Exclude<RecordKind, 'network'>]: Handler<Extract<MarketRecord, { kind: K }>> } = {
  register,
  unregister: (ctx, action) => unregister(ctx, action),
  pause,
  unpause: (ctx, action) => unpause(ctx, action),
  schedule,
  publish,
  unpublish,
  update,
  extend,
  'setup-report': (ctx, action, rec) => setupReport(ctx, action.signer, rec),
  'storage-report': (ctx, action, rec) => storageReport(ctx, action.signer, rec),
  'performance-report': (ctx, action, rec) => performanceReport(ctx, action.signer, rec),
  payout,
  'epoch-report': (ctx, action, rec) => epochReport(ctx, action.signer, rec)
}

/** The only kinds whose action may move value (with exactly one record). */
const MOVES_VALUE = new Set<RecordKind>(['publish', 'update', 'extend', 'payout'])

function count (state: MarketState, why: RejectReason): void {
  state.counters.rejected[why] = (state.counters.rejected[why] ?? 0) + 1
}

export function applyAction (ctx: Ctx, action: Action): ActionOutcome {
  const { state } = ctx
  const res: ActionOutcome = { index: action.index, signer: action.signer, applied: [], rejected: [], records: [], transferLegs: action.transfers.map(() => []) }
  const fail = (why: RejectReason, detail: string): void => { res.rejected.push({ why, detail }); count(state, why) }
  const remarks = action.remarks.filter(isDatdotRemark)
  const failAll = (why: RejectReason, detail: string): void => {
    fail(why, detail)
    for (let i = 0; i < remarks.length; i++) res.records.push({ ok: false, why, detail })
  }

  // Decide what the value of this action is for; anything not claimed by a valid record is
  // accounted as unattributed (in) or unaccounted (out) so escrow conservation stays exact.
  let valueClaimed = false
  if (remarks.length > MARKET_PARAMS.recordsPerAction || action.transfers.length > MARKET_PARAMS.transfersPerAction) {
    failAll('over-limits', `${remarks.length} records, ${action.transfers.length} transfers`)
  } else if (action.transfers.length > 0 && remarks.length !== 1) {
    if (remarks.length > 1) failAll('bad-value', 'value moved with more than one record')
  } else {
    for (const bytes of remarks) {
      const dec = decodeRecord(bytes)
      if (!dec.ok) {
        const why: RejectReason = dec.why === 'unknown-version' ? 'unknown-version' : 'malformed'
        fail(why, dec.why)
        res.records.push({ ok: false, why, detail: dec.why })
        continue
      }
      try {
        const ref = applyRecord(ctx, action, dec.record, res)
        res.applied.push({ kind: dec.record.kind, ref })
        res.records.push({ ok: true, kind: dec.record.kind, ref })
        state.counters.applied++
        if (action.transfers.length > 0) valueClaimed = true
      } catch (err) {
        if (err instanceof Reject) {
          fail(err.why, err.detail)
          res.records.push({ ok: false, why: err.why, detail: err.detail })
        } else throw err
      }
      applyFloorDrops(ctx)
    }
  }
  if (!valueClaimed) accountUnclaimed(state, action, res)
  return res
}

/** Applies one decoded record; returns its ref, or throws Reject (the record changes nothing then). */
function applyRecord (ctx: Ctx, action: Action, rec: MarketRecord, res: ActionOutcome): string {
  if (rec.kind === 'network') return network(ctx, action, rec)
  if (ctx.state.network === null) reject('no-network', 'no network record yet')
  if (!MOVES_VALUE.has(rec.kind) && action.transfers.length > 0) reject('bad-value', `${rec.kind} moves no value`)
  const handle = HANDLERS[rec.kind] as Handler<MarketRecord>
  return handle(ctx, action, rec, res)
}
