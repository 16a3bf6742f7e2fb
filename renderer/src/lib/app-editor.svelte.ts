/**
 * One app open in the editor: its code files (loaded on demand, edited in memory, saved all at
 * once as one version), its history and revert, and its live preview (a capability from
 * startAppPreview, renewed after each save so the frame reloads) with its console.
 */
import type { Entry, HistoryItem } from '../../../main/shared/contract.js'
import type { AppInfo } from '../../../main/shared/contract-apps.js'
import type { Client } from './client-types.js'
import { AppConsole } from './app-console.svelte.js'
import type { BridgeQuestion } from './app-bridge.js'
import { DatdotError } from '../../../main/shared/errors.js'

export interface Buffer {
  path: string
  text: string
  /** The text as saved; null for a new file. */
  saved: string | null
  loaded: boolean
}

/** Where the preview frame loads a capability: same origin path in a browser, its own scheme in Electron. */
export function previewUrl (kind: Client['kind'], origin: string, cap: string, entry: string): string {
  const page = entry.replace(/^\/+/, '')
  return kind === 'electron' ? `datdot-app://${cap}/${page}` : `${origin}/run/${cap}/${page}`
}

export class AppEditor {
  app = $state<AppInfo>() as AppInfo
  files = $state<Entry[]>([])
  version = $state(0)
  loaded = $state(false)
  buffers = $state<Record<string, Buffer>>({})
  current = $state<string | null>(null)
  /** Files deleted since the last save. */
  deleted = $state<string[]>([])
  saving = $state(false)
  history = $state<HistoryItem[]>([])
  historyLoaded = $state(false)
  preview = $state<{ cap: string, entry: string } | null>(null)
  /** Bumped on every new preview page, so the frame and the bridge know to reset. */
  previewRun = $state(0)
  /** The question the host asks the user for the running app, and the ones waiting after it. */
  questions = $state<Array<{ q: BridgeQuestion, answer: (yes: boolean) => void }>>([])
  readonly console = new AppConsole()
  readonly dirty = $derived(Object.values(this.buffers).filter((b) => b.loaded && b.text !== b.saved).map((b) => b.path))
  readonly unsaved = $derived(this.dirty.length + this.deleted.length)
  readonly paths = $derived([
    ...this.files.filter((f) => f.kind === 'file' && !this.deleted.includes(f.path)).map((f) => f.path),
    ...Object.values(this.buffers).filter((b) => b.saved === null).map((b) => b.path)
  ].sort())

  readonly #client: Client
  #disposed = false
  #reloading: Promise<void> = Promise.resolve()

  constructor (client: Client, app: AppInfo) {
    this.#client = client
    this.app = app
  }

  get readOnly (): boolean { return !this.app.own }

