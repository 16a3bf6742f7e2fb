/**
 * Whether a followed drive opens with the read key it was followed with. An encrypted drive's
 * blocks (Hypercore block encryption, Hyperdrive's `encryptionKey`, applied to the metadata and
 * the blobs core) replicate and verify without the key, but read without it, or with a wrong
 * one, they are noise: Hyperbee fails to decode its header (block 0) with DECODING_ERROR. The
 * header of a readable drive decodes and names the 'hyperbee' protocol, which noise cannot do
 * by accident, so block 0 tells a readable drive from a locked one without guessing.
 */
import type Hyperdrive from 'hyperdrive'

/** Why a drive cannot be read: encrypted and followed without its key, or its key does not open it. */
export type DriveLock = 'needs-key' | 'wrong-key'

/**
 * Reads the drive's header if block 0 is here (never waits for peers): null when the drive reads,
 * a DriveLock when it cannot, undefined when it cannot tell yet (nothing fetched).
 */
export async function readKeyVerdict (drive: Hyperdrive): Promise<DriveLock | null | undefined> {
  const core = drive.core
  if (core.length === 0 || !(await core.has(0))) return undefined
  let protocol: string | null = null
  try {
    const header = await drive.db.getHeader({ wait: false })
    if (header === null) return undefined
    protocol = header.protocol
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'DECODING_ERROR') throw err
  }
  if (protocol === 'hyperbee') return null
  return drive.encryptionKey ? 'wrong-key' : 'needs-key'
}
