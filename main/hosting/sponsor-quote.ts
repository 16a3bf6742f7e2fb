/**
 * The price of keeping a drive online before paying for it ("Keep online"): what a plan for the
 * request would hold (sponsor.ts prepare), the chain fee of its publish extrinsic (@polkadot/api
 * paymentInfo, through ChainService.estimateFee), this account's balance, and the figures people
 * decide on: the total leaving the wallet, the price per GiB-month, the balance after. Amounts in
 * the smallest unit, as bigint (quoteFigures is pure and exact). A request that would be refused
 * (too few providers, too little balance) still gets its figures, with `problem` saying why.
 */
import { DatdotError } from '../shared/errors.js'
import { formatTokens } from '../shared/tokens.js'
import { precheck, requireNetwork } from '../chain/prechecks.js'
import type { ChainService } from '../chain/service.js'
import type { MarketRecord } from '../chain/records.js'
import type { PreparedPlan, SponsorRequest } from './sponsor.js'
import { BLOCKS_PER_DAY } from './config.js'

const GIB = 1024n ** 3n
/** The month of "per GiB-month": 30 days. */
const MONTH_DAYS = 30n

export interface QuoteInput {
  sizeBytes: number
  days: number
  pricePlanck: bigint
  feePlanck: bigint
  balancePlanck: bigint
}

export interface QuoteFigures {
  /** Budget into escrow + the chain fee: what leaves the wallet. */
  totalPlanck: bigint
  /** The budget per GiB of the drive per 30 days (every replica included), rounded up. */
  perGiBMonthPlanck: bigint
  /** The free balance after paying (negative: it cannot pay). */
  balanceAfterPlanck: bigint
}

/** The figures of a quote, exact: per GiB-month = price * GiB * 30 / (bytes * days), rounded up. */
export function quoteFigures (q: QuoteInput): QuoteFigures {
  const bytes = BigInt(Math.max(1, Math.ceil(q.sizeBytes)))
  const num = q.pricePlanck * GIB * MONTH_DAYS
  const den = bytes * BigInt(q.days)
  const totalPlanck = q.pricePlanck + q.feePlanck
  return { totalPlanck, perGiBMonthPlanck: (num + den - 1n) / den, balanceAfterPlanck: q.balancePlanck - totalPlanck }
}

export interface Quote {
  sizeBytes: number
  totalPlanck: bigint
  perGiBMonthPlanck: bigint
  feePlanck: bigint
  balancePlanck: bigint
  balanceAfterPlanck: bigint
  /** Why paying would be refused (too few providers, too little balance), or null. */
  problem: string | null
}

export interface QuoteDeps {
  sponsor: { prepare: (req: SponsorRequest) => Promise<PreparedPlan> }
  chain: Pick<ChainService, 'market' | 'addressHex' | 'estimateFee' | 'wallet' | 'api'>
}

/** The quote of a sponsor request. Malformed input (a price of 0, days or replicas out of range) is INVALID_ARGUMENT. */
export async function quoteSponsor (deps: QuoteDeps, req: SponsorRequest): Promise<Quote> {
  const { chain } = deps
  const prepared = await deps.sponsor.prepare(req)
  const net = requireNetwork(chain.market)
  const rec: MarketRecord = { kind: 'publish', drives: prepared.drives, replicas: req.replicas, durationBlocks: req.days * BLOCKS_PER_DAY, budgetPlanck: req.pricePlanck }
  let problem: string | null = null
  try {
    precheck(chain.market, chain.addressHex, rec)
  } catch (err) {
    const e = DatdotError.from(err)
    if (e.code === 'CHAIN_ERROR' || e.code === 'INTERNAL') throw e
    problem = e.message
  }
  const [feePlanck, wallet] = await Promise.all([chain.estimateFee(rec, [{ to: net.escrow, amountPlanck: req.pricePlanck }]), chain.wallet()])
  const balancePlanck = BigInt(wallet.free)
  const figures = quoteFigures({ sizeBytes: prepared.sizeBytes, days: req.days, pricePlanck: req.pricePlanck, feePlanck, balancePlanck })
  const ed = chain.api.consts.balances.existentialDeposit.toBigInt()
  if (problem === null && figures.balanceAfterPlanck < ed) {
    const t = (p: bigint): string => `${formatTokens(p, wallet.tokenDecimals)} ${wallet.tokenSymbol}`
    problem = `too little balance: this needs ${t(figures.totalPlanck + ed)} (budget, fee and ${t(ed)} that stays in the account) and the wallet has ${t(balancePlanck)}. Lower the price or add tokens`
  }
  return { sizeBytes: prepared.sizeBytes, feePlanck, balancePlanck, ...figures, problem }
}
