/**
 * The starting points of "New app" (createApp): each template is a small working app, its files
 * as text by path. blank and the shared page style are here; notes, gallery and social each have
 * a file of their own (app-template-*.ts). Every template's manifest asks only for the
 * permissions its code uses. The apps call the `datdot` object that the preview runtime injects
 * (main/shared/app-runtime.ts; docs/apps.md): each call takes the bridge call's arguments as one
 * object (main/shared/app-bridge.ts) and returns a Promise.
 */
import type { AppPermission, AppTemplate } from '../shared/contract-apps.js'
import { NOTES_FILES } from './app-template-notes.js'
import { GALLERY_FILES } from './app-template-gallery.js'
import { SOCIAL_FILES } from './app-template-social.js'

/** A template's own files; `{{NAME}}` (HTML-escaped) and `{{NAME_JSON}}` are filled in with the app's name. */
import { templatePage } from './app-template-page.js'

export type TemplateFiles = Readonly<Record<string, string>>

export const TEMPLATE_STYLE = `/* A plain, readable page: change anything. */
:root { font-family: system-ui, sans-serif; color: #1d232a; background: #f6f7f9; }
body { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; }
button { font: inherit; white-space: nowrap; flex: none; padding: .35rem .8rem; border-radius: 6px; border: 1px solid #9aa4ae; background: #fff; cursor: pointer; }
button.primary { background: #2f6fde; border-color: #2f6fde; color: #fff; }
input, textarea { font: inherit; padding: .35rem; border: 1px solid #9aa4ae; border-radius: 6px; box-sizing: border-box; width: 100%; }
.card { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: .75rem 1rem; margin: .5rem 0; }
.row { display: flex; gap: .5rem; align-items: center; margin: .5rem 0; }
.muted { color: #5f6b76; font-size: .85rem; }
`

const BLANK_FILES: TemplateFiles = {
  '/index.html': templatePage(`  <p>Your new DatDot app. Edit <code>index.html</code>, <code>app.js</code> and <code>style.css</code>, then save: the preview reloads.</p>
  <button id="hello" class="primary">Say hello</button>
  <p id="out" class="muted"></p>
`),
  '/app.js': `// Runs in the app's sandboxed frame. console.* shows in the editor's console.
const out = document.querySelector('#out')
document.querySelector('#hello').addEventListener('click', () => {
  out.textContent = 'Hello from ' + document.title + ' at ' + new Date().toLocaleTimeString()
  console.log('hello clicked')
})
`
}

const TEMPLATES: Record<AppTemplate, { files: TemplateFiles, description: string, permissions: AppPermission[] }> = {
  blank: { files: BLANK_FILES, description: 'A blank app.', permissions: [] },
  notes: { files: NOTES_FILES, description: 'Notes kept as JSON files in your own data drive.', permissions: ['vault'] },
  gallery: { files: GALLERY_FILES, description: 'A photo gallery over images in your own data drive.', permissions: ['vault'] },
  social: { files: SOCIAL_FILES, description: 'Post to your own drive, follow friends\' drives, read one timeline.', permissions: ['vault', 'p2p'] }
}

function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The files of a new app made from a template, its name filled in, manifest.json included. */
export function templateFiles (template: AppTemplate, name: string): Record<string, string> {
  const t = TEMPLATES[template]
  const manifest = { name, version: '0.1.0', description: t.description, entry: '/index.html', permissions: t.permissions }
  const out: Record<string, string> = { '/manifest.json': JSON.stringify(manifest, null, 2) + '\n', '/style.css': TEMPLATE_STYLE }
  for (const [path, text] of Object.entries(t.files)) {
    out[path] = text.replaceAll('{{NAME_JSON}}', JSON.stringify(name)).replaceAll('{{NAME}}', escapeHtml(name))
  }
  return out
}
