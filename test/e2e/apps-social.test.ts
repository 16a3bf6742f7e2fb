/**
 * End to end, the social app template across two daemons on one loopback testnet (issue 11):
 * Alice creates an app from the social template in her UI and copies its link on the Apps page;
 * Bob opens it by that link in his UI, where it runs with his own data. Both post, share their
 * "My link" and follow each other through the app (every consent answered in the UI's dialogs);
 * each timeline shows the other's post, and a new post by Alice appears in Bob's timeline live,
 * without a reload. Bob's "Edit a copy" makes an editable fork. Screenshots at three sizes with
 * DATDOT_E2E_SCREENSHOTS=folder.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import type { FrameLocator, Page } from 'playwright-core'
import type { DaemonProc } from './daemons.js'
import { shots, type PageGlobals } from './ui-helpers.js'
import { TwoUis } from './two-uis.js'

const APP_LINK = /^hyper:\/\/[a-z0-9]{52}(#key=[a-z0-9]{52})?$/
const APP = 'Social E2E'

const frameOf = (page: Page): FrameLocator => page.frameLocator('[data-testid=app-frame]')

/** Waits for the host's question whose title contains `title`, and answers it in the dialog. */
async function answer (page: Page, title: string | RegExp, yes = true): Promise<void> {
  const dialog = page.locator('[data-testid=app-question]', { hasText: title })
  await dialog.waitFor()
  await dialog.locator(yes ? '[data-testid=question-allow]' : '[data-testid=question-deny]').click()
  await dialog.waitFor({ state: 'hidden' })
}

/** Posts `text` through the running app's form; it shows in the poster's own timeline. */
async function post (page: Page, text: string): Promise<void> {
  const app = frameOf(page)
  await app.locator('#text').fill(text)
  await app.locator('#post button[type=submit]').click()
  await app.locator('#timeline .card', { hasText: text }).waitFor()
}

