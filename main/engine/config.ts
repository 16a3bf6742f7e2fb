/**
 * Where DatDot keeps its data and how it finds the DHT. No I/O beyond reading the environment.
 */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { DatdotError } from '../shared/errors.js'

export interface HostPort { host: string, port: number }

/** The OS app-data folder for DatDot, or DATDOT_STORAGE when set. */
export function defaultStorageDir (env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.DATDOT_STORAGE) return resolve(env.DATDOT_STORAGE)
  const home = homedir()
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'DatDot')
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'DatDot')
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'datdot')
}

/** Parses "host:port[,host:port...]". Throws INVALID_ARGUMENT with the offending item. */
export function parseBootstrap (input: string): HostPort[] {
  const items = input.split(',').map((s) => s.trim()).filter(Boolean)
  if (items.length === 0) throw DatdotError.invalidArgument('--bootstrap needs at least one host:port')
  if (items.length > 64) throw DatdotError.invalidArgument('--bootstrap takes at most 64 nodes')
  return items.map((item) => {
    const m = /^(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):(\d{1,5})$/.exec(item)
    const port = m ? Number(m[2]) : NaN
    if (!m || port < 1 || port > 65535) throw DatdotError.invalidArgument(`Not a host:port bootstrap node: ${item.slice(0, 80)}`)
    return { host: m[1].replace(/^\[|\]$/g, ''), port }
  })
}

export const APP_VERSION = '0.1.0'

/**
 * The chain the app and the daemon use unless told otherwise: DATDOT_CHAIN, else the embedded
 * local chain (the Asset Hub runtime in-process), so a new user's app works with no setup.
 * 'off' runs without chain, ledger and hosting.
 */
export function defaultChain (env: NodeJS.ProcessEnv = process.env): string {
  return env.DATDOT_CHAIN ?? 'embedded'
}

/**
 * When the embedded chain starts: DATDOT_CHAIN_START=eager starts it with the node (the old
 * behaviour, the bench's baseline); otherwise it starts when hosting is first used.
 */
export function defaultChainStart (env: NodeJS.ProcessEnv = process.env): 'lazy' | 'eager' {
  return env.DATDOT_CHAIN_START === 'eager' ? 'eager' : 'lazy'
}
