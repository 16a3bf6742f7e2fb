/**
 * The hosting network's economics with real fees (issue 12, item 4). Fees come from the real
 * Asset Hub runtime of the embedded chain (`paymentInfo` of the extrinsics a node really sends:
 * report batches, payouts, and the `epoch-report` aggregates of issue 12 item 3 as the record
 * codec encodes them, sent by the epoch's committee of attestors (committee.ts committeeSize), with
 * one payout an epoch of the merged owed items); rewards and
 * volumes from the marketplace's own constants (MARKET_PARAMS, DEFAULT_NETWORK_PARAMS,
 * LOCAL_FUNDS). For 1 GiB, 100 GiB and 10 TiB hosted at the defaults it prints transactions,
 * fees and rewards per day, fee/reward (target <= 5%), and the sponsor's cost per GiB-month
 * against Storj's and Sia's prices (inputs: pass today's prices, --storj-usd-tb-month and
 * --sia-usd-tb-month; the token's price is not assumed, the break-even price is printed).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/economics.js [--providers N]
 *
 * Prints figures, never pass/fail.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Keyring } from '@polkadot/keyring'
import { u8aToHex } from '@polkadot/util'
import type { ApiPromise } from '@polkadot/api'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import type { KeyringPair } from '@polkadot/keyring/types'
import { LocalChain, FAUCET_URI, DEFAULT_NETWORK_PARAMS, LOCAL_FUNDS, PUBLIC_EPOCH_BLOCKS } from '../main/chain/local-chain.js'
import { createApi } from '../main/chain/connect.js'
import { buildRecordsTx } from '../main/chain/submitter.js'
import { encodeRecord, RECORD_LIMITS, type MarketRecord } from '../main/chain/records.js'
import { MARKET_PARAMS } from '../main/chain/market-types.js'
import { BLOCKS_PER_DAY } from '../main/hosting/config.js'
import { PAYOUT_ITEMS, buildPayoutCall } from '../main/chain/operator.js'
import { committeeSize } from '../main/chain/committee.js'

function arg (name: string, def: number): number {
  const i = process.argv.indexOf(name)
  return i === -1 ? def : Number(process.argv[i + 1])
}

/** Providers sharing the work (each sends its own aggregated records in the aggregated model). */
const PROVIDERS = arg('--providers', 100)
/** Published prices to compare with, USD per TB (10^12 bytes) and month: inputs, not measurements. */
const STORJ_USD_TB_MONTH = arg('--storj-usd-tb-month', 4)
const SIA_USD_TB_MONTH = arg('--sia-usd-tb-month', 2)
const REPLICAS = 3
const GIB = 1024 ** 3
const TB = 1e12
const DECIMALS = 12
const params = DEFAULT_NETWORK_PARAMS
const units = MARKET_PARAMS.units
const unitPlanck = Number(LOCAL_FUNDS.unitPricePlanck)
const contractBytes = params.chunksPerContract * MARKET_PARAMS.chunkBytes
const intervalsPerDay = BLOCKS_PER_DAY / params.challengeIntervalBlocks

interface Fees {
  /** One storage report alone, and per report in a batch of recordsPerAction. */
  reportAlone: number
  reportInBatch: number
  /** A payout of one transfer, and per transfer in a payout of 64 (multisig threshold 1). */
  payoutAlone: number
  payoutPerTransfer: number
  /** Fee of one extrinsic carrying these epoch-report records (batched as the submitter does). */
  aggregate: (records: Uint8Array[]) => Promise<number>
  /** A payout of `items` owed items to `payees` payees. */
  payout: (items: number, payees: number) => Promise<number>
}

const tokens = (planck: number): string => (planck / 10 ** DECIMALS).toPrecision(3)
const pct = (x: number): string => `${(x * 100).toPrecision(3)}%`
const count = (n: number): string => Math.round(n).toLocaleString('en-US')

function storageReport (i: number): MarketRecord {
  return { kind: 'storage-report', challengeId: 1_000_000 + i, ok: true, reason: 'NONE' }
}

