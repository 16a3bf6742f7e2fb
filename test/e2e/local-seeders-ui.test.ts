/**
 * End to end: a new user (a clean storage folder, a daemon with the default embedded chain on a
 * loopback testnet) opens the Hosting page and finds what hosting is and "Start hosting" first, then,
 * below it and secondary, "Try it on this computer" (which claims nothing about a chain that has not
 * started); a bad number of seeders is refused on the card; "Start 2 local seeders" starts the chain
 * and the seeders, which appear, seeding, with their addresses; "Stop local seeders" stops them
 * and the card offers to start them again.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import type { Page } from 'playwright-core'
import type { DaemonProc } from './daemons.js'
import { OneUi } from './one-ui.js'
import { shots, shotsAt } from './ui-helpers.js'

describe('local seeders from the Hosting page of a new node', () => {
  const ui = new OneUi()
  let d: DaemonProc | undefined
  let page: Page
  const call = async (method: string): Promise<Record<string, unknown>> => await ui.call(method)

  beforeAll(async () => {
    await ui.start({ chain: 'embedded', viewport: { width: 1200, height: 760 } })
    d = ui.daemon
    page = ui.page
  })

  afterAll(async () => { await ui.close() })

  it('shows what hosting is and "Start hosting" first on the first visit, local seeders below as a second choice, and refuses 9 on the card without starting anything', async () => {
    await page.goto(d!.url)
    await page.getByRole('button', { name: 'Hosting' }).first().click()
    const card = page.getByTestId('local-seeders')
    await card.waitFor()
    const idle = page.getByTestId('hosting-idle')
    expect(await idle.getByTestId('hosting-what').innerText()).toMatch(/rents your spare disk space/)
    // "Start hosting" is the page's main action, above the seeders offer
    const start = page.getByTestId('hosting-start')
    expect(await start.getAttribute('class')).toContain('primary')
    const [startBox, cardBox] = [await start.boundingBox(), await card.boundingBox()]
    expect(startBox!.y).toBeLessThan(cardBox!.y)
    // before the chain runs, the page knows nothing of its providers and says nothing of them
    const text = await card.innerText()
    expect(text).toContain('Try it on this computer')
    expect(text).not.toMatch(/Nobody hosts|provider/)
    expect(await card.getByTestId('local-seeders-start').innerText()).toBe('Start 3 local seeders')
    expect((await card.getByTestId('local-seeders-start').getAttribute('class')) ?? '').not.toContain('primary')
    await shots(page, 'local-seeders-first-run')
    await card.getByTestId('local-seeders-count').fill('9')
    await card.getByTestId('local-seeders-start').click()
    expect(await card.getByTestId('local-seeders-error').innerText()).toMatch(/from 1 to 8/)
    await shots(page, 'local-seeders-bad-count', { bottom: true })
    expect((await call('getChainStatus')).state).toBe('idle')
  }, 120_000)

  it('starts two seeders from the card, which appear seeding with their addresses', async () => {
    const card = page.getByTestId('local-seeders')
    await card.getByTestId('local-seeders-count').fill('2')
    await card.getByRole('button', { name: 'Start 2 local seeders' }).click()
    await card.getByTestId('local-seeders-summary').getByText('Starting').waitFor()
    await shots(page, 'local-seeders-starting')
    await card.getByTestId('local-seeders-summary').getByText('2 seeders on this computer').waitFor({ timeout: 240_000 })
    const rows = card.getByTestId('local-seeder')
    expect(await rows.count()).toBe(2)
    for (const text of await rows.allInnerTexts()) expect(text).toMatch(/seeder-\d\s+Seeding\s+\S+…\S+\s+0 slots · earned 0/)
    await page.getByTestId('chain-card').getByText('Connected').waitFor()
    await shotsAt(page, 'local-seeders-running', 'local-seeders')
    expect(await call('getLocalSeeders')).toMatchObject({ state: 'running', resumes: true })
  }, 300_000)

  it('stops them, and the card offers to start them again', async () => {
    const card = page.getByTestId('local-seeders')
    await card.getByTestId('local-seeders-stop').click()
    await card.getByTestId('local-seeders-start').waitFor()
    expect(await card.innerText()).toContain('Your local chain has 0 providers')
    await shotsAt(page, 'local-seeders-stopped', 'local-seeders')
    expect(await call('getLocalSeeders')).toMatchObject({ state: 'off', seeders: [], resumes: false })
  }, 120_000)
})
