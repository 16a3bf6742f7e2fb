/**
 * The daemon's API token in browser mode. The daemon prints `http://127.0.0.1:<port>/#token=<hex>`;
 * the page takes the token from the fragment (never sent to the server), keeps it for this tab
 * in sessionStorage and removes it from the address bar so it does not end up in bookmarks,
 * history or screenshots.
 */
const KEY = 'datdot.token'

export function takeToken (loc: Location = location, storage: Storage = sessionStorage): string | null {
  const params = new URLSearchParams(loc.hash.replace(/^#/, ''))
  const fromHash = params.get('token')
  if (fromHash !== null && /^[0-9a-f]{16,256}$/i.test(fromHash)) {
    storage.setItem(KEY, fromHash)
    params.delete('token')
    const rest = params.toString()
    history.replaceState(history.state, '', loc.pathname + loc.search + (rest ? '#' + rest : ''))
  }
  return storage.getItem(KEY)
}
