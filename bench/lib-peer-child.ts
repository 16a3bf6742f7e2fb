/**
 * The parent's handle on a bench/lib-vault-peer.ts child process: starts it on the parent's
 * loopback testnet, asks it for its CPU time, closes it. See lib-vault-peer.ts for the messages.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { HostPort } from '../main/engine/config.js'
import type { PeerRole, PeerStart } from './lib-vault-peer.js'

interface Reply { type: string, message?: string, ms?: number }

export class PeerChild {
  private readonly child: ChildProcess
  private readonly waiting: Array<{ type: string, resolve: (msg: Reply) => void, reject: (err: Error) => void }> = []
  private exited: Error | null = null

  constructor (role: PeerRole) {
    // The sibling file, compiled or not (dist/bench/lib-vault-peer.js next to dist/bench/vault.js).
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
    this.child = fork(fileURLToPath(new URL(`./lib-vault-peer${ext}`, import.meta.url)), [role], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.child.on('message', (msg: Reply) => {
      if (msg.type === 'error') { this.failAll(new Error(`lib-vault-peer ${role}: ${msg.message ?? ''}`)); return }
      const i = this.waiting.findIndex((w) => w.type === msg.type)
      if (i !== -1) this.waiting.splice(i, 1)[0].resolve(msg)
    })
    this.child.on('exit', (code) => { this.failAll(new Error(`lib-vault-peer ${role} exited (${code ?? 'signal'})`)) })
  }

  private failAll (err: Error): void {
    this.exited ??= err
    for (const w of this.waiting.splice(0)) w.reject(err)
  }

  private ask<T extends Reply> (msg: object, reply: string): Promise<T> {
    if (this.exited) return Promise.reject(this.exited)
    const p = new Promise<T>((resolve, reject) => { this.waiting.push({ type: reply, resolve: resolve as (m: Reply) => void, reject }) })
    this.child.send(msg)
    return p
  }

  /** Starts serving; resolves with its 'ready' message. */
  async start<T extends Reply> (bootstrap: HostPort[], opts: Omit<PeerStart, 'type' | 'bootstrap'>): Promise<T> {
    return await this.ask<T>({ type: 'start', bootstrap, ...opts }, 'ready')
  }

  /** The child's CPU time so far (user + system, every thread), in ms. */
  async cpuMs (): Promise<number> {
    return (await this.ask<Reply>({ type: 'cpu' }, 'cpu')).ms ?? NaN
  }

  /** Closes what it serves and waits for it to exit (killed after 10 s). */
  async close (): Promise<void> {
    if (this.exited) return
    const gone = new Promise<void>((resolve) => { this.child.once('exit', () => resolve()) })
    const kill = setTimeout(() => { this.child.kill('SIGKILL') }, 10_000)
    this.child.send({ type: 'close' })
    await gone
    clearTimeout(kill)
  }
}
