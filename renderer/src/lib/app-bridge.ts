/**
 * The host's side of the app bridge: messages from one running app's sandboxed frame
 * (main/shared/app-bridge.ts) are validated, checked against the app's permissions and turned
 * into the app* API calls, scoped to that app's id; results and watch events go back to that
 * frame only. A plain class with injected `call`, `ask`, `on` and `log`, so it is unit-tested
 * without a DOM or an engine (test/unit/app-bridge.test.ts).
 */
import type { Args, EventData, EventName, MethodName, Result } from '../../../main/shared/contract.js'
import { APP_LIMITS, type AppPermission } from '../../../main/shared/contract-apps.js'
import { BRIDGE_PERMISSION, BRIDGE_TAG, FrameMessage, bridgeCalls, type BridgeCallName, type HostMessage } from '../../../main/shared/app-bridge.js'
import { toApiError } from './api-error.js'

export type CallFn = <M extends MethodName>(method: M, args: Args<M>) => Promise<Result<M>>
export type OnFn = <E extends EventName>(event: E, listener: (data: EventData<E>) => void) => () => void

/** What the host asks its user before going on; resolves true when the user agreed. */
export type BridgeQuestion =
  | { kind: 'permission', permission: AppPermission }
  | { kind: 'follow', link: string }
  | { kind: 'share' }
  | { kind: 'payment', to: string, amount: string, memo: string }
  | { kind: 'sponsor', replicas: number, days: number, price: string }

/** A line for the app's console: one bridge call and how it ended. */
export interface BridgeCallLine { method: string, ok: boolean, error?: { code: string, message: string } }

/** The frame's window, as far as the bridge uses it. */
export interface FrameTarget { postMessage: (message: HostMessage, targetOrigin: string) => void }

export interface BridgeOptions {
  appId: string
  /** Permissions already granted (AppInfo.granted). */
  granted: readonly AppPermission[]
  /** The preview frame's window (iframe.contentWindow), null while there is none. */
  target: () => FrameTarget | null
  call: CallFn
  ask: (question: BridgeQuestion) => Promise<boolean>
  on: OnFn
  /** Console output of the app (FrameMessage 'console'). */
  onConsole: (message: Extract<FrameMessage, { type: 'console' }>) => void
  /** Every call the app made, for the console. */
  onCall: (line: BridgeCallLine) => void
  /** The frame loaded and its runtime is ready. */
  onReady?: () => void
  maxPending?: number
}

export const MAX_PENDING_CALLS = 50

class BridgeError extends Error {
  constructor (readonly code: string, message: string) { super(message) }
}

/**
 * TOO_LARGE for a write over APP_LIMITS.dataWriteBytes, or any call whose arguments would not fit
 * one message to the engine (sent anyway, it would close the UI's connection).
 */
function checkSize (name: BridgeCallName, args: Record<string, unknown>): void {
  const utf8 = (s: string): number => new TextEncoder().encode(s).length
  if (name === 'vault.write') {
    const { data, encoding } = args as { data: string, encoding: 'utf8' | 'base64' }
    const bytes = encoding === 'base64' ? Math.floor(data.length * 3 / 4) : data.length > APP_LIMITS.dataWriteBytes ? data.length : utf8(data)
    if (bytes > APP_LIMITS.dataWriteBytes) {
      throw new BridgeError('TOO_LARGE', `One write may carry at most ${APP_LIMITS.dataWriteBytes} bytes; this one has ${bytes} (APP_LIMITS.dataWriteBytes)`)
    }
  }
  const size = utf8(JSON.stringify(args))
  if (size > APP_LIMITS.callBytes) {
    throw new BridgeError('TOO_LARGE', `The arguments of ${name} take ${size} bytes; a call may carry at most ${APP_LIMITS.callBytes}`)
  }
}

