/**
 * End to end, a real run on a clean storage folder: a daemon (in this process, its embedded local
 * chain with fast blocks and short contracts) on a loopback testnet, in Chromium. The user starts
 * three local seeders from the Hosting page, opens Keep online with an empty wallet (the dialog
 * explains it and gets dev tokens, and again when the price asked is more than the wallet holds),
 * keeps the vault online with one replica and follows it to hosted; the Plans page names the hoster like the local seeders card does. Once the card shows a
 * seeder earning (its status events), that seeder's dashboard (its earnings live in its own
 * ledger, under this node's folder) loads again by itself as the status events come, and shows
 * the last 24 hours: the chart's total and per-reason legend, and the per-plan table, equal to the
 * seeder's ledger read through the API. This node's
 * own ledger (the budget paid) holds at 420 px wide.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { ROOT, assertBuilt, removeDir, startTestnet, stop, type Testnet } from './daemons.js'
import { CHROMIUM_ARGS, dropFiles, row, shots, shotsAt } from './ui-helpers.js'
import { startDaemon, type Daemon } from '../../main/daemon.js'
import { formatAmount, formatAmountShort, shortAddress } from '../../renderer/src/lib/format.js'
import type { LedgerTx, LocalSeedersState } from '../../main/shared/contract.js'

const EARNING = new Set(['storage-proof', 'performance-proof', 'encoding', 'setup'])

/** A seeder's earnings by plan and by reason, from the legs of its ledger (account `address`). */
function earningsOf (txs: LedgerTx[], address: string): { byPlan: Map<number, bigint>, byReason: Map<string, bigint>, total: bigint } {
  const byPlan = new Map<number, bigint>()
  const byReason = new Map<string, bigint>()
  let total = 0n
  for (const t of txs) {
    for (const l of t.legs) {
      if (l.account !== address || !EARNING.has(l.reason)) continue
      const plan = /\bplan (\d+)\b/.exec(l.memo ?? '')
      if (plan === null) throw new Error(`an earning leg names no plan: ${JSON.stringify(l)}`)
      const a = BigInt(l.amount)
      byPlan.set(Number(plan[1]), (byPlan.get(Number(plan[1])) ?? 0n) + a)
      byReason.set(l.reason, (byReason.get(l.reason) ?? 0n) + a)
      total += a
    }
  }
  return { byPlan, byReason, total }
}

