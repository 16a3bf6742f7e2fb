/**
 * A file's media type by its extension: the Content-Type a download is served with
 * (main/server/download-route.ts) and how the UI's file preview shows it (image, audio, video,
 * PDF, text, or not at all). Types a browser would run as a page (HTML, XML) are text here.
 */

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

export type PreviewKind = 'image' | 'audio' | 'video' | 'pdf' | 'text' | 'none'

/** How the file preview shows a file named `name`. */
export function previewKind (name: string): PreviewKind {
  const type = mediaType(name)
  if (type === 'application/pdf') return 'pdf'
  const top = type.slice(0, type.indexOf('/'))
  if (top === 'image' || top === 'audio' || top === 'video' || top === 'text') return top
  return 'none'
}
