import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import WebSocket from 'ws'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, startEngine, until } from '../helpers/engines.js'
import { waitFor } from '../helpers/wait.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'
import { phraseFromKey } from '../../main/engine/recovery.js'
import { startDaemon, type Daemon } from '../../main/daemon.js'
import { DatdotNode, type NodeOptions } from '../../main/hosting/node.js'
import { WS_PATH, WS_PROTOCOL, WS_TOKEN_PREFIX } from '../../main/api/preload-api.js'

interface VaultSummary { key: string, version: number, files: number, restoring: unknown }
/** A call's reply: `result` (the fields these tests read) or `error`. */
interface Outcome { status: number, result?: { vault: VaultSummary } & Record<string, unknown>, error?: { code: string, message: string, details?: unknown } }

async function call (d: Daemon, method: string, args: unknown): Promise<Outcome> {
  const res = await fetch(`http://127.0.0.1:${d.server.port}/api/call/${method}`, {
    method: 'POST', headers: { Authorization: `Bearer ${d.server.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(args)
  })
  return { status: res.status, ...(await res.json() as object) }
}

/** A browser-like WebSocket session: its calls and the events it receives. */
async function session (d: Daemon): Promise<{ ws: WebSocket, events: string[], call: (method: string, args: unknown) => Promise<Outcome> }> {
  const origin = `http://127.0.0.1:${d.server.port}`
  const ws = new WebSocket(origin.replace('http', 'ws') + WS_PATH, [WS_PROTOCOL, WS_TOKEN_PREFIX + d.server.token], { headers: { Origin: origin } })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const events: string[] = []
  const waiting = new Map<number, (m: Outcome) => void>()
  ws.on('message', (raw) => {
    const m = JSON.parse((raw as Buffer).toString('utf8')) as Outcome & { event?: string, id?: number }
    if (m.event !== undefined) events.push(m.event)
    else waiting.get(m.id ?? -1)?.(m)
  })
  let id = 0
  return {
    ws,
    events,
    call: async (method, args) => await new Promise((resolve) => { const n = ++id; waiting.set(n, resolve); ws.send(JSON.stringify({ id: n, method, args })) })
  }
}

describe('restoring a fresh install from a recovery phrase in the app (restoreFromPhrase over the API server)', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let bob: Engine
  let phrase: string
  let aliceVaultId: string
  let aliceVersion: number
  const daemons: Daemon[] = []

  async function daemon (extra: Partial<NodeOptions> & { startNode?: (o: NodeOptions) => Promise<DatdotNode> } = {}): Promise<Daemon> {
    const d = await startDaemon({ storage: await tmp.make(), bootstrap: testnet.bootstrap, statusIntervalMs: 0, progressIntervalMs: 0, ...extra })
    daemons.push(d)
    return d
  }

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    const src = await tmp.make()
    await writeFile(join(src, 'letter.txt'), 'alice wrote this\n')
    const alice = await startEngine(testnet, await tmp.make())
    await createHandlers(alice).importPaths({ paths: [join(src, 'letter.txt')], dest: '/', wait: true })
    phrase = phraseFromKey(alice.store.primaryKey)
    aliceVaultId = alice.vault.id
    aliceVersion = alice.vault.drive.version
    // Bob follows Alice and has all of her vault; then Alice's machine is gone.
    bob = await startEngine(testnet, await tmp.make())
    const info = await createHandlers(bob).follow({ link: (await createHandlers(alice).share({ path: '/' })).link })
    const followed = bob.follows.get(info.key)
    await until(bob, () => followed.info().state === 'synced' && followed.info().version === aliceVersion)
    await alice.close()
  })

  afterAll(async () => {
    for (const d of daemons) await d.close()
    await bob?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('replaces the pristine node: the vault comes back from a follower, the token and open sessions keep working', async () => {
    const d = await daemon()
    const token = d.server.token
    const before = d.engine
    expect((await call(d, 'getBackupState', {})).result).toEqual({ backup: 'pending', canRestore: true })
    const ws = await session(d)
    const r = await call(d, 'restoreFromPhrase', { phrase: `  ${phrase.toUpperCase()}\n`, confirm: true })
    expect(r.status).toBe(200)
    expect(r.result?.vault.key).toBe(aliceVaultId)
    expect(d.engine).not.toBe(before)
    expect(before.closed).toBe(true)
    expect(d.host.counters).toEqual({ replaced: 1, replaceFailed: 0 })
    // same token file, same daemon.json: the browser session goes on
    expect((await readFile(join(d.engine.storage, 'api-token'), 'utf8')).trim()).toBe(token)
    expect(existsSync(join(d.engine.storage, 'daemon.json'))).toBe(true)
    const engine = d.engine
    await until(engine, () => !engine.vault.restoring)
    const status = await ws.call('getStatus', {})
    expect(status.result?.vault).toMatchObject({ key: aliceVaultId, version: aliceVersion, files: 1, restoring: null })
    // events of the new node (the restore's end) reached the session opened before the restore
    await waitFor([ws.ws], () => ws.events.includes('vault.changed'), 'a vault event of the new node on the old socket')
    // the user typed the phrase: no backup prompt; and the folder is no longer pristine
    const state = (await call(d, 'getBackupState', {})).result
    expect(state).toMatchObject({ backup: 'backed-up', canRestore: false })
    const again = await call(d, 'restoreFromPhrase', { phrase, confirm: true })
    expect(again.status).toBe(403)
    expect(again.error?.message).toMatch(/datdot restore/)
    ws.ws.close()
  })

  it('refuses a wrong or short phrase (INVALID_ARGUMENT, no word of it in the error) and changes nothing', async () => {
    const d = await daemon()
    const key = d.engine.vault.id
    const words = phrase.split(' ')
    const swapped = [words[1], words[0], ...words.slice(2)].join(' ')
    for (const bad of [words.slice(0, 12).join(' '), swapped, words.slice(0, 23).join(' ') + ' notaword', '']) {
      const r = await call(d, 'restoreFromPhrase', { phrase: bad, confirm: true })
      expect(r.status).toBe(400)
      expect(r.error?.code).toBe('INVALID_ARGUMENT')
      // No run of the phrase in the reply. (A single word may coincide: 'code', 'order' and
      // 'word' are BIP39 words too, and the phrase is random.)
      const text = JSON.stringify(r)
      for (let i = 0; i + 1 < words.length; i++) expect(text).not.toContain(`${words[i]} ${words[i + 1]}`)
      for (const w of words) expect(JSON.stringify(r.error?.details ?? {})).not.toMatch(new RegExp(`\\b${w}\\b`))
    }
    expect((await call(d, 'restoreFromPhrase', { phrase })).error?.code).toBe('INVALID_ARGUMENT')
    expect(d.engine.vault.id).toBe(key)
    expect(d.host.counters.replaced).toBe(0)
  })

  it('refuses a folder in use (FORBIDDEN, saying why and that datdot restore into an empty folder is the way) and changes nothing', async () => {
    const d = await daemon()
    const src = await tmp.make()
    await writeFile(join(src, 'mine.txt'), 'mine')
    await call(d, 'importPaths', { paths: [join(src, 'mine.txt')], dest: '/', wait: true })
    const key = d.engine.vault.id
    const state = (await call(d, 'getBackupState', {})).result
    expect(state?.canRestore).toBe(false)
    expect(state?.restoreRefused).toMatch(/already has files/)
    const r = await call(d, 'restoreFromPhrase', { phrase, confirm: true })
    expect(r.status).toBe(403)
    expect(r.error?.message).toMatch(/already has files.*datdot restore --storage NEW_FOLDER/)
    expect(d.engine.vault.id).toBe(key)
    expect((await call(d, 'getStatus', {})).result?.vault.files).toBe(1)
  })

  it('keeps a running node when the restored node fails to start: the restored folder on a second try', async () => {
    let starts = 0
    const d = await daemon({
      startNode: async (o) => {
        if (++starts === 2) throw new Error('the new node could not open its swarm')
        const n = new DatdotNode(o); await n.ready(); return n
      }
    })
    const r = await call(d, 'restoreFromPhrase', { phrase, confirm: true })
    expect(r.status).toBe(500)
    expect(r.error?.message).toMatch(/could not start.*runs again/)
    expect(d.host.counters).toEqual({ replaced: 0, replaceFailed: 1 })
    const status = await call(d, 'getStatus', {})
    expect(status.status).toBe(200)
    expect(status.result?.vault.key).toBe(aliceVaultId)
  })

  it('keeps a running node when the restored folder cannot start at all: a new, still pristine vault', async () => {
    let starts = 0
    const d = await daemon({
      startNode: async (o) => {
        starts++
        if (starts === 2 || starts === 3) throw new Error('no start')
        const n = new DatdotNode(o); await n.ready(); return n
      }
    })
    const first = d.engine.vault.id
    const r = await call(d, 'restoreFromPhrase', { phrase, confirm: true })
    expect(r.error?.code).toBe('INTERNAL')
    const status = await call(d, 'getStatus', {})
    expect(status.status).toBe(200)
    expect([first, aliceVaultId]).not.toContain(status.result?.vault.key)
    expect((await call(d, 'getBackupState', {})).result).toEqual({ backup: 'pending', canRestore: true })
    // and the user can try again
    const retry = await call(d, 'restoreFromPhrase', { phrase, confirm: true })
    expect(retry.result?.vault.key).toBe(aliceVaultId)
  })
})
