/**
 * Two daemons on a loopback DHT testnet and one Chromium with a page for each: what every
 * two-user e2e file starts with. start() may fail half way; close() stops whatever was started.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { assertBuilt, removeDir, startDaemon, startTestnet, stop, type DaemonProc, type Testnet } from './daemons.js'
import { CHROMIUM_ARGS } from './ui-helpers.js'

export interface TwoUisOptions {
  /** Default 1200x760. */
  viewport?: { width: number, height: number }
  acceptDownloads?: boolean
  /** Let A's page read and write the clipboard (copy-link buttons). */
  clipboardA?: boolean
  /** A browser context each (separate storage), instead of two pages of one context. */
  separateContexts?: boolean
}

export class TwoUis {
  testnet: Testnet | undefined
  a: DaemonProc | undefined
  b: DaemonProc | undefined
  browser: Browser | undefined
  private pages: [Page, Page] | undefined
  /** More folders to remove at close (exports, downloads). */
  readonly dirs: string[] = []

  get pageA (): Page { return this.started()[0] }
  get pageB (): Page { return this.started()[1] }
  get daemonA (): DaemonProc { return this.a as DaemonProc }
  get daemonB (): DaemonProc { return this.b as DaemonProc }

  private started (): [Page, Page] {
    if (this.pages === undefined) throw new Error('TwoUis.start() has not finished')
    return this.pages
  }

  async start (opts: TwoUisOptions = {}): Promise<this> {
    assertBuilt()
    this.testnet = await startTestnet()
    const bootstrap = this.testnet.bootstrap
    ;[this.a, this.b] = await Promise.all([startDaemon(bootstrap), startDaemon(bootstrap)])
    this.browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    const options = { viewport: opts.viewport ?? { width: 1200, height: 760 }, acceptDownloads: opts.acceptDownloads ?? false }
    const ctxA: BrowserContext = await this.browser.newContext(options)
    if (opts.clipboardA === true) await ctxA.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: this.a.origin })
    const ctxB = opts.separateContexts === true ? await this.browser.newContext(options) : ctxA
    this.pages = [await ctxA.newPage(), await ctxB.newPage()]
    for (const p of this.pages) p.setDefaultTimeout(60_000)
    return this
  }

  async close (): Promise<void> {
    await this.browser?.close()
    await Promise.all([stop(this.a?.child), stop(this.b?.child)])
    await stop(this.testnet?.child)
    await Promise.all([removeDir(this.a?.storage), removeDir(this.b?.storage), ...this.dirs.map(removeDir)])
  }
}
