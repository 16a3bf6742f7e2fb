/**
 * The running node of a process (the daemon, the Electron shell) and its API handlers, and the
 * one place that replaces that node: the in-app restore of a pristine folder from a recovery
 * phrase (restoreFromPhrase). Whoever serves the node (the API server, the shell's IPC) listens
 * with `onNode` and switches to each new node.
 *
 * Replacing: close the node, remove its node data (main/engine/restore.ts: the API token,
 * daemon.json and the Electron profile stay), create the folder from the key as `datdot restore`
 * does, start a node on it. When a step fails the host still ends with a running node: first a
 * node on the folder as it now is (the restored key, when that step was done), else a node on
 * cleared node data (a new, still pristine vault: the user can try again); the call fails with
 * the first error. The phrase itself never reaches this file: only the key it stands for.
 */
import { DatdotNode, type NodeOptions } from '../hosting/node.js'
import { createHandlers, type EngineHandlers } from '../api/handlers.js'
import { createRecoveryHandlers } from '../api/handlers-recovery.js'
import { assertPristine, pristineInputsOf } from '../engine/pristine.js'
import { clearNodeData, createRestored } from '../engine/restore.js'
import { DatdotError } from '../shared/errors.js'

export interface NodeHostOptions {
  node: NodeOptions
  /** Creates and opens a node (tests make it fail); default: a DatdotNode, ready. */
  startNode?: (opts: NodeOptions) => Promise<DatdotNode>
}

export type NodeListener = (node: DatdotNode, handlers: EngineHandlers) => void

async function openNode (opts: NodeOptions): Promise<DatdotNode> {
  const node = new DatdotNode(opts)
  try {
    await node.ready()
  } catch (err) {
    await node.close().catch(() => {})
    throw err
  }
  return node
}

export class NodeHost {
  node!: DatdotNode
  handlers!: EngineHandlers
  /** Node replacements: done, and failed ones that ended on a recovered node. */
  readonly counters = { replaced: 0, replaceFailed: 0 }
  private readonly listeners = new Set<NodeListener>()
  private replacing = false
  private readonly startNode: (opts: NodeOptions) => Promise<DatdotNode>

  private constructor (private readonly opts: NodeHostOptions) {
    this.startNode = opts.startNode ?? openNode
  }

  /** Opens the first node. */
  static async start (opts: NodeHostOptions): Promise<NodeHost> {
    const host = new NodeHost(opts)
    host.install(await host.startNode(opts.node))
    return host
  }

  /** Calls `listener` with every later node; returns the function that stops it. */
  onNode (listener: NodeListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async close (): Promise<void> {
    this.listeners.clear()
    await this.node.close()
  }

  private install (node: DatdotNode): void {
    this.node = node
    this.handlers = { ...createHandlers(node), ...createRecoveryHandlers(node, async (key) => await this.replace(key)) }
    for (const listener of this.listeners) listener(node, this.handlers)
  }

  /** Replaces the (pristine) node with one restored from `primaryKey`; see the file comment. */
  private async replace (primaryKey: Buffer): Promise<DatdotNode> {
    if (this.replacing) throw DatdotError.forbidden('a restore is already starting')
    this.replacing = true
    try {
      assertPristine(pristineInputsOf(this.node))
      try {
        await this.node.close()
        await clearNodeData(this.opts.node.storage)
        await createRestored(this.opts.node.storage, primaryKey)
        this.install(await this.startNode(this.opts.node))
        this.counters.replaced++
        return this.node
      } catch (err) {
        this.counters.replaceFailed++
        await this.recover(err)
        const e = DatdotError.from(err)
        throw new DatdotError(e.code, `The restore could not start (${e.message}); DatDot runs again on this folder`, e.details)
      }
    } finally {
      this.replacing = false
    }
  }

  /** After a failed replacement: a running node again, or an error that says DatDot must be restarted. */
  private async recover (cause: unknown): Promise<void> {
    const storage = this.opts.node.storage
    try {
      this.install(await this.startNode(this.opts.node))
      return
    } catch {
      // the folder as it is does not start: fall back to cleared node data below
    }
    try {
      await clearNodeData(storage)
      this.install(await this.startNode(this.opts.node))
    } catch {
      throw new DatdotError('INTERNAL', `The restore failed and the node could not start again on ${storage}: restart DatDot (${DatdotError.from(cause).message})`)
    }
  }
}
