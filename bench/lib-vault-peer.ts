/**
 * The serving end of bench/vault.ts's cross-process figures, run as a child process (fork) so
 * that, as between two machines, the side that serves and the side that downloads each have a
 * JS thread of their own. Both baselines and the follow are measured this way in the same run
 * (and, for comparison, in one process as before).
 *
 *   node dist/bench/lib-vault-peer.js drive       an Engine: imports the file it is told to and serves it
 *   node dist/bench/lib-vault-peer.js transport   a plain Hyperswarm: pushes N bytes through the first connection
 *
 * Both join the parent's loopback testnet through its bootstrap node (a DHT node made as
 * testnet.createNode() makes one). Talks to the parent over the IPC channel only:
 *   parent -> child: { type: 'start', ... }, { type: 'cpu' }, { type: 'close' }
 *   child -> parent: { type: 'ready', ... }, { type: 'cpu', ms }, { type: 'error', message }
 * `cpu` answers with this process's CPU time (user + system, every thread) in ms since it started.
 */
import { randomBytes } from 'node:crypto'
import DHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { Engine } from '../main/engine/engine.js'
import type { HostPort } from '../main/engine/config.js'

export type PeerRole = 'drive' | 'transport'

/** The parent's start message. */
export interface PeerStart {
  type: 'start'
  bootstrap: HostPort[]
  /** drive: the Engine's storage folder and the file to import at '/'. */
  storage?: string
  src?: string
  /** transport: the topic to serve (hex) and how many bytes to push through the first connection. */
  topic?: string
  bytes?: number
}

/** What the drive child says once it serves: what the parent needs to follow and check. */
export interface DriveReady { type: 'ready', link: string, id: string, version: number, expectedBlocks: number }

type Message = PeerStart | { type: 'cpu' } | { type: 'close' }

const send = (msg: object): void => { process.send?.(msg) }
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }

async function serveDrive (start: PeerStart, dht: DHT): Promise<() => Promise<void>> {
  if (start.storage === undefined || start.src === undefined) throw new Error('drive: storage and src are needed')
  const engine = new Engine({ storage: start.storage, dht })
  await engine.ready()
  const job = await engine.vault.importPaths([start.src], '/').done
  if (job.state !== 'done') throw new Error(`import ${job.state}: ${job.error?.message ?? ''}`)
  const blobs = await engine.vault.drive.getBlobs()
  // Announced before the follower looks (as the in-process figure waits too): a first-byte time
  // must not include a lookup that ran before the author's announce was out.
  await engine.network.swarm?.flush()
  const ready: DriveReady = {
    type: 'ready',
    link: engine.spaces.share(undefined, '/'),
    id: engine.vault.id,
    version: engine.vault.drive.version,
    expectedBlocks: engine.vault.drive.core.length + (blobs ? blobs.core.length : 0)
  }
  send(ready)
  return async () => { await engine.close() }
}

async function serveTransport (start: PeerStart, dht: DHT): Promise<() => Promise<void>> {
  if (start.topic === undefined || start.bytes === undefined) throw new Error('transport: topic and bytes are needed')
  const bytes = start.bytes
  const swarm = new Hyperswarm({ dht })
  const chunk = randomBytes(64 * 1024)
  let served = false
  swarm.on('connection', (conn) => {
    conn.on('error', () => {})
    if (served) return
    served = true
    const push = async (): Promise<void> => {
      for (let sent = 0; sent < bytes; sent += chunk.length) {
        if (!conn.write(sent + chunk.length <= bytes ? chunk : chunk.subarray(0, bytes - sent))) {
          await new Promise<void>((resolve) => conn.once('drain', () => resolve()))
        }
      }
    }
    push().catch(() => {})
  })
  await swarm.join(Buffer.from(start.topic, 'hex'), { server: true, client: false }).flushed()
  send({ type: 'ready' })
  return async () => { await swarm.destroy() }
}

function main (): void {
  const role = process.argv[2] as PeerRole
  let close: (() => Promise<void>) | null = null
  let dht: DHT | null = null
  const fail = (err: unknown): void => {
    send({ type: 'error', message: err instanceof Error ? err.message : String(err) })
    process.exitCode = 1
  }
  process.on('message', (msg: Message) => {
    if (msg.type === 'cpu') send({ type: 'cpu', ms: cpuMs() })
    else if (msg.type === 'start') {
      dht = new DHT({ ephemeral: true, bootstrap: msg.bootstrap, host: '127.0.0.1' })
      const serve = role === 'drive' ? serveDrive : serveTransport
      serve(msg, dht).then((c) => { close = c }).catch(fail)
    } else {
      const done = async (): Promise<void> => {
        if (close !== null) await close()
        if (dht !== null) await dht.destroy()
      }
      done().catch(fail).finally(() => { process.exit() })
    }
  })
}

main()
