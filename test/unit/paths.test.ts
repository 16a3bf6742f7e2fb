import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import * as idEncoding from 'hypercore-id-encoding'
import { drivePath, storedPath, lookupForms, baseName, entryName, joinDrivePath, parentOf, isWithin, parseLink, parseKey, formatLink, keyId, z32Encode, z32Decode, toHex } from '../../main/engine/paths.js'
import { DatdotError } from '../../main/shared/errors.js'

function code (fn: () => unknown): string | null {
  try { fn(); return null } catch (err) { return (err as DatdotError).code }
}

describe('drive paths', () => {
  it('normalises leading and trailing slashes to one absolute form', () => {
    expect(drivePath('a/b')).toBe('/a/b')
    expect(drivePath('/a/b/')).toBe('/a/b')
    expect(drivePath('/')).toBe('/')
  })

  it('refuses dot segments, empty segments, control characters, backslashes and drive letters with INVALID_PATH', () => {
    for (const bad of ['/../etc/passwd', '/a/./b', '/a/../b', '..', '/a//b', 'a\u0000b', '/a\nb', 'a\\b', 'C:/x', '', '/\u007f']) {
      expect(code(() => drivePath(bad)), JSON.stringify(bad)).toBe('INVALID_PATH')
    }
  })

  it('bounds the length of a path and of each name', () => {
    expect(code(() => drivePath('/' + 'a'.repeat(256)))).toBe('INVALID_PATH')
    expect(drivePath('/' + 'a'.repeat(255))).toHaveLength(256)
    expect(code(() => drivePath(('/' + 'a'.repeat(200)).repeat(30)))).toBe('INVALID_PATH')
  })

  it('accepts unicode names and keeps them as they are', () => {
    expect(drivePath('/fotos/ñandú ✓.jpg')).toBe('/fotos/ñandú ✓.jpg')
  })

  it('puts every path that comes in into Unicode NFC, so NFD and NFC spellings are one name', () => {
    expect(drivePath('/cafe\u0301/cafe\u0301.txt')).toBe('/caf\u00e9/caf\u00e9.txt')
    expect(entryName('cafe\u0301.txt')).toBe('caf\u00e9.txt')
    expect(joinDrivePath('/cafe\u0301', 'a\u0308.txt')).toBe('/caf\u00e9/\u00e4.txt')
    expect(parseLink('hyper://' + keyId(randomBytes(32)) + '/cafe%CC%81').path).toBe('/caf\u00e9')
  })

  it('keeps a stored key in its own form and looks a name up under NFC, as given, then NFD', () => {
    expect(storedPath('/cafe\u0301')).toBe('/cafe\u0301')
    expect(baseName('/x/cafe\u0301')).toBe('cafe\u0301')
    expect(parentOf('/cafe\u0301/x')).toBe('/cafe\u0301')
    expect(lookupForms('/caf\u00e9')).toEqual(['/caf\u00e9', '/cafe\u0301'])
    expect(lookupForms('/cafe\u0301')).toEqual(['/caf\u00e9', '/cafe\u0301'])
    expect(lookupForms('/plain')).toEqual(['/plain'])
  })

  it('refuses bidirectional controls, C1 controls and line separators with INVALID_PATH, showing them escaped', () => {
    const bidi = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c']
    for (const c of [...bidi, '\u0085', '\u009f', '\u2028', '\u2029']) {
      expect(code(() => drivePath(`/photo${c}gpj.exe`)), c.charCodeAt(0).toString(16)).toBe('INVALID_PATH')
      expect(code(() => storedPath(`/photo${c}gpj.exe`)), c.charCodeAt(0).toString(16)).toBe('INVALID_PATH')
      expect(code(() => entryName(`photo${c}gpj.exe`)), c.charCodeAt(0).toString(16)).toBe('INVALID_PATH')
    }
    let message = ''
    try { drivePath('/photo\u202egpj.exe') } catch (err) { message = (err as Error).message }
    expect(message).toMatch(/bidirectional control character/)
    expect(message).toContain('photo\\u202egpj.exe')
    expect(message).not.toContain('\u202e')
  })

  it('joins, finds parents and tests containment without prefix confusion', () => {
    expect(joinDrivePath('/', 'a', 'b')).toBe('/a/b')
    expect(joinDrivePath('/x', 'y')).toBe('/x/y')
    expect(parentOf('/a/b')).toBe('/a')
    expect(parentOf('/a')).toBe('/')
    expect(isWithin('/ab', '/a')).toBe(false)
    expect(isWithin('/a/b', '/a')).toBe(true)
    expect(isWithin('/a', '/')).toBe(true)
  })

  it('refuses local names with slashes or dot segments', () => {
    expect(code(() => entryName('a/b'))).toBe('INVALID_PATH')
    expect(code(() => entryName('..'))).toBe('INVALID_PATH')
    expect(entryName('ok.txt')).toBe('ok.txt')
  })
})

