/** In-app notifications: errors, follow updates, finished jobs. */
export type ToastKind = 'info' | 'success' | 'error' | 'update'

/** A button on a toast (e.g. Undo); the toast goes away when it is pressed. */
export interface ToastAction {
  label: string
  run: () => void
}

export interface Toast {
  id: number
  kind: ToastKind
  title: string
  body?: string
  code?: string
  hint?: string
  action?: ToastAction
}

interface ToastOptions {
  body?: string
  code?: string
  hint?: string
  action?: ToastAction
  /** Milliseconds before it goes away on its own; 0 keeps it until dismissed. */
  timeoutMs?: number
}

const DEFAULT_TIMEOUT: Record<ToastKind, number> = { info: 5000, success: 4000, update: 8000, error: 0 }
const MAX_TOASTS = 5

export class ToastStore {
  items = $state<Toast[]>([])
  #next = 1
  // Timer handles are bookkeeping, never rendered: no reactivity wanted.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- see above
  #timers = new Map<number, ReturnType<typeof setTimeout>>()

  push (kind: ToastKind, title: string, opts: ToastOptions = {}): number {
    const id = this.#next++
    const toast: Toast = { id, kind, title }
    if (opts.body !== undefined) toast.body = opts.body
    if (opts.code !== undefined) toast.code = opts.code
    if (opts.hint !== undefined) toast.hint = opts.hint
    if (opts.action !== undefined) toast.action = opts.action
    this.items = [...this.items, toast].slice(-MAX_TOASTS)
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT[kind]
    if (timeout > 0) this.#timers.set(id, setTimeout(() => this.dismiss(id), timeout))
    return id
  }

  info (title: string, opts?: ToastOptions): number { return this.push('info', title, opts) }
  success (title: string, opts?: ToastOptions): number { return this.push('success', title, opts) }
  error (title: string, opts?: ToastOptions): number { return this.push('error', title, opts) }
  update (title: string, opts?: ToastOptions): number { return this.push('update', title, opts) }

  dismiss (id: number): void {
    const t = this.#timers.get(id)
    if (t !== undefined) clearTimeout(t)
    this.#timers.delete(id)
    this.items = this.items.filter((x) => x.id !== id)
  }
}

export const toasts = new ToastStore()
