/**
 * The headless daemon: the engine plus the loopback API server and browser UI, for servers
 * (seeders) and for machines without the Electron binary. Plain Node.
 */
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import type { DatdotNode, NodeOptions } from './hosting/node.js'
import { ApiServer, readDaemonFile } from './server/server.js'
import { NodeHost, type NodeHostOptions } from './server/node-host.js'
import { DatdotError } from './shared/errors.js'

export interface DaemonOptions extends NodeOptions {
  port?: number
  /** Creates and opens each node (tests make it fail); default: a DatdotNode. */
  startNode?: NodeHostOptions['startNode']
  /** The browser UI's folder; default: dist/renderer next to this file (a test running the sources passes the built one). */
  staticDir?: string
}

export interface Daemon {
  /** The running node: a new one after an in-app restore (restoreFromPhrase). */
  readonly engine: DatdotNode
  readonly host: NodeHost
  server: ApiServer
  close: () => Promise<void>
}

/** dist/renderer, next to dist/main. */
export function rendererDir (): string | undefined {
  const dir = fileURLToPath(new URL('../renderer/', import.meta.url))
  return existsSync(dir) ? dir : undefined
}

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export async function startDaemon (opts: DaemonOptions): Promise<Daemon> {
  const running = await readDaemonFile(opts.storage)
  if (running && running.pid !== process.pid && pidAlive(running.pid)) {
    throw DatdotError.invalidArgument(`A DatDot daemon (pid ${running.pid}) already runs for ${opts.storage} at ${running.url}`)
  }
  const { port, startNode, staticDir, ...node } = opts
  const host = await NodeHost.start({ node, startNode })
  let server: ApiServer | null = null
  try {
    server = new ApiServer({ engine: host.node, handlers: host.handlers, storage: opts.storage, port, staticDir: staticDir ?? rendererDir() })
    await server.ready()
  } catch (err) {
    await host.close()
    throw err
  }
  const s = server
  // An in-app restore replaces the node: the server (calls, sockets, events) follows it.
  host.onNode((engine, handlers) => { s.useNode(engine, handlers) })
  let closing: Promise<void> | null = null
  return {
    get engine () { return host.node },
    host,
    server: s,
    close: () => {
      if (closing === null) closing = s.close().then(() => host.close())
      return closing
    }
  }
}
