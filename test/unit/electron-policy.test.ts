import { describe, it, expect } from 'vitest'
import { join, sep } from 'node:path'
import {
  APP_ENTRY_URL, CONTENT_SECURITY_POLICY, SECURITY_HEADERS,
  isAppUrl, isTrustedSender, safeExternalUrl, navigationDecision, resolveAppFile, mimeTypeFor,
  pickedPaths, pickedFolder, followUpdateNotification, parseShellArgs, NotificationThrottle
} from '../../main/electron/policy.js'

describe('app origin', () => {
  it('recognises pages of app://datdot as ours', () => {
    expect(isAppUrl(APP_ENTRY_URL)).toBe(true)
    expect(isAppUrl('app://datdot/')).toBe(true)
    expect(isAppUrl('app://datdot/assets/index-abc.js?x=1#y')).toBe(true)
  })

  it('refuses look-alike origins, other schemes and junk', () => {
    for (const url of [
      'app://datdot.evil/', 'app://evil/', 'app://datdot:8080/', 'app://user@datdot/', 'app://user:pw@datdot/',
      'https://datdot/', 'file:///work/dist/renderer/index.html', 'http://127.0.0.1:1234/', 'about:blank',
      'data:text/html,hi', 'javascript:alert(1)', '', 'app:datdot', 'not a url'
    ]) {
      expect(isAppUrl(url), url).toBe(false)
    }
    expect(isAppUrl(null)).toBe(false)
    expect(isAppUrl(42)).toBe(false)
  })
})

describe('IPC sender check', () => {
  const ok = { senderId: 7, windowId: 7, frameUrl: 'app://datdot/index.html', isTopFrame: true }

  it('trusts the top frame of our window showing our page', () => {
    expect(isTrustedSender(ok)).toBe(true)
  })

  it('refuses another webContents, a missing window, an iframe, a destroyed frame or a foreign page', () => {
    expect(isTrustedSender({ ...ok, senderId: 8 })).toBe(false)
    expect(isTrustedSender({ ...ok, windowId: null })).toBe(false)
    expect(isTrustedSender({ ...ok, isTopFrame: false })).toBe(false)
    expect(isTrustedSender({ ...ok, frameUrl: null })).toBe(false)
    expect(isTrustedSender({ ...ok, frameUrl: 'https://example.com/' })).toBe(false)
    expect(isTrustedSender({ ...ok, frameUrl: 'file:///tmp/x.html' })).toBe(false)
    expect(isTrustedSender({ ...ok, frameUrl: 'app://other/index.html' })).toBe(false)
  })
})

describe('external links', () => {
  it('lets plain http and https links go to the system browser', () => {
    expect(safeExternalUrl('https://datdot.org/docs')).toBe('https://datdot.org/docs')
    expect(safeExternalUrl('http://example.com')).toBe('http://example.com/')
  })

  it('refuses other schemes, credentials, missing hosts and overlong URLs', () => {
    for (const url of [
      'file:///etc/passwd', 'javascript:alert(1)', 'hyper://abc', 'smb://host/share', 'app://datdot/',
      'https://user:pw@example.com/', 'https://user@example.com/', 'mailto:a@b.c', 'ms-settings:', 'https://', 'nonsense'
    ]) {
      expect(safeExternalUrl(url), url).toBeNull()
    }
    expect(safeExternalUrl('https://example.com/' + 'a'.repeat(3000))).toBeNull()
    expect(safeExternalUrl(undefined)).toBeNull()
  })

  it('never lets a navigation happen inside the window', () => {
    expect(navigationDecision('app://datdot/other.html')).toEqual({ allowInApp: false, openExternally: null })
    expect(navigationDecision('https://example.com/a')).toEqual({ allowInApp: false, openExternally: 'https://example.com/a' })
    expect(navigationDecision('file:///etc/passwd')).toEqual({ allowInApp: false, openExternally: null })
  })
})

