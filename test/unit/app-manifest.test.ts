/**
 * An app's manifest.json parsed and checked (main/engine/app-files.ts parseManifest), and a save
 * checked before anything is written (checkCodeEdit).
 */
import { describe, it, expect } from 'vitest'
import { Script } from 'node:vm'
import { checkCodeEdit, parseManifest } from '../../main/engine/app-files.js'
import { templateFiles } from '../../main/engine/app-templates.js'
import { APP_LIMITS, AppTemplate } from '../../main/shared/contract-apps.js'
import { DatdotError } from '../../main/shared/errors.js'
import type { Entry } from '../../main/shared/contract.js'

function codeOf (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(DatdotError)
    return (err as DatdotError).code
  }
  throw new Error('expected a refusal')
}

const file = (path: string): Entry => ({ path, name: path.slice(1), kind: 'file', size: 1, mtimeMs: null, version: 1 })

describe('an app manifest', () => {
  it('fills in the defaults of a manifest that names only the app', () => {
    expect(parseManifest('{"name":"Notes"}')).toEqual({
      manifest: { name: 'Notes', version: '0.1.0', description: '', entry: '/index.html', permissions: [] },
      error: null
    })
  })

  it('normalises the entry path and drops a permission asked twice', () => {
    const { manifest } = parseManifest(JSON.stringify({ name: 'X', entry: 'pages/start.html', permissions: ['vault', 'p2p', 'vault'] }))
    expect(manifest?.entry).toBe('/pages/start.html')
    expect(manifest?.permissions).toEqual(['vault', 'p2p'])
  })

  it('says why a manifest is missing, not JSON, or invalid, and gives no manifest then', () => {
    expect(parseManifest(null)).toEqual({ manifest: null, error: 'manifest.json is missing' })
    const cases: Array<[string, string]> = [['{name:', 'not valid JSON'], ['{"name":""}', 'name'], ['{"name":"A","permissions":["camera"]}', 'permissions'], ['{"name":"A","entry":"/../up.html"}', 'entry']]
    for (const [text, why] of cases) {
      const r = parseManifest(text)
      expect(r.manifest).toBeNull()
      expect(r.error).toContain(why)
    }
    expect(parseManifest('[]')).toMatchObject({ manifest: null })
  })

  it('is valid in every template, with the app name filled in and escaped in its page', () => {
    for (const t of AppTemplate.options) {
      const files = templateFiles(t, 'Tom & "Jerry"')
      expect(parseManifest(files['/manifest.json']).manifest?.name).toBe('Tom & "Jerry"')
      expect(files['/index.html']).toContain('<title>Tom &#38; &#34;Jerry&#34;</title>')
      // the script at least compiles (a typo in a template would break every new app made from it)
      expect(() => new Script(files['/app.js'], { filename: `${t}/app.js` })).not.toThrow()
    }
  })
})

describe('a save checked before it is written', () => {
  it('accepts files and deletions, normalising their paths', () => {
    const edit = checkCodeEdit([file('/a.js'), file('/old.js')], [{ path: 'a.js', text: 'x' }], ['/old.js'])
    expect(edit.files.map((f) => [f.path, f.data.toString()])).toEqual([['/a.js', 'x']])
    expect(edit.deleted).toEqual(['/old.js'])
  })

  it('refuses a bad path, an oversized file, a path written twice or both written and deleted, and too many files', () => {
    expect(codeOf(() => checkCodeEdit([], [{ path: '/ok.js', text: '' }, { path: '/a/../../b', text: '' }], []))).toBe('INVALID_PATH')
    expect(codeOf(() => checkCodeEdit([], [{ path: '/', text: '' }], []))).toBe('INVALID_PATH')
    expect(codeOf(() => checkCodeEdit([], [], ['/']))).toBe('INVALID_PATH')
    expect(codeOf(() => checkCodeEdit([], [{ path: '/big', text: 'x'.repeat(APP_LIMITS.codeFileBytes + 1) }], []))).toBe('TOO_LARGE')
    expect(codeOf(() => checkCodeEdit([], [{ path: '/a', text: '' }, { path: 'a', text: '' }], []))).toBe('INVALID_ARGUMENT')
    expect(codeOf(() => checkCodeEdit([], [{ path: '/a', text: '' }], ['/a']))).toBe('INVALID_ARGUMENT')
    const many = Array.from({ length: APP_LIMITS.codeFiles }, (_, i) => file(`/f${i}`))
    expect(codeOf(() => checkCodeEdit(many, [{ path: '/one-more', text: '' }], []))).toBe('LIMIT_REACHED')
    expect(checkCodeEdit(many, [{ path: '/one-more', text: '' }], ['/f0']).files).toHaveLength(1)
  })
})
