/**
 * Helpers shared by the browser e2e tests: Chromium's flags, dropping files on the page, a file
 * row's selector, screenshots (when DATDOT_E2E_SCREENSHOTS names a folder), picking a space.
 */
import { join } from 'node:path'
import type { Page } from 'playwright-core'

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
const SHOTS = process.env.DATDOT_E2E_SCREENSHOTS

export interface DropFile { name: string, bytes: Buffer }

/**
 * The few browser globals the in-page functions use (the tests are type-checked without the DOM
 * lib). Those functions run in Chromium: they must not refer to anything imported here.
 */
export interface PageGlobals {
  DataTransfer: new () => { items: { add: (file: unknown) => void } }
  File: new (parts: Uint8Array[], name: string) => unknown
  atob: (s: string) => string
  WebSocket: new (url: string, protocols: string[]) => { onopen: (() => void) | null, onclose: (() => void) | null, onerror: (() => void) | null, close: () => void }
  navigator: { clipboard: { readText: () => Promise<string> } }
}

/** Dispatches a real `drop` event whose DataTransfer carries File objects built in the page. */
export async function dropFiles (page: Page, files: DropFile[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, base64: f.bytes.toString('base64') }))
  const dataTransfer = await page.evaluateHandle((list) => {
    const g = globalThis as unknown as PageGlobals
    const dt = new g.DataTransfer()
    for (const f of list) {
      const bin = g.atob(f.base64)
      const bytes = new Uint8Array(bin.length)
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
      dt.items.add(new g.File([bytes], f.name))
    }
    return dt
  }, payload)
  await page.dispatchEvent('[data-testid=drop-zone]', 'drop', { dataTransfer })
  await dataTransfer.dispose()
}

export function row (scope: string, path: string): string {
  return `${scope} [data-testid=file-row][data-path="${path}"]`
}

export async function shot (page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`) })
}

/** Screenshots at the three sizes the UI is checked at (scrolled to the end with `bottom`), then back to the page's own size. */
export async function shots (page: Page, name: string, opts: { bottom?: boolean } = {}): Promise<void> {
  if (!SHOTS) return
  const size = page.viewportSize()
  for (const [width, height] of [[1400, 900], [800, 600], [420, 800]]) {
    await page.setViewportSize({ width, height })
    if (opts.bottom === true) await page.locator('main.content').evaluate((el) => { (el as unknown as { scrollTop: number }).scrollTop = 1e6 })
    await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`) })
  }
  if (size) await page.setViewportSize(size)
}

/** Screenshots at the three checked sizes, each scrolled so that the element `testid` is at the top (when DATDOT_E2E_SCREENSHOTS names a folder). */
export async function shotsAt (page: Page, name: string, testid: string): Promise<void> {
  if (SHOTS === undefined || SHOTS === '') return
  const size = page.viewportSize()
  for (const [width, height] of [[1400, 900], [800, 600], [420, 800]]) {
    await page.setViewportSize({ width, height })
    await page.getByTestId(testid).first().evaluate((el) => { (el as unknown as { scrollIntoView: () => void }).scrollIntoView() })
    await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`) })
  }
  if (size !== null) await page.setViewportSize(size)
}

/** Shows a space on the Vault page (its card) and waits until its header says so. */
export async function selectSpace (page: Page, name: string): Promise<void> {
  await page.locator(`[data-testid=space-card][data-space="${name}"]`).click()
  await page.locator(`[data-testid=space-head][data-space="${name}"]`).waitFor()
}
