/**
 * The vault's own drives as the sponsor sees them (a narrow view of the engine's spaces): find
 * one by key, list them, the space index core (one more core of every plan of an own drive, so
 * its seeders keep the list of spaces a restore needs first), and a watch that fires whenever
 * an own drive or the index grows, including spaces created after the watch began.
 */
import type Hyperdrive from 'hyperdrive'
import type Hypercore from 'hypercore'
import type { Spaces } from '../engine/spaces.js'
import type { Vault } from '../engine/vault.js'

export interface OwnDrives {
  /** The own drive (a space of this vault) with this key, or null. */
  find: (key: Uint8Array) => Hyperdrive | null
  /** Every own drive open now (spaces come and go). */
  all: () => Hyperdrive[]
  /** The space index core: listed in every plan of an own drive. */
  index: () => Hypercore
  /** Calls `onGrow` whenever an own drive's metadata core or the index grows; returns the unsubscribe. */
  watch: (onGrow: () => void) => () => void
}

/** The own drives of an engine's spaces. */
export function ownDrivesOf (spaces: Spaces): OwnDrives {
  return {
    find: (key) => spaces.byKey(key)?.vault.drive ?? null,
    all: () => spaces.all().map((v) => v.drive),
    index: () => spaces.index.core,
    watch: (onGrow) => {
      const listen = (v: Vault): void => { v.drive.core.on('append', onGrow) }
      const opened = (v: Vault): void => { listen(v); onGrow() }
      const closed = (v: Vault): void => { v.drive.core.off('append', onGrow) }
      for (const v of spaces.all()) listen(v)
      spaces.on('opened', opened)
      spaces.on('closed', closed)
      spaces.index.core.on('append', onGrow)
      return () => {
        spaces.off('opened', opened)
        spaces.off('closed', closed)
        spaces.index.core.off('append', onGrow)
        for (const v of spaces.all()) closed(v)
      }
    }
  }
}