describe('keys and hyper:// links', () => {
  it('encodes keys in z-base-32 exactly as hypercore-id-encoding does', () => {
    for (let i = 0; i < 20; i++) {
      const key = randomBytes(32)
      expect(z32Encode(key)).toBe(idEncoding.encode(key))
      expect(Buffer.from(z32Decode(idEncoding.encode(key))).equals(key)).toBe(true)
    }
  })

  it('parses a key given as hex or z-base-32 to the same bytes', () => {
    const key = randomBytes(32)
    expect(Buffer.from(parseKey(toHex(key))).equals(key)).toBe(true)
    expect(Buffer.from(parseKey(keyId(key))).equals(key)).toBe(true)
  })

  it('round-trips a link with a sub-folder, percent-encoding special characters', () => {
    const key = randomBytes(32)
    const link = formatLink(key, '/my photos/ñ#1')
    expect(link).toBe(`hyper://${keyId(key)}/my%20photos/%C3%B1%231`)
    const parsed = parseLink(link)
    expect(parsed.id).toBe(keyId(key))
    expect(parsed.path).toBe('/my photos/ñ#1')
  })

  it('accepts a bare key and an uppercase scheme', () => {
    const key = randomBytes(32)
    expect(parseLink(keyId(key)).path).toBe('/')
    expect(parseLink('HYPER://' + toHex(key)).id).toBe(keyId(key))
  })

  it('refuses malformed links with INVALID_LINK', () => {
    const id = keyId(randomBytes(32))
    const bad = [
      '', 'hyper://', 'hyper://short', `https://${id}`, `hyper://${id}?x=1`, `hyper://${id}#frag`,
      `hyper://user@${id}`, `hyper://${id}/../secret`, `hyper://${id}/a%2`, `hyper://${id}/%00`, 'x'.repeat(9000),
      `hyper://${id.slice(0, 51)}l`, `hyper://${'0'.repeat(63)}g`, `dat:${id}`
    ]
    for (const b of bad) expect(code(() => parseLink(b)), b.slice(0, 60)).toBe('INVALID_LINK')
    expect(code(() => parseLink(42))).toBe('INVALID_LINK')
  })

  it('carries an encrypted drive\'s read key in the #key= fragment, in z-base-32, and reads it back from z-base-32 or hex', () => {
    const key = randomBytes(32)
    const readKey = randomBytes(32)
    const link = formatLink(key, '/', readKey)
    expect(link).toBe(`hyper://${keyId(key)}#key=${z32Encode(readKey)}`)
    const parsed = parseLink(link)
    expect(parsed.id).toBe(keyId(key))
    expect(parsed.path).toBe('/')
    expect(Buffer.from(parsed.readKey ?? []).equals(readKey)).toBe(true)
    const hex = parseLink(`hyper://${keyId(key)}/my%20photos#key=${toHex(readKey)}`)
    expect(hex.path).toBe('/my photos')
    expect(Buffer.from(hex.readKey ?? []).equals(readKey)).toBe(true)
    expect(Buffer.from(parseLink(`${keyId(key)}#key=${z32Encode(readKey)}`).readKey ?? []).equals(readKey)).toBe(true)
    expect(parseLink(formatLink(key, '/a#b', readKey)).path).toBe('/a#b')
  })

  it('gives a plain link no read key, and formats one without a fragment', () => {
    const key = randomBytes(32)
    expect(parseLink(formatLink(key)).readKey).toBeNull()
    expect(formatLink(key)).toBe(`hyper://${keyId(key)}`)
    expect(code(() => formatLink(key, '/', randomBytes(31)))).toBe('INVALID_ARGUMENT')
  })

  it('refuses a truncated, over-long, empty or misspelt read key with INVALID_LINK naming what is wrong, never showing the key', () => {
    const id = keyId(randomBytes(32))
    const z = z32Encode(randomBytes(32))
    const hex = toHex(randomBytes(32))
    const cases: Array<[string, string, RegExp]> = [
      [`hyper://${id}#key=${z.slice(0, 51)}`, z.slice(0, 51), /51 characters.*truncated/],
      [`hyper://${id}#key=${z}y`, z + 'y', /53 characters/],
      [`hyper://${id}#key=${hex.slice(0, 40)}`, hex.slice(0, 40), /40 characters/],
      [`hyper://${id}#key=${z.slice(0, 51)}L`, z.slice(0, 51) + 'L', /not z-base-32/],
      [`hyper://${id}#key=${hex.slice(0, 63)}g`, hex.slice(0, 63) + 'g', /not hexadecimal/],
      [`hyper://${id}#key=`, 'NO-SECRET-HERE', /empty/],
      [`hyper://${id}#secret=${z}`, z, /only fragment/],
      [`hyper://${id}#${z}`, z, /only fragment/],
      [`hyper://${id}?x=1#key=${z}`, z, /query strings/],
      [`https://${id}#key=${z}`, z, /unsupported scheme/]
    ]
    for (const [link, secret, why] of cases) {
      let err: DatdotError | null = null
      try { parseLink(link) } catch (e) { err = e as DatdotError }
      expect(err?.code, link.slice(0, 70)).toBe('INVALID_LINK')
      expect(err?.message, link.slice(0, 70)).toMatch(why)
      expect(err?.message).not.toContain(secret.slice(0, 20))
      expect(JSON.stringify(err?.details ?? {})).not.toContain(secret.slice(0, 20))
    }
  })
})
