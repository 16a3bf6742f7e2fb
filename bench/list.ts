/**
 * Big folders (issue 13, "100,000 files"): a vault with one folder of --files files (default
 * 100,000) and a nested folder (--nested files in folders of 100), written in batches by an
 * offline engine, then:
 *  1. the engine (listFiles, as the API runs it, folder totals included): the first page, a
 *     middle page (by cursor) and a full walk of the folder, pages of 200, 500 and 1000;
 *  2. the UI, in Chromium against the built daemon on that vault: opening the folder until
 *     its first rows are painted, scrolling down --ui-rows rows (default 20,000; pages of 500
 *     load as it scrolls), then the frame after a jump to the middle of them, and how many rows
 *     the DOM holds.
 * Target: a page < 100 ms. Creation stops after --create-seconds (default 150) and the figures
 * are for the size reached (said so).
 *
 *   npm run build && node dist/bench/list.js [--files N] [--nested N] [--create-seconds S] [--ui-rows N] [--no-ui]
 *
 * Prints figures, never pass/fail.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import createTestnet from '@hyperswarm/testnet'
import { chromium, type Page } from 'playwright-core'
import { Engine } from '../main/engine/engine.js'
import { createHandlers } from '../main/api/handlers.js'
import { putMany } from './lib-many-files.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
const READY = /datdot daemon ready: (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]+)/

function arg (name: string, def: number): number {
  const i = process.argv.indexOf(name)
  return i === -1 ? def : Number(process.argv[i + 1])
}
const FILES = arg('--files', 100_000)
const NESTED = arg('--nested', 10_000)
const CREATE_S = arg('--create-seconds', 150)
const UI = !process.argv.includes('--no-ui')
/** Rows the UI scrolls down through before the jump (pages of 500 load one after another as it scrolls). */
const UI_ROWS = arg('--ui-rows', 20_000)

const say = (s: string): void => { process.stdout.write(s + '\n') }
const ms = (n: number): string => `${n.toFixed(1)} ms`

/** Median and fastest of a few runs (the fastest shows the cost without the machine's other load). */
function stats (xs: number[]): string {
  if (xs.length === 0) return 'n/a (one page)'
  const s = [...xs].sort((a, b) => a - b)
  return `${ms(s[Math.floor(s.length / 2)])} (fastest ${ms(s[0])})`
}

/** Writes the files in batches until done or out of time; how many were written in each place. */
async function create (engine: Engine): Promise<{ flat: number, nested: number }> {
  const t0 = performance.now()
  const late = (): boolean => performance.now() - t0 > CREATE_S * 1000
  let flat = 0
  for (; flat < FILES && !late(); flat += 5000) {
    await putMany(engine.spaces.resolve('Private').vault.drive, '/flat', Math.min(5000, FILES - flat), { from: flat, batchSize: 5000 })
  }
  flat = Math.min(flat, FILES)
  say(`[create] /flat: ${flat} files in ${((performance.now() - t0) / 1000).toFixed(1)} s (${Math.round(flat / ((performance.now() - t0) / 1000))} files/s, batches of 5000)`)
  let nested = 0
  const t1 = performance.now()
  for (let folder = 0; nested < NESTED && !late(); folder++, nested += 100) {
    await putMany(engine.spaces.resolve('Private').vault.drive, `/nested/d${String(folder).padStart(4, '0')}`, Math.min(100, NESTED - nested), { batchSize: 100 })
  }
  nested = Math.min(nested, NESTED)
  say(`[create] /nested: ${nested} files in ${Math.ceil(nested / 100)} folders in ${((performance.now() - t1) / 1000).toFixed(1)} s`)
  if (flat < FILES || nested < NESTED) say(`[create] STOPPED after ${CREATE_S} s: creation is too slow on this machine for the full size; the figures below are for the size reached`)
  return { flat, nested }
}

async function timed<T> (fn: () => Promise<T>): Promise<{ ms: number, value: T }> {
  const t = performance.now()
  const value = await fn()
  return { ms: performance.now() - t, value }
}

/** Engine figures for one folder: first page, a middle page by cursor, a full walk. */
async function engineFigures (engine: Engine, path: string, count: number): Promise<void> {
  const api = createHandlers(engine)
  const drive = 'Private'
  for (const limit of [200, 500, 1000]) {
    const first: number[] = []
    for (let i = 0; i < 5; i++) first.push((await timed(() => api.listFiles({ drive, path, recursive: false, limit }))).ms)
    // The cursor of the page in the middle (walked to, not timed), then that page, five times.
    let cursor: string | null = null
    for (let seen = 0; seen < count / 2;) {
      const r = await api.listFiles({ drive, path, recursive: false, limit: 1000, ...(cursor === null ? {} : { cursor }) })
      seen += r.entries.length
      cursor = r.next
      if (cursor === null) break
    }
    const middle: number[] = []
    for (let i = 0; i < 5 && cursor !== null; i++) middle.push((await timed(() => api.listFiles({ drive, path, recursive: false, limit, cursor: cursor ?? undefined }))).ms)
    say(`[engine] ${path} page of ${limit}: first ${stats(first)}, middle ${stats(middle)}, median of 5`)
  }
  const walk = await timed(async () => {
    let cursor: string | undefined
    let n = 0
    let pages = 0
    do {
      const r = await api.listFiles({ drive, path, recursive: false, limit: 1000, ...(cursor === undefined ? {} : { cursor }) })
      n += r.entries.length
      pages++
      cursor = r.next ?? undefined
    } while (cursor !== undefined)
    return { n, pages }
  })
  say(`[engine] ${path} full walk: ${walk.value.n} entries in ${walk.value.pages} pages of 1000, ${ms(walk.ms)} (${ms(walk.ms / walk.value.pages)} a page)`)
}