async function measureFees (api: ApiPromise, payer: KeyringPair, operators: KeyringPair[]): Promise<Fees> {
  const fee = async (tx: SubmittableExtrinsic<'promise'>): Promise<number> => Number((await tx.paymentInfo(payer)).partialFee.toBigInt())
  const address = (pair: KeyringPair): string => u8aToHex(pair.publicKey)
  const fmt = (hex: string): string => api.createType('AccountId', hex).toString()
  const reports = (n: number): SubmittableExtrinsic<'promise'> => buildRecordsTx(api, fmt, Array.from({ length: n }, (_x, i) => ({ bytes: encodeRecord(storageReport(i)), transfers: [] })))
  // n payees (distinct accounts), as the operator's payout of `items` owed items (default one each) to n providers.
  const payout = (n: number, items = n): SubmittableExtrinsic<'promise'> => {
    const sums = new Map(Array.from({ length: n }, (_x, i) => [u8aToHex(randomBytes(32)), 1_000_000n + BigInt(i)]))
    const call = buildPayoutCall(api, fmt, Array.from({ length: items }, (_x, i) => i + 1), sums)
    return api.tx.multisig.asMultiThreshold1(operators.slice(1).map((p) => fmt(address(p))), call)
  }
  const batch = MARKET_PARAMS.recordsPerAction
  return {
    reportAlone: await fee(reports(1)),
    reportInBatch: await fee(reports(batch)) / batch,
    payoutAlone: await fee(payout(1)),
    payoutPerTransfer: await fee(payout(64)) / 64,
    aggregate: async (records) => await fee(api.tx.utility.batchAll(records.map((r) => api.tx.system.remarkWithEvent(u8aToHex(r))))),
    payout: async (items, payees) => await fee(payout(payees, items))
  }
}

interface Volume { name: string, bytes: number }

/** Per day for `v` hosted with REPLICAS copies: reports, report fees (alone / batched), payouts, rewards. */
function perDay (v: Volume, f: Fees): { slots: number, reports: number, rewardPlanck: number, feesAlone: number, feesBatched: number, payoutFees: number, setupPlanck: number } {
  const contracts = Math.ceil(v.bytes / contractBytes)
  const slots = contracts * REPLICAS
  const checks = slots * intervalsPerDay
  // Each check: one storage report, performanceAttestors performance reports.
  const reports = checks * (1 + params.performanceAttestors)
  // Hoster: storage proof and the best performance grade; attestors: challengeAttest per report.
  const rewardUnits = checks * (Number(units.storageProof) + Number(units.performanceMax) + Number(units.challengeAttest) * (1 + params.performanceAttestors))
  // Every reward is an owed item: hoster's two and one per report; paid PAYOUT_ITEMS at a time.
  const items = checks * 2 + reports
  const payouts = items / PAYOUT_ITEMS
  const transfersPerPayout = Math.min(PAYOUT_ITEMS, 64)
  const payoutFees = payouts * (f.payoutAlone + f.payoutPerTransfer * transfersPerPayout)
  const setupUnits = slots * (Number(units.encoding) * params.chunksPerContract + Number(units.setupAttest))
  return {
    slots,
    reports,
    rewardPlanck: rewardUnits * unitPlanck,
    feesAlone: reports * f.reportAlone,
    feesBatched: reports * f.reportInBatch,
    payoutFees,
    setupPlanck: setupUnits * unitPlanck
  }
}

/** Epochs compared (hours): the embedded chain's (DEFAULT_NETWORK_PARAMS.epochBlocks), 6 h and a public network's (PUBLIC_EPOCH_BLOCKS), at 6 s blocks. */
const DEFAULT_EPOCH_H = ((params.epochBlocks ?? 0) * 6) / 3600
const EPOCH_HOURS = [...new Set([DEFAULT_EPOCH_H, 6, (PUBLIC_EPOCH_BLOCKS * 6) / 3600])].filter((h) => h > 0)

interface Aggregated { senders: number, checks: number, parts: number, recordBytes: number, graded: number, txFee: number, items: number, payouts: number, payoutFee: number, txPerDay: number, feesPerDay: number }