export class AppBridge {
  readonly #o: BridgeOptions
  readonly #granted: Set<AppPermission>
  readonly #denied = new Set<AppPermission>()
  readonly #asking = new Map<AppPermission, Promise<boolean>>()
  readonly #watches = new Map<string, () => void>()
  #pending = 0
  /** Bumped on each reload: answers to an earlier page are dropped. */
  #generation = 0

  constructor (options: BridgeOptions) {
    this.#o = options
    this.#granted = new Set(options.granted)
  }

  get pending (): number { return this.#pending }

  /** The user granted or revoked a permission elsewhere (the app's settings). */
  setGranted (granted: readonly AppPermission[]): void {
    this.#granted.clear()
    for (const p of granted) { this.#granted.add(p); this.#denied.delete(p) }
  }

  /** The frame is about to load a new page: its watches end, late answers are dropped. */
  reset (): void {
    this.#generation++
    for (const off of this.#watches.values()) off()
    this.#watches.clear()
  }

  /** Ends every watch; the bridge answers nothing more. */
  close (): void {
    this.reset()
  }

  /** The window's 'message' listener: anything not from the preview frame, or not a FrameMessage, is ignored. */
  handleMessage (event: { source: unknown, data: unknown }): void {
    const target = this.#o.target()
    if (target === null || event.source !== target) return
    const parsed = FrameMessage.safeParse(event.data)
    if (!parsed.success) return
    const msg = parsed.data
    if (msg.type === 'ready') this.#o.onReady?.()
    else if (msg.type === 'console') this.#o.onConsole(msg)
    else void this.#answer(msg.id, msg.method, msg.args)
  }

  async #answer (id: number, method: string, args: unknown): Promise<void> {
    const generation = this.#generation
    const limit = this.#o.maxPending ?? MAX_PENDING_CALLS
    if (this.#pending >= limit) {
      this.#fail(generation, id, method, new BridgeError('LIMIT_REACHED', `Too many calls at once: at most ${limit} may wait for an answer`))
      return
    }
    this.#pending++
    try {
      const value = await this.#run(method, args)
      this.#post(generation, { tag: BRIDGE_TAG, type: 'result', id, ok: true, value })
      this.#o.onCall({ method, ok: true })
    } catch (err) {
      this.#fail(generation, id, method, err)
    } finally {
      this.#pending--
    }
  }

  #fail (generation: number, id: number, method: string, err: unknown): void {
    const error = err instanceof BridgeError ? { code: err.code, message: err.message } : toApiError(err)
    this.#post(generation, { tag: BRIDGE_TAG, type: 'result', id, ok: false, error })
    this.#o.onCall({ method, ok: false, error })
  }

  #post (generation: number, message: HostMessage): void {
    if (generation !== this.#generation) return
    // The frame's origin is opaque ('null'), so '*' is the only target origin that reaches it;
    // the message goes to that one window, never broadcast.
    this.#o.target()?.postMessage(message, '*')
  }

  async #run (method: string, rawArgs: unknown): Promise<unknown> {
    if (!Object.hasOwn(bridgeCalls, method)) {
      throw new BridgeError('INVALID_ARGUMENT', `Unknown call "${method}" (docs/apps.md lists the app API)`)
    }
    const name = method as BridgeCallName
    const parsed = bridgeCalls[name].safeParse(rawArgs ?? {})
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''
      throw new BridgeError('INVALID_ARGUMENT', `Bad arguments to ${name}: ${where}${issue?.message ?? 'invalid'}`)
    }
    checkSize(name, parsed.data)
    await this.#checkPermission(BRIDGE_PERMISSION[name])
    return await this.#dispatch(name, parsed.data)
  }

  async #checkPermission (permission: AppPermission): Promise<void> {
    if (this.#granted.has(permission)) return
    if (!this.#denied.has(permission)) {
      // One prompt per permission, however many calls wait for it.
      let asking = this.#asking.get(permission)
      if (!asking) {
        asking = this.#askPermission(permission).finally(() => this.#asking.delete(permission))
        this.#asking.set(permission, asking)
      }
      if (await asking) return
    }
    throw new BridgeError('FORBIDDEN', `The app has no "${permission}" permission (the user did not grant it)`)
  }

  async #askPermission (permission: AppPermission): Promise<boolean> {
    const yes = await this.#o.ask({ kind: 'permission', permission })
    if (!yes) { this.#denied.add(permission); return false }
    await this.#o.call('setAppPermission', { app: this.#o.appId, permission, granted: true })
    this.#granted.add(permission)
    return true
  }

  async #consent (question: BridgeQuestion): Promise<void> {
    if (!(await this.#o.ask(question))) throw new BridgeError('FORBIDDEN', 'The user declined')
  }

  async #dispatch (name: BridgeCallName, args: Record<string, unknown>): Promise<unknown> {
    const app = this.#o.appId
    const call = this.#o.call
    const a = args as never
    switch (name) {
      case 'vault.list': return await call('appDataList', { ...(a as Omit<Args<'appDataList'>, 'app'>), app })
      case 'vault.read': return await call('appDataRead', { ...(a as Omit<Args<'appDataRead'>, 'app'>), app })
      case 'vault.write': return await call('appDataWrite', { ...(a as Omit<Args<'appDataWrite'>, 'app'>), app })
      case 'vault.delete': return await call('appDataDelete', { ...(a as Omit<Args<'appDataDelete'>, 'app'>), app })
      case 'vault.link':
        await this.#consent({ kind: 'share' })
        return await call('appDataLink', { app })
      case 'vault.watch': return this.#watchData()
      case 'p2p.follow': {
        const { link } = a as { link: string }
        await this.#consent({ kind: 'follow', link })
        return await call('appFollow', { app, link })
      }
      case 'p2p.list': return await call('appFollowedList', { ...(a as Omit<Args<'appFollowedList'>, 'app'>), app })
      case 'p2p.read': return await call('appFollowedRead', { ...(a as Omit<Args<'appFollowedRead'>, 'app'>), app })
      case 'p2p.watch': return this.#watchFollowed((a as { key: string }).key)
      case 'chain.status': return await call('getChainStatus', {})
      case 'chain.balance': {
        const w = await call('getWallet', {})
        return { free: w.free, reserved: w.reserved, tokenSymbol: w.tokenSymbol, tokenDecimals: w.tokenDecimals }
      }
      case 'chain.requestPayment': {
        const p = a as { to: string, amount: string, memo: string }
        await this.#consent({ kind: 'payment', to: p.to, amount: p.amount, memo: p.memo })
        return await call('appPay', { app, to: p.to, amount: p.amount, memo: p.memo })
      }
      case 'chain.requestSponsor': {
        const s = a as { replicas: number, days: number, price: string }
        await this.#consent({ kind: 'sponsor', replicas: s.replicas, days: s.days, price: s.price })
        const { link } = await call('appDataLink', { app })
        return await call('sponsor', { link, replicas: s.replicas, days: s.days, price: s.price })
      }
    }
  }

  #watchData (): { watching: true } {
    if (!this.#watches.has('data')) {
      const generation = this.#generation
      this.#watches.set('data', this.#o.on('app.data.changed', (ev) => {
        if (ev.app === this.#o.appId) this.#post(generation, { tag: BRIDGE_TAG, type: 'event', name: 'vault.changed', data: { version: ev.version } })
      }))
    }
    return { watching: true }
  }

  #watchFollowed (key: string): { watching: true } {
    const id = `p2p:${key}`
    if (!this.#watches.has(id)) {
      const generation = this.#generation
      this.#watches.set(id, this.#o.on('app.followed.changed', (ev) => {
        if (ev.app === this.#o.appId && ev.key === key) this.#post(generation, { tag: BRIDGE_TAG, type: 'event', name: 'p2p.changed', data: { key: ev.key, version: ev.version } })
      }))
    }
    return { watching: true }
  }
}
