/**
 * End to end, a daemon with its embedded chain (the real engine, state made through its API):
 * honest money and honest state on the Hosting page. The ledger reads as transactions (what,
 * account, counterparty, net) with the double-entry legs behind a detail view; a disk limit above
 * the free space is refused, typed or sent; seeding's fees show as a loss in words when nothing
 * was earned yet; pausing networking while seeding raises an alert; the jobs section is there.
 * Screenshots (DATDOT_E2E_SCREENSHOTS) of each state.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { join } from 'node:path'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { assertBuilt, removeDir, startDaemon, startTestnet, stop, type DaemonProc, type Testnet } from './daemons.js'
import { CHROMIUM_ARGS } from './ui-helpers.js'

/** Screenshots at the three sizes with `target` scrolled into view (the state shown may be below the fold). */
async function shotsOf (page: Page, name: string, target: Locator): Promise<void> {
  const dir = process.env.DATDOT_E2E_SCREENSHOTS
  if (dir === undefined || dir === '') return
  const size = page.viewportSize()
  for (const [width, height] of [[1400, 900], [800, 600], [420, 800]]) {
    await page.setViewportSize({ width, height })
    await target.scrollIntoViewIfNeeded()
    await page.screenshot({ path: join(dir, `${name}-${width}.png`) })
  }
  if (size) await page.setViewportSize(size)
}

describe('honest money and honest state on the Hosting page', () => {
  let testnet: Testnet | undefined
  let d: DaemonProc | undefined
  let browser: Browser | undefined
  let page: Page

  const call = async (method: string, args: unknown): Promise<{ result?: unknown, error?: { code: string, message: string, details?: Record<string, unknown> } }> => {
    const res = await fetch(`${d!.origin}/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${d!.token}` }, body: JSON.stringify(args) })
    return await res.json() as { result?: unknown, error?: { code: string, message: string } }
  }

  beforeAll(async () => {
    assertBuilt()
    testnet = await startTestnet()
    d = await startDaemon(testnet.bootstrap, { chain: 'embedded' })
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    page.setDefaultTimeout(120_000)
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await stop(d?.child)
    await stop(testnet?.child)
    await removeDir(d?.storage)
  }, 60_000)

  it('lists the ledger per transaction with account, counterparty and net, and the double-entry legs behind a detail view', async () => {
    await page.goto(d!.url)
    await page.getByRole('button', { name: 'Hosting' }).first().click()
    await page.getByTestId('hosting-start').click()
    await page.getByTestId('chain-card').getByText('Connected').waitFor()
    await page.getByRole('button', { name: 'Get 10 dev tokens' }).first().click()
    const row = page.locator('[data-testid=ledger-row][data-reason=faucet]')
    await row.waitFor()
    const text = await row.innerText()
    expect(text).toContain('Dev tokens')
    expect(text).toContain('You')
    expect(await row.getByTestId('ledger-net').innerText()).toMatch(/^\+10 \w+$/)
    expect(await page.getByTestId('ledger-detail').count()).toBe(0)
    await row.getByTestId('ledger-detail-toggle').click()
    const detail = page.getByTestId('ledger-detail')
    await detail.waitFor()
    const legs = await detail.getByTestId('ledger-leg').allInnerTexts()
    expect(legs).toHaveLength(2)
    expect(legs.join('\n')).toMatch(/You\s+faucet\s+\+10 \w+/)
    expect(legs.join('\n')).toMatch(/-10 \w+/)
    await shotsOf(page, 'hosting-ledger-detail', detail)
  }, 240_000)

  it('refuses a disk limit above the free space, in the page and in the engine', async () => {
    const panel = page.getByTestId('seeding-panel')
    await expect(panel.getByTestId('disk-free').innerText()).resolves.toMatch(/free on the disk of the storage folder/)
    await panel.getByTestId('disk-input').fill('900 TiB')
    await expect(panel.getByTestId('disk-problem').innerText()).resolves.toMatch(/^900 TiB is more than this disk has free \(.+\)\. Choose a smaller limit\.$/)
    expect(await panel.getByTestId('seed-on').isDisabled()).toBe(true)
    await shotsOf(page, 'hosting-disk-refused', panel.getByTestId('disk-problem'))
    await panel.getByTestId('disk-input').fill('lots')
    await expect(panel.getByTestId('disk-problem').innerText()).resolves.toBe('Type a size such as 50 GiB, 500 MiB or 1 TiB.')

    const refused = await call('setSeeding', { on: true, storageBytes: 2 ** 50, bandwidthBps: 1e6, region: 'eu' })
    expect(refused.error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { why: 'above-free-space' } })
    expect((await call('getHosting', {})).result).toMatchObject({ status: { seeding: false, registered: false } })
  }, 120_000)

  it('shows what seeding cost in fees, the net in words when it is negative, and the jobs section', async () => {
    const panel = page.getByTestId('seeding-panel')
    await panel.getByTestId('disk-input').fill('1 GiB')
    expect(await panel.getByTestId('disk-problem').count()).toBe(0)
    await panel.getByTestId('seed-on').click()
    await panel.getByTestId('seeding-state').getByText('Seeding', { exact: true }).waitFor()
    await page.locator('[data-testid=ledger-row][data-reason=work-fee]').first().waitFor()
    await page.getByRole('button', { name: 'Refresh' }).click()
    const loss = panel.getByTestId('seeding-net-loss')
    await loss.waitFor()
    expect(await loss.innerText()).toMatch(/^Seeding has cost you more in transaction fees than it earned: your wallet is 0\.\d+ \w+ lower for it\.$/)
    expect(await page.getByTestId('earnings-30d-loss').count()).toBe(1)
    expect(await page.locator('[data-testid=ledger-row][data-reason=work-fee]').first().innerText()).toContain('Fee for a provider record (register)')
    await expect(page.getByTestId('hosting-activity').innerText()).resolves.toContain('No hosting jobs yet')
    await shotsOf(page, 'hosting-net-loss', loss)
    await shotsOf(page, 'hosting-net-loss-30d', page.getByTestId('earnings-30d-loss'))
  }, 180_000)

  it('raises an alert when networking is paused while seeding', async () => {
    expect((await call('setNetworkPaused', { paused: true })).result).toMatchObject({ paused: true })
    const alert = page.locator('[data-testid=hosting-alert][data-kind=network-paused]')
    await alert.waitFor()
    expect(await alert.innerText()).toContain('Networking is paused while you seed')
    await shotsOf(page, 'hosting-alert-paused', alert)
    expect((await call('setNetworkPaused', { paused: false })).result).toMatchObject({ paused: false })
  }, 120_000)
})
