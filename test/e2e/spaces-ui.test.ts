/**
 * End to end, spaces in the browser UI of two daemons on a loopback testnet: A's user creates a
 * shared space, adds a file, copies its link; B's user follows that link and sees the file. A
 * private space has no link and Share asks first; a file copied to another space appears there;
 * deleting a space asks first. Screenshots at three sizes with DATDOT_E2E_SCREENSHOTS=folder.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import type { Page } from 'playwright-core'
import type { DaemonProc } from './daemons.js'
import { dropFiles, row, selectSpace, shots, type DropFile, type PageGlobals } from './ui-helpers.js'
import { TwoUis } from './two-uis.js'

const SHARED_LINK = /^hyper:\/\/[a-z0-9]{52}#key=[a-z0-9]{52}$/

describe('spaces in the browser UI', () => {
  const ui = new TwoUis()
  let a: DaemonProc | undefined
  let b: DaemonProc | undefined
  let pageA: Page
  let pageB: Page
  const photo: DropFile = { name: 'beach.jpg', bytes: randomBytes(50_000) }

  beforeAll(async () => {
    await ui.start({ clipboardA: true })
    ;[a, b, pageA, pageB] = [ui.daemonA, ui.daemonB, ui.pageA, ui.pageB]
  })

  afterAll(async () => { await ui.close() })

  it("creates a shared space in A's UI, adds a file, copies its link, and B following the link sees the file", async () => {
    await pageA.goto(a!.url)
    await pageA.locator('[data-testid=space-head][data-space=Private]').waitFor()
    await pageA.click('[data-testid=new-space]')
    await pageA.fill('[data-testid=space-name]', 'Holiday')
    await pageA.check('[data-testid=visibility-shared]')
    await shots(pageA, 'space-create-dialog')
    await pageA.click('[data-testid=create-space]')
    await pageA.locator('[data-testid=space-head][data-space=Holiday] [data-testid=space-badge][data-visibility=shared]').waitFor()
    await dropFiles(pageA, [photo])
    await pageA.locator(row('', '/' + photo.name)).waitFor()
    await pageA.click('[data-testid=copy-link]')
    await pageA.locator('[data-testid=copy-link]', { hasText: 'Copied' }).waitFor()
    const link = await pageA.evaluate(async () => await (globalThis as unknown as PageGlobals).navigator.clipboard.readText())
    expect(link).toMatch(SHARED_LINK)
    expect(link).toBe(await pageA.locator('[data-testid=share-link]').inputValue())
    await shots(pageA, 'space-shared-link')

    await pageB.goto(b!.url)
    await pageB.bringToFront()
    await pageB.click('[data-testid=nav-peers]')
    await pageB.fill('[data-testid=follow-input]', link)
    await pageB.click('[data-testid=follow-button]')
    // Finding A through the DHT is the slow part.
    await pageB.locator(row('[data-testid=followed-files]', '/' + photo.name)).waitFor({ timeout: 100_000 })
    expect(await pageB.locator('[data-testid=follow-locked]').count()).toBe(0)
  })

  it('shows a private space without a link, and Share gives it one only after a confirmation', async () => {
    await pageA.bringToFront()
    await selectSpace(pageA, 'Private')
    await pageA.locator('[data-testid=no-link]').waitFor()
    expect(await pageA.locator('[data-testid=share-link]').count()).toBe(0)
    await shots(pageA, 'space-list')
    await pageA.click('[data-testid=share-space]')
    const dialog = pageA.locator('[data-testid=share-space-dialog]')
    expect(await dialog.textContent()).toContain('cannot be taken back')
    await shots(pageA, 'space-share-confirm')
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    expect(await pageA.locator('[data-testid=share-link]').count()).toBe(0)
    expect(await pageA.locator('[data-testid=space-head] [data-testid=space-badge]').getAttribute('data-visibility')).toBe('private')

    await pageA.click('[data-testid=share-space]')
    await pageA.click('[data-testid=confirm-share]')
    expect(await pageA.locator('[data-testid=share-link]').inputValue()).toMatch(SHARED_LINK)
    // ...and private again, after a warning that the link already given out still works.
    await pageA.click('[data-testid=unshare-space]')
    expect(await pageA.locator('[data-testid=unshare-space-dialog]').textContent()).toContain('can still read')
    await pageA.click('[data-testid=confirm-unshare]')
    await pageA.locator('[data-testid=no-link]').waitFor()
    expect(await pageA.locator('[data-testid=share-link]').count()).toBe(0)
  })

  it('says in plain words that a space name is taken, and creates no second space', async () => {
    await pageA.click('[data-testid=new-space]')
    await pageA.fill('[data-testid=space-name]', 'Holiday')
    await pageA.click('[data-testid=create-space]')
    const error = pageA.locator('[data-testid=create-space-error]')
    await error.waitFor()
    expect(await error.textContent()).toBe('You already have a space called "Holiday". Pick another name.')
    await shots(pageA, 'space-name-taken')
    await pageA.locator('[data-testid=create-space-dialog]').getByRole('button', { name: 'Cancel' }).click()
    expect(await pageA.locator('[data-testid=space-card][data-space=Holiday]').count()).toBe(1)
  })

  it('copies a file to another space, where it appears, and keeps the original', async () => {
    await selectSpace(pageA, 'Holiday')
    await pageA.locator(row('', '/' + photo.name)).locator('[data-testid=transfer]').click()
    await pageA.locator('[data-testid=transfer-target][data-space=Public]').check()
    expect(await pageA.locator('[data-testid=transfer-exposes]').count()).toBe(1)
    await pageA.locator('[data-testid=transfer-target][data-space=Private]').check()
    expect(await pageA.locator('[data-testid=transfer-exposes]').count()).toBe(0)
    await shots(pageA, 'space-transfer-picker')
    await pageA.click('[data-testid=confirm-transfer]')
    await pageA.locator('[data-testid=transfer-dialog]').waitFor({ state: 'hidden' })
    await selectSpace(pageA, 'Private')
    await pageA.locator(row('', '/' + photo.name)).waitFor()
    await selectSpace(pageA, 'Holiday')
    await pageA.locator(row('', '/' + photo.name)).waitFor()
    await shots(pageA, 'space-files', { bottom: true })
  })

  it('deletes a space only after a confirmation, and never offers to delete the home space', async () => {
    await selectSpace(pageA, 'Public')
    expect(await pageA.locator('[data-testid=delete-space]').count()).toBe(0)
    await selectSpace(pageA, 'Holiday')
    await pageA.click('[data-testid=delete-space]')
    const dialog = pageA.locator('[data-testid=delete-space-dialog]')
    expect(await dialog.textContent()).toContain('keep the copies')
    await shots(pageA, 'space-delete-confirm')
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    expect(await pageA.locator('[data-testid=space-card][data-space=Holiday]').count()).toBe(1)
    await pageA.click('[data-testid=delete-space]')
    await pageA.click('[data-testid=confirm-delete-space]')
    await pageA.locator('[data-testid=space-card][data-space=Holiday]').waitFor({ state: 'detached' })
    expect(await pageA.locator('[data-testid=space-card][aria-current=true]').getAttribute('data-space')).toBe('Private')
  })
})
