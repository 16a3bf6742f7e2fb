/**
 * End to end: the first-start backup prompt and the in-app restore, in Chromium against a real
 * daemon on a loopback testnet. A fresh daemon's page shows the prompt with "Restore from a
 * recovery phrase"; a wrong phrase shows the engine's error and changes nothing; the right one,
 * after a confirmation, restarts the daemon's node on the phrase's vault and the page shows the
 * running restore (nobody has that vault's blocks here, so it stays running). The prompt does
 * not come back. DATDOT_E2E_SCREENSHOTS=DIR saves each state at 1400x900, 800x600 and 420x800.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { assertBuilt, removeDir, startDaemon, startTestnet, stop, type DaemonProc, type Testnet } from './daemons.js'
import { phraseFromKey } from '../../main/engine/recovery.js'
import { keyId } from '../../main/engine/paths.js'
import { Engine } from '../../main/engine/engine.js'

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
const SHOTS = process.env.DATDOT_E2E_SCREENSHOTS
const SIZES = [[1400, 900], [800, 600], [420, 800]] as const

async function shots (page: Page, name: string): Promise<void> {
  if (!SHOTS) return
  const before = page.viewportSize()
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height })
    await page.screenshot({ path: join(SHOTS, `${name}-${width}x${height}.png`) })
  }
  if (before) await page.setViewportSize(before)
}

/** The vault key the daemon's getStatus reports. */
async function vaultKeyOf (d: DaemonProc): Promise<string> {
  const res = await fetch(`${d.origin}/api/call/getStatus`, { method: 'POST', headers: { Authorization: `Bearer ${d.token}` }, body: '{}' })
  return ((await res.json()) as { result: { vault: { key: string } } }).result.vault.key
}

describe('the first-start prompt and restoring a fresh install from its recovery phrase in the browser UI', () => {
  let testnet: Testnet | undefined
  let d: DaemonProc | undefined
  let browser: Browser | undefined
  let page: Page
  const key = randomBytes(32)
  const phrase = phraseFromKey(key)
  let vaultId = ''

  beforeAll(async () => {
    assertBuilt()
    testnet = await startTestnet()
    d = await startDaemon(testnet.bootstrap)
    // the vault key the phrase stands for (an offline engine on a scratch folder)
    const scratch = await import('node:fs/promises').then(async (fs) => await fs.mkdtemp(join((await import('node:os')).tmpdir(), 'datdot-key-')))
    const e = new Engine({ storage: scratch, primaryKey: key, offline: true })
    await e.ready()
    vaultId = keyId(e.vault.key)
    await e.close()
    await removeDir(scratch)
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    page = await (await browser.newContext({ viewport: { width: 1200, height: 760 } })).newPage()
    page.setDefaultTimeout(60_000)
  })

  afterAll(async () => {
    await browser?.close()
    await stop(d?.child)
    await stop(testnet?.child)
    await removeDir(d?.storage)
  })

  it('shows the backup prompt on a fresh folder, with a restore offer', async () => {
    await page.goto(d!.url)
    await page.locator('[data-testid=backup-prompt]').waitFor()
    await page.locator('[data-testid=prompt-restore]').waitFor()
    await shots(page, 'prompt')
  })

  it('opens the restore form from the prompt; a wrong phrase shows the error and changes nothing', async () => {
    const before = (await vaultKeyOf(d!))
    await page.locator('[data-testid=prompt-restore]').click()
    // the steps for a new computer speak of the app, not of the command line
    const steps = await page.locator('[data-testid=restore-steps]').innerText()
    expect(steps).toContain('Restore from a recovery phrase')
    expect(steps).not.toMatch(/datdot |--storage|storage folder|FOLDER/)
    await page.locator('[data-testid=restore-words]').fill(phrase.split(' ').slice(0, 23).join(' '))
    await shots(page, 'restore-form')
    await page.locator('[data-testid=restore-submit]').click()
    await page.locator('[data-testid=confirm-restore]').click()
    await expect.poll(async () => await page.locator('[data-testid=restore-error]').textContent()).toMatch(/has 24 words; this one has 23/)
    expect((await vaultKeyOf(d!))).toBe(before)
    await shots(page, 'restore-error')
  })

  it('restores from the right phrase after a confirmation and shows the running restore', async () => {
    await page.locator('[data-testid=restore-words]').fill(phrase)
    await page.locator('[data-testid=restore-submit]').click()
    await page.locator('[data-testid=restore-dialog]').getByText('DatDot restarts with the vault of these words').waitFor()
    await shots(page, 'restore-confirm')
    await page.locator('[data-testid=confirm-restore]').click()
    await page.locator('[data-testid=restore-card]').waitFor()
    expect((await vaultKeyOf(d!))).toBe(vaultId)
    expect(await page.locator('[data-testid=restore-form]').count()).toBe(0)
    await shots(page, 'restore-progress')
    // the user typed the phrase: the prompt does not come back, on any page
    await page.locator('[data-testid=nav-vault]').click()
    await page.goto(d!.url)
    await page.locator('[data-testid=vault-restoring]').waitFor()
    expect(await page.locator('[data-testid=backup-prompt]').count()).toBe(0)
    await shots(page, 'vault-restoring')
  })
})
