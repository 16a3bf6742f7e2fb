/**
 * End to end: Chromium (Debian's, never downloaded) drives the web UIs of two daemons on a
 * loopback DHT testnet. A's user drops a file into the vault's Public space and shares its link; B's user
 * follows it, sees the file, downloads it byte-identical, and is notified of A's next change.
 * Also: a malformed link shows the engine's error, and a foreign origin cannot use the API.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import NodeWebSocket from 'ws'
import type { Page } from 'playwright-core'
import { readDaemonJson, startDaemon, stop, type DaemonProc } from './daemons.js'
import { dropFiles, row, selectSpace, shot, type DropFile, type PageGlobals } from './ui-helpers.js'
import { TwoUis } from './two-uis.js'

/**
 * The units of every size visible on the page ("293 KiB", "1.5 MB"...), deduplicated and
 * sorted: the UI uses one unit system (binary), so no KB/MB/GB may appear next to KiB/MiB/GiB.
 */
async function sizeUnitsShown (page: Page): Promise<string[]> {
  const text = await page.locator('body').innerText()
  const units = [...text.matchAll(/\b\d+(?:\.\d+)?\s?([KMGT]i?B)\b/g)].map((m) => m[1])
  return [...new Set(units)].sort()
}

/** Opens a WebSocket to the API from inside a page; resolves 'open' or 'refused'. */
async function tryWebSocket (page: Page, url: string, token: string): Promise<'open' | 'refused'> {
  return await page.evaluate(async ({ url, token }) => {
    const g = globalThis as unknown as PageGlobals
    return await new Promise<'open' | 'refused'>((resolve) => {
      const ws = new g.WebSocket(url, ['datdot.v1', 'token.' + token])
      ws.onopen = () => { ws.close(); resolve('open') }
      ws.onclose = () => resolve('refused')
      ws.onerror = () => resolve('refused')
    })
  }, { url, token })
}

/** Connects from Node (no Origin header unless given); resolves 'open' or the HTTP status. */
async function nodeWebSocket (url: string, protocols: string[], origin?: string): Promise<'open' | number> {
  const ws = new NodeWebSocket(url, protocols, origin === undefined ? {} : { origin })
  return await new Promise<'open' | number>((resolve, reject) => {
    ws.once('open', () => { ws.close(); resolve('open') })
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
    ws.once('error', (err) => { if (ws.readyState !== ws.CLOSED) reject(err) })
  })
}

