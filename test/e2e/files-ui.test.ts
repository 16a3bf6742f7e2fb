/**
 * End to end, the file manager in Chromium against a real daemon on a loopback testnet: a large
 * upload whose job counts the bytes the engine received against the whole file from the start
 * and whose file is listed when it ends; folder sizes; Undo after a delete; "Restore this
 * version" from the history; the table holding at 800 and 420 px (names whole, actions inside
 * the window), every page's button, the networking switch and the opened history on screen at
 * 420 px; a followed drive nobody serves ("No peers found yet"), named on its card, and
 * followed twice (refused). DATDOT_E2E_SCREENSHOTS=DIR saves each state at the three sizes.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import type { DaemonProc } from './daemons.js'
import { OneUi } from './one-ui.js'
import { row, shot, shots, shotsAt } from './ui-helpers.js'
import { formatLink, keyId } from '../../main/engine/paths.js'

const BIG = 'big-upload.bin'
const BIG_BYTES = 160 * 1024 * 1024
const LONG_NAME = 'a rather long file name from the holiday in the mountains.txt'

async function writeBig (file: string): Promise<void> {
  const out = createWriteStream(file)
  const chunk = randomBytes(4 * 1024 * 1024)
  for (let left = BIG_BYTES; left > 0; left -= chunk.length) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => err ? reject(err) : resolve()))
}

/** Closes the toasts and finished jobs, so the screenshots show the table under them. */
async function dismissAll (page: Page): Promise<void> {
  const close = page.getByRole('button', { name: 'Dismiss' })
  while (await close.count() > 0) await close.first().click()
}

interface JobSample { done: number, total: number, state: string }