async function startDaemon (storage: string, bootstrap: string): Promise<{ child: ChildProcess, url: string }> {
  const child = spawn(process.execPath, ['bin/datdot.js', 'daemon', '--storage', storage, '--bootstrap', bootstrap, '--port', '0', '--chain', 'off'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines = createInterface({ input: child.stdout })
  return await new Promise((resolve, reject) => {
    child.once('exit', (code) => { reject(new Error(`the daemon exited ${code} before ready`)) })
    lines.on('line', (line) => {
      const m = READY.exec(line)
      if (m !== null) resolve({ child, url: m[1] })
    })
  })
}

interface PageDoc {
  querySelector: (s: string) => { click: () => void, getAttribute: (n: string) => string | null, scrollTop: number, scrollHeight: number } | null
  querySelectorAll: (s: string) => { length: number }
}
type PageGlobal = { document: PageDoc, requestAnimationFrame: (cb: () => void) => void, performance: { now: () => number } }

/** In the page: runs `act`, then resolves at the first frame where `selector` is in the DOM, with the time since `act`. */
async function untilPainted (page: Page, act: string, selector: string, value?: number): Promise<number> {
  return await page.evaluate(async ([a, sel, v]) => {
    const g = globalThis as unknown as PageGlobal
    const t0 = g.performance.now()
    if (a === 'open') g.document.querySelector('[data-testid=file-row][data-path="/flat"] [data-testid=open-folder]')!.click()
    else g.document.querySelector('main.content')!.scrollTop = v ?? 0
    await new Promise<void>((resolve) => {
      const check = (): void => { if (g.document.querySelector(sel) !== null) g.requestAnimationFrame(() => resolve()); else g.requestAnimationFrame(check) }
      check()
    })
    return g.performance.now() - t0
  }, [act, selector, value] as const)
}

async function uiFigures (storage: string, flat: number): Promise<void> {
  const testnet = await createTestnet(1, { host: '127.0.0.1' })
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  const d = await startDaemon(storage, bootstrap)
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage()
    page.setDefaultTimeout(300_000)
    await page.goto(d.url)
    const dismiss = page.locator('[data-testid=prompt-dismiss]')
    await page.locator('[data-testid=file-row][data-path="/flat"]').waitFor()
    if (await dismiss.count() > 0) await dismiss.click()
    const open = await untilPainted(page, 'open', '[data-testid=file-row][data-path^="/flat/"]')
    const rows = await page.evaluate(() => (globalThis as unknown as PageGlobal).document.querySelectorAll('[data-testid=file-row]').length)
    say(`[ui] open /flat (${flat} files) until its first rows are painted: ${ms(open)} (engine page of 500 + render), ${rows} rows in the DOM`)
    // Scroll to the end of what is loaded until --ui-rows are (pages of 500 as the list scrolls;
    // cursor paging has no jump to row N, so reaching the folder's middle loads every page before it).
    const half = Math.min(UI_ROWS, Math.floor(flat / 2))
    const t = performance.now()
    let loaded = 0
    while (loaded < half) {
      await page.locator('main.content').evaluate((el) => { (el as unknown as { scrollTop: number }).scrollTop = 1e9 })
      await page.waitForFunction((n) => Number((globalThis as unknown as PageGlobal).document.querySelector('[data-testid=list-count]')?.getAttribute('data-count') ?? 0) > n, loaded)
      loaded = Number(await page.locator('[data-testid=list-count]').getAttribute('data-count'))
    }
    say(`[ui] scrolling down until ${loaded} entries were loaded: ${((performance.now() - t) / 1000).toFixed(1)} s (${Math.ceil(loaded / 500)} pages)`)
    const target = `[data-testid=file-row][data-index="${Math.floor(loaded / 2)}"]`
    const height = await page.locator('main.content').evaluate((el) => (el as unknown as { scrollHeight: number }).scrollHeight)
    const jump = await untilPainted(page, 'scroll', target, Math.floor(height / 2) - 450)
    const rowsAfter = await page.evaluate(() => (globalThis as unknown as PageGlobal).document.querySelectorAll('[data-testid=file-row]').length)
    say(`[ui] jump to the middle of ${loaded} loaded rows until painted: ${ms(jump)}, ${rowsAfter} rows in the DOM`)
    const step = await untilPainted(page, 'scroll', `[data-testid=file-row][data-index="${Math.floor(loaded / 2) + 30}"]`, Math.floor(height / 2) + 450)
    say(`[ui] one screen further down until painted: ${ms(step)}`)
  } finally {
    await browser.close()
    d.child.kill('SIGTERM')
    await new Promise((resolve) => d.child.once('exit', resolve))
    await testnet.destroy()
  }
}

async function main (): Promise<void> {
  const storage = await mkdtemp(join(tmpdir(), 'datdot-bench-list-'))
  try {
    const engine = new Engine({ storage, offline: true })
    await engine.ready()
    const { flat, nested } = await create(engine)
    await engineFigures(engine, '/flat', flat)
    if (nested > 0) await engineFigures(engine, '/nested', Math.ceil(nested / 100))
    await engine.close()
    if (UI) await uiFigures(storage, flat)
  } finally {
    await rm(storage, { recursive: true, force: true })
  }
}

await main()
