/**
 * End to end: B's user follows A's drive On demand from the Peers page: every file is listed,
 * nothing is downloaded until B downloads a file, which then counts as cached on the card; B
 * pins the drive and the card lists the pin. Two daemons on a loopback DHT testnet, Chromium.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Page } from 'playwright-core'
import type { DaemonProc } from './daemons.js'
import { dropFiles, row, selectSpace, shots, type DropFile } from './ui-helpers.js'
import { TwoUis } from './two-uis.js'

/** Closes the toasts, so the screenshots show the card under them. */
async function dismissToasts (page: Page): Promise<void> {
  const close = page.getByRole('button', { name: 'Dismiss' })
  while (await close.count() > 0) await close.first().click()
}

describe('following a drive on demand from the Peers page', () => {
  const ui = new TwoUis()
  let a: DaemonProc | undefined
  let b: DaemonProc | undefined
  let pageA: Page
  let pageB: Page
  let link = ''
  const photo: DropFile = { name: 'photo.bin', bytes: randomBytes(300_000) }
  const notes: DropFile = { name: 'notes.txt', bytes: Buffer.from('notes from alice\n') }

  beforeAll(async () => {
    await ui.start({ acceptDownloads: true })
    ;[a, b, pageA, pageB] = [ui.daemonA, ui.daemonB, ui.pageA, ui.pageB]
  })

  afterAll(async () => { await ui.close() })

  it('lists every file of an on-demand follow and holds none of their contents', async () => {
    await pageA.goto(a!.url)
    await selectSpace(pageA, 'Public')
    await dropFiles(pageA, [photo, notes])
    await pageA.locator(row('', '/' + photo.name)).waitFor()
    link = await pageA.locator('[data-testid=share-link]').inputValue()

    await pageB.goto(b!.url)
    await pageB.bringToFront()
    await pageB.click('[data-testid=nav-peers]')
    await shots(pageB, 'follow-modes-form')
    await pageB.fill('[data-testid=follow-input]', link)
    await pageB.check('[data-testid=follow-mode-folders]')
    await pageB.fill('[data-testid=follow-folders]', '/photos, /docs')
    await shots(pageB, 'follow-modes-folders')
    await pageB.check('[data-testid=follow-mode-on-demand]')
    expect(await pageB.locator('[data-testid=follow-folders]').count()).toBe(0)
    await pageB.click('[data-testid=follow-button]')
    await pageB.locator(row('[data-testid=followed-files]', '/' + notes.name)).waitFor({ timeout: 100_000 })
    await pageB.locator(row('[data-testid=followed-files]', '/' + photo.name)).waitFor()
    expect(await pageB.locator('[data-testid=follow-mode]').inputValue()).toBe('on-demand')
    // Folders are chosen only when following: the greyed-out choice says so.
    expect(await pageB.locator('[data-testid=follow-mode] option[value=folders]').textContent()).toBe('Selected folders (chosen when following)')
    expect(await pageB.locator('[data-testid=follow-mode] option[value=folders]').isDisabled()).toBe(true)
    await pageB.locator('[data-testid=follow-disk]', { hasText: '0 B could be cleared' }).waitFor()
    await shots(pageB, 'follow-modes-on-demand')
  })

  it('fetches a file when it is downloaded, and counts it as cache', async () => {
    const fileRow = pageB.locator(row('[data-testid=followed-files]', '/' + photo.name))
    const [download] = await Promise.all([pageB.waitForEvent('download'), fileRow.locator('[data-testid=download]').click()])
    expect((await readFile(await download.path())).equals(photo.bytes)).toBe(true)
    await pageB.locator('[data-testid=follow-disk]', { hasText: '293 KiB could be cleared' }).waitFor()
    await dismissToasts(pageB)
    await shots(pageB, 'follow-modes-read', { bottom: true })
  })

  it('pins the drive: the card lists the pin and counts its files as kept', async () => {
    await pageB.click('[data-testid=pin-folder]')
    await pageB.locator('[data-testid=unpin]').waitFor()
    await pageB.locator('[data-testid=follow-disk]', { hasText: '0 B could be cleared' }).waitFor()
    await dismissToasts(pageB)
    await shots(pageB, 'follow-modes-pinned', { bottom: true })
  })
})
