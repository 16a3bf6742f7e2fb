/**
 * End to end, the apps as a new user meets them, from a clean storage folder (issue 11, "Done
 * when"): the empty Apps page, a new app from each of the four templates, each working in the
 * real preview (notes saves and lists a note, the gallery shows a picked image, social posts, the
 * blank page runs), the editor with an edit saved, versions and a revert, the permission prompt,
 * settings and revoke, opening by link, a copy, removing. Screenshots of each state at three
 * sizes with DATDOT_E2E_SCREENSHOTS=folder.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core'
import { assertBuilt, removeDir, startDaemon, startTestnet, stop, type DaemonProc, type Testnet } from './daemons.js'
import { CHROMIUM_ARGS, shots } from './ui-helpers.js'

// A 2x2 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64')

const frameOf = (page: Page): FrameLocator => page.frameLocator('[data-testid=app-frame]')

describe('the apps, walked by a new user', () => {
  let testnet: Testnet | undefined
  let a: DaemonProc | undefined
  let browser: Browser | undefined
  let page: Page

  async function allow (title: string): Promise<void> {
    const dialog = page.locator('[data-testid=app-question]', { hasText: title })
    await dialog.waitFor()
    await dialog.locator('[data-testid=question-allow]').click()
    await dialog.waitFor({ state: 'hidden' })
  }

  async function create (name: string, template: string): Promise<void> {
    await page.locator('[data-testid=new-app]').click()
    await page.locator('[data-testid=app-name]').fill(name)
    await page.locator(`[data-testid=template-${template}]`).check()
    await page.locator('[data-testid=create-app]').click()
    await page.locator(`[data-testid=app-editor][data-app="${name}"]`).waitFor()
  }

  async function back (): Promise<void> {
    await page.locator('[data-testid=back-to-apps]').click()
    await page.locator('[data-testid=apps-page]').waitFor()
  }

  beforeAll(async () => {
    assertBuilt()
    testnet = await startTestnet()
    a = await startDaemon(testnet.bootstrap)
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage()
    page.setDefaultTimeout(60_000)
    await page.goto(a.url)
    await page.locator('[data-testid=prompt-dismiss]').click()
  })

  afterAll(async () => {
    await browser?.close()
    await stop(a?.child)
    await stop(testnet?.child)
    await removeDir(a?.storage)
  })

  it('starts empty and offers the four templates', async () => {
    await page.locator('[data-testid=nav-apps]').click()
    await page.locator('[data-testid=apps-empty]').waitFor()
    await shots(page, 'walk-01-empty')
    await page.locator('[data-testid=new-app]').click()
    for (const t of ['blank', 'notes', 'gallery', 'social']) await page.locator(`[data-testid=template-${t}]`).waitFor()
    await shots(page, 'walk-02-new-dialog')
    await page.keyboard.press('Escape')
  })

  it('runs the notes template: the permission prompt, then a note saved and listed', async () => {
    await create('My notes', 'notes')
    await page.locator('[data-testid=app-question]').waitFor()
    await shots(page, 'walk-03-permission')
    await allow('to use its data')
    const app = frameOf(page)
    await app.locator('#title').fill('Shopping')
    await app.locator('#body').fill('Milk, bread')
    await app.locator('#editor button[type=submit]').click()
    await app.locator('#notes .card', { hasText: 'Shopping' }).waitFor()
    await shots(page, 'walk-04-notes-editor')
    for (const tab of ['preview', 'console']) {
      await page.setViewportSize({ width: 420, height: 800 })
      await page.locator(`[data-testid=tab-${tab}]`).click()
      await shots(page, `walk-05-narrow-${tab}`)
    }
    await page.locator('[data-testid=tab-code]').click()
    await page.setViewportSize({ width: 1400, height: 900 })
  })

  it('saves an edit as a new version, lists it, and reverts to the first', async () => {
    await page.locator('[data-testid=app-file][data-path="/style.css"]').click()
    await page.locator('[data-testid=code-editor][data-path="/style.css"] .cm-content').click()
    await page.keyboard.press('Control+End')
    await page.keyboard.insertText('\nh1 { color: rebeccapurple; }\n')
    await page.locator('[data-testid=unsaved-count]').waitFor()
    await shots(page, 'walk-06-unsaved')
    await page.keyboard.press('Control+S')
    await page.locator('[data-testid=unsaved-count]').waitFor({ state: 'detached' })
    await page.locator('[data-testid=show-versions]').click()
    await expect.poll(async () => await page.locator('[data-testid=app-version]').count()).toBeGreaterThan(1)
    await shots(page, 'walk-07-versions')
    await page.locator('[data-testid=app-version] [data-testid=revert]').last().click()
    await page.locator('[data-testid=revert-dialog]').waitFor()
    await shots(page, 'walk-08-revert-dialog')
    await page.locator('[data-testid=confirm-revert]').click()
    await page.locator('[data-testid=console-line]', { hasText: 'Reverted to version' }).waitFor()
    await back()
  })

  it('runs the gallery template with a picked image', async () => {
    await create('My photos', 'gallery')
    await allow('to use its data')
    const app = frameOf(page)
    await app.locator('#pick').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG })
    const img = app.locator('#grid img[alt$="-dot.png"]')
    await img.waitFor()
    await expect.poll(async () => await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(2)
    await shots(page, 'walk-09-gallery')
    await back()
  })

  it('runs the social and blank templates', async () => {
    await create('My social', 'social')
    await allow('to use its data')
    await frameOf(page).locator('#text').fill('First post')
    await frameOf(page).locator('#post button[type=submit]').click()
    await frameOf(page).locator('#timeline .card', { hasText: 'First post' }).waitFor()
    await shots(page, 'walk-10-social')
    await back()
    await create('My blank', 'blank')
    await frameOf(page).locator('#hello').click()
    await frameOf(page).locator('#out', { hasText: 'Hello from My blank' }).waitFor()
    await page.locator('[data-testid=console-line]', { hasText: 'hello clicked' }).waitFor()
    await shots(page, 'walk-11-blank')
    await back()
    await shots(page, 'walk-12-list')
  })

  it('shows and revokes a permission in the settings', async () => {
    const card = page.locator('[data-testid=app-card][data-app="My notes"]')
    await card.locator('[data-testid=app-settings-button]').click()
    await page.locator('[data-testid=grant][data-permission=vault]').waitFor()
    await shots(page, 'walk-13-settings')
    await page.locator('[data-testid=grant][data-permission=vault] [data-testid=revoke]').click()
    await page.locator('[data-testid=no-grants]').waitFor()
    await shots(page, 'walk-14-revoked')
    await page.keyboard.press('Escape')
  })

  it('opens an app by its link, makes a copy, and removes an app after asking', async () => {
    await page.locator('[data-testid=open-app-link]').click()
    await page.locator('[data-testid=app-link-input]').fill('not a link')
    await page.locator('[data-testid=open-app]').click()
    await page.locator('[data-testid=open-app-error]').waitFor()
    // What a link looks like, in plain words, not the engine's key encodings.
    expect(await page.locator('[data-testid=open-app-error]').textContent()).toContain('That is not a DatDot link')
    expect(await page.locator('[data-testid=open-app-error]').textContent()).not.toContain('z-base-32')
    await shots(page, 'walk-15-open-link-error')
    await page.keyboard.press('Escape')
    await page.locator('[data-testid=app-card][data-app="My photos"] [data-testid=fork-app]').click()
    await page.locator('[data-testid=app-editor][data-app="My photos copy"]').waitFor()
    // The copy is an app of its own: it asks for its own data.
    await allow('to use its data')
    await back()
    await page.locator('[data-testid=app-card][data-app="My photos copy"] [data-testid=remove-app]').click()
    await page.locator('[data-testid=remove-app-dialog]').waitFor()
    await shots(page, 'walk-16-remove')
    await page.locator('[data-testid=confirm-remove-app]').click()
    await page.locator('[data-testid=app-card][data-app="My photos copy"]').waitFor({ state: 'detached' })
  })
})
