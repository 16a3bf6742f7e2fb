/**
 * End to end, a folder of 3,000 files in Chromium against a real daemon: only the rows on
 * screen are in the DOM, scrolling loads the next pages until the last file shows, Tab moves
 * from row to row past what was rendered, and the table holds at 800 and 420 px.
 * DATDOT_E2E_SCREENSHOTS=DIR saves the long list at the three sizes, at its top and further down.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import type { DaemonProc } from './daemons.js'
import { OneUi } from './one-ui.js'
import { row, shots } from './ui-helpers.js'
import { Engine } from '../../main/engine/engine.js'
import { putMany, fileName } from '../../bench/lib-many-files.js'

const COUNT = 3_000
const LAST = '/many/' + fileName(COUNT - 1)

interface El { scrollTop: number, scrollHeight: number, clientHeight: number, closest: (s: string) => El | null, getAttribute: (n: string) => string | null, getBoundingClientRect: () => { top: number, bottom: number } }
interface Doc { activeElement: El | null, querySelector: (s: string) => El | null, querySelectorAll: (s: string) => { length: number } }

describe('a folder of thousands of files in the browser UI', () => {
  const ui = new OneUi()
  let d: DaemonProc | undefined
  let page: Page

  beforeAll(async () => {
    // The files are written by an engine on the daemon's folder before it starts (fast, batched).
    const storage = await mkdtemp(join(tmpdir(), 'datdot-e2e-big-'))
    const e = new Engine({ storage, offline: true })
    await e.ready()
    // The Private space: the one the UI shows first.
    const drive = e.spaces.resolve('Private').vault.drive
    await putMany(drive, '/many', COUNT, { batchSize: 1000 })
    await drive.put('/readme.txt', Buffer.from('a big folder next door\n'))
    await e.close()
    ui.dirs.push(storage)
    await ui.start({ storage })
    d = ui.daemon
    page = ui.page
  })

  afterAll(async () => { await ui.close() })

  /** Rows of the file table in the DOM. */
  async function domRows (): Promise<number> {
    return await page.evaluate(() => (globalThis as unknown as { document: Doc }).document.querySelectorAll('[data-testid=file-row]').length)
  }

  it('opens the folder with only the rows on screen in the DOM', async () => {
    await page.goto(d!.url)
    const dismiss = page.locator('[data-testid=prompt-dismiss]')
    if (await dismiss.count() > 0) await dismiss.click()
    await page.locator(`${row('', '/many')} [data-testid=open-folder]`).click()
    await page.locator(row('', '/many/' + fileName(0))).waitFor()
    expect(await domRows()).toBeLessThan(100)
    expect(await page.locator('[data-testid=list-count]').textContent()).toContain('more as you scroll')
    await shots(page, 'big-folder-top')
  })

  it('loads the next pages as the list scrolls, until the last file shows', async () => {
    const last = page.locator(row('', LAST))
    for (let i = 0; i < 50 && await last.count() === 0; i++) {
      const count = await page.locator('[data-testid=list-count]').getAttribute('data-count') ?? ''
      await page.locator('main.content').evaluate((el) => { (el as unknown as El).scrollTop = 1e9 })
      // Either the last row is in the DOM, or another page arrived (the count changed).
      await page.waitForFunction(([path, before]) => {
        const d = (globalThis as unknown as { document: Doc }).document
        return d.querySelector(`[data-testid=file-row][data-path="${path}"]`) !== null || d.querySelector('[data-testid=list-count]')?.getAttribute('data-count') !== before
      }, [LAST, count] as const)
    }
    await last.waitFor()
    expect(await page.locator('[data-testid=list-count]').textContent()).toContain('3,000 entries')
    expect(await domRows()).toBeLessThan(100)
    await shots(page, 'big-folder-end', { bottom: true })
  })

  it('moves keyboard focus row after row past the rows first rendered', async () => {
    await page.locator('main.content').evaluate((el) => { (el as unknown as El).scrollTop = 0 })
    await page.locator(`${row('', '/many/' + fileName(0))} [data-testid=download]`).focus()
    // Scroll events come a frame after the focus scrolled; on a busy machine keys go faster than
    // frames. Holding them all back while Tab walks the list is that race at its worst.
    await page.evaluate(() => {
      const w = globalThis as unknown as { addEventListener: (t: string, f: (e: { stopImmediatePropagation: () => void }) => void, o: object) => void, holdScroll?: (e: { stopImmediatePropagation: () => void }) => void }
      w.holdScroll = (e) => { e.stopImmediatePropagation() }
      w.addEventListener('scroll', w.holdScroll, { capture: true })
    })
    // A file row has five buttons (Open, Download, Rename, Copy to…, Delete): 300 Tabs walk some
    // 60 rows down, past the ~35 rendered when the folder opened.
    for (let i = 0; i < 300; i++) await page.keyboard.press('Tab')
    await page.evaluate(() => {
      const w = globalThis as unknown as { removeEventListener: (t: string, f: unknown, o: object) => void, holdScroll?: unknown }
      w.removeEventListener('scroll', w.holdScroll, { capture: true })
    })
    const focused = await page.evaluate(() => {
      const a = (globalThis as unknown as { document: Doc }).document.activeElement
      const tr = a?.closest('[data-testid=file-row]') ?? null
      const box = a?.getBoundingClientRect()
      return { path: tr?.getAttribute('data-path') ?? null, top: box?.top ?? -1, bottom: box?.bottom ?? -1 }
    })
    expect(focused.path).not.toBeNull()
    const index = Number(/f(\d+)\.txt$/.exec(focused.path ?? '')?.[1])
    expect(index).toBeGreaterThan(45)
    // The focused row is on screen (the window followed the focus).
    expect(focused.top).toBeGreaterThanOrEqual(0)
    expect(focused.bottom).toBeLessThanOrEqual(900)
  })

  it('keeps every action of a row inside the window at 800 and 420 px', async () => {
    for (const [width, height] of [[800, 600], [420, 800]]) {
      await page.setViewportSize({ width, height })
      await page.locator('main.content').evaluate((el) => { (el as unknown as El).scrollTop = 40_000 })
      const rows = page.locator('[data-testid=file-row]')
      await rows.first().waitFor()
      expect(await domRows(), `rows in the DOM at ${width}px`).toBeLessThan(100)
      const visible = rows.nth(Math.floor(await rows.count() / 2))
      for (const button of await visible.locator('.actions button').all()) {
        const box = await button.boundingBox()
        expect(box, `an action is hidden at ${width}px`).not.toBeNull()
        expect(box!.x + box!.width, `an action overflows at ${width}px`).toBeLessThanOrEqual(width)
      }
    }
    await page.setViewportSize({ width: 1400, height: 900 })
    await shots(page, 'big-folder-middle')
  })
})