describe('content security policy', () => {
  const directives = new Map(CONTENT_SECURITY_POLICY.split(';').map((d) => {
    const [name, ...values] = d.trim().split(/\s+/)
    return [name, values]
  }))

  it('denies by default and allows scripts and styles from the app only', () => {
    expect(directives.get('default-src')).toEqual(["'none'"])
    expect(directives.get('script-src')).toEqual(["'self'"])
    expect(directives.get('style-src')).toEqual(["'self'"])
    expect(directives.get('object-src')).toEqual(["'none'"])
    expect(directives.get('frame-ancestors')).toEqual(["'none'"])
    expect(directives.get('base-uri')).toEqual(["'none'"])
    expect(directives.get('form-action')).toEqual(["'none'"])
  })

  it('contains no unsafe keywords, wildcards or remote hosts', () => {
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-|\*|https?:|wss?:/)
  })

  it('is sent with nosniff and no-referrer headers', () => {
    expect(SECURITY_HEADERS['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY)
    expect(SECURITY_HEADERS['X-Content-Type-Options']).toBe('nosniff')
    expect(SECURITY_HEADERS['Referrer-Policy']).toBe('no-referrer')
  })
})

describe('app:// file mapping', () => {
  const root = join(sep, 'opt', 'datdot', 'dist', 'renderer')

  it('serves index.html for the root and files inside the renderer folder', () => {
    expect(resolveAppFile(root, 'app://datdot/')).toBe(join(root, 'index.html'))
    expect(resolveAppFile(root, 'app://datdot/index.html')).toBe(join(root, 'index.html'))
    expect(resolveAppFile(root, 'app://datdot/assets/app-1.js?v=2')).toBe(join(root, 'assets', 'app-1.js'))
    expect(resolveAppFile(root, 'app://datdot/assets/my%20file.css')).toBe(join(root, 'assets', 'my file.css'))
  })

  it('refuses anything that would leave the folder or is not ours', () => {
    for (const url of [
      'app://datdot/..%2F..%2Fetc%2Fpasswd', 'app://datdot/assets%2F..%2F..%2Fx', 'app://datdot/assets/..%5C..%5Cx',
      'app://datdot/a%00.js', 'app://datdot/%E0%A4%A', 'app://evil/index.html', 'file:///etc/passwd', 'https://datdot/index.html'
    ]) {
      expect(resolveAppFile(root, url), url).toBeNull()
    }
  })

  it('keeps dot segments the URL parser resolves inside the folder', () => {
    expect(resolveAppFile(root, 'app://datdot/%2e%2e/%2e%2e/secret')).toBe(join(root, 'secret'))
    expect(resolveAppFile(root, 'app://datdot/../../etc/passwd')).toBe(join(root, 'etc', 'passwd'))
  })

  it('gives scripts, styles and pages their content types', () => {
    expect(mimeTypeFor('a/index.html')).toBe('text/html; charset=utf-8')
    expect(mimeTypeFor('x.JS')).toBe('text/javascript; charset=utf-8')
    expect(mimeTypeFor('x.css')).toBe('text/css; charset=utf-8')
    expect(mimeTypeFor('x.unknown')).toBe('application/octet-stream')
  })
})

describe('dialog results', () => {
  it('reads a cancelled or empty dialog as nothing picked', () => {
    expect(pickedPaths({ canceled: true, filePaths: ['/a'] })).toBeNull()
    expect(pickedPaths({ canceled: false, filePaths: [] })).toBeNull()
    expect(pickedFolder({ canceled: true, filePaths: [] })).toBeNull()
  })

  it('keeps only absolute paths and takes the first folder', () => {
    const a = join(sep, 'home', 'u', 'a.txt')
    const b = join(sep, 'home', 'u', 'b')
    expect(pickedPaths({ canceled: false, filePaths: [a, 'relative', '', b] })).toEqual([a, b])
    expect(pickedPaths({ canceled: false, filePaths: ['relative'] })).toBeNull()
    expect(pickedFolder({ canceled: false, filePaths: [b, a] })).toBe(b)
  })
})

describe('follow update notifications', () => {
  const key = 'abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst'

  it('names the single changed file', () => {
    const n = followUpdateNotification({ key, version: 5, truncated: false, changes: [{ type: 'put', path: '/notes.txt', size: 3 }] })
    expect(n.title).toBe('Update from drive abcdefgh…')
    expect(n.body).toBe('/notes.txt changed (version 5).')
  })

  it('summarises several changes and deletions', () => {
    const n = followUpdateNotification({
      key,
      version: 9,
      truncated: false,
      changes: [{ type: 'put', path: '/a', size: 1 }, { type: 'put', path: '/b', size: 1 }, { type: 'del', path: '/c', size: null }]
    }, 'Alice')
    expect(n.title).toBe('Update from Alice')
    expect(n.body).toBe('2 changed, 1 deleted, e.g. /a (version 9).')
  })

  it('keeps the body short whatever the path length', () => {
    const n = followUpdateNotification({ key, version: 1, truncated: false, changes: [{ type: 'del', path: '/' + 'x'.repeat(500), size: null }] })
    expect(n.body.length).toBeLessThanOrEqual(200)
  })

  it('lets one notification per drive through per interval', () => {
    const t = new NotificationThrottle(1000)
    expect(t.allow('a', 0)).toBe(true)
    expect(t.allow('a', 999)).toBe(false)
    expect(t.allow('b', 999)).toBe(true)
    expect(t.allow('a', 1000)).toBe(true)
  })
})

describe('command line of the app', () => {
  it('reads the storage, bootstrap, port and chain flags in both spellings and ignores the rest', () => {
    expect(parseShellArgs(['/app', '--storage', '/data', '--bootstrap=127.0.0.1:49737', '--port', '0', '--no-sandbox', '--chain=off', '--offline']))
      .toEqual({ storage: '/data', bootstrap: '127.0.0.1:49737', port: 0, chain: 'off', offline: true })
    expect(parseShellArgs(['.'])).toEqual({})
  })

  it('refuses a flag without a value and a bad port', () => {
    expect(() => parseShellArgs(['--storage'])).toThrow(/--storage needs a value/)
    expect(() => parseShellArgs(['--storage', '--port', '1'])).toThrow(/--storage needs a value/)
    expect(() => parseShellArgs(['--port', '70000'])).toThrow(/--port/)
    expect(() => parseShellArgs(['--port=abc'])).toThrow(/--port/)
  })
})
