/**
 * A local chain created by a build with an older record format is set aside (kept as a .bak
 * file, nothing deleted) and a new one started, since its network record would be refused.
 */
import { describe, it, expect, afterAll } from 'vitest'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { TempDirs } from '../helpers/engines.js'
import { LocalChain } from '../../main/chain/local-chain.js'
import { ChainStore } from '../../main/chain/chain-store.js'
import { RECORD_PREFIX } from '../../main/chain/records.js'

describe('a local chain of an older record format', () => {
  const tmp = new TempDirs()
  afterAll(async () => { await tmp.cleanup() })

  it('is kept aside as a backup and replaced by a new chain with this build’s network record', async () => {
    const dir = await tmp.make('datdot-format-')
    const first = await LocalChain.open({ dir })
    await first.newBlock()
    await first.newBlock()
    const oldHead = first.headNumber
    await first.close()
    // what a datdot/1 build left: bootstrapped, without the format marker
    const store = new ChainStore(join(dir, 'local-chain.sqlite'))
    store.setMeta('recordsFormat', 'datdot/1')
    await store.close()

    const second = await LocalChain.open({ dir })
    try {
      expect(second.headNumber).toBeLessThan(oldHead)
      expect(readdirSync(dir).filter((f) => f.startsWith('local-chain.sqlite.datdot-1-') && f.endsWith('.bak'))).toHaveLength(1)
    } finally {
      await second.close()
    }
    const check = new ChainStore(join(dir, 'local-chain.sqlite'))
    expect(check.getMeta('recordsFormat')).toBe(RECORD_PREFIX.trim())
    expect(check.getMeta('bootstrapped')).not.toBeNull()
    await check.close()

    // a chain of this format is reopened as it is
    const third = await LocalChain.open({ dir })
    try {
      expect(readdirSync(dir).filter((f) => f.endsWith('.bak'))).toHaveLength(1)
    } finally {
      await third.close()
    }
  }, 120_000)
})
