/**
 * End to end, on a devnet (a local chain, a loopback testnet and the minimum five seeders, in this
 * process) and a daemon pointed at it: Keep online from the Vault page. The dialog refuses a price
 * of 0 and explains a plan the devnet cannot host before anything is paid, shows the quote, pays,
 * follows the plan to hosted; the Plans page shows it with its slots (hosters by their short ss58
 * address), and unpublishing shows the refund first and ends the plan. Screenshots (DATDOT_E2E_SCREENSHOTS) of each state.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { assertBuilt, removeDir, startDaemon, stop, type DaemonProc } from './daemons.js'
import { CHROMIUM_ARGS, dropFiles, row, shots } from './ui-helpers.js'
import { startDevnet, readDevnetRecord, DEVNET_MIN_SEEDERS, type Devnet } from '../../main/hosting/devnet.js'
import { shortAddress } from '../../renderer/src/lib/format.js'

describe('keeping the vault online from the UI, on a devnet', () => {
  let dir: string | undefined
  let devnet: Devnet | undefined
  let d: DaemonProc | undefined
  let browser: Browser | undefined
  let page: Page

  const call = async (method: string, args: unknown): Promise<unknown> => {
    const res = await fetch(`${d!.origin}/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${d!.token}` }, body: JSON.stringify(args) })
    return await res.json()
  }

  beforeAll(async () => {
    assertBuilt()
    dir = await mkdtemp(join(tmpdir(), 'datdot-e2e-devnet-'))
    devnet = await startDevnet({ dir, seeders: DEVNET_MIN_SEEDERS, blockIntervalMs: 1000, networkParams: { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 40, performanceAttestors: 3 } })
    const record = readDevnetRecord(dir)
    if (record === null) throw new Error('no devnet.json')
    d = await startDaemon(record.bootstrap, { chain: record.chain })
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    page.setDefaultTimeout(120_000)
  }, 240_000)

  afterAll(async () => {
    const t0 = Date.now()
    const took = (what: string): void => { process.stderr.write(`keep-online e2e: ${what} closed after ${Date.now() - t0} ms\n`) }
    await browser?.close()
    await stop(d?.child)
    took('daemon')
    await devnet?.close()
    took('devnet')
    await removeDir(d?.storage)
    await removeDir(dir)
  }, 240_000)

  it('refuses a price of 0 and explains too many replicas before paying, then quotes the plan', async () => {
    await page.goto(d!.url)
    await page.getByText('is empty — drop files here').waitFor()
    await dropFiles(page, [{ name: 'photo.jpg', bytes: randomBytes(300_000) }])
    await page.locator(row('', '/photo.jpg')).waitFor()
    expect(await call('requestDevTokens', { amount: (50n * 10n ** 12n).toString() })).toMatchObject({ result: { free: (50n * 10n ** 12n).toString() } })

    await page.getByTestId('keep-online').click()
    const dialog = page.getByTestId('keep-online-dialog')
    await dialog.getByText('Price (').waitFor()
    await shots(page, 'keep-online-empty')

    await page.getByTestId('ko-price').fill('0')
    await page.getByTestId('ko-check').click()
    await expect(page.getByTestId('ko-error').innerText()).resolves.toBe('Enter a price above 0.')

    await page.getByTestId('ko-price').fill('10')
    await page.getByTestId('ko-replicas').fill('3')
    await page.getByTestId('ko-check').click()
    await expect(page.getByTestId('ko-problem').innerText()).resolves.toMatch(/^Too few providers for 3 replicas: it needs 7 other providers/)
    await shots(page, 'keep-online-error')

    await page.getByTestId('ko-replicas').fill('2')
    await page.getByTestId('ko-check').click()
    await page.getByTestId('ko-quote').waitFor()
    expect(await page.getByTestId('ko-problem').count()).toBe(0)
    await expect(page.getByTestId('ko-total').innerText()).resolves.toMatch(/^10\.\d+ /)
    await shots(page, 'keep-online-quote')
  }, 240_000)

  it('pays, follows the plan to hosted, and the Plans page shows its slots hosting', async () => {
    await page.getByTestId('ko-pay').click()
    await page.locator('[data-testid=ko-steps][data-phase=hosted]').waitFor({ timeout: 180_000 })
    await shots(page, 'keep-online-hosted')
    await page.getByRole('button', { name: 'See it on the Plans page' }).click()
    const card = page.locator('[data-testid=plan-card][data-phase=hosted]')
    await card.waitFor()
    await expect(card.getByTestId('plan-replicas').innerText()).resolves.toBe('2 of 2 replicas hosting')
    expect(await card.locator('[data-testid=plan-slot][data-state=hosting]').count()).toBeGreaterThanOrEqual(2)
    // each hoster as the wallet shows accounts (ss58, a devnet seeder's), shortened; the full address as its title
    for (const hoster of await card.locator('[data-testid=plan-slot][data-state=hosting] [data-testid=address]').all()) {
      const full = await hoster.getAttribute('title')
      expect(devnet!.seeders.map((s) => s.node.chain?.address)).toContain(full)
      expect(await hoster.innerText()).toBe(shortAddress(full!))
    }
    await card.getByText('passed').first().waitFor({ timeout: 120_000 })
    await shots(page, 'plans-page')
  }, 300_000)

  it('tops the plan up from its card: the budget grows by the amount typed, and nothing is sent for an empty top-up', async () => {
    const card = page.locator('[data-testid=plan-card][data-phase=hosted]')
    const budgetOf = async (): Promise<number> => parseFloat(await card.getByTestId('plan-budget').locator('dd').first().innerText())
    const before = await budgetOf()
    await card.getByTestId('plan-topup').click()
    expect(await page.getByTestId('topup-confirm').isDisabled()).toBe(true)
    await page.getByTestId('topup-amount').fill('lots')
    expect(await page.getByTestId('topup-confirm').isDisabled()).toBe(true)
    await page.getByTestId('topup-amount').fill('1')
    await page.getByTestId('topup-days').fill('2')
    await shots(page, 'plans-topup')
    await page.getByTestId('topup-confirm').click()
    await page.getByTestId('topup-dialog').waitFor({ state: 'hidden' })
    // The list reloads on the next block; wait in the page for the budget to change.
    await page.waitForFunction(`parseFloat(document.querySelector('[data-testid=plan-card][data-phase=hosted] [data-testid=plan-budget] dd')?.textContent ?? '') > ${before}`)
    expect(await budgetOf()).toBeCloseTo(before + 1, 6)
  }, 120_000)

  it('shows the refund before unpublishing, and the plan ends', async () => {
    await page.getByTestId('plan-unpublish').click()
    await expect(page.getByTestId('unpublish-refund').innerText()).resolves.toMatch(/^Refund: \d+(\.\d+)? /)
    await shots(page, 'plans-unpublish')
    await page.getByTestId('confirm-unpublish').click()
    await page.getByTestId('unpublish-dialog').waitFor({ state: 'hidden' })
    await page.locator('[data-testid=plan-card][data-phase=ended]').waitFor()
    await shots(page, 'plans-ended')
  }, 120_000)
})
