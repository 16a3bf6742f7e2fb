/**
 * The one lifecycle every long-lived DatDot service follows (after Holepunch's ready-resource):
 * `ready()` opens once (concurrent and repeated calls share the same promise), a failed open
 * closes the service again before the error is rethrown, `close()` is idempotent and waits for
 * an open in progress. Subclasses implement `_open()` and `_close()`.
 */
import { EventEmitter } from 'node:events'

export abstract class Resource extends EventEmitter {
  opened = false
  closed = false
  private _opening: Promise<void> | null = null
  private _closing: Promise<void> | null = null

  protected abstract _open (): Promise<void>
  protected abstract _close (): Promise<void>

  get closing (): boolean {
    return this._closing !== null
  }

  ready (): Promise<void> {
    if (this._opening === null) this._opening = this._openOnce()
    return this._opening
  }

  close (): Promise<void> {
    if (this._closing === null) this._closing = this._closeOnce()
    return this._closing
  }

  private async _openOnce (): Promise<void> {
    if (this._closing !== null) throw new Error('closed before it opened')
    try {
      await this._open()
    } catch (err) {
      // Close without waiting for this very open (that would wait on itself).
      if (this._closing === null) this._closing = this._closeOnce(false)
      await this._closing.catch(() => {})
      throw err
    }
    this.opened = true
    this.emit('ready')
  }

  private async _closeOnce (waitForOpen = true): Promise<void> {
    if (waitForOpen && this._opening !== null) await this._opening.catch(() => {})
    await this._close()
    this.closed = true
    this.emit('close')
  }
}