  /**
   * A refreshed AppInfo. An app opened by link that got a new version (it finished downloading,
   * or its author saved) is shown again at that version: its files, history and preview.
   */
  setInfo (info: AppInfo): void {
    const newer = !info.own && this.loaded && info.version !== this.version
    this.app = info
    if (newer) this.#reloading = this.#reloading.then(() => this.#reloadOpened()).catch((err: unknown) => {
      this.console.note(`Loading version ${info.version} failed: ${err instanceof Error ? err.message : String(err)}`)
    })
  }

  async #reloadOpened (): Promise<void> {
    if (this.#disposed || this.app.version === this.version) return
    const current = this.current
    this.buffers = {}
    await this.loadFiles()
    this.console.note(`Version ${this.version} of the app arrived: running it`)
    await Promise.all([this.#openFirst(current), this.loadHistory(), this.startPreview()])
  }

  async load (): Promise<void> {
    await this.loadFiles()
    await Promise.all([this.#openFirst(null), this.loadHistory(), this.startPreview()])
  }

  /** Opens `path` if the app still has it, else its entry page, else its first file. */
  async #openFirst (path: string | null): Promise<void> {
    const entry = (this.app.manifest?.entry ?? '/index.html')
    const first = path !== null && this.paths.includes(path) ? path : this.paths.includes(entry) ? entry : this.paths[0]
    if (first) await this.open(first)
    else this.current = null
  }

  async loadFiles (): Promise<void> {
    const { version, files } = await this.#client.call('listAppFiles', { app: this.app.id })
    this.files = files
    this.version = version
    this.loaded = true
  }

  async open (path: string): Promise<void> {
    this.current = path
    if (this.buffers[path]) return
    const { text } = await this.#client.call('readAppFile', { app: this.app.id, path })
    // Opened twice at once (the first file while the user clicks it): the first answer stays, with its edits.
    if (this.buffers[path]) return
    this.buffers = { ...this.buffers, [path]: { path, text, saved: text, loaded: true } }
  }

  edit (path: string, text: string): void {
    const b = this.buffers[path]
    if (!b || this.readOnly) return
    this.buffers = { ...this.buffers, [path]: { ...b, text } }
  }

  newFile (rawPath: string): void {
    const path = '/' + rawPath.trim().replace(/^\/+/, '')
    if (path === '/' || path.endsWith('/')) throw DatdotError.invalidPath(rawPath, 'give the file a name')
    if (this.paths.includes(path)) throw DatdotError.alreadyExists(path)
    this.deleted = this.deleted.filter((p) => p !== path)
    this.buffers = { ...this.buffers, [path]: { path, text: '', saved: null, loaded: true } }
    this.current = path
  }

  deleteFile (path: string): void {
    const { [path]: gone, ...rest } = this.buffers
    this.buffers = rest
    if (gone?.saved !== null) this.deleted = [...this.deleted, path]
    if (this.current === path) this.current = this.paths[0] ?? null
  }

  /** Saves every changed and deleted file as one version, then reloads the preview. */
  async save (): Promise<number | null> {
    if (this.readOnly || this.saving || this.unsaved === 0) return null
    this.saving = true
    try {
      const files = this.dirty.map((p) => ({ path: p, text: this.buffers[p].text }))
      const { version } = await this.#client.call('saveAppFiles', { app: this.app.id, files, deleted: this.deleted })
      const next = { ...this.buffers }
      for (const f of files) next[f.path] = { ...next[f.path], saved: f.text }
      this.buffers = next
      this.deleted = []
      this.console.note(`Saved version ${version}`)
      await Promise.all([this.loadFiles(), this.loadHistory(), this.startPreview()])
      return version
    } finally {
      this.saving = false
    }
  }

  async loadHistory (): Promise<void> {
    this.history = await this.#client.call('appHistory', { app: this.app.id })
    this.historyLoaded = true
  }

  /** Makes an earlier version current; unsaved edits are dropped (the page confirms first). */
  async revert (version: number): Promise<void> {
    const r = await this.#client.call('revertApp', { app: this.app.id, version })
    this.buffers = {}
    this.deleted = []
    this.console.note(`Reverted to version ${version} (now version ${r.version})`)
    const current = this.current
    await this.loadFiles()
    await Promise.all([current && this.paths.includes(current) ? this.open(current) : Promise.resolve(), this.loadHistory(), this.startPreview()])
  }

  /** A new capability (the frame loads it as a new page); the previous one ends. */
  async startPreview (): Promise<void> {
    const old = this.preview
    const next = await this.#client.call('startAppPreview', { app: this.app.id })
    if (this.#disposed) { await this.#stop(next.cap); return }
    this.preview = next
    this.previewRun++
    if (old) await this.#stop(old.cap)
  }

  async #stop (cap: string): Promise<void> {
    await this.#client.call('stopAppPreview', { cap }).catch(() => {})
  }

  /** The bridge's `ask`: queued, one dialog at a time. */
  ask = (q: BridgeQuestion): Promise<boolean> => new Promise((resolve) => {
    this.questions = [...this.questions, { q, answer: resolve }]
  })

  answer (yes: boolean): void {
    const [first, ...rest] = this.questions
    this.questions = rest
    first?.answer(yes)
  }

  async dispose (): Promise<void> {
    this.#disposed = true
    for (const q of this.questions) q.answer(false)
    this.questions = []
    const p = this.preview
    this.preview = null
    if (p) await this.#stop(p.cap)
  }
}
