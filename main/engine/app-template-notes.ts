/**
 * The notes template (app-templates.ts): each note is a JSON file /notes/<id>.json in the app's
 * own data drive, listed newest first, edited in place and deleted; the list follows changes
 * live (vault.watch). Uses the 'vault' permission only.
 */
import type { TemplateFiles } from './app-templates.js'
import { templatePage } from './app-template-page.js'

export const NOTES_FILES: TemplateFiles = {
  '/index.html': templatePage(`  <form id="editor" class="card">
    <input id="title" placeholder="Title" maxlength="200" required>
    <p><textarea id="body" rows="5" placeholder="Write a note"></textarea></p>
    <div class="row">
      <button class="primary" type="submit">Save note</button>
      <button id="new" type="button">New note</button>
      <span id="status" class="muted"></span>
    </div>
  </form>
  <div id="notes"></div>
`),
  '/app.js': `// Notes: each note is /notes/<id>.json in this app's own data drive (window.datdot.vault).
const $ = (s) => document.querySelector(s)
let editing = null

async function loadNotes () {
  const entries = await datdot.vault.list({ path: '/notes' })
  const notes = []
  for (const e of entries) {
    if (e.kind !== 'file' || !e.name.endsWith('.json')) continue
    try {
      const file = await datdot.vault.read({ path: e.path })
      notes.push(JSON.parse(file.data))
    } catch (err) {
      console.warn('skipping', e.path, err.message)
    }
  }
  return notes.sort((a, b) => b.updated - a.updated)
}

function render (notes) {
  const list = $('#notes')
  list.replaceChildren()
  if (notes.length === 0) list.append(Object.assign(document.createElement('p'), { className: 'muted', textContent: 'No notes yet.' }))
  for (const note of notes) {
    const card = document.createElement('div')
    card.className = 'card'
    const h = Object.assign(document.createElement('strong'), { textContent: note.title })
    const p = Object.assign(document.createElement('p'), { textContent: note.body })
    const when = Object.assign(document.createElement('div'), { className: 'muted', textContent: new Date(note.updated).toLocaleString() })
    const edit = Object.assign(document.createElement('button'), { textContent: 'Edit' })
    edit.onclick = () => { editing = note.id; $('#title').value = note.title; $('#body').value = note.body }
    const del = Object.assign(document.createElement('button'), { textContent: 'Delete' })
    del.onclick = () => { datdot.vault.delete({ path: '/notes/' + note.id + '.json' }).catch(showError) }
    const row = document.createElement('div')
    row.className = 'row'
    row.append(edit, del)
    card.append(h, p, when, row)
    list.append(card)
  }
}

function showError (err) {
  $('#status').textContent = err.message
  console.error(err)
}

async function refresh () {
  render(await loadNotes())
}

$('#editor').addEventListener('submit', async (ev) => {
  ev.preventDefault()
  const id = editing || String(Date.now())
  const note = { id, title: $('#title').value, body: $('#body').value, updated: Date.now() }
  try {
    await datdot.vault.write({ path: '/notes/' + id + '.json', data: JSON.stringify(note) })
    editing = null
    $('#editor').reset()
    $('#status').textContent = 'Saved'
  } catch (err) {
    showError(err)
  }
})
$('#new').addEventListener('click', () => { editing = null; $('#editor').reset() })

datdot.vault.watch(() => { refresh().catch(showError) })
refresh().catch(showError)
`
}
