/**
 * The social template (app-templates.ts): a serverless social app. Each user posts to
 * /posts/<time>.json in their own copy's data drive; "My link" shares that drive (vault.link),
 * "Follow a friend" follows a friend's link (p2p.follow; the keys are kept in /following.json);
 * the timeline merges one's own posts and the followed drives' posts (p2p.list/read), live
 * (vault.watch, p2p.watch). Uses the 'vault' and 'p2p' permissions.
 */
import type { TemplateFiles } from './app-templates.js'
import { templatePage } from './app-template-page.js'

export const SOCIAL_FILES: TemplateFiles = {
  '/index.html': templatePage(`  <form id="post" class="card">
    <textarea id="text" rows="3" maxlength="2000" placeholder="What's new?" required></textarea>
    <div class="row"><button class="primary" type="submit">Post</button><span id="status" class="muted"></span></div>
  </form>
  <div class="card">
    <div class="row"><button id="mylink" type="button">My link</button><input id="link" readonly placeholder="Share this link with friends"></div>
    <form id="follow" class="row"><input id="friend" placeholder="A friend's link" required><button type="submit">Follow a friend</button></form>
  </div>
  <h2>Timeline</h2>
  <div id="timeline"></div>
`),
  '/app.js': `// Social: your posts are /posts/<time>.json in your own data drive; friends' drives are followed (window.datdot.p2p).
const $ = (s) => document.querySelector(s)
const watched = new Set()

function showError (err) {
  $('#status').textContent = err.message
  console.error(err)
}

async function following () {
  try {
    const file = await datdot.vault.read({ path: '/following.json' })
    return JSON.parse(file.data)
  } catch (err) {
    if (err.code === 'NOT_FOUND') return []
    throw err
  }
}

async function readPosts (list, read, who) {
  const posts = []
  for (const e of await list('/posts')) {
    if (e.kind !== 'file' || !e.name.endsWith('.json')) continue
    try {
      const post = JSON.parse((await read(e.path)).data)
      posts.push({ text: String(post.text), time: Number(post.time), who })
    } catch (err) {
      console.warn('skipping', e.path, err.message)
    }
  }
  return posts
}

async function friendPosts (key) {
  if (!watched.has(key)) {
    watched.add(key)
    datdot.p2p.watch({ key }, () => { refresh().catch(showError) })
  }
  try {
    return await readPosts((path) => datdot.p2p.list({ key, path }), (path) => datdot.p2p.read({ key, path }), key.slice(0, 8))
  } catch (err) {
    console.info('waiting for', key.slice(0, 8), err.message)
    return []
  }
}

async function refresh () {
  const mine = await readPosts((path) => datdot.vault.list({ path }), (path) => datdot.vault.read({ path }), 'me')
  const all = [...mine]
  for (const key of await following()) all.push(...await friendPosts(key))
  all.sort((a, b) => b.time - a.time)
  const timeline = $('#timeline')
  timeline.replaceChildren()
  if (all.length === 0) timeline.append(Object.assign(document.createElement('p'), { className: 'muted', textContent: 'Nothing yet: post something, or follow a friend.' }))
  for (const p of all) {
    const card = document.createElement('div')
    card.className = 'card'
    card.append(Object.assign(document.createElement('div'), { className: 'muted', textContent: p.who + ' · ' + new Date(p.time).toLocaleString() }))
    card.append(Object.assign(document.createElement('p'), { textContent: p.text }))
    timeline.append(card)
  }
}

$('#post').addEventListener('submit', async (ev) => {
  ev.preventDefault()
  const time = Date.now()
  try {
    await datdot.vault.write({ path: '/posts/' + time + '.json', data: JSON.stringify({ text: $('#text').value, time }) })
    $('#post').reset()
  } catch (err) {
    showError(err)
  }
})

$('#mylink').addEventListener('click', async () => {
  try {
    const { link } = await datdot.vault.link({})
    $('#link').value = link
    $('#link').select()
  } catch (err) {
    showError(err)
  }
})

$('#follow').addEventListener('submit', async (ev) => {
  ev.preventDefault()
  try {
    const { key } = await datdot.p2p.follow({ link: $('#friend').value.trim() })
    const keys = await following()
    if (!keys.includes(key)) await datdot.vault.write({ path: '/following.json', data: JSON.stringify([...keys, key]) })
    $('#follow').reset()
    console.log('following', key)
  } catch (err) {
    showError(err)
  }
})

datdot.vault.watch(() => { refresh().catch(showError) })
refresh().catch(showError)
`
}
