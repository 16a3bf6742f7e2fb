/**
 * End to end: the seeder dashboard on the Hosting page of a daemon with its embedded chain, in
 * Chromium. A month of metrics is written into the daemon's database before it starts, through
 * the engine's MetricsStore (back-dated samples: the store clamps a sample older than its newest,
 * so they must come before the daemon's own sampler). The daemon registers as a seeder on its
 * chain (dev tokens, setSeeding), so its sampler adds the reputation on chain; then a month of
 * payouts is added as ledger rows of an applied block (memos naming plans, like the chain's payout
 * legs), while it runs. The page must draw the charts (canvas), switch ranges (buttons, keyboard,
 * custom dates), and show the per-plan table adding up to the total.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { join } from 'node:path'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { chromium, type Browser, type Page } from 'playwright-core'
import { assertBuilt, removeDir, startDaemon, startTestnet, stop, type DaemonProc, type Testnet } from './daemons.js'
import { CHROMIUM_ARGS, shotsAt } from './ui-helpers.js'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { MetricsStore } from '../../main/shared/metrics-store.js'
import { METRIC_SERIES } from '../../main/hosting/metrics.js'

const HOUR = 3_600_000
const DAY = 86_400_000
const UNIT = 10n ** 12n

/** A month of earnings: every 6 hours a storage proof and a performance payment, some encoding and setup; plans 3 and 5. */
function seedLedger (db: Db, account: string, now: number): bigint {
  const cur = db.prepare("SELECT number, hash FROM ledger_blocks WHERE kind = 'apply' ORDER BY id DESC LIMIT 1").get() as { number: number, hash: string }
  const insTx = db.prepare('INSERT INTO ledger_tx (key, reason, block_number, block_hash, time_ms, memo) VALUES (?, ?, ?, ?, ?, ?)')
  const insEntry = db.prepare('INSERT INTO ledger_entries (tx_id, key, account, amount, reason, block_number, block_hash, time_ms, memo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
  let total = 0n
  let item = 0
  const pay = (timeMs: number, reason: string, amount: bigint, plan: number): void => {
    const key = `e2e-seed:${++item}`
    const memo = `item ${item} plan ${plan}`
    const tx = Number(insTx.run(key, reason, cur.number, cur.hash, timeMs, memo).lastInsertRowid)
    insEntry.run(tx, `${key}:0`, '@e2e-escrow', (-amount).toString(), reason, cur.number, cur.hash, timeMs, memo)
    insEntry.run(tx, `${key}:1`, account, amount.toString(), reason, cur.number, cur.hash, timeMs, memo)
    total += amount
  }
  db.transaction(() => {
    for (let t = now - 29 * DAY; t < now - HOUR; t += 6 * HOUR) {
      const k = BigInt(Math.floor((t - now) / DAY) + 31)
      pay(t, 'storage-proof', (UNIT * 6n * k) / 100n, 3)
      pay(t + HOUR, 'performance-proof', (UNIT * 2n * k) / 100n, k % 3n === 0n ? 5 : 3)
    }
    for (let d = 28; d >= 20; d -= 4) {
      pay(now - d * DAY, 'encoding', UNIT / 4n, 5)
      pay(now - d * DAY + HOUR, 'setup', UNIT / 10n, 5)
    }
  })()
  return total
}

/** Hourly samples of the last 30 days, minute samples of the last two hours (oldest first, through the engine's store). */
function seedMetrics (db: Db, now: number): void {
  const store = new MetricsStore(db)
  const sample = (t: number, i: number, share = 1): void => {
    store.record(METRIC_SERIES.used, 'gauge', Math.min(40, 1 + i / 20) * 1024 ** 3, t)
    store.record(METRIC_SERIES.served, 'sum', Math.round((200 + 150 * Math.sin(i / 8)) * 1024 ** 2 * share), t)
    // around the starting 500 (the chain's figure when the daemon registers), with a penalty now and then
    store.record(METRIC_SERIES.reputation, 'gauge', 500 + Math.round(60 * Math.sin(i / 90)) - (i % 97 < 12 ? 30 : 0), t)
  }
  let i = 0
  for (let t = now - 30 * DAY; t < now - 2 * HOUR; t += HOUR) sample(t, i++)
  for (let t = now - 2 * HOUR; t < now - 5 * 60_000; t += 60_000) sample(t, i, 1 / 60)
}

const SHOTS = process.env.DATDOT_E2E_SCREENSHOTS

describe('the seeder dashboard of a node that hosts', () => {
  let testnet: Testnet | undefined
  let d: DaemonProc | undefined
  let browser: Browser | undefined
  let page: Page
  let seededTotal = 0n

  const call = async (method: string, args: unknown): Promise<unknown> => {
    const res = await fetch(`${d!.origin}/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${d!.token}` }, body: JSON.stringify(args) })
    const body = await res.json() as { result?: unknown, error?: { message: string } }
    if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`)
    return body.result
  }

  beforeAll(async () => {
    assertBuilt()
    testnet = await startTestnet()
    const storage = await mkdtemp(join(tmpdir(), 'datdot-e2e-'))
    const before = openDatabase(join(storage, 'datdot.db'))
    try { seedMetrics(before, Date.now()) } finally { before.close() }
    d = await startDaemon(testnet.bootstrap, { chain: 'embedded', storage })
    const wallet = await call('getWallet', {}) as { address: string, tokenDecimals: number }
    await call('requestDevTokens', { amount: (10n * 10n ** BigInt(wallet.tokenDecimals)).toString() })
    await call('setSeeding', { on: true, storageBytes: 64 * 1024 ** 3, bandwidthBps: 1_250_000, region: 'eu' })
    const db = openDatabase(join(d.storage, 'datdot.db'))
    try {
      seededTotal = seedLedger(db, wallet.address, Date.now())
    } finally {
      db.close()
    }
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    page.setDefaultTimeout(120_000)
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await stop(d?.child)
    await stop(testnet?.child)
    await removeDir(d?.storage)
  })

  it('draws the earnings and metrics charts and lists the plans, adding up to the total', async () => {
    await page.goto(d!.url)
    await page.getByRole('button', { name: 'Hosting' }).first().click()
    const dash = page.getByTestId('dashboard')
    await dash.getByTestId('plan-earnings').waitFor()
    expect(await dash.getByTestId('earnings-chart').locator('canvas').count()).toBe(1)
    expect(await dash.getByTestId('metrics-chart').locator('canvas').count()).toBe(1)
    expect(await dash.getByTestId('reputation-chart').locator('canvas').count()).toBe(1)
    await expect(dash.getByTestId('range-30d').getAttribute('aria-pressed')).resolves.toBe('true')
    const rows = await dash.getByTestId('plan-earnings-row').allInnerTexts()
    expect(rows.map((r) => r.split('\t')[0])).toEqual(['Plan #3', 'Plan #5'])
    // the seeded month, in whole tokens with the chain's decimals, equals the table's total
    const r = await call('getHostingDashboard', { fromMs: Date.now() - 30 * DAY, toMs: Date.now() + 1 }) as { total: string, byPlan: Array<{ total: string }> }
    expect(BigInt(r.total)).toBe(seededTotal)
    expect(r.byPlan.reduce((a, p) => a + BigInt(p.total), 0n)).toBe(seededTotal)
    expect(await dash.getByTestId('plan-earnings-total').innerText()).toBe(await dash.getByTestId('dash-total').innerText())
    await expect(dash.getByTestId('dash-reputation').innerText()).resolves.toBe('500')
    // the upload now against the seeder's limit (1 250 000 B/s)
    await expect(dash.getByTestId('upload-rate').innerText().then((t) => t.replace(/\s+/g, ' ').trim())).resolves.toMatch(/^Upload \d[\d.]* (B|KiB|MiB)\/s of 1\.2 MiB\/s limit/)
    await shotsAt(page, 'dashboard-upload', 'upload-rate')
    await shotsAt(page, 'dashboard-30d', 'dashboard')
    // pointing at a bar shows that bucket's figures in the legend
    await dash.getByTestId('earnings-chart').hover()
    await dash.locator('.legend .when').waitFor()
    if (SHOTS !== undefined) await page.screenshot({ path: join(SHOTS, 'dashboard-hover.png') })
    await page.mouse.move(0, 0)
    await shotsAt(page, 'dashboard-30d-plans', 'plan-earnings')
    await shotsAt(page, 'dashboard-30d-metrics', 'metrics-chart')
  }, 180_000)

  it('switches ranges with the buttons and the keyboard, and takes custom dates', async () => {
    const dash = page.getByTestId('dashboard')
    const total30 = await dash.getByTestId('dash-total').innerText()
    await dash.getByTestId('range-24h').click()
    await expect(dash.getByTestId('range-24h').getAttribute('aria-pressed')).resolves.toBe('true')
    await expect.poll(async () => await dash.getByTestId('dash-total').innerText()).not.toBe(total30)
    expect(await dash.getByTestId('earnings-chart').locator('canvas').count()).toBe(1)
    await shotsAt(page, 'dashboard-24h', 'dashboard')
    // keyboard: focus the 7 d button and press Enter
    await dash.getByTestId('range-7d').focus()
    await page.keyboard.press('Enter')
    await expect.poll(async () => await dash.getByTestId('range-7d').getAttribute('aria-pressed')).toBe('true')
    await dash.getByTestId('range-all').click()
    await expect.poll(async () => await dash.getByTestId('dash-total').innerText()).toBe(total30)
    await shotsAt(page, 'dashboard-all', 'earnings-chart')
    // custom dates: the end before the start is refused with a message
    const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10)
    await dash.getByTestId('range-from').fill(day(Date.now() - 2 * DAY))
    await dash.getByTestId('range-to').fill(day(Date.now() - 10 * DAY))
    await dash.getByTestId('range-custom').click()
    await dash.getByRole('alert').waitFor()
    await dash.getByTestId('range-to').fill(day(Date.now()))
    await dash.getByTestId('range-custom').click()
    await expect.poll(async () => await dash.getByTestId('range-custom').getAttribute('aria-pressed')).toBe('true')
    expect(await dash.getByRole('alert').count()).toBe(0)
    await dash.getByTestId('range-30d').click()
    await dash.getByTestId('plan-earnings').waitFor()
    await shotsAt(page, 'dashboard-reputation', 'reputation-chart')
  }, 180_000)
})
