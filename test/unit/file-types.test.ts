/** The file table's type badges: the extension in capitals, coloured by kind, "FILE" when it has none or a long one. */
import { describe, it, expect } from 'vitest'
import { extensionOf, fileBadge } from '../../renderer/src/lib/file-types.js'

describe('file-type badges of the file table', () => {
  it('shows the extension of known kinds in capitals with their kind', () => {
    expect(fileBadge('Photo.JPG')).toEqual({ kind: 'image', text: 'JPG' })
    expect(fileBadge('talk.webm')).toEqual({ kind: 'video', text: 'WEBM' })
    expect(fileBadge('report.final.pdf')).toEqual({ kind: 'document', text: 'PDF' })
    expect(fileBadge('backup.tar.gz')).toEqual({ kind: 'archive', text: 'GZ' })
  })

  it('says FILE for no extension, a dot file, a long or odd extension, and keeps unknown ones as other', () => {
    expect(fileBadge('README')).toEqual({ kind: 'other', text: 'FILE' })
    expect(extensionOf('.bashrc')).toBe('')
    expect(fileBadge('.bashrc').text).toBe('FILE')
    expect(fileBadge('notes.markdown').text).toBe('FILE')
    expect(fileBadge('x.b☃n').text).toBe('FILE')
    expect(fileBadge('data.bin')).toEqual({ kind: 'other', text: 'BIN' })
  })
})
