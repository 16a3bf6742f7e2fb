/**
 * HTTP byte ranges and media types for file downloads (download-route.ts): parses one
 * `Range: bytes=...` header against a file's size (RFC 9110 §14), and names a file's
 * Content-Type from its extension so browsers play audio and video and show images and PDFs.
 * Types a browser would run as a page (HTML, SVG as a document, XML) are never announced as such.
 */

/** An inclusive byte range of a file, as `Content-Range` writes it. */
export interface ByteRange { start: number, end: number }

/**
 * The range a `Range` header asks of a file of `size` bytes: null to send the whole file (no
 * header, or one this server ignores as RFC 9110 allows: not bytes, several ranges, malformed),
 * 'unsatisfiable' when it starts past the end (answered 416).
 */
export function parseRange (header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (!m || (m[1] === '' && m[2] === '')) return null
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (!Number.isSafeInteger(suffix)) return null
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  const last = m[2] === '' ? size - 1 : Number(m[2])
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last)) return start >= size ? 'unsatisfiable' : null
  if (start >= size) return 'unsatisfiable'
  if (last < start) return null
  return { start, end: Math.min(last, size - 1) }
}

const TEXT = 'text/plain; charset=utf-8'

const TYPES: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  avif: 'image/avif', bmp: 'image/bmp', ico: 'image/x-icon', svg: 'image/svg+xml',
  mp3: 'audio/mpeg', wav: 'audio/wav', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/ogg',
  flac: 'audio/flac', m4a: 'audio/mp4', aac: 'audio/aac', weba: 'audio/webm',
  mp4: 'video/mp4', m4v: 'video/mp4', webm: 'video/webm', ogv: 'video/ogg', mov: 'video/quicktime',
  pdf: 'application/pdf',
  txt: TEXT, md: TEXT, markdown: TEXT, csv: TEXT, tsv: TEXT, log: TEXT, json: TEXT, yaml: TEXT, yml: TEXT,
  toml: TEXT, ini: TEXT, xml: TEXT, html: TEXT, htm: TEXT, css: TEXT, js: TEXT, mjs: TEXT, ts: TEXT,
  py: TEXT, rs: TEXT, go: TEXT, c: TEXT, h: TEXT, sh: TEXT
}

/** A file's Content-Type by its extension; application/octet-stream when unknown. */
export function mediaType (name: string): string {
  const dot = name.lastIndexOf('.')
  if (dot <= 0) return 'application/octet-stream'
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream'
}
