/**
 * One daemon on a loopback DHT testnet and one Chromium page on it: what every single-user e2e
 * file starts with (two-uis.ts is the same for two). start() may fail half way; close() stops
 * whatever was started and removes the daemon's folder and the `dirs` added.
 */
import { chromium, type Browser, type Page } from 'playwright-core'
import { assertBuilt, removeDir, startDaemon, startTestnet, stop, type DaemonProc, type Testnet } from './daemons.js'
import { CHROMIUM_ARGS } from './ui-helpers.js'

export interface OneUiOptions {
  /** The daemon's storage folder (prepared by the test); default: a new temporary one. */
  storage?: string
  /** The daemon's --chain; default 'off'. */
  chain?: string
  /** Default 1400x900. */
  viewport?: { width: number, height: number }
  /** The page's default timeout for waits and actions; default 120 s. */
  timeoutMs?: number
}

export class OneUi {
  testnet: Testnet | undefined
  d: DaemonProc | undefined
  browser: Browser | undefined
  private p: Page | undefined
  /** More folders to remove at close (sources, exports). */
  readonly dirs: string[] = []

  get page (): Page {
    if (this.p === undefined) throw new Error('OneUi.start() has not finished')
    return this.p
  }

  get daemon (): DaemonProc {
    if (this.d === undefined) throw new Error('OneUi.start() has not started the daemon')
    return this.d
  }

  async start (opts: OneUiOptions = {}): Promise<this> {
    assertBuilt()
    this.testnet = await startTestnet()
    this.d = await startDaemon(this.testnet.bootstrap, { storage: opts.storage, chain: opts.chain })
    this.browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    this.p = await (await this.browser.newContext({ viewport: opts.viewport ?? { width: 1400, height: 900 } })).newPage()
    this.p.setDefaultTimeout(opts.timeoutMs ?? 120_000)
    return this
  }

  /** Calls the daemon's API with its token; throws the API's error message. */
  async call<T = Record<string, unknown>> (method: string, args: unknown = {}): Promise<T> {
    const d = this.daemon
    const res = await fetch(`${d.origin}/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${d.token}` }, body: JSON.stringify(args) })
    const body = await res.json() as { result?: T, error?: { code: string, message: string } }
    if (body.error !== undefined) throw new Error(`${method}: ${body.error.code}: ${body.error.message}`)
    return body.result as T
  }

  async close (): Promise<void> {
    await this.browser?.close()
    await stop(this.d?.child)
    await stop(this.testnet?.child)
    await Promise.all([removeDir(this.d?.storage), ...this.dirs.map(removeDir)])
  }
}