describe('the file manager in the browser UI', () => {
  const ui = new OneUi()
  let d: DaemonProc | undefined
  let page: Page
  let src = ''

  beforeAll(async () => {
    src = await mkdtemp(join(tmpdir(), 'datdot-files-e2e-'))
    ui.dirs.push(src)
    await writeBig(join(src, BIG))
    await mkdir(join(src, 'album'))
    await writeFile(join(src, 'album', 'one.jpg'), randomBytes(3000))
    await writeFile(join(src, 'album', 'two.pdf'), randomBytes(5000))
    await writeFile(join(src, LONG_NAME), 'hello\n')
    await ui.start()
    d = ui.daemon
    page = ui.page
  })

  afterAll(async () => { await ui.close() })

  it('counts a large upload against its whole size from the start and lists the file when the job ends', async () => {
    await page.goto(d!.url)
    await page.locator('[data-testid=prompt-dismiss]').click()
    await page.locator('[data-testid=empty-state]').waitFor()
    // Every state of the job as the panel shows it, recorded in the page as it changes.
    await page.evaluate(() => {
      const g = globalThis as unknown as { samples: JobSample[], MutationObserver: new (cb: () => void) => { observe: (n: unknown, o: unknown) => void }, document: { body: unknown, querySelector: (s: string) => { dataset: Record<string, string> } | null } }
      g.samples = []
      const record = (): void => {
        const el = g.document.querySelector('[data-testid=job]')
        if (el) g.samples.push({ done: Number(el.dataset.bytesDone), total: Number(el.dataset.bytesTotal), state: el.dataset.state })
      }
      new g.MutationObserver(record).observe(g.document.body, { subtree: true, childList: true, attributes: true })
    })
    await page.setInputFiles('[data-testid=file-input]', join(src, BIG))
    await page.locator('[data-testid=job][data-state=done]').waitFor()
    // The file is listed as soon as the job is done (no reload).
    await page.locator(row('', '/' + BIG)).waitFor({ timeout: 10_000 })
    const samples = await page.evaluate(() => (globalThis as unknown as { samples: JobSample[] }).samples)
    const running = samples.filter((s) => s.state === 'running')
    expect(running.length).toBeGreaterThan(0)
    for (const s of running) expect(s.total).toBe(BIG_BYTES)
    expect(running.some((s) => s.done < BIG_BYTES)).toBe(true)
    for (let i = 1; i < running.length; i++) expect(running[i].done).toBeGreaterThanOrEqual(running[i - 1].done)
    expect(samples.at(-1)).toEqual({ done: BIG_BYTES, total: BIG_BYTES, state: 'done' })
  })

  it('shows a folder with the size of its files, and file-type badges', async () => {
    await page.setInputFiles('[data-testid=folder-input]', join(src, 'album'))
    await page.locator(row('', '/album')).waitFor()
    await page.setInputFiles('[data-testid=file-input]', join(src, LONG_NAME))
    await page.locator(row('', '/' + LONG_NAME)).waitFor()
    await expect.poll(async () => await page.locator(`${row('', '/album')} [data-testid=size]`).textContent()).toBe('7.8 KiB')
    expect(await page.locator(`${row('', '/' + BIG)} .ftype`).textContent()).toBe('BIN')
    await dismissAll(page)
    await shots(page, 'files-vault', { bottom: true })
  })

  it('keeps whole names and every action inside the window at 800 and 420 px', async () => {
    for (const [width, height] of [[800, 600], [420, 800]]) {
      await page.setViewportSize({ width, height })
      const name = page.locator(`${row('', '/' + LONG_NAME)} .file-name`)
      const cut = await name.evaluate((el) => (el as unknown as { scrollWidth: number, clientWidth: number }).scrollWidth > (el as unknown as { clientWidth: number }).clientWidth)
      expect(cut, `name cut at ${width}px`).toBe(false)
      for (const button of await page.locator(`${row('', '/' + LONG_NAME)} .actions button`).all()) {
        const box = await button.boundingBox()
        expect(box, `an action is hidden at ${width}px`).not.toBeNull()
        expect(box!.x + box!.width, `an action overflows at ${width}px`).toBeLessThanOrEqual(width)
      }
    }
    await page.setViewportSize({ width: 1400, height: 900 })
  })

  it('keeps every page, the networking switch and the history it opens on screen at 420 px', async () => {
    await page.setViewportSize({ width: 420, height: 800 })
    const inside = async (selector: string): Promise<void> => {
      const box = await page.locator(selector).boundingBox()
      expect(box, `${selector} is hidden at 420px`).not.toBeNull()
      expect(box!.x, `${selector} starts left of the window`).toBeGreaterThanOrEqual(0)
      expect(box!.x + box!.width, `${selector} is right of the window`).toBeLessThanOrEqual(420)
      expect(box!.y + box!.height, `${selector} is below the window`).toBeLessThanOrEqual(800)
    }
    for (const p of ['vault', 'peers', 'apps', 'hosting', 'plans', 'nodes', 'backup']) await inside(`[data-testid=nav-${p}]`)
    await inside('[data-testid=network-toggle]')
    // Stacked under the files here: opening it brings it into view.
    await page.locator('[data-testid=history-toggle]').click()
    await page.locator('[data-testid=history-panel] .history-item').first().waitFor()
    await expect.poll(async () => (await page.locator('[data-testid=history-panel] h2').boundingBox())?.y ?? 1e6).toBeLessThan(800)
    await page.locator('[data-testid=history-toggle]').click()
    await page.locator('[data-testid=history-panel]').waitFor({ state: 'detached' })
    await page.setViewportSize({ width: 1400, height: 900 })
  })

  it('undoes a delete from the toast', async () => {
    await page.locator(`${row('', '/album')} [data-testid=delete]`).click()
    await page.locator('[data-testid=confirm-delete]').click()
    await page.locator(row('', '/album')).waitFor({ state: 'detached' })
    await page.locator('[data-testid=toast-action]', { hasText: 'Undo' }).click()
    await page.locator(row('', '/album')).waitFor()
  })

  it('restores an older version of a file from the history panel', async () => {
    await page.locator('[data-testid=history-toggle]').click()
    const item = page.locator('[data-testid=history-panel] .history-item', { hasText: LONG_NAME }).first()
    await item.click()
    await page.locator('[data-testid=history-restore]').waitFor()
    await dismissAll(page)
    await shots(page, 'files-history', { bottom: true })
    await page.locator('[data-testid=history-restore]').click()
    await page.locator('[data-testid=toast-success]', { hasText: 'Restored' }).first().waitFor()
    await page.locator(row('', '/' + LONG_NAME)).waitFor()
    await page.locator('[data-testid=history-toggle]').click()
  })

  it('shows a link nobody serves as "No peers found yet", names it on its card, and refuses to follow it twice', async () => {
    const link = formatLink(keyId(randomBytes(32)), '/', null)
    await page.click('[data-testid=nav-peers]')
    await page.fill('[data-testid=follow-input]', link)
    await page.click('[data-testid=follow-button]')
    const card = page.locator('[data-testid=follow-card]')
    await card.waitFor()
    expect(await card.locator('[data-testid=follow-state]').textContent()).toBe('No peers found yet')
    await card.locator('[data-testid=follow-rename-start]').click()
    await card.locator('[data-testid=follow-rename] input').fill('Holiday photos')
    await card.locator('[data-testid=follow-rename] button[type=submit]').click()
    await card.locator('[data-testid=follow-label]', { hasText: 'Holiday photos' }).waitFor()
    await page.fill('[data-testid=follow-input]', link)
    await page.click('[data-testid=follow-button]')
    await page.locator('[data-testid=follow-error]', { hasText: 'You already follow this drive, as "Holiday photos"' }).waitFor()
    expect(await page.locator('[data-testid=follow-card]').count()).toBe(1)
    await dismissAll(page)
    await shots(page, 'files-follow-card')
  })

  it('says in words that keeping a drive online needs the hosting network on a node without a chain', async () => {
    await page.click('[data-testid=nav-vault]')
    await page.getByTestId('keep-online').click()
    const error = page.getByTestId('keep-online-dialog').getByTestId('ko-error')
    await error.waitFor()
    expect(await error.innerText()).toBe('Keeping a drive online needs the hosting network, and this node runs without one (it was started with --chain off).')
    await shots(page, 'files-keep-online-no-chain')
    await page.keyboard.press('Escape')
  })

  it('creates a folder from "New folder", refusing hostile and taken names in the dialog with the reason', async () => {
    await page.goto(d!.url)
    await page.setViewportSize({ width: 1400, height: 900 })
    const dialog = page.getByTestId('new-folder-dialog')
    const name = dialog.getByLabel('Folder name')
    const refused = async (n: string, why: RegExp): Promise<void> => {
      await name.fill(n)
      await dialog.getByTestId('new-folder-create').click()
      expect(await dialog.getByTestId('new-folder-error').innerText(), JSON.stringify(n)).toMatch(why)
    }
    await page.getByTestId('new-folder').click()
    await refused('   ', /needs a name/)
    await refused('..', /"\.\." cannot be a folder name/)
    await refused('a/b', /cannot contain "\/"/)
    await refused('\u00e9'.repeat(200), /too long: a folder name is at most 255 bytes \(this one has 400/)
    await shots(page, 'files-new-folder-refused')
    await name.fill('Trips')
    await dialog.getByTestId('new-folder-create').click()
    await page.locator(row('', '/Trips')).waitFor()
    expect(await dialog.isVisible()).toBe(false)
    // the same name again: refused with the reason, in the dialog
    await page.getByTestId('new-folder').click()
    await refused('Trips', /^"Trips" already exists in this space: choose another name$/)
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    // the new folder is empty: the file that keeps it is not listed
    await page.locator(row('', '/Trips')).getByTestId('open-folder').click()
    await page.getByTestId('empty-state').getByText('This folder is empty').waitFor()
    expect(await page.locator('[data-testid=file-row]').count()).toBe(0)
    await dismissAll(page)
    await shotsAt(page, 'files-new-folder-empty', 'drop-zone')
  })

  it('keeps toasts off the share link at 420 px, whether the link is low or high on the screen', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: d!.origin })
    await page.goto(d!.url)
    await page.setViewportSize({ width: 420, height: 800 })
    await page.locator('[data-testid=space-card][data-space=Public]').click()
    const link = page.getByTestId('share-link')
    const copy = page.getByTestId('copy-link')
    const overlaps = (a: { x: number, y: number, width: number, height: number }, b: { x: number, y: number, width: number, height: number }): boolean =>
      a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
    for (const block of ['end', 'start'] as const) {
      await dismissAll(page)
      await copy.evaluate((el, b) => { (el as unknown as { scrollIntoView: (o: { block: string }) => void }).scrollIntoView({ block: b }) }, block)
      await copy.click()
      const toast = page.getByTestId('toast-success').last()
      await toast.waitFor()
      const [t, l, c] = [await toast.boundingBox(), await link.boundingBox(), await copy.boundingBox()]
      expect(overlaps(t!, l!) || overlaps(t!, c!), `a toast over the share link (${block}): ${JSON.stringify({ t, l, c })}`).toBe(false)
      await shot(page, `files-toast-share-${block}-420`)
    }
    await page.setViewportSize({ width: 1400, height: 900 })
  })
})
