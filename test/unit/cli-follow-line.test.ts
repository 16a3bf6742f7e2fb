/** The CLI's one-line follow status: an offline follow says since when and which version it last saw, never "synced". */
import { describe, it, expect } from 'vitest'
import { followLine } from '../../main/cli/index.js'
import type { FollowInfo } from '../../main/shared/contract.js'

const base: FollowInfo = {
  key: 'k', link: 'hyper://k', path: '/', state: 'synced', version: 2, peers: 1, bytesDownloaded: 0,
  blocksHave: 5, blocksTotal: 5, addedMs: 0, lastUpdateMs: null, offlineSinceMs: null, encrypted: false, locked: null
}

describe('datdot follows output', () => {
  it('prints a synced follow with its version and peers', () => {
    expect(followLine(base)).toBe('hyper://k  synced  v2  peers 1  blocks 5/5')
  })

  it('prints an offline follow with how long it has had no peer and the last version it saw', () => {
    const now = 1_000_000_000
    expect(followLine({ ...base, state: 'offline', peers: 0, offlineSinceMs: now - 45_000 }, now))
      .toBe('hyper://k  offline for 45 s (last seen version 2)  peers 0  blocks 5/5')
    expect(followLine({ ...base, state: 'offline', peers: 0, offlineSinceMs: now - 7 * 60_000 }, now)).toContain('offline for 7 min')
  })

  it('says a follow of an encrypted drive without its read key is locked, and what would open it', () => {
    expect(followLine({ ...base, locked: 'needs-key' })).toContain('LOCKED: encrypted, follow its link with the read key (#key=)')
    expect(followLine({ ...base, encrypted: true, locked: 'wrong-key' })).toContain('LOCKED: the read key does not open it')
  })
})
