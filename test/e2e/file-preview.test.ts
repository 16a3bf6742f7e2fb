/**
 * End to end: opening a file shows it in the preview panel. B follows A's drive On demand; a
 * WAV and a WebM (recorded in the page) opened there play while they arrive (the media element
 * reaches 'canplay' through ranged requests on one download ticket), an image and a text file show; an image of A's own space
 * shows too; Escape closes the image's and the PDF's preview (after a click in the PDF too). Two
 * daemons on a loopback DHT testnet, Chromium.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { deflateSync } from 'node:zlib'
import type { Page } from 'playwright-core'
import type { DaemonProc } from './daemons.js'
import { dropFiles, row, selectSpace, shots, type DropFile } from './ui-helpers.js'
import { TwoUis } from './two-uis.js'

/** A mono 16-bit PCM WAV of `seconds` of a 440 Hz tone at 22,050 Hz. */
function wav (seconds: number): Buffer {
  const rate = 22_050
  const samples = rate * seconds
  const b = Buffer.alloc(44 + samples * 2)
  b.write('RIFF', 0); b.writeUInt32LE(36 + samples * 2, 4); b.write('WAVE', 8)
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22)
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34)
  b.write('data', 36); b.writeUInt32LE(samples * 2, 40)
  for (let i = 0; i < samples; i++) b.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / rate)), 44 + i * 2)
  return b
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32 (buf: Buffer): number {
  let c = 0xffffffff
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** An RGB PNG of `w` x `h`: a diagonal gradient. */
function png (w: number, h: number): Buffer {
  const raw = Buffer.alloc((w * 3 + 1) * h)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3
      raw[o] = Math.round(255 * x / w); raw[o + 1] = Math.round(255 * y / h); raw[o + 2] = 180
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(data.length, 0); head.write(type, 4)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
    return Buffer.concat([head, data, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))])
}