/**
 * One epoch of `epochH` hours on the aggregated protocol: each attestor's checks of the epoch in
 * epoch-report records built and encoded by the record codec (every check passed: no failed
 * offsets; one grade per distinct hoster among its performance passes of the part, counted as
 * min(hosters other than itself, its performance passes, aggregateGradesMax): an upper bound, so
 * the largest record), sent in one extrinsic a part batch; then one payout an epoch of the owed
 * items as the state machine merges them (one per payee, plan and reason), at most PAYOUT_ITEMS
 * items and 64 transfers a payout.
 */
async function aggregated (v: Volume, d: ReturnType<typeof perDay>, f: Fees, epochH: number): Promise<Aggregated> {
  const gib = v.bytes / GIB
  const plans = Math.max(1, Math.ceil(gib))
  const assignments = d.slots * intervalsPerDay * (1 + params.performanceAttestors) * epochH / 24
  // the epoch's committee (main/chain/committee.ts): the attestors that send an aggregate
  const senders = Math.min(Math.ceil(assignments), committeeSize(d.slots, { ...params, epochBlocks: epochH * 3600 / 6 }, PROVIDERS))
  const checks = Math.ceil(assignments / senders)
  const touched = Math.min(plans, checks)
  const hosters = Math.min(PROVIDERS, d.slots)
  const perfShare = params.performanceAttestors / (1 + params.performanceAttestors)
  const records: Uint8Array[] = []
  for (let from = 0; from < checks; from += RECORD_LIMITS.aggregateChecksMax) {
    const count = Math.min(RECORD_LIMITS.aggregateChecksMax, checks - from)
    const graded = Math.min(Math.max(1, hosters - 1), Math.round(count * perfShare), RECORD_LIMITS.aggregateGradesMax)
    records.push(encodeRecord({ kind: 'epoch-report', epoch: 1_000, from, count, failed: [], grades: Array<number>(graded).fill(30), rootHex: 'ab'.repeat(32) }))
  }
  const perTx = MARKET_PARAMS.recordsPerAction
  let txFee = 0
  for (let i = 0; i < records.length; i += perTx) txFee += await f.aggregate(records.slice(i, i + perTx))
  // owed items an epoch: each attestor two (storage-proof, performance-proof) per plan it touched; each hoster two per plan it hosts
  const items = senders * touched * 2 + hosters * Math.min(plans, Math.ceil(d.slots / hosters)) * 2
  const payees = Math.min(PROVIDERS, senders + hosters)
  const payouts = Math.max(Math.ceil(items / PAYOUT_ITEMS), Math.ceil(payees / 64))
  const payoutFee = await f.payout(Math.min(items, PAYOUT_ITEMS), Math.min(64, Math.ceil(payees / payouts)))
  const epochsPerDay = 24 / epochH
  const txPerDay = epochsPerDay * (senders * Math.ceil(records.length / perTx) + payouts)
  const feesPerDay = epochsPerDay * (senders * txFee + payouts * payoutFee)
  return { senders, checks, parts: records.length, recordBytes: Math.max(...records.map((r) => r.length)), graded: Math.min(Math.max(1, hosters - 1), Math.round(checks * perfShare)), txFee, items, payouts, payoutFee, txPerDay, feesPerDay }
}

