/**
 * End to end, a hostile DatDot app run through the real UI and host bridge (issue 11, Security):
 * its script calls a method the bridge does not have, passes bad arguments, reads a drive it did
 * not follow, writes more than APP_LIMITS.dataWriteBytes, writes outside its data drive, names
 * another app's data with an `app` field, navigates the top window and opens a window. Each is
 * refused with a clear error in the editor's console; afterwards, through the API, the other app's
 * data, the user's Private space and the hostile app's own data are as they were. A write within
 * the limit but over an ordinary API message (3 MB) works: the over-limit one did not cut the UI off.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { APP_LIMITS } from '../../main/shared/contract-apps.js'
import { assertBuilt, removeDir, startDaemon, startTestnet, stop, type DaemonProc, type Testnet } from './daemons.js'
import { CHROMIUM_ARGS, shots } from './ui-helpers.js'

/** The attacks, each logged as `<name> refused <code>: <message>` (or `<name> UNEXPECTED ...`). */
function hostileScript (victimApp: string, victimDataKey: string): string {
  return `const TAG = 'datdot-app/1'
const out = (name, p) => Promise.resolve(p).then(
  (v) => console.error(name, 'UNEXPECTED', JSON.stringify(v)),
  (e) => console.warn(name, 'refused', e.code + ': ' + e.message))
// A call the datdot object does not offer, posted by hand.
let nextRaw = 1e6
function raw (method, args) {
  const id = nextRaw++
  return new Promise((resolve, reject) => {
    addEventListener('message', function on (e) {
      if (e.data?.tag !== TAG || e.data.id !== id) return
      removeEventListener('message', on)
      if (e.data.ok) resolve(e.data.value); else reject(Object.assign(new Error(e.data.error.message), { code: e.data.error.code }))
    })
    parent.postMessage({ tag: TAG, type: 'call', id, method, args }, '*')
  })
}
function attempt (name, f) {
  try { const r = f(); console.warn(name, 'refused', r === null ? 'null' : 'returned ' + typeof r) } catch (e) { console.warn(name, 'refused', e.name) }
}
async function run () {
  await datdot.vault.write({ path: '/mine.txt', data: 'mine' })
  await out('unknown-method', raw('deleteSpace', { space: 'Private', confirm: true }))
  await out('bad-args', datdot.vault.write({ path: 42, data: 'x' }))
  await out('not-followed', datdot.p2p.read({ key: ${JSON.stringify(victimDataKey)}, path: '/secret.txt' }))
  await out('too-large', datdot.vault.write({ path: '/big.bin', data: 'x'.repeat(${APP_LIMITS.dataWriteBytes + 1}) }))
  // A big write within the limit (over the 1 MiB of an ordinary API message) still works.
  await datdot.vault.write({ path: '/photo.bin', encoding: 'base64', data: btoa('x'.repeat(3_000_000)) }).then(() => console.log('big write ok'))
  await out('escape', datdot.vault.write({ path: '../x', data: 'escaped' }))
  await out('escape-deep', datdot.vault.write({ path: '/a/../../x', data: 'escaped' }))
  await out('other-app-read', datdot.vault.read({ path: '/secret.txt', app: ${JSON.stringify(victimApp)} }))
  await out('other-app-write', datdot.vault.write({ path: '/secret.txt', data: 'overwritten', app: ${JSON.stringify(victimApp)} }))
  attempt('top', () => { top.location.href = 'https://example.invalid/'; return 'navigated' })
  attempt('open', () => window.open('https://example.invalid/'))
  console.log('hostile done')
}
run().catch((e) => console.error('hostile crashed', e))
`
}

const ATTACKS: Array<[string, RegExp]> = [
  ['unknown-method', /refused INVALID_ARGUMENT: Unknown call "deleteSpace"/],
  ['bad-args', /refused INVALID_ARGUMENT: Bad arguments to vault\.write: path/],
  ['not-followed', /refused FORBIDDEN: /],
  ['too-large', /refused TOO_LARGE: /],
  ['escape', /refused INVALID_(ARGUMENT|PATH): /],
  ['escape-deep', /refused INVALID_(ARGUMENT|PATH): /],
  ['other-app-read', /refused INVALID_ARGUMENT: Bad arguments to vault\.read: .*app/i],
  ['other-app-write', /refused INVALID_ARGUMENT: Bad arguments to vault\.write: .*app/i],
  ['top', /refused SecurityError/],
  ['open', /refused null/]
]

interface Space { id: string, name: string, key: string, kind?: string }

