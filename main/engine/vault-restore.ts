/**
 * Bringing the vault back after a restore from the recovery phrase. The restored folder's vault
 * cores have the old keys (derived from the primary key) but no blocks; a peer that has them (a
 * follower, a seeder) upgrades their length as soon as it connects. Until both cores are
 * complete, this keeps a download of every block of both running, then calls `onComplete` once.
 *
 * Complete means: the metadata core has blocks and all of them, and the blobs core has every
 * block the latest version's files point at (and all the blocks it knows of).
 */
import type Hyperdrive from 'hyperdrive'
import type Hypercore from 'hypercore'
import { Coalescer } from '../shared/coalescer.js'

interface Download { destroy (): void }

function isComplete (drive: Hyperdrive, blobsNeeded: number): boolean {
  const db = drive.core
  if (db.length === 0 || db.contiguousLength < db.length) return false
  const blobs = drive.blobs?.core
  return (blobs?.length ?? 0) >= blobsNeeded && (blobs === undefined || blobs.contiguousLength >= blobs.length)
}

/** True when every block a restore would fetch is already here (a restart after the restore of this drive ended). */
export async function restoredAlready (drive: Hyperdrive): Promise<boolean> {
  const db = drive.core
  if (db.length === 0 || db.contiguousLength < db.length) return false
  return isComplete(drive, await drive.getBlobsLength(db.length))
}

export class VaultRestore {
  private readonly downloads: Download[] = []
  private readonly cores: Hypercore[] = []
  private blobsNeeded: { dbLength: number, blobs: number } | null = null
  private done = false
  /** Checks for completion: now, and once more after when blocks arrive meanwhile. */
  private readonly checker: Coalescer
  private readonly onChange = (): void => { this.checker.schedule() }

  constructor (private readonly drive: Hyperdrive, private readonly onComplete: () => void, onError: (err: unknown) => void) {
    this.checker = new Coalescer(() => this.check(), { onError, stopped: () => this.done })
  }

  /** Starts the downloads (the drive's blobs must be open). */
  start (): void {
    const blobs = this.drive.blobs
    for (const core of blobs === null ? [this.drive.core] : [this.drive.core, blobs.core]) {
      this.cores.push(core)
      core.on('download', this.onChange)
      core.on('append', this.onChange)
      this.downloads.push(core.download({ start: 0, end: -1 }))
    }
    this.checker.schedule()
  }

  /** Stops the downloads and the checks: onComplete is not called after this. */
  stop (): void {
    this.done = true
    for (const core of this.cores) {
      core.off('download', this.onChange)
      core.off('append', this.onChange)
    }
    for (const d of this.downloads.splice(0)) d.destroy()
  }

  private async check (): Promise<void> {
    if (this.done) return
    const db = this.drive.core
    if (db.length === 0 || db.contiguousLength < db.length) return
    if (this.blobsNeeded?.dbLength !== db.length) {
      this.blobsNeeded = { dbLength: db.length, blobs: await this.drive.getBlobsLength(db.length) }
    }
    if (!isComplete(this.drive, this.blobsNeeded.blobs)) return
    if (this.done) return
    this.done = true
    this.stop()
    this.onComplete()
  }
}
