/**
 * Drive paths and hyper:// links. Pure functions, no I/O.
 *
 * A drive path is absolute inside the drive ('/photos/a.jpg'), made of segments that are
 * non-empty, not '.' or '..', free of NUL/control characters and of '\' (so a path means the
 * same on every OS), and bounded in length. Anything else is refused with INVALID_PATH:
 * paths are never "cleaned up" silently, since a surprising normalisation can overwrite a file.
 *
 * The one normalisation: every path that comes in (imports, uploads, moves, lookups, links)
 * is put in Unicode NFC, so 'café' typed on Linux (NFC) and dropped from macOS (NFD) is one
 * name, not two look-alike entries. Names with bidirectional controls (U+202A-U+202E,
 * U+2066-U+2069, U+200E/U+200F, U+061C: 'a\u202Egpj.exe' displays as 'aexe.jpg'), line or
 * paragraph separators or C0/C1 control characters are refused.
 *
 * Keys read from a drive are checked with storedPath(), which refuses the same characters but
 * does not normalise: a drive written elsewhere may hold NFD keys, and those must be read under
 * the key they have. Lookups try the NFC form first, then the form as given and NFD
 * (lookupForms), so either spelling finds an entry whichever form it was stored in.
 */
import { DatdotError } from '../shared/errors.js'
import { LIMITS } from '../shared/contract.js'

// eslint-disable-next-line no-control-regex -- finding control characters is what this is for
const CONTROL = /[\u0000-\u001f\u007f]/
/** C1 controls, line/paragraph separators: invisible, and they break one-line displays. */
const OTHER_CONTROL = /[\u0080-\u009f\u2028\u2029]/
/** Bidi_Control: U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069. */
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
// eslint-disable-next-line no-control-regex -- as CONTROL, to escape them
const SHOWN_ESCAPED = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const encoder = new TextEncoder()