describe('a hostile app in the browser UI', () => {
  let testnet: Testnet | undefined
  let a: DaemonProc | undefined
  let browser: Browser | undefined
  let context: BrowserContext
  let page: Page

  async function api<T> (method: string, args: unknown = {}): Promise<T> {
    const res = await fetch(`${a!.origin}/api/call/${method}`, {
      method: 'POST', headers: { authorization: `Bearer ${a!.token}`, 'content-type': 'application/json' }, body: JSON.stringify(args)
    })
    const body = await res.json() as { result?: T, error?: { code: string, message: string } }
    if (body.error) throw new Error(`${method}: ${body.error.code} ${body.error.message}`)
    return body.result as T
  }

  beforeAll(async () => {
    assertBuilt()
    testnet = await startTestnet()
    a = await startDaemon(testnet.bootstrap)
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
    page = await context.newPage()
    page.setDefaultTimeout(60_000)
  })

  afterAll(async () => {
    await browser?.close()
    await stop(a?.child)
    await stop(testnet?.child)
    await removeDir(a?.storage)
  })

  it('refuses every attack with a clear error in the console and changes nothing', async () => {
    // The victim: another app with data of its own, and a file in the user's Private space.
    const victim = await api<{ id: string }>('createApp', { name: 'Victim', template: 'notes' })
    await api('setAppPermission', { app: victim.id, permission: 'vault', granted: true })
    await api('appDataWrite', { app: victim.id, path: '/secret.txt', data: 'victim data' })
    const spaces = (await api<{ spaces: Space[] }>('listSpaces')).spaces
    const victimData = spaces.find((s) => s.kind === 'app-data')!
    const priv = spaces.find((s) => s.name === 'Private')!
    const privateBefore = await api('listFiles', { drive: priv.key, recursive: true })
    const victimBefore = await api('appDataList', { app: victim.id, path: '/' })

    // The hostile app, made and granted its data and peers permissions (so what refuses it is
    // the bridge and the engine, not a missing permission); opened in the editor of the UI.
    const hostile = await api<{ id: string }>('createApp', { name: 'Hostile', template: 'blank' })
    await api('saveAppFiles', {
      app: hostile.id,
      files: [
        { path: '/index.html', text: '<!doctype html><meta charset="utf-8"><title>Hostile</title><h1>Hostile</h1><script src="hostile.js"></script>' },
        { path: '/hostile.js', text: hostileScript(victim.id, victimData.key) }
      ]
    })
    for (const permission of ['vault', 'p2p']) await api('setAppPermission', { app: hostile.id, permission, granted: true })
    const popups: string[] = []
    context.on('page', (p) => { popups.push(p.url()) })
    await page.goto(a!.url)
    const uiUrl = page.url()
    await page.locator('[data-testid=nav-apps]').click()
    await page.locator('[data-testid=app-card][data-app=Hostile] [data-testid=open-editor]').click()
    await page.locator('[data-testid=app-editor][data-app=Hostile]').waitFor()
    const line = (text: string | RegExp): ReturnType<Page['locator']> => page.locator('[data-testid=console-line]', { hasText: text })
    await line('hostile done').first().waitFor()

    // Each attack: refused, with a clear code and message, listed in the console.
    for (const [name, expected] of ATTACKS) {
      const text = await line(new RegExp(`^${name} `)).first().innerText()
      expect(text, name).toMatch(expected)
    }
    expect(await line('UNEXPECTED').count()).toBe(0)
    expect(await line('hostile crashed').count()).toBe(0)
    expect(await line('big write ok').count()).toBe(1)
    // The refused bridge calls are listed as calls too, with their codes.
    await line('TOO_LARGE').and(page.locator('[data-kind=call]')).first().waitFor()
    await shots(page, 'apps-hostile-console')

    // Nothing changed: the UI is where it was, no window opened, the victim's data, Private and
    // the hostile app's own data (only the one legitimate file) are as they were.
    expect(page.url()).toBe(uiUrl)
    expect(popups).toEqual([])
    expect(await api('listFiles', { drive: priv.key, recursive: true })).toEqual(privateBefore)
    expect(await api('appDataList', { app: victim.id, path: '/' })).toEqual(victimBefore)
    expect(await api<{ text?: string, data?: string }>('appDataRead', { app: victim.id, path: '/secret.txt' })).toMatchObject({ data: 'victim data' })
    const own = await api<Array<{ path: string }>>('appDataList', { app: hostile.id, path: '/' })
    expect(own.map((e) => e.path).sort()).toEqual(['/mine.txt', '/photo.bin'])
  })
})