async function main (): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'datdot-bench-econ-'))
  const chain = await LocalChain.open({ dir: join(dir, 'chain'), blockIntervalMs: 0 })
  const api = await createApi(chain.provider)
  await api.isReady
  try {
    const keyring = new Keyring({ type: 'sr25519' })
    const payer = keyring.addFromUri(FAUCET_URI)
    const f = await measureFees(api, payer, chain.keys.operators)
    const symbol = api.registry.chainTokens[0] ?? 'token'
    console.log(`economics: fees from the embedded Asset Hub runtime (${symbol}, paymentInfo), rewards from MARKET_PARAMS at ${unitPlanck} planck a unit`)
    console.log(`  a storage report alone ${tokens(f.reportAlone)} ${symbol}; in a batch of ${MARKET_PARAMS.recordsPerAction}: ${tokens(f.reportInBatch)} each`)
    console.log(`  a payout of one transfer ${tokens(f.payoutAlone)}; per transfer in a payout of 64: ${tokens(f.payoutPerTransfer)}`)
    console.log(`  rewards per check of a slot: hoster ${Number(units.storageProof) + Number(units.performanceMax)} units, attestors ${Number(units.challengeAttest) * (1 + params.performanceAttestors)} units = ${tokens((Number(units.storageProof) + Number(units.performanceMax) + Number(units.challengeAttest) * (1 + params.performanceAttestors)) * unitPlanck)} ${symbol}; a proof's reward / a lone report's fee = ${(Number(units.storageProof) * unitPlanck / f.reportAlone).toPrecision(3)}`)
    console.log(`  defaults: contracts of ${contractBytes / 2 ** 20} MiB, ${REPLICAS} replicas, ${intervalsPerDay} checks a slot a day (storage + ${params.performanceAttestors} performance reports each)`)
    const volumes: Volume[] = [{ name: '1 GiB', bytes: GIB }, { name: '100 GiB', bytes: 100 * GIB }, { name: '10 TiB', bytes: 10 * 1024 * GIB }]
    for (const v of volumes) {
      const d = perDay(v, f)
      const gib = v.bytes / GIB
      console.log(`\n  ${v.name} hosted (${count(d.slots)} slots): ${count(d.reports)} reports a day`)
      console.log(`    rewards ${tokens(d.rewardPlanck)} ${symbol}/day; payout fees ${tokens(d.payoutFees)}/day`)
      console.log(`    today, one report an extrinsic: ${count(d.reports)} tx/day, fees ${tokens(d.feesAlone)}/day, fee/reward ${pct((d.feesAlone + d.payoutFees) / d.rewardPlanck)}`)
      console.log(`    batched ${MARKET_PARAMS.recordsPerAction} a tx (best case): ${count(d.reports / MARKET_PARAMS.recordsPerAction)} tx/day, fees ${tokens(d.feesBatched)}/day, fee/reward ${pct((d.feesBatched + d.payoutFees) / d.rewardPlanck)}`)
      for (const epochH of EPOCH_HOURS) {
        const a = await aggregated(v, d, f, epochH)
        const mark = epochH === DEFAULT_EPOCH_H ? ' (the default epoch)' : ''
        console.log(`    aggregated, epochs of ${epochH} h${mark}: ${count(a.senders)} attestors each send ${count(a.checks)} checks an epoch (${count(a.graded)} hosters graded) in ${a.parts} epoch-report record(s) of ${a.recordBytes} bytes (encoded), one extrinsic ${tokens(a.txFee)} ${symbol}; ${count(a.payouts)} payout(s) an epoch of ${count(a.items)} merged owed items, ${tokens(a.payoutFee)} each`)
        console.log(`      ${count(a.txPerDay)} tx/day, fees ${tokens(a.feesPerDay)}/day (${tokens(a.feesPerDay * 30 / gib)} per GiB-month), fee/reward ${pct(a.feesPerDay / d.rewardPlanck)}`)
      }
      const monthPlanck = d.rewardPlanck * 30 / gib
      const setupMonthPlanck = d.setupPlanck / gib
      const usdPerTokenAt = (usdTbMonth: number): number => usdTbMonth * (GIB / TB) / (monthPlanck / 10 ** DECIMALS)
      console.log(`    sponsor: ${tokens(monthPlanck)} ${symbol} per GiB-month running, plus ${tokens(setupMonthPlanck)} once per GiB for encoding; the same as Storj at $${STORJ_USD_TB_MONTH}/TB-month when a token is worth $${usdPerTokenAt(STORJ_USD_TB_MONTH).toPrecision(3)}, as Sia at $${SIA_USD_TB_MONTH}/TB-month at $${usdPerTokenAt(SIA_USD_TB_MONTH).toPrecision(3)}`)
    }
  } finally {
    await api.disconnect()
    await chain.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
