/**
 * `devnet.json`, the record a running devnet (devnet.ts) keeps in its folder: how a daemon joins
 * it (`datdot daemon --devnet DIR` reads it). Plain fs, so the CLI reads it without loading the
 * chain or the engine.
 */
import { readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DatdotError } from '../shared/errors.js'

/** How a daemon joins a devnet: its chain URL and DHT bootstrap, and the process that runs it. */
export interface DevnetRecord { chain: string, bootstrap: string, pid: number, seeders: number, startedMs: number }

export const DEVNET_RECORD_FILE = 'devnet.json'

/** The record of a devnet folder, or null when it has none (or an unreadable one). */
export function readDevnetRecord (dir: string): DevnetRecord | null {
  const file = join(dir, DEVNET_RECORD_FILE)
  if (!existsSync(file)) return null
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevnetRecord>
    if (typeof r.chain !== 'string' || typeof r.bootstrap !== 'string' || typeof r.pid !== 'number') return null
    return { chain: r.chain, bootstrap: r.bootstrap, pid: r.pid, seeders: r.seeders ?? 0, startedMs: r.startedMs ?? 0 }
  } catch { return null }
}

export function writeDevnetRecord (dir: string, record: DevnetRecord): void {
  writeFileSync(join(dir, DEVNET_RECORD_FILE), JSON.stringify(record, null, 2) + '\n')
}

export function removeDevnetRecord (dir: string): void { rmSync(join(dir, DEVNET_RECORD_FILE), { force: true }) }

export function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The chain URL and bootstrap of the devnet running in `dir`: NOT_FOUND (with the command that
 * starts one) when the folder has no record or its process is gone.
 */
export function runningDevnet (dir: string): { chain: string, bootstrap: string } {
  const r = readDevnetRecord(dir)
  if (r === null || !pidAlive(r.pid)) {
    throw new DatdotError('NOT_FOUND', `no devnet runs in ${dir} (start one: datdot devnet --dir ${dir})`, { dir })
  }
  return { chain: r.chain, bootstrap: r.bootstrap }
}