/** "My link" in the app: the host asks before it shares the app's data drive. */
async function myLink (page: Page): Promise<string> {
  const app = frameOf(page)
  await app.locator('#mylink').click()
  await answer(page, 'wants to share its data')
  await expect.poll(async () => await app.locator('#link').inputValue()).toMatch(/^hyper:\/\//)
  return await app.locator('#link').inputValue()
}

/** "Follow a friend" in the app: the p2p permission the first time, then consent to follow that link. */
async function follow (page: Page, link: string): Promise<void> {
  const app = frameOf(page)
  await app.locator('#friend').fill(link)
  await app.locator('#follow button[type=submit]').click()
  await answer(page, 'to use peers')
  const consent = page.locator('[data-testid=app-question]', { hasText: 'wants to follow a drive' })
  await consent.waitFor()
  expect(await consent.locator('[data-testid=question-link]').innerText()).toBe(link)
  await answer(page, 'wants to follow a drive')
  await page.locator('[data-testid=console-line]', { hasText: 'following' }).first().waitFor()
}

describe('the social app template between two users', () => {
  const ui = new TwoUis()
  let a: DaemonProc | undefined
  let b: DaemonProc | undefined
  let alice: Page
  let bob: Page

  beforeAll(async () => {
    await ui.start({ viewport: { width: 1400, height: 900 }, clipboardA: true, separateContexts: true })
    ;[a, b, alice, bob] = [ui.daemonA, ui.daemonB, ui.pageA, ui.pageB]
  })

  afterAll(async () => { await ui.close() })

  it("runs Alice's app in Bob's UI by its link, with Bob's own data; they follow each other and see each other's posts live", async () => {
    // Alice: a new app from the social template; it asks for its data permission when it starts.
    await alice.goto(a!.url)
    await alice.locator('[data-testid=nav-apps]').click()
    await alice.locator('[data-testid=new-app]').click()
    await alice.locator('[data-testid=app-name]').fill(APP)
    await alice.locator('[data-testid=template-social]').check()
    await alice.locator('[data-testid=create-app]').click()
    await alice.locator(`[data-testid=app-editor][data-app="${APP}"]`).waitFor()
    await answer(alice, 'to use its data')
    await frameOf(alice).locator('#timeline', { hasText: 'Nothing yet' }).waitFor()

    // ...and copies its link from the Apps page.
    await alice.locator('[data-testid=back-to-apps]').click()
    const card = alice.locator(`[data-testid=app-card][data-app="${APP}"]`)
    await card.locator('[data-testid=copy-app-link]').click()
    await alice.locator('[data-testid=toast-success]', { hasText: 'Link copied' }).waitFor()
    const link = await alice.evaluate(async () => await (globalThis as unknown as PageGlobals).navigator.clipboard.readText())
    expect(link).toMatch(APP_LINK)
    await shots(alice, 'apps-social-list')

    // Bob opens it by the link: read-only code, his own data (the same data permission question).
    await bob.goto(b!.url)
    await bob.locator('[data-testid=nav-apps]').click()
    await bob.locator('[data-testid=open-app-link]').click()
    await bob.locator('[data-testid=app-link-input]').fill(link)
    await bob.locator('[data-testid=open-app]').click()
    // Finding Alice's app through the DHT is the slow part.
    await bob.locator(`[data-testid=app-editor][data-app="${APP}"] [data-testid=read-only]`).waitFor({ timeout: 100_000 })
    await answer(bob, 'to use its data')
    await frameOf(bob).locator('#timeline', { hasText: 'Nothing yet' }).waitFor()

    // Alice runs her app again; both post, each to their own data drive.
    await alice.locator(`[data-testid=app-card][data-app="${APP}"] [data-testid=open-editor]`).click()
    await frameOf(alice).locator('#timeline', { hasText: 'Nothing yet' }).waitFor()
    await post(alice, 'Hello from Alice')
    await post(bob, 'Hello from Bob')
    // Bob's timeline has only his own post: the app's data is his, not Alice's.
    expect(await frameOf(bob).locator('#timeline .card').allInnerTexts()).toEqual([expect.stringContaining('Hello from Bob')])

    // Each shares "My link"; each follows the other's.
    const aliceLink = await myLink(alice)
    const bobLink = await myLink(bob)
    expect(aliceLink).not.toBe(bobLink)
    await follow(bob, aliceLink)
    await follow(alice, bobLink)
    await frameOf(bob).locator('#timeline .card', { hasText: 'Hello from Alice' }).waitFor({ timeout: 100_000 })
    await frameOf(alice).locator('#timeline .card', { hasText: 'Hello from Bob' }).waitFor({ timeout: 100_000 })
    await shots(bob, 'apps-social-timeline')

    // Live: Alice posts again and Bob's running app shows it without a reload (a mark set in
    // his app's page before the post is still there after it).
    const bobFrame = await (await bob.locator('[data-testid=app-frame]').elementHandle()).contentFrame()
    await bobFrame!.evaluate(() => { (globalThis as unknown as { e2eMark: number }).e2eMark = 1 })
    await post(alice, 'Alice, live')
    await frameOf(bob).locator('#timeline .card', { hasText: 'Alice, live' }).waitFor({ timeout: 100_000 })
    expect(await bobFrame!.evaluate(() => (globalThis as unknown as { e2eMark?: number }).e2eMark)).toBe(1)
  })

  it("makes an editable copy of Alice's app for Bob with \"Edit a copy\"", async () => {
    await bob.locator('[data-testid=editor-fork]').click()
    const editor = bob.locator('[data-testid=app-editor]', { has: bob.locator('[data-testid=save-app]') })
    await editor.waitFor()
    expect(await editor.locator('[data-testid=read-only]').count()).toBe(0)
    // The copy is another app: it has its own data, so it asks again.
    await answer(bob, 'to use its data')
    await frameOf(bob).locator('#timeline', { hasText: 'Nothing yet' }).waitFor()
    await bob.locator('[data-testid=back-to-apps]').click()
    const yours = bob.locator('section[aria-label="Your apps"] [data-testid=app-card]')
    const opened = bob.locator('section[aria-label="Opened by link"] [data-testid=app-card]')
    await expect.poll(async () => await yours.count()).toBe(1)
    expect(await opened.count()).toBe(1)
    expect(await yours.locator('.tag').innerText()).toBe('Yours')
    expect(await yours.getAttribute('data-app')).toBe(`${APP} copy`)
    await shots(bob, 'apps-social-fork')
  })
})
