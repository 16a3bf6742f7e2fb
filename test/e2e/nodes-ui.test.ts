/**
 * End to end: the Nodes page of one daemon in Chromium, with a second daemon added by its address
 * and token as a user would (read from the second node's own Nodes page, "This node's address and
 * access token", the token masked until "Show"; pasted in the dialog), a wrong token refused in the
 * dialog, the second daemon stopped and shown as not answering with an alert, then removed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright-core'
import { assertBuilt, removeDir, startDaemon, startTestnet, stop, type DaemonProc, type Testnet } from './daemons.js'
import { CHROMIUM_ARGS, shots } from './ui-helpers.js'

describe('the Nodes page', () => {
  let testnet: Testnet | undefined
  let a: DaemonProc | undefined
  let b: DaemonProc | undefined
  let browser: Browser | undefined
  let page: Page

  beforeAll(async () => {
    assertBuilt()
    testnet = await startTestnet()
    ;[a, b] = await Promise.all([startDaemon(testnet.bootstrap), startDaemon(testnet.bootstrap, { chain: 'embedded' })])
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: { width: 1200, height: 760 } })
    page.setDefaultTimeout(60_000)
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await stop(a?.child)
    await stop(b?.child)
    await stop(testnet?.child)
    await removeDir(a?.storage)
    await removeDir(b?.storage)
  })

  it('shows this node alone at first, answering, with the way to add another', async () => {
    await page.goto(a!.url)
    await page.getByTestId('nav-nodes').click()
    await page.getByTestId('node-card').first().waitFor()
    expect(await page.getByTestId('node-card').count()).toBe(1)
    expect(await page.getByTestId('nodes-answering').innerText()).toBe('1 of 1')
    expect(await page.getByTestId('node-card').first().getAttribute('data-node')).toBe('local')
    // app words, not command-line ones: where the other side's app shows its address and token
    expect(await page.getByTestId('nodes-how').innerText()).toMatch(/Nodes page of that DatDot/)
    const panel = page.getByTestId('node-access')
    expect(await panel.getByTestId('node-access-url').innerText()).toBe(a!.origin)
    expect(await panel.getByTestId('node-access-token').innerText()).not.toContain(a!.token)
    await panel.getByRole('button', { name: "Copy this node's access token" }).waitFor()
    await shots(page, 'nodes-alone', { bottom: true })
  }, 60_000)

  it('refuses a wrong token in the dialog with the reason, and adds the node with what its own Nodes page shows', async () => {
    // the other node's app: its Nodes page shows its address, and its token after a click
    const other = await browser!.newPage({ viewport: { width: 1200, height: 760 } })
    await other.goto(b!.url)
    await other.getByTestId('nav-nodes').click()
    const panel = other.getByTestId('node-access')
    const url = await panel.getByTestId('node-access-url').innerText()
    expect(await panel.getByTestId('node-access-token').innerText()).toMatch(/^•+$/)
    await panel.getByTestId('node-access-show').click()
    const token = await panel.getByTestId('node-access-token').innerText()
    expect(token).toBe(b!.token)
    // the same address and token let Prometheus read the node's figures
    const metricsUrl = await panel.getByTestId('node-access-metrics').locator('.mono').innerText()
    expect(metricsUrl).toBe(`${url.replace(/\/+$/, '')}/api/metrics`)
    const scraped = await fetch(metricsUrl, { headers: { authorization: `Bearer ${token}` } })
    expect(scraped.status).toBe(200)
    expect(await scraped.text()).toMatch(/^datdot_up 1$/m)
    await shots(other, 'nodes-access-shown', { bottom: true })
    await other.close()
    await page.getByTestId('node-add').click()
    const help = await page.getByTestId('node-add-how').innerText()
    expect(help).toContain('Nodes page')
    expect(help).not.toMatch(/datdot daemon|api-token/)
    await page.getByTestId('node-name').fill('Attic server')
    await page.getByTestId('node-url').fill(url)
    await page.getByTestId('node-token').fill('0'.repeat(64))
    await page.getByTestId('node-add-confirm').click()
    const err = await page.getByTestId('node-add-error').innerText()
    expect(err).toContain('refused the token')
    await shots(page, 'nodes-add-refused')
    await page.getByTestId('node-token').fill(token)
    await page.getByTestId('node-add-confirm').click()
    await page.locator('[data-testid="node-card"][data-reachable="true"]:not([data-node="local"])').waitFor()
    expect(await page.getByTestId('nodes-answering').innerText()).toBe('2 of 2')
    const card = page.locator('[data-testid="node-card"]:not([data-node="local"])')
    expect(await card.innerText()).toContain('Attic server')
    // Looking at a node does not start its chain.
    expect(await card.innerText()).toContain('not started')
    expect(await page.getByTestId('node-add-dialog').isVisible()).toBe(false)
    await shots(page, 'nodes-two')
  }, 60_000)

  it('shows a node that stopped as not answering, with an alert, and removes it', async () => {
    await stop(b?.child)
    await page.getByTestId('nodes-refresh').click()
    const card = page.locator('[data-testid="node-card"][data-reachable="false"]')
    await card.waitFor()
    expect(await card.getByTestId('node-alert').first().innerText()).toMatch(/Not answering/)
    expect(await page.getByTestId('nodes-answering').innerText()).toBe('1 of 2')
    expect(Number(await page.getByTestId('nodes-alerts').innerText())).toBeGreaterThanOrEqual(1)
    await shots(page, 'nodes-unreachable', { bottom: true })
    await card.getByRole('button', { name: 'Remove Attic server' }).click()
    await page.getByTestId('node-remove-confirm').click()
    await page.locator('[data-testid="node-card"][data-reachable="false"]').waitFor({ state: 'detached' })
    expect(await page.getByTestId('node-card').count()).toBe(1)
  }, 60_000)
})
