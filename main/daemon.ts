/**
 * The headless daemon: the engine plus the loopback API server and browser UI, for servers
 * (seeders) and for machines without the Electron binary. Plain Node.
 */
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import { DatdotNode, type NodeOptions } from './hosting/node.js'
import { ApiServer, readDaemonFile } from './server/server.js'
import { createHandlers } from './api/handlers.js'
import { DatdotError } from './shared/errors.js'
import type { AnyHandlers } from './api/dispatch.js'

export interface DaemonOptions extends NodeOptions {
  port?: number
}

export interface Daemon {
  engine: DatdotNode
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
  const engine = new DatdotNode(opts)
  await engine.ready()
  let server: ApiServer | null = null
  try {
    const handlers: AnyHandlers = createHandlers(engine)
    server = new ApiServer({ engine, handlers, storage: opts.storage, port: opts.port, staticDir: rendererDir() })
    await server.ready()
  } catch (err) {
    await engine.close()
    throw err
  }
  const s = server
  let closing: Promise<void> | null = null
  return {
    engine,
    server: s,
    close: () => {
      if (closing === null) closing = s.close().then(() => engine.close())
      return closing
    }
  }
}