describe('the browser UI of two daemons on a loopback testnet', () => {
  const ui = new TwoUis()
  let a: DaemonProc | undefined
  let b: DaemonProc | undefined
  let pageA: Page
  let pageB: Page
  let link = ''
  const first: DropFile = { name: 'hello from alice.bin', bytes: randomBytes(300_000) }
  const second: DropFile = { name: 'second.txt', bytes: Buffer.from('a later change\n') }

  beforeAll(async () => {
    await ui.start({ acceptDownloads: true })
    ;[a, b, pageA, pageB] = [ui.daemonA, ui.daemonB, ui.pageA, ui.pageB]
  })

  afterAll(async () => { await ui.close() })

  it('opens with the token taken out of the address bar and an empty vault, showing the Private space', async () => {
    const daemonJson = await readDaemonJson(a!.storage)
    expect(daemonJson.port).toBe(a!.port)
    await pageA.goto(a!.url)
    await pageA.getByText('"Private" is empty — drop files here').waitFor()
    expect(await pageA.locator('[data-testid=space-card][aria-current=true]').getAttribute('data-space')).toBe('Private')
    expect(pageA.url()).toBe(`${a!.origin}/`)
    await shot(pageA, 'a-empty')
  })

  it("lists a file dropped into A's Public space and shows its share link", async () => {
    await selectSpace(pageA, 'Public')
    await pageA.getByText('"Public" is empty — drop files here').waitFor()
    await dropFiles(pageA, [first])
    const r = pageA.locator(row('', '/' + first.name))
    await r.waitFor()
    // 300000 bytes in binary units, like every size the UI shows.
    expect(await r.locator('td').nth(1).textContent()).toBe('293 KiB')
    expect(await sizeUnitsShown(pageA)).toEqual(['KiB'])
    link = await pageA.locator('[data-testid=share-link]').inputValue()
    expect(link).toMatch(/^hyper:\/\/[a-z0-9]{52}$/)
    await shot(pageA, 'a-files')
  })

  it('says in plain words what a link looks like for a malformed link, and follows nothing', async () => {
    await pageB.goto(b!.url)
    await pageB.bringToFront()
    await pageB.click('[data-testid=nav-peers]')
    await pageB.fill('[data-testid=follow-input]', 'hyper://not-a-real-key')
    await pageB.click('[data-testid=follow-button]')
    const error = pageB.locator('[data-testid=follow-error]')
    await error.waitFor()
    expect(await error.textContent()).toContain('That is not a DatDot link')
    expect(await error.textContent()).toContain('hyper://')
    // ...not the engine's words for key encodings.
    expect(await error.textContent()).not.toContain('z-base-32')
    expect(await pageB.locator('[data-testid=follow-input]').getAttribute('aria-invalid')).toBe('true')
    expect(await pageB.locator('[data-testid=follow-card]').count()).toBe(0)
    await shot(pageB, 'b-invalid-link')
  })

  it("follows A's link in B's UI, lists A's file and downloads the same bytes", async () => {
    await pageB.fill('[data-testid=follow-input]', link)
    await pageB.click('[data-testid=follow-button]')
    await pageB.locator('[data-testid=follow-card]').waitFor()
    expect(await pageB.locator('[data-testid=follow-error]').count()).toBe(0)
    const fileRow = pageB.locator(row('[data-testid=followed-files]', '/' + first.name))
    // Finding A through the DHT is the slow part (seconds to tens of seconds on a busy machine).
    await fileRow.waitFor({ timeout: 100_000 })
    await shot(pageB, 'b-following')
    const [download] = await Promise.all([
      pageB.waitForEvent('download'),
      fileRow.locator('[data-testid=download]').click()
    ])
    expect(download.suggestedFilename()).toBe(first.name)
    const path = await download.path()
    expect((await readFile(path)).equals(first.bytes)).toBe(true)
  })

  it('notifies B and lists the new file when A adds another one', async () => {
    await dropFiles(pageA, [second])
    await pageA.locator(row('', '/' + second.name)).waitFor()
    await pageB.locator('[data-testid=toast-update]', { hasText: second.name }).waitFor()
    await pageB.locator(row('[data-testid=followed-files]', '/' + second.name)).waitFor()
    await shot(pageB, 'b-updated')
  })

  it("browses A's vault read-only as it was at an older version from the history panel", async () => {
    // Background tabs get few animation frames, which slows Playwright's clicks: focus A.
    await pageA.bringToFront()
    await pageA.click('[data-testid=history-toggle]')
    const item = pageA.locator('[data-testid=history-panel] button', { hasText: first.name })
    await item.click()
    await pageA.locator('[data-testid=version-banner]').waitFor()
    await pageA.locator(row('', '/' + first.name)).waitFor()
    expect(await pageA.locator(row('', '/' + second.name)).count()).toBe(0)
    expect(await pageA.locator('[data-testid=delete]').count()).toBe(0)
    await shot(pageA, 'a-history')
    await pageA.locator('[data-testid=version-banner]').getByRole('button', { name: 'Back to latest' }).click()
    await pageA.locator(row('', '/' + second.name)).waitFor()
    await pageA.click('[data-testid=history-toggle]')
    await pageA.locator('[data-testid=history-panel]').waitFor({ state: 'detached' })
  })

  it('keeps the structure of a picked folder, and renames and deletes only after confirmation', async () => {
    const src = await mkdtemp(join(tmpdir(), 'datdot-e2e-src-'))
    ui.dirs.push(src)
    await mkdir(join(src, 'album', 'nested'), { recursive: true })
    await writeFile(join(src, 'album', 'a.txt'), 'one\n')
    await writeFile(join(src, 'album', 'nested', 'b.txt'), 'two\n')
    await pageA.bringToFront()
    await pageA.setInputFiles('[data-testid=folder-input]', join(src, 'album'))
    await pageA.locator(row('', '/album')).locator('[data-testid=open-folder]').click()
    await pageA.locator(row('', '/album/nested')).waitFor()
    await pageA.locator(row('', '/album/a.txt')).waitFor()
    expect(await pageA.locator('[data-testid=crumb-current]').textContent()).toBe('album')

    await pageA.locator(row('', '/album/a.txt')).getByRole('button', { name: 'Rename or move a.txt' }).click()
    await pageA.locator('[data-testid=rename-dialog] input').fill('renamed.txt')
    await pageA.locator('[data-testid=rename-dialog] button[type=submit]').click()
    await pageA.locator(row('', '/album/renamed.txt')).waitFor()
    expect(await pageA.locator(row('', '/album/a.txt')).count()).toBe(0)

    const doomed = pageA.locator(row('', '/album/renamed.txt'))
    await doomed.locator('[data-testid=delete]').click()
    await pageA.locator('[data-testid=delete-dialog]').getByRole('button', { name: 'Cancel' }).click()
    expect(await doomed.count()).toBe(1)
    await doomed.locator('[data-testid=delete]').click()
    await pageA.locator('[data-testid=confirm-delete]').click()
    await doomed.waitFor({ state: 'detached' })
    await shot(pageA, 'a-folder')

    // B, browsing the root of A's drive, gets the new folder too.
    await pageB.locator(row('[data-testid=followed-files]', '/album')).waitFor()
  })

  it("refuses the API to a page of a foreign origin even when it knows A's token", async () => {
    const wsA = `ws://127.0.0.1:${a!.port}/api/ws`
    if (!pageA.url().startsWith(a!.origin)) await pageA.goto(a!.url)
    // Control: A's own page may connect with A's token...
    expect(await tryWebSocket(pageA, wsA, a!.token)).toBe('open')
    // ...a page of another origin, without a CSP of its own to stop it first, may not.
    const evil = await pageA.context().newPage()
    try {
      await evil.route('http://evil.example/**', async (route) => {
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>not DatDot</title>' })
      })
      await evil.goto('http://evil.example/')
      expect(await tryWebSocket(evil, wsA, a!.token)).toBe('refused')
    } finally {
      await evil.close()
    }
  })

  it('refuses WebSocket clients without the token, with a wrong token or with a foreign Origin', async () => {
    const url = `ws://127.0.0.1:${a!.port}/api/ws`
    expect(await nodeWebSocket(url, ['datdot.v1'])).toBe(401)
    expect(await nodeWebSocket(url, ['datdot.v1', 'token.' + 'ab'.repeat(32)])).toBe(401)
    expect(await nodeWebSocket(url, ['datdot.v1', 'token.' + a!.token], 'http://evil.example')).toBe(403)
    // Control: the right token from a local program (no Origin) gets an answer.
    const ws = new NodeWebSocket(url, ['datdot.v1', 'token.' + a!.token])
    await once(ws, 'open')
    ws.send(JSON.stringify({ id: 1, method: 'getVault', args: {} }))
    const [raw] = await once(ws, 'message') as [Buffer]
    ws.close()
    const msg = JSON.parse(raw.toString()) as { id: number, result?: { link: string } }
    expect(msg.id).toBe(1)
    expect(msg.result?.link).toBe(link)
  })

  it('shows that the engine is gone while A restarts, then reconnects with the vault intact', async () => {
    if (!pageA.url().startsWith(a!.origin)) await pageA.goto(a!.url)
    await pageA.bringToFront()
    await pageA.click('[data-testid=nav-vault]')
    const rootCrumb = pageA.locator('nav.crumbs button', { hasText: 'Public' })
    if (await rootCrumb.count() > 0) await rootCrumb.click()
    await pageA.locator(row('', '/' + first.name)).waitFor()
    const { storage, port } = a!
    await stop(a!.child)
    await pageA.locator('[data-testid=disconnected-banner]').waitFor()
    await shot(pageA, 'a-disconnected')
    a = await startDaemon(ui.testnet!.bootstrap, { storage, port })
    ui.a = a
    await pageA.locator('[data-testid=disconnected-banner]').waitFor({ state: 'detached' })
    await pageA.locator(row('', '/' + first.name)).waitFor()
    expect(await pageA.locator('[data-testid=share-link]').inputValue()).toBe(link)
  })

  it('marks a follow whose read key does not open the drive as locked, says why, keeps the key off the screen and does not browse it', async () => {
    // A's vault is not encrypted: a link with a read key cannot open it (a wrong key)
    const wrongKey = 'y'.repeat(52)
    await pageB.bringToFront()
    await pageB.click('[data-testid=nav-peers]')
    await pageB.fill('[data-testid=follow-input]', `${link}#key=${wrongKey}`)
    await pageB.click('[data-testid=follow-button]')
    const card = pageB.locator('[data-testid=follow-card]', { has: pageB.locator('[data-testid=follow-locked]') })
    await card.waitFor({ timeout: 100_000 })
    expect(await card.locator('[data-testid=follow-locked]').textContent()).toContain('does not open this drive')
    expect(await card.locator('[data-testid=follow-state]').textContent()).toBe('Locked')
    expect(await card.locator('[data-testid=browse-follow]').isDisabled()).toBe(true)
    expect(await card.textContent()).not.toContain(wrongKey)
    await shot(pageB, 'b-locked-follow')
  })

  it('shows the recovery phrase on the Backup page only after a confirmation, and takes it off the screen on Hide', async () => {
    if (!pageA.url().startsWith(a!.origin)) await pageA.goto(a!.url)
    await pageA.bringToFront()
    await pageA.click('[data-testid=nav-backup]')
    await pageA.locator('[data-testid=show-phrase]').click()
    const dialog = pageA.locator('[data-testid=phrase-dialog]')
    await dialog.locator('button', { hasText: 'Cancel' }).click()
    expect(await pageA.locator('[data-testid=phrase-words]').count()).toBe(0)
    await pageA.locator('[data-testid=show-phrase]').click()
    await pageA.locator('[data-testid=confirm-show-phrase]').click()
    const words = pageA.locator('[data-testid=phrase-words] li')
    await words.first().waitFor()
    expect(await words.count()).toBe(24)
    await shot(pageA, 'a-backup-phrase')
    await pageA.locator('[data-testid=hide-phrase]').click()
    expect(await pageA.locator('[data-testid=phrase-words]').count()).toBe(0)
    await pageA.click('[data-testid=nav-vault]')
  })
})