describe('local seeders host the vault and earn, and their dashboard matches their ledger', () => {
  let testnet: Testnet | undefined
  let storage: string | undefined
  let daemon: Daemon | undefined
  let browser: Browser | undefined
  let page: Page
  let url = ''
  let token = ''
  let decimals = 0
  let symbol = ''

  const call = async <T>(method: string, args: unknown = {}): Promise<T> => {
    const res = await fetch(`${new URL(url).origin}/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(args) })
    const body = await res.json() as { result?: T, error?: { message: string } }
    if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`)
    return body.result as T
  }

  beforeAll(async () => {
    assertBuilt()
    testnet = await startTestnet()
    const [host, port] = testnet.bootstrap.split(':')
    storage = await mkdtemp(join(tmpdir(), 'datdot-e2e-earn-'))
    daemon = await startDaemon({
      storage,
      bootstrap: [{ host, port: Number(port) }],
      port: 0,
      chain: 'embedded',
      embeddedChain: { blockIntervalMs: 1000, networkParams: { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 40, performanceAttestors: 3, epochBlocks: 20 } },
      staticDir: join(ROOT, 'dist', 'renderer')
    })
    url = daemon.server.url
    token = /#token=([0-9a-f]+)/.exec(url)?.[1] ?? ''
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    // generous for a loaded machine (two cores shared): about 80 s in all on a quiet one
    page.setDefaultTimeout(240_000)
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await daemon?.close()
    await stop(testnet?.child)
    await removeDir(storage)
  }, 120_000)

  it('starts three local seeders from the Hosting page of the new node', async () => {
    await page.goto(url)
    await page.getByText('is empty — drop files here').waitFor()
    await dropFiles(page, [{ name: 'photo.jpg', bytes: randomBytes(200_000) }])
    await page.locator(row('', '/photo.jpg')).waitFor()
    await page.getByRole('button', { name: 'Hosting' }).first().click()
    const card = page.getByTestId('local-seeders')
    await card.getByTestId('local-seeders-count').fill('3')
    await card.getByRole('button', { name: 'Start 3 local seeders' }).click()
    await card.getByTestId('local-seeders-summary').getByText('3 seeders on this computer').waitFor()
    expect(await card.getByTestId('local-seeder').count()).toBe(3)
  }, 300_000)

  it('explains the empty wallet in Keep online, gets dev tokens there, and follows the plan to hosted', async () => {
    await page.getByRole('button', { name: 'Vault' }).first().click()
    await page.getByTestId('keep-online').click()
    const dialog = page.getByTestId('keep-online-dialog')
    const notice = dialog.getByTestId('no-funds')
    await notice.waitFor()
    expect(await notice.innerText()).toMatch(/Your wallet has no tokens: keeping a drive online pays its price into escrow[\s\S]*This is a local dev chain: its tokens are free/)
    await shots(page, 'earn-keep-online-no-funds')
    await notice.getByTestId('no-funds-dev-tokens').click()
    await notice.waitFor({ state: 'detached' })
    const wallet = await call<{ free: string, tokenDecimals: number, tokenSymbol: string }>('getWallet')
    decimals = wallet.tokenDecimals
    symbol = wallet.tokenSymbol
    expect(BigInt(wallet.free)).toBe(10n * 10n ** BigInt(decimals))

    // 15 tokens is more than the wallet has: the quote says so, and offers dev tokens right there
    await dialog.getByTestId('ko-replicas').fill('1')
    await dialog.getByTestId('ko-days').fill('1')
    await dialog.getByTestId('ko-price').fill('15')
    await dialog.getByTestId('ko-check').click()
    await expect(dialog.getByTestId('ko-problem').innerText()).resolves.toMatch(/^Too little balance: this needs 15\.\d+ \w+ .* and the wallet has 10 \w+\. Lower the price or add tokens\.$/)
    await shots(page, 'earn-keep-online-short')
    await dialog.getByTestId('ko-dev-tokens').click()
    // the quote is made again with the new balance: nothing in the way, it can be paid
    await dialog.getByTestId('ko-pay').waitFor()
    expect(await dialog.getByTestId('ko-problem').count()).toBe(0)
    expect(BigInt((await call<{ free: string }>('getWallet')).free)).toBe(20n * 10n ** BigInt(decimals))
    await dialog.getByTestId('ko-pay').click()
    await dialog.locator('[data-testid=ko-steps][data-phase=hosted]').waitFor()
    await dialog.getByRole('button', { name: 'See it on the Plans page' }).click()

    // the Plans page names the hoster as the local seeders card does: its short ss58 address, the full one as its title
    const slot = page.locator('[data-testid=plan-card][data-phase=hosted] [data-testid=plan-slot][data-state=hosting]').first()
    const hoster = slot.getByTestId('address')
    const full = await hoster.getAttribute('title')
    const seeders = await call<LocalSeedersState>('getLocalSeeders')
    expect(seeders.seeders.map((s) => s.address)).toContain(full)
    expect(await hoster.innerText()).toBe(shortAddress(full!))
    expect(full).toMatch(/^[1-9A-HJ-NP-Za-km-z]{46,48}$/)
    await shots(page, 'earn-plans-page')
  }, 400_000)

  it('shows a seeder earning on the card, and its dashboard of the last 24 hours equals its ledger', async () => {
    await page.getByRole('button', { name: 'Hosting' }).first().click()
    const card = page.getByTestId('local-seeders')
    // the card follows the seeders' status events: wait for a row whose earnings are not 0
    const earning = card.getByTestId('local-seeder').filter({ hasNotText: /earned 0( |$)/ }).first()
    await earning.waitFor()
    const name = (await earning.locator('.name').innerText()).trim()
    await shotsAt(page, 'earn-local-seeders', 'local-seeders')
    await earning.getByTestId('local-seeder-show').click()

    const dash = page.locator(`[data-testid=dashboard][data-seeder="${name}"]`)
    await dash.getByRole('heading', { name: `Earnings and activity of ${name}` }).waitFor()
    expect(await dash.getByTestId('dash-whose').inputValue()).toBe(name)
    // this chain aggregates attestations (epochs of 20 blocks of 1 s): the page says when pay comes
    expect(await dash.getByTestId('dash-payouts').innerText()).toMatch(/^Rewards are paid once an epoch \(every 20 blocks, about [^)]+\): the next payout comes at block [\d,]+, (now|in about [^.]+)\./)
    const address = (await call<LocalSeedersState>('getLocalSeeders')).seeders.find((s) => s.name === name)!.address
    // a seeder this node does not run is refused, not answered with this node's figures
    await expect(call('getHostingDashboard', { fromMs: 0, toMs: Date.now(), seeder: 'seeder-9' })).rejects.toThrow('Not found: a seeding local seeder named seeder-9')
    await expect(call('ledgerTransactions', { seeder: 'seeder-9' })).rejects.toThrow('Not found: a seeding local seeder named seeder-9')

    // live: the seeder's status events (a proof paid, a slot) load its dashboard again by themselves
    const idle = Number(await dash.getAttribute('data-loads'))
    await expect.poll(async () => Number(await dash.getAttribute('data-loads')), { timeout: 120_000 }).toBeGreaterThan(idle)

    // earnings keep coming (a proof every few blocks) and the dashboard follows them: read the
    // ledger before a reload and after reading the page, and compare when nothing came in between
    // (every load shown was asked after the first read: an older one answering late is dropped)
    const chart = dash.getByTestId('earnings-chart')
    const rows: Locator = dash.getByTestId('plan-earnings-row')
    const readPage = async (): Promise<{ label: string | null, legend: string, plans: Map<number, string>, total: string }> => {
      const plans = new Map<number, string>()
      for (const r of await rows.all()) {
        const cells = r.locator('td')
        const plan = /^Plan #(\d+)$/.exec((await cells.first().innerText()).trim())
        expect(plan).not.toBeNull()
        plans.set(Number(plan![1]), (await cells.last().getAttribute('title')) ?? '')
      }
      return { label: await chart.getAttribute('aria-label'), legend: await dash.getByRole('list', { name: 'Earnings by reason' }).innerText(), plans, total: await dash.getByTestId('plan-earnings-total').innerText() }
    }
    let ledger: ReturnType<typeof earningsOf> | null = null
    let seen: Awaited<ReturnType<typeof readPage>> | null = null
    for (let attempt = 0; attempt < 10 && ledger === null; attempt++) {
      const before = earningsOf((await call<{ txs: LedgerTx[] }>('ledgerTransactions', { limit: 500, seeder: name })).txs, address)
      const loads = Number(await dash.getAttribute('data-loads'))
      await dash.getByTestId('range-24h').click()
      // this load answered (or a later one): older ones still in flight are dropped
      await expect.poll(async () => Number(await dash.getAttribute('data-loads')) > loads && await dash.getAttribute('aria-busy') === 'false', { timeout: 60_000 }).toBe(true)
      seen = await readPage()
      const after = earningsOf((await call<{ txs: LedgerTx[] }>('ledgerTransactions', { limit: 500, seeder: name })).txs, address)
      if (after.total === before.total) ledger = after
    }
    if (ledger === null || seen === null) throw new Error('the seeder earned during every one of 10 dashboard reads')
    expect(ledger.total).toBeGreaterThan(0n)

    // the chart: the range's total (its label) and each reason's total (its legend)
    expect(seen.label).toBe(`Earnings, last 24 hours: ${formatAmount(ledger.total.toString(), decimals, symbol)} earned, bars stacked by reason`)
    const labels: Record<string, string> = { 'storage-proof': 'Storage proofs', 'performance-proof': 'Performance', encoding: 'Encoding', setup: 'Setup' }
    for (const [reason, label] of Object.entries(labels)) {
      expect(seen.legend).toContain(`${label} ${formatAmountShort((ledger.byReason.get(reason) ?? 0n).toString(), decimals, symbol)}`)
    }

    // the per-plan table: one row per plan of the ledger, its exact amount as the cell's title
    expect(seen.plans).toEqual(new Map([...ledger.byPlan].map(([p, a]) => [p, formatAmount(a.toString(), decimals, symbol)])))
    expect(seen.total).toBe(formatAmountShort(ledger.total.toString(), decimals, symbol))
    // what the card says the seeder earned is the same ledger (all time; everything is from the last minutes)
    expect(BigInt((await call<LocalSeedersState>('getLocalSeeders')).seeders.find((s) => s.name === name)!.earned)).toBeGreaterThanOrEqual(ledger.total)
    await shotsAt(page, 'earn-seeder-dashboard', 'dashboard')
    // only the page scrolls, never the whole window (the nav stays in place) when a long page's
    // part is scrolled into view, at any width
    for (const [width, height] of [[1400, 900], [420, 800]]) {
      await page.setViewportSize({ width, height })
      await page.getByTestId('plan-earnings').first().evaluate((el) => { (el as unknown as { scrollIntoView: () => void }).scrollIntoView() })
      const doc = await page.evaluate(() => {
        const se = (globalThis as unknown as { document: { scrollingElement: { scrollTop: number, scrollHeight: number, clientHeight: number } } }).document.scrollingElement
        return { top: se.scrollTop, height: se.scrollHeight, window: se.clientHeight }
      })
      expect(doc, `the window scrolled at ${width} px`).toEqual({ top: 0, height: height, window: height })
    }
    await page.setViewportSize({ width: 1400, height: 900 })
    await shotsAt(page, 'earn-seeder-plans', 'plan-earnings')

    // back to this node: the sponsor earned nothing, its ledger shows the budget paid into escrow
    await dash.getByTestId('dash-whose').selectOption('')
    await page.locator('[data-testid=dashboard][data-seeder=""]').getByRole('heading', { name: 'Earnings and activity', exact: true }).waitFor()
    await page.getByTestId('ledger').locator('[data-testid=ledger-row][data-reason=budget]').first().waitFor()
    await shotsAt(page, 'earn-ledger', 'ledger')
    // the ledger holds at a phone's width: every row's net is shown whole inside the table's card
    await page.setViewportSize({ width: 420, height: 800 })
    const card420 = await page.getByTestId('ledger').boundingBox()
    const nets = page.getByTestId('ledger').getByTestId('ledger-net')
    expect(await nets.count()).toBeGreaterThanOrEqual(3)
    for (const net of await nets.all()) {
      const box = await net.boundingBox()
      expect(box !== null && box.width > 0 && box.x >= card420!.x && box.x + box.width <= card420!.x + card420!.width, `a net cell at ${JSON.stringify(box)}, the card at ${JSON.stringify(card420)}`).toBe(true)
    }
    await page.setViewportSize({ width: 1400, height: 900 })
  }, 300_000)
})
