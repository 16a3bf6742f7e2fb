/**
 * End to end: the Hosting page of a daemon with the default embedded chain, which starts when
 * hosting is first used. Opening the page shows that hosting waits and does not start the chain;
 * "Start hosting" starts it, says so meanwhile, then shows the chain and the wallet (its address on
 * one line, short, with a copy button, at every width).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import type { Page } from 'playwright-core'
import type { DaemonProc } from './daemons.js'
import { OneUi } from './one-ui.js'
import { shots, shotsAt } from './ui-helpers.js'

describe('the Hosting page of a node whose chain starts on demand', () => {
  const ui = new OneUi()
  let d: DaemonProc | undefined
  let page: Page
  const chainState = async (): Promise<string | undefined> => (await ui.call<{ state?: string }>('getChainStatus')).state

  beforeAll(async () => {
    await ui.start({ chain: 'embedded', viewport: { width: 1200, height: 760 } })
    d = ui.daemon
    page = ui.page
  })

  afterAll(async () => { await ui.close() })

  it('says hosting starts when used, and opening the page does not start the chain', async () => {
    await page.goto(d!.url)
    await page.getByRole('button', { name: 'Hosting' }).first().click()
    await page.getByTestId('hosting-idle').waitFor()
    const text = await page.getByTestId('hosting-idle').innerText()
    expect(text).toContain('Hosting starts when you use it')
    expect(text).toContain('200 MB')
    await shots(page, 'hosting-idle')
    expect(await chainState()).toBe('idle')
  }, 120_000)

  it('starts the chain on "Start hosting", says so meanwhile, then shows the chain and the wallet', async () => {
    await page.getByTestId('hosting-start').click()
    await page.getByText('Starting the local chain').waitFor()
    await page.getByTestId('chain-card').getByText('Connected').waitFor()
    await page.getByRole('button', { name: 'Get 10 dev tokens' }).waitFor()
    // the wallet address on one line at every width: its short form, the full one as its title, a copy button
    const wallet = (await ui.call<{ address: string }>('getWallet')).address
    const addr = page.getByTestId('wallet-address')
    expect(await addr.getByTestId('address').getAttribute('title')).toBe(wallet)
    expect(await addr.getByTestId('address').innerText()).toBe(`${wallet.slice(0, 6)}…${wallet.slice(-6)}`)
    await addr.getByRole('button', { name: 'Copy the wallet address' }).waitFor()
    for (const [width, height] of [[1400, 900], [800, 600], [420, 800]]) {
      await page.setViewportSize({ width, height })
      // a text range has one rectangle per line it spans
      const lines = await addr.getByTestId('address').evaluate((el) => {
        const doc = (globalThis as unknown as { document: { createRange: () => { selectNodeContents: (n: unknown) => void, getClientRects: () => { length: number } } } }).document
        const range = doc.createRange()
        range.selectNodeContents(el)
        return range.getClientRects().length
      })
      expect(lines, `one line at ${width} px`).toBe(1)
      const [a, b] = [await addr.getByTestId('address').boundingBox(), await addr.getByTestId('address-copy').boundingBox()]
      expect(Math.abs(a!.y - b!.y), `address and copy button side by side at ${width} px`).toBeLessThan(a!.height)
    }
    await page.setViewportSize({ width: 1200, height: 760 })
    await shots(page, 'hosting-started')
    await shotsAt(page, 'hosting-wallet', 'wallet-address')
    expect(await chainState()).toBe('running')
  }, 180_000)

  it('lets a seeding node choose the hours it serves: too few refused with the reason, a preset sent to the chain and shown as waiting to hold', async () => {
    await page.getByTestId('no-funds-dev-tokens').first().click()
    await page.getByTestId('no-funds-dev-tokens').first().waitFor({ state: 'detached' })
    await page.getByTestId('seed-on').click()
    await page.getByTestId('seeding-state').getByText('Seeding', { exact: true }).waitFor()
    const card = page.getByTestId('schedule-card')
    await card.getByTestId('schedule-cell').first().waitFor()
    for (const d of ['Mon', 'Tue', 'Wed', 'Thu']) await card.getByRole('button', { name: `All of ${d}` }).click()
    expect(await card.getByTestId('schedule-count').innerText()).toMatch(/^72 hours a week — at least 84 needed/)
    await card.getByTestId('schedule-save').click()
    expect(await card.getByTestId('schedule-error').innerText()).toMatch(/at least 84 hours/)
    await card.getByRole('button', { name: 'Evenings, nights and weekends' }).click()
    expect(await card.getByTestId('schedule-count').innerText()).toBe('118 hours a week')
    await card.getByTestId('schedule-save').click()
    await card.getByTestId('schedule-pending').waitFor()
    expect(await card.getByRole('button', { name: 'Sat 12:00' }).getAttribute('aria-pressed')).toBe('true')
    expect(await card.getByRole('button', { name: 'Mon 12:00' }).getAttribute('aria-pressed')).toBe('false')
    await shots(page, 'hosting-schedule', { bottom: true })
    const dir = process.env.DATDOT_E2E_SCREENSHOTS
    if (dir !== undefined) {
      for (const [width, height] of [[1400, 900], [800, 600], [420, 800]]) {
        await page.setViewportSize({ width, height })
        await card.screenshot({ path: `${dir}/hosting-schedule-card-${width}.png` })
      }
    }
  }, 180_000)
})
