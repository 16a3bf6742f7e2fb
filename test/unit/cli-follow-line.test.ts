/** The CLI's one-line follow status: an offline follow says since when and which version it last saw, never "synced"; mode and disk use. */
import { describe, it, expect } from 'vitest'
import { followLine, parseSize } from '../../main/cli/follow-commands.js'
import { UsageError } from '../../main/cli/args.js'
import type { FollowInfo } from '../../main/shared/contract.js'

const base: FollowInfo = {
  key: 'k', name: null, label: 'Amber Otter', link: 'hyper://k', path: '/', state: 'synced', version: 2, peers: 1, bytesDownloaded: 0,
  blocksHave: 5, blocksTotal: 5, addedMs: 0, lastUpdateMs: null, offlineSinceMs: null, encrypted: false, locked: null,
  mode: 'all', folders: [], pins: [], cacheLimitBytes: null, bytesLocal: 3 * 1024 * 1024, bytesPinned: 3 * 1024 * 1024 - 2048, bytesClearable: 0
}

describe('datdot follows output', () => {
  it('prints a synced follow with its name (or label), version and peers', () => {
    expect(followLine({ ...base, name: 'Photos "2024"', label: 'Photos "2024"' })).toMatch(/^"Photos \\"2024\\"" {2}hyper:\/\/k {2}synced/)
    expect(followLine(base)).toBe('"Amber Otter"  hyper://k  synced  v2  peers 1  blocks 5/5  all  3.0 MiB on disk, kept 3.0 MiB, a clear frees 0 B')
  })

  it('prints an offline follow with how long it has had no peer and the last version it saw', () => {
    const now = 1_000_000_000
    expect(followLine({ ...base, state: 'offline', peers: 0, offlineSinceMs: now - 45_000 }, now))
      .toContain('hyper://k  offline for 45 s (last seen version 2)  peers 0  blocks 5/5')
    expect(followLine({ ...base, state: 'offline', peers: 0, offlineSinceMs: now - 7 * 60_000 }, now)).toContain('offline for 7 min')
  })

  it('says a follow of an encrypted drive without its read key is locked, and what would open it', () => {
    expect(followLine({ ...base, locked: 'needs-key' })).toContain('LOCKED: encrypted, follow its link with the read key (#key=)')
    expect(followLine({ ...base, encrypted: true, locked: 'wrong-key' })).toContain('LOCKED: the read key does not open it')
  })

  it('prints a sparse follow with its mode, its disk use against its cache limit, and its pins', () => {
    const line = followLine({ ...base, mode: 'on-demand', pins: ['/keep'], cacheLimitBytes: 1024 ** 3, bytesLocal: 5 * 1024 ** 2, bytesPinned: 1024 ** 2, bytesClearable: 4 * 1024 ** 2 })
    expect(line).toContain('on-demand  5.0 MiB on disk (cache limit 1.0 GiB), kept 1.0 MiB, a clear frees 4.0 MiB  pinned /keep')
    expect(followLine({ ...base, mode: 'folders', folders: ['/a', '/b'] })).toContain('folders /a,/b  ')
  })
})

describe('datdot follow --cache-limit', () => {
  it('reads bytes, binary sizes and none', () => {
    expect(parseSize('1000')).toBe(1000)
    expect(parseSize('500MiB')).toBe(500 * 1024 ** 2)
    expect(parseSize('2G')).toBe(2 * 1024 ** 3)
    expect(parseSize('none')).toBeNull()
  })

  it('refuses a negative or unknown size with a usage error', () => {
    expect(() => parseSize('-5')).toThrow(UsageError)
    expect(() => parseSize('12 parsecs')).toThrow(UsageError)
  })
})
