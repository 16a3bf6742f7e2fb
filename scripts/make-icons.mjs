// Draws DatDot's icons as PNGs with nothing but node:zlib: a rounded blue tile with a white
// dot in the middle and a ring of six smaller dots around it (a peer and its peers).
//   resources/icon.png  512x512 (app icon; electron-builder derives .icns/.ico from it)
//   resources/tray.png   32x32  (tray icon: a blue disc with the white centre dot)
// Run: node scripts/make-icons.mjs   (the PNGs are committed; rerun only to change them)
import { deflateSync } from 'node:zlib'
import { writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32 (buf) {
  let c = 0xffffffff
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk (type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(td))
  return Buffer.concat([len, td, crc])
}

/** Encodes RGBA pixels (Uint8Array, width*height*4) as a PNG. */
function png (width, height, rgba) {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 6 // colour type RGBA
  ihdr[10] = 0
  ihdr[11] = 0
  ihdr[12] = 0
  const raw = Buffer.alloc((width * 4 + 1) * height)
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0 // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0))
  ])
}

/**
 * Renders a scene with 4x4 supersampling. `shade(x, y)` gets coordinates in 0..1 and returns
 * [r, g, b, a] (0..255) for that point; layers are composed inside `shade`.
 */
function render (size, shade) {
  const out = new Uint8Array(size * size * 4)
  const S = 4
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0; let g = 0; let b = 0; let a = 0
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const [cr, cg, cb, ca] = shade((px + (sx + 0.5) / S) / size, (py + (sy + 0.5) / S) / size)
          r += cr * ca; g += cg * ca; b += cb * ca; a += ca
        }
      }
      const i = (py * size + px) * 4
      if (a > 0) {
        out[i] = Math.round(r / a)
        out[i + 1] = Math.round(g / a)
        out[i + 2] = Math.round(b / a)
      }
      out[i + 3] = Math.round(a / (S * S))
    }
  }
  return out
}

const inCircle = (x, y, cx, cy, r) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r

function inRoundedSquare (x, y, inset, radius) {
  const lo = inset; const hi = 1 - inset
  if (x < lo || x > hi || y < lo || y > hi) return false
  const cx = Math.min(Math.max(x, lo + radius), hi - radius)
  const cy = Math.min(Math.max(y, lo + radius), hi - radius)
  return inCircle(x, y, cx, cy, radius)
}

const WHITE = [255, 255, 255, 255]
const CLEAR = [0, 0, 0, 0]

/** Tile colour: a vertical gradient from #3b82f6 to #1d4ed8. */
function blue (y) {
  const t = Math.min(Math.max(y, 0), 1)
  return [Math.round(0x3b + (0x1d - 0x3b) * t), Math.round(0x82 + (0x4e - 0x82) * t), Math.round(0xf6 + (0xd8 - 0xf6) * t), 255]
}

const RING = Array.from({ length: 6 }, (_, k) => {
  const angle = -Math.PI / 2 + (k * Math.PI) / 3
  return [0.5 + 0.26 * Math.cos(angle), 0.5 + 0.26 * Math.sin(angle)]
})

function appIcon (x, y) {
  if (!inRoundedSquare(x, y, 0.04, 0.2)) return CLEAR
  if (inCircle(x, y, 0.5, 0.5, 0.12)) return WHITE
  for (const [cx, cy] of RING) if (inCircle(x, y, cx, cy, 0.055)) return WHITE
  // faint spokes from the centre dot to the ring
  for (const [cx, cy] of RING) {
    const dx = cx - 0.5; const dy = cy - 0.5
    const t = ((x - 0.5) * dx + (y - 0.5) * dy) / (dx * dx + dy * dy)
    if (t > 0 && t < 1) {
      const d = Math.hypot(x - (0.5 + t * dx), y - (0.5 + t * dy))
      if (d < 0.012) {
        const [r, g, b] = blue(y)
        const mix = (c) => Math.round(c + (255 - c) * 0.6)
        return [mix(r), mix(g), mix(b), 255]
      }
    }
  }
  return blue(y)
}

function trayIcon (x, y) {
  if (!inCircle(x, y, 0.5, 0.5, 0.47)) return CLEAR
  if (inCircle(x, y, 0.5, 0.5, 0.19)) return WHITE
  return blue(y)
}

mkdirSync(join(root, 'resources'), { recursive: true })
writeFileSync(join(root, 'resources', 'icon.png'), png(512, 512, render(512, appIcon)))
writeFileSync(join(root, 'resources', 'tray.png'), png(32, 32, render(32, trayIcon)))
console.log('wrote resources/icon.png (512x512) and resources/tray.png (32x32)')
