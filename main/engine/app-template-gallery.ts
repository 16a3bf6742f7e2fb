/**
 * The gallery template (app-templates.ts): pick images (an input of type file), each is written
 * to /photos/ in the app's own data drive as base64, and shown from a read of that file through
 * a blob: URL. Uses the 'vault' permission only.
 */
import type { TemplateFiles } from './app-templates.js'
import { templatePage } from './app-template-page.js'

export const GALLERY_FILES: TemplateFiles = {
  '/index.html': templatePage(`  <div class="row">
    <label class="card">Add photos <input id="pick" type="file" accept="image/*" multiple></label>
    <span id="status" class="muted"></span>
  </div>
  <div id="grid"></div>
`, `  <link rel="stylesheet" href="gallery.css">
`),
  '/gallery.css': `#grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: .5rem; }
#grid figure { margin: 0; background: #fff; border: 1px solid #dde1e6; border-radius: 8px; overflow: hidden; }
#grid img { width: 100%; height: 8rem; object-fit: cover; display: block; }
#grid figcaption { font-size: .75rem; padding: .25rem .4rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
`,
  '/app.js': `// Gallery: images live in /photos/ of this app's own data drive (window.datdot.vault).
const $ = (s) => document.querySelector(s)
const TYPES = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml' }
const urls = []

function toBase64 (file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result).split(',')[1])
    reader.onerror = () => reject(reader.error)
    reader.readAsDataURL(file)
  })
}

function fromBase64 (b64, type) {
  const bin = atob(b64)
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return new Blob([bytes], { type })
}

async function render () {
  const entries = await datdot.vault.list({ path: '/photos' })
  for (const u of urls.splice(0)) URL.revokeObjectURL(u)
  const grid = $('#grid')
  grid.replaceChildren()
  for (const e of entries) {
    const ext = e.name.split('.').pop().toLowerCase()
    if (e.kind !== 'file' || !TYPES[ext]) continue
    const file = await datdot.vault.read({ path: e.path, encoding: 'base64' })
    const url = URL.createObjectURL(fromBase64(file.data, TYPES[ext]))
    urls.push(url)
    const fig = document.createElement('figure')
    fig.append(Object.assign(document.createElement('img'), { src: url, alt: e.name }))
    fig.append(Object.assign(document.createElement('figcaption'), { textContent: e.name }))
    grid.append(fig)
  }
  $('#status').textContent = grid.children.length + ' photo(s)'
}

$('#pick').addEventListener('change', async (ev) => {
  for (const file of ev.target.files) {
    const safe = file.name.replace(/[^\\w.-]+/g, '_')
    try {
      await datdot.vault.write({ path: '/photos/' + Date.now() + '-' + safe, data: await toBase64(file), encoding: 'base64' })
      console.log('added', file.name)
    } catch (err) {
      console.error('could not add', file.name, err.message)
    }
  }
  ev.target.value = ''
})

datdot.vault.watch(() => { render().catch(console.error) })
render().catch(console.error)
`
}
