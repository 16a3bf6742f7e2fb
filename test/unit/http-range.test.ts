/**
 * Parsing a download's Range header against the file's size: the ranges a media player asks,
 * the ones the server answers 416, and the ones it ignores (sending the whole file).
 */
import { describe, it, expect } from 'vitest'
import { parseRange } from '../../main/server/http-range.js'
import { mediaType, previewKind } from '../../main/shared/media-types.js'

describe('a Range header against a file of 1000 bytes', () => {
  it('reads open, closed, suffix and overlong ranges as inclusive byte ranges', () => {
    expect(parseRange('bytes=0-', 1000)).toEqual({ start: 0, end: 999 })
    expect(parseRange('bytes=10-19', 1000)).toEqual({ start: 10, end: 19 })
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 })
    expect(parseRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 })
    expect(parseRange('bytes=-99999999999999999999', 1000)).toEqual({ start: 0, end: 999 })
    expect(parseRange('bytes=990-5000', 1000)).toEqual({ start: 990, end: 999 })
    expect(parseRange(' Bytes = 5 - 6 ', 1000)).toEqual({ start: 5, end: 6 })
    expect(parseRange('bytes=0-99999999999999999999', 1000)).toEqual({ start: 0, end: 999 })
  })

  it('calls a range past the end, an empty suffix, or any range of an empty file unsatisfiable', () => {
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable')
    expect(parseRange('bytes=99999999999999999999-', 1000)).toBe('unsatisfiable')
    expect(parseRange('bytes=-0', 1000)).toBe('unsatisfiable')
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable')
  })

  it('ignores what it does not serve: no header, several ranges, other units, backwards or malformed', () => {
    for (const h of [undefined, 'bytes=0-1,5-6', 'items=0-1', 'bytes=20-10', 'bytes=-', 'bytes=a-b']) {
      expect(parseRange(h, 1000), String(h)).toBeNull()
    }
  })
})

describe('media types by extension', () => {
  it('names what browsers play and show, and never serves a page type as a page', () => {
    expect(mediaType('a.MP4')).toBe('video/mp4')
    expect(mediaType('song.wav')).toBe('audio/wav')
    expect(mediaType('index.html')).toBe('text/plain; charset=utf-8')
    expect(mediaType('noext')).toBe('application/octet-stream')
    expect(mediaType('.hidden')).toBe('application/octet-stream')
    expect(previewKind('x.pdf')).toBe('pdf')
    expect(previewKind('x.webm')).toBe('video')
    expect(previewKind('x.bin')).toBe('none')
  })
})
