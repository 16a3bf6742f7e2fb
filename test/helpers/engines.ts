/**
 * Test helpers: temporary folders, a loopback-only DHT testnet, engines wired to it, and
 * waiting on engine events (never sleeping).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import createTestnet, { type Testnet } from '@hyperswarm/testnet'
import { createHash } from 'node:crypto'
import type Hyperdrive from 'hyperdrive'
import { Engine, type EngineOptions } from '../../main/engine/engine.js'
import type { EventData, EventName } from '../../main/shared/contract.js'

export class TempDirs {
  private readonly dirs: string[] = []
  async make (prefix = 'datdot-test-'): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), prefix))
    this.dirs.push(d)
    return d
  }

  async cleanup (): Promise<void> {
    for (const d of this.dirs.splice(0)) await rm(d, { recursive: true, force: true })
  }
}

export async function loopbackTestnet (size = 3): Promise<Testnet> {
  return createTestnet(size, { host: '127.0.0.1' })
}

export async function startEngine (testnet: Testnet | null, storage: string, extra: Partial<EngineOptions> = {}): Promise<Engine> {
  const engine = new Engine({
    storage,
    ...(testnet ? { dht: testnet.createNode() } : { offline: true }),
    progressIntervalMs: 0,
    statusIntervalMs: 0,
    ...extra
  })
  await engine.ready()
  return engine
}

/** Resolves with the first event `name` whose data satisfies `match`. */
export function nextEvent<E extends EventName> (engine: Engine, name: E, match: (data: EventData<E>) => boolean = () => true): Promise<EventData<E>> {
  return new Promise((resolve, reject) => {
    const off = engine.onEvent((n: string, data: unknown) => {
      if (n !== name) return
      try {
        if (!match(data as EventData<E>)) return
      } catch (err) {
        off(); reject(err); return
      }
      off()
      resolve(data as EventData<E>)
    })
  })
}

/** Resolves once `check()` is true, re-checking on every engine event (no polling timers). */
export async function until (engine: Engine, check: () => boolean | Promise<boolean>): Promise<void> {
  if (await check()) return
  await new Promise<void>((resolve, reject) => {
    let busy = false
    let again = false
    const off = engine.onEvent(() => {
      if (busy) { again = true; return }
      busy = true
      const run = async (): Promise<void> => {
        do {
          again = false
          if (await check()) { off(); resolve(); return }
        } while (again)
        busy = false
      }
      run().catch((err: unknown) => { off(); reject(err) })
    })
  })
}

/** SHA-256 of a file of a drive, read as a stream. */
export async function hashOf (drive: Hyperdrive, path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of drive.createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
