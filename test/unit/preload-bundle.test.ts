import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runInNewContext } from 'node:vm'
import { build } from 'vite'
import { methods, METHOD_NAMES, IPC_PREFIX, IPC_EVENT_CHANNEL, IPC_DROP_CHANNEL } from '../../main/shared/contract.js'

// Builds preload/ with its real Vite config (into a temp folder) and runs the bundle the way a
// sandboxed preload runs: a script whose `require` knows only 'electron'.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
let outDir = ''
let code = ''

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'datdot-preload-'))
  await build({ configFile: join(root, 'preload', 'vite.config.ts'), logLevel: 'silent', build: { outDir, emptyOutDir: true } })
  code = await readFile(join(outDir, 'index.cjs'), 'utf8')
})

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true })
})

interface Exposed { key: string, api: Record<string, unknown> }

type WindowListener = { type: string, fn: (event: unknown) => void, capture: unknown }

function runBundle (): { exposed: Exposed[], required: string[], invoked: Array<[string, unknown]>, listeners: Map<string, unknown[]>, windowListeners: WindowListener[] } {
  const windowListeners: WindowListener[] = []
  const window = { addEventListener: (type: string, fn: (event: unknown) => void, capture: unknown) => { windowListeners.push({ type, fn, capture }) } }
  const exposed: Exposed[] = []
  const required: string[] = []
  const invoked: Array<[string, unknown]> = []
  const listeners = new Map<string, unknown[]>()
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: Record<string, unknown>) => { exposed.push({ key, api }) } },
    ipcRenderer: {
      invoke: async (channel: string, args: unknown) => { invoked.push([channel, args]); return { ok: true, result: 'r' } },
      on: (channel: string, fn: unknown) => { listeners.set(channel, [...(listeners.get(channel) ?? []), fn]) },
      removeListener: (channel: string, fn: unknown) => { listeners.set(channel, (listeners.get(channel) ?? []).filter((f) => f !== fn)) }
    },
    webUtils: { getPathForFile: (file: { path?: string }) => file.path ?? '' }
  }
  const sandboxRequire = (id: string): unknown => {
    required.push(id)
    if (id === 'electron') return electron
    throw new Error(`a sandboxed preload cannot require ${id}`)
  }
  const module = { exports: {} }
  runInNewContext(code, { require: sandboxRequire, module, exports: module.exports, console, window, crypto: globalThis.crypto }, { filename: 'index.cjs' })
  return { exposed, required, invoked, listeners, windowListeners }
}

describe('preload bundle', () => {
  it('is a single CommonJS script that requires nothing but electron', () => {
    expect(code).not.toMatch(/^\s*import\s/m)
    expect(code).not.toMatch(/\bexport\s+(default|const|function|\{)/)
    const { required } = runBundle()
    expect(required).toEqual(['electron'])
  })

  it('exposes exactly one object, window.datdot, with the ipc methods of the contract', () => {
    const { exposed } = runBundle()
    expect(exposed.map((e) => e.key)).toEqual(['datdot'])
    const ipc = METHOD_NAMES.filter((m) => (methods[m].exposure as readonly string[]).includes('ipc'))
    expect(Object.keys(exposed[0].api).sort()).toEqual([...ipc, 'kind', 'on', 'takeDrop'].sort())
  })

  it('listens for drops on the window in the capture phase and sends only trusted drops\' paths to main', () => {
    const { exposed, invoked, windowListeners } = runBundle()
    expect(windowListeners.map((l) => [l.type, l.capture])).toEqual([['drop', true]])
    const api = exposed[0].api as { takeDrop: () => { drop: string, items: number } | null }
    const files = [{ name: 'a.txt', path: '/home/u/a.txt' }]
    windowListeners[0].fn({ isTrusted: false, dataTransfer: { files } })
    expect(invoked).toEqual([])
    windowListeners[0].fn({ isTrusted: true, dataTransfer: { files } })
    const ticket = api.takeDrop()
    expect(ticket?.drop).toMatch(/^[0-9a-f]{32}$/)
    expect(invoked).toEqual([[IPC_DROP_CHANNEL, { drop: ticket!.drop, paths: ['/home/u/a.txt'] }]])
  })

  it('calls ipcRenderer.invoke on the method channel and listens on the event channel', async () => {
    const { exposed, invoked, listeners } = runBundle()
    const api = exposed[0].api as { getStatus: (a: unknown) => Promise<unknown>, on: (e: string, l: (d: unknown) => void) => () => void }
    await expect(api.getStatus({})).resolves.toBe('r')
    expect(invoked).toEqual([[IPC_PREFIX + 'getStatus', {}]])
    const got: unknown[] = []
    const off = api.on('vault.changed', (d) => { got.push(d) })
    const fns = listeners.get(IPC_EVENT_CHANNEL) as Array<(e: unknown, n: string, d: unknown) => void>
    expect(fns).toHaveLength(1)
    fns[0]({ sender: 'ipc event' }, 'vault.changed', { version: 1 })
    expect(got).toEqual([{ version: 1 }])
    off()
    expect(listeners.get(IPC_EVENT_CHANNEL)).toEqual([])
  })
})