/** The input as it may be shown in an error: invisible and direction-changing characters escaped. */
function shown (input: string): string {
  return input.replace(SHOWN_ESCAPED, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

/**
 * Validates and normalises a drive path given by a user or a program: Unicode NFC, and
 * 'a/b' and '/a/b/' as '/a/b'; '/' is the root.
 */
export function drivePath (input: unknown): string {
  if (typeof input !== 'string') throw DatdotError.invalidPath(String(input), 'not a string')
  return checkPath(input.normalize('NFC'), input)
}

/** Validates a key read from a drive without normalising it (see the top of this file). */
export function storedPath (input: unknown): string {
  if (typeof input !== 'string') throw DatdotError.invalidPath(String(input), 'not a string')
  return checkPath(input, input)
}

/**
 * The keys under which `input` may be stored, most likely first: its NFC form (what DatDot
 * writes), then the form as given and its NFD form (drives written by other programs).
 * Throws like drivePath() when the input is not a valid path.
 */
export function lookupForms (input: unknown): string[] {
  const nfc = drivePath(input)
  const out = [nfc]
  for (const form of [storedPath(input), nfc.normalize('NFD')]) if (!out.includes(form)) out.push(form)
  return out
}

function checkPath (input: string, original: string): string {
  if (input.length === 0) throw DatdotError.invalidPath(original, 'empty')
  if (encoder.encode(input).length > LIMITS.pathBytes) throw DatdotError.invalidPath(shown(original), `longer than ${LIMITS.pathBytes} bytes`)
  if (CONTROL.test(input)) throw DatdotError.invalidPath(shown(original), 'contains NUL or control characters')
  if (OTHER_CONTROL.test(input)) throw DatdotError.invalidPath(shown(original), 'contains invisible control or line-separator characters')
  if (BIDI_CONTROL.test(input)) {
    throw DatdotError.invalidPath(shown(original), 'contains a bidirectional control character, which makes a name display differently from what it is')
  }
  if (input.includes('\\')) throw DatdotError.invalidPath(input, 'contains a backslash')
  if (/^[a-zA-Z]:/.test(input)) throw DatdotError.invalidPath(input, 'looks like a Windows drive path')
  const segments = input.split('/').filter((s, i, all) => !(s === '' && (i === 0 || i === all.length - 1)))
  for (const s of segments) {
    if (s === '') throw DatdotError.invalidPath(input, 'empty segment (//)')
    if (s === '.' || s === '..') throw DatdotError.invalidPath(input, `'${s}' segments are not allowed`)
    if (encoder.encode(s).length > LIMITS.segmentBytes) throw DatdotError.invalidPath(input, `a name is longer than ${LIMITS.segmentBytes} bytes`)
  }
  return '/' + segments.join('/')
}

/** A single file or folder name (no slashes) as found on a local disk, checked before it enters a drive. */
export function entryName (name: string): string {
  if (name.includes('/')) throw DatdotError.invalidPath(shown(name), 'a name cannot contain /')
  const p = drivePath('/' + name)
  if (p === '/') throw DatdotError.invalidPath(name, 'empty name')
  return p.slice(1)
}

export function joinDrivePath (base: string, ...rest: string[]): string {
  let out = drivePath(base)
  for (const r of rest) {
    const seg = drivePath(r.startsWith('/') ? r : '/' + r)
    if (seg === '/') continue
    out = out === '/' ? seg : out + seg
  }
  return drivePath(out)
}

/** The folder holding `path`, in the Unicode form `path` has (not normalised: it may be a stored key). */
export function parentOf (path: string): string {
  const p = storedPath(path)
  if (p === '/') return '/'
  const i = p.lastIndexOf('/')
  return i <= 0 ? '/' : p.slice(0, i)
}

/** The last name of `path`, in the Unicode form `path` has (not normalised: it may be a stored key). */
export function baseName (path: string): string {
  const p = storedPath(path)
  return p === '/' ? '' : p.slice(p.lastIndexOf('/') + 1)
}

/** True if `path` is `folder` itself or below it. */
export function isWithin (path: string, folder: string): boolean {
  if (folder === '/') return true
  return path === folder || path.startsWith(folder + '/')
}

// ---------------------------------------------------------------- keys and links

const HEX64 = /^[0-9a-f]{64}$/i
const Z32_ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769'
const Z32_52 = new RegExp(`^[${Z32_ALPHABET}]{52}$`)

export function z32Encode (bytes: Uint8Array): string {
  let bits = 0
  let value = 0
  let out = ''
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5) {
      out += Z32_ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += Z32_ALPHABET[(value << (5 - bits)) & 31]
  return out
}

export function z32Decode (s: string): Uint8Array {
  const out: number[] = []
  let bits = 0
  let value = 0
  for (const ch of s) {
    const v = Z32_ALPHABET.indexOf(ch)
    if (v === -1) throw new Error('not z-base-32')
    value = (value << 5) | v
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
  }
  return Uint8Array.from(out)
}

/** Parses a 32-byte key written as hex or z-base-32. Throws INVALID_LINK. */
export function parseKey (input: unknown): Uint8Array {
  if (typeof input !== 'string') throw DatdotError.invalidLink(String(input), 'a key must be text')
  const s = input.trim()
  if (HEX64.test(s)) {
    const out = new Uint8Array(32)
    for (let i = 0; i < 32; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16)
    return out
  }
  if (Z32_52.test(s)) {
    const bytes = z32Decode(s)
    if (bytes.length !== 32) throw DatdotError.invalidLink(input, 'the key is not 32 bytes')
    return bytes
  }
  throw DatdotError.invalidLink(input, 'a key is 64 hex or 52 z-base-32 characters')
}

/** Canonical text form of a key: z-base-32, as used in hyper:// links. */
export function keyId (key: Uint8Array | string): string {
  return z32Encode(typeof key === 'string' ? parseKey(key) : key)
}

export function toHex (bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

export interface ParsedLink {
  key: Uint8Array
  /** Canonical z-base-32 key. */
  id: string
  /** Folder or file inside the drive the link points at ('/' for the whole drive). */
  path: string
  /** The read (encryption) key of an encrypted drive, from `#key=`; null for a plain link. */
  readKey: Uint8Array | null
}

/** The fragment that carries a read key: `#key=<52 z-base-32 or 64 hex characters>`. */
const READ_KEY_FRAGMENT = 'key='

/**
 * Parses `hyper://<key>[/path][#key=<read key>]`, or a bare key (with the same optional
 * fragment). Query strings, user info, ports and any other fragment are refused rather than
 * ignored, so a link always means exactly one thing.
 *
 * The read key of an encrypted drive rides in the URL fragment: by URL rules the fragment is
 * never part of what is looked up or sent (DatDot announces and replicates by the drive key
 * alone), and it marks the key as the secret part of the link. It is 32 bytes, written like a
 * drive key (z-base-32 by formatLink; hex accepted). Errors never show it: they show the link
 * with its fragment hidden and say only what is wrong with the key (length, alphabet).
 */
export function parseLink (input: unknown): ParsedLink {
  if (typeof input !== 'string') throw DatdotError.invalidLink(String(input), 'a link must be text')
  const s = input.trim()
  if (s.length === 0) throw DatdotError.invalidLink(input, 'empty')
  const hash = s.indexOf('#')
  const body = hash === -1 ? s : s.slice(0, hash)
  const fragment = hash === -1 ? null : s.slice(hash + 1)
  /** The link as errors may show it: without its fragment (it may hold a secret). */
  const shownLink = fragment === null ? s : body + '#(hidden)'
  if (s.length > LIMITS.linkChars) throw DatdotError.invalidLink(shownLink.slice(0, 64), 'too long')
  if (CONTROL.test(s)) throw DatdotError.invalidLink(shownLink, 'contains control characters')
  const readKey = fragment === null ? null : parseReadKeyFragment(fragment, shownLink)
  let rest: string
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(body)
  if (scheme) {
    if (scheme[1].toLowerCase() !== 'hyper') throw DatdotError.invalidLink(shownLink, `unsupported scheme '${scheme[1]}:', expected hyper://`)
    rest = body.slice(scheme[0].length)
  } else if (body.includes(':')) {
    throw DatdotError.invalidLink(shownLink, 'expected hyper://<key>')
  } else {
    rest = body
  }
  if (/[?@]/.test(rest)) throw DatdotError.invalidLink(shownLink, 'query strings and user info are not allowed')
  const slash = rest.indexOf('/')
  const keyPart = slash === -1 ? rest : rest.slice(0, slash)
  let pathPart = slash === -1 ? '/' : rest.slice(slash)
  const key = parseKey(keyPart)
  try {
    pathPart = drivePath(decodeURIComponentStrict(pathPart))
  } catch (err) {
    throw DatdotError.invalidLink(shownLink, (err as Error).message)
  }
  return { key, id: z32Encode(key), path: pathPart, readKey }
}

/** The read key of `#key=...`; errors say what is wrong with it without showing it. */
function parseReadKeyFragment (fragment: string, shownLink: string): Uint8Array {
  if (!fragment.startsWith(READ_KEY_FRAGMENT)) {
    throw DatdotError.invalidLink(shownLink, 'the only fragment a link may have is #key=<read key>')
  }
  const value = fragment.slice(READ_KEY_FRAGMENT.length)
  if (value.length === 0) throw DatdotError.invalidLink(shownLink, 'the read key after #key= is empty')
  if (value.length !== 52 && value.length !== 64) {
    throw DatdotError.invalidLink(shownLink, `the read key after #key= has ${value.length} characters, it needs 52 (z-base-32) or 64 (hex): truncated or not a read key`)
  }
  if (value.length === 64 && HEX64.test(value)) return parseKey(value)
  if (value.length === 52 && Z32_52.test(value)) {
    const bytes = z32Decode(value)
    if (bytes.length === 32) return bytes
  }
  const alphabet = value.length === 64 ? 'hexadecimal' : 'z-base-32'
  throw DatdotError.invalidLink(shownLink, `the read key after #key= has characters that are not ${alphabet}`)
}

/**
 * The link of a drive (or of `path` in it); with `readKey` (an encrypted drive's 32-byte
 * encryption key) the link carries it as `#key=<z-base-32>`: whoever has that link reads the drive.
 */
export function formatLink (key: Uint8Array | string, path = '/', readKey: Uint8Array | null = null): string {
  const p = drivePath(path)
  const encoded = p === '/' ? '' : p.split('/').map((seg) => encodeURIComponent(seg)).join('/')
  if (readKey !== null && readKey.byteLength !== 32) throw DatdotError.invalidArgument('a read key is 32 bytes')
  const fragment = readKey === null ? '' : '#' + READ_KEY_FRAGMENT + z32Encode(readKey)
  return `hyper://${keyId(key)}${encoded}${fragment}`
}

function decodeURIComponentStrict (s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    throw new Error('bad percent-encoding')
  }
}
