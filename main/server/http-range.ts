/**
 * HTTP byte ranges for file downloads (download-route.ts): parses one `Range: bytes=...`
 * header against a file's size (RFC 9110 §14).
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
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  const last = m[2] === '' ? size - 1 : Number(m[2])
  // A start too large to count exactly is past the end of any file; a huge last byte means "to the end".
  if (!Number.isSafeInteger(start)) return 'unsatisfiable'
  if (start >= size) return 'unsatisfiable'
  if (last < start) return null
  return { start, end: Math.min(last, size - 1) }
}