/** A one-page PDF saying `text` (objects and xref table written by hand). */
function pdf (text: string): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${`BT /F1 24 Tf 40 100 Td (${text}) Tj ET`.length} >>\nstream\nBT /F1 24 Tf 40 100 Td (${text}) Tj ET\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
  ]
  let out = '%PDF-1.4\n'
  const offsets: number[] = []
  objects.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n` })
  const xref = out.length
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(out, 'latin1')
}

/**
 * A short WebM video recorded in the page (Chromium's MediaRecorder over a canvas): 20 frames
 * of a moving square, counted by animation frames, returned as base64.
 */
async function recordWebm (page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(async () => {
    const g = globalThis as unknown as RecorderGlobals
    const canvas = g.document.createElement('canvas')
    canvas.width = 320; canvas.height = 180
    const ctx = canvas.getContext('2d')
    const rec = new g.MediaRecorder(canvas.captureStream(30), { mimeType: 'video/webm;codecs=vp8' })
    const parts: unknown[] = []
    rec.ondataavailable = (e) => { parts.push(e.data) }
    const stopped = new Promise<void>((resolve) => { rec.onstop = () => resolve() })
    rec.start()
    for (let i = 0; i < 20; i++) {
      ctx.fillStyle = '#123'; ctx.fillRect(0, 0, 320, 180)
      ctx.fillStyle = '#fc3'; ctx.fillRect(10 + i * 12, 60, 60, 60)
      await new Promise((resolve) => g.requestAnimationFrame(resolve))
    }
    rec.stop()
    await stopped
    const bytes = new Uint8Array(await new g.Blob(parts, { type: 'video/webm' }).arrayBuffer())
    let bin = ''
    for (const b of bytes) bin += String.fromCharCode(b)
    return g.btoa(bin)
  })
  return Buffer.from(base64, 'base64')
}

/** The browser globals recordWebm uses (the tests are type-checked without the DOM lib). */
interface RecorderGlobals {
  document: { createElement: (tag: 'canvas') => { width: number, height: number, getContext: (k: '2d') => { fillStyle: string, fillRect: (x: number, y: number, w: number, h: number) => void }, captureStream: (fps: number) => unknown } }
  MediaRecorder: new (stream: unknown, opts: { mimeType: string }) => { start: () => void, stop: () => void, ondataavailable: ((e: { data: unknown }) => void) | null, onstop: (() => void) | null }
  Blob: new (parts: unknown[], opts: { type: string }) => { arrayBuffer: () => Promise<ArrayBuffer> }
  requestAnimationFrame: (cb: (t: number) => void) => number
  btoa: (s: string) => string
}

/** Opens a file row's preview and waits for the panel. */
async function openPreview (page: Page, scope: string, path: string): Promise<void> {
  await page.locator(row(scope, path)).getByRole('button', { name: 'Open' }).click()
  await page.locator('[data-testid=file-preview][open]').waitFor()
}

async function closePreview (page: Page): Promise<void> {
  await page.click('[data-testid=preview-close]')
  await page.locator('[data-testid=file-preview][open]').waitFor({ state: 'detached' })
}

describe('previewing files: audio plays while it streams from a followed drive, images and text show', () => {
  const ui = new TwoUis()
  let a: DaemonProc | undefined
  let b: DaemonProc | undefined
  let pageA: Page
  let pageB: Page
  const tone: DropFile = { name: 'tone.wav', bytes: wav(20) }
  const picture: DropFile = { name: 'picture.png', bytes: png(640, 400) }
  const paper: DropFile = { name: 'paper.pdf', bytes: pdf('A PDF from Alice') }
  const notes: DropFile = { name: 'notes.txt', bytes: Buffer.from('Notes from Alice\n\nThe preview shows text as it is.\n') }
  const FOLLOWED = '[data-testid=followed-files]'

  beforeAll(async () => {
    await ui.start()
    ;[a, b, pageA, pageB] = [ui.daemonA, ui.daemonB, ui.pageA, ui.pageB]
  })

  afterAll(async () => { await ui.close() })

  it('shows an image and a PDF of your own space', async () => {
    await pageA.goto(a!.url)
    await selectSpace(pageA, 'Public')
    const clip: DropFile = { name: 'clip.webm', bytes: await recordWebm(pageA) }
    await dropFiles(pageA, [tone, picture, notes, paper, clip])
    for (const f of [tone, picture, notes, paper, clip]) await pageA.locator(row('', '/' + f.name)).waitFor()
    await openPreview(pageA, '', '/picture.png')
    await pageA.waitForFunction(() => {
      const img = (globalThis as unknown as { document: { querySelector: (s: string) => { complete: boolean, naturalWidth: number } | null } }).document.querySelector('[data-testid=preview-image]')
      return img !== null && img.complete && img.naturalWidth === 640
    })
    await shots(pageA, 'file-preview-image')
    // Escape closes every preview: the image's, and the PDF's (whose frame would take the keys)
    await pageA.keyboard.press('Escape')
    await pageA.locator('[data-testid=file-preview][open]').waitFor({ state: 'detached' })
    await openPreview(pageA, '', '/paper.pdf')
    const frame = pageA.frameLocator('[data-testid=preview-pdf]')
    await frame.locator('embed, body').first().waitFor({ state: 'attached' })
    await shots(pageA, 'file-preview-pdf')
    await pageA.keyboard.press('Escape')
    await pageA.locator('[data-testid=file-preview][open]').waitFor({ state: 'detached' })
  })

  it('plays a WAV and a WebM of a drive followed on demand while they arrive, and shows its image and text', async () => {
    const link = await pageA.locator('[data-testid=share-link]').inputValue()
    await pageB.goto(b!.url)
    await pageB.bringToFront()
    await pageB.click('[data-testid=nav-peers]')
    await pageB.fill('[data-testid=follow-input]', link)
    await pageB.check('[data-testid=follow-mode-on-demand]')
    await pageB.click('[data-testid=follow-button]')
    await pageB.locator(row(FOLLOWED, '/tone.wav')).waitFor({ timeout: 100_000 })

    await openPreview(pageB, FOLLOWED, '/tone.wav')
    const audio = pageB.locator('[data-testid=preview-audio]')
    await audio.waitFor()
    await pageB.waitForFunction(() => {
      const el = (globalThis as unknown as { document: { querySelector: (s: string) => { readyState: number } | null } }).document.querySelector('[data-testid=preview-audio]')
      return el !== null && el.readyState >= 2
    })
    expect(await audio.evaluate((el) => (el as unknown as { duration: number }).duration)).toBeCloseTo(20, 0)
    await shots(pageB, 'file-preview-audio')
    await closePreview(pageB)

    await openPreview(pageB, FOLLOWED, '/clip.webm')
    await pageB.waitForFunction(() => {
      const el = (globalThis as unknown as { document: { querySelector: (s: string) => { readyState: number } | null } }).document.querySelector('[data-testid=preview-video]')
      return el !== null && el.readyState >= 2
    })
    await shots(pageB, 'file-preview-video')
    await closePreview(pageB)

    await openPreview(pageB, FOLLOWED, '/picture.png')
    await pageB.waitForFunction(() => {
      const img = (globalThis as unknown as { document: { querySelector: (s: string) => { complete: boolean, naturalWidth: number } | null } }).document.querySelector('[data-testid=preview-image]')
      return img !== null && img.complete && img.naturalWidth === 640
    })
    await shots(pageB, 'file-preview-followed-image')
    await closePreview(pageB)

    await openPreview(pageB, FOLLOWED, '/notes.txt')
    await pageB.locator('[data-testid=preview-text]', { hasText: 'The preview shows text as it is.' }).waitFor()
    await shots(pageB, 'file-preview-text')
    await closePreview(pageB)
  })
})
