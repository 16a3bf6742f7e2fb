import { describe, it, expect, afterAll } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TempDirs, startEngine } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'
import { assertPristine, checkPristine, pristineInputsOf } from '../../main/engine/pristine.js'
import { keyFromPhrase, phraseFromKey } from '../../main/engine/recovery.js'
import { migrate } from '../../main/shared/db.js'
import { LEDGER_MIGRATIONS } from '../../main/ledger/ledger.js'
import { HOSTING_MIGRATIONS } from '../../main/hosting/store.js'
import { DatdotError } from '../../main/shared/errors.js'

describe('a storage folder is pristine until it is used', () => {
  const tmp = new TempDirs()
  const open: Engine[] = []
  afterAll(async () => {
    for (const e of open) await e.close()
    await tmp.cleanup()
  })

  async function fresh (extra = {}): Promise<Engine> {
    const e = await startEngine(null, await tmp.make(), extra)
    open.push(e)
    return e
  }

  const reasonOf = (e: Engine): string | null => {
    const p = checkPristine(pristineInputsOf(e))
    return p.pristine ? null : p.reason
  }

  it('is pristine on a first start, and again after a restart that changed nothing', async () => {
    const e = await fresh()
    expect(checkPristine(pristineInputsOf(e))).toEqual({ pristine: true })
    expect(() => { assertPristine(pristineInputsOf(e)) }).not.toThrow()
    await e.close()
    const again = await startEngine(null, e.storage)
    open.push(again)
    expect(reasonOf(again)).toBeNull()
  })

  it('stops being pristine with a file, and stays so when the file is deleted (history)', async () => {
    const e = await fresh()
    const src = await tmp.make()
    await writeFile(join(src, 'a.txt'), 'hello')
    await createHandlers(e).importPaths({ paths: [join(src, 'a.txt')], dest: '/', wait: true })
    expect(reasonOf(e)).toBe('files')
    await createHandlers(e).deletePath({ path: '/a.txt' })
    expect((await e.vault.info()).files).toBe(0)
    expect(reasonOf(e)).toBe('files')
    const err = (() => { try { assertPristine(pristineInputsOf(e)); return null } catch (x) { return x as DatdotError } })()
    expect(err?.code).toBe('FORBIDDEN')
    expect(err?.message).toMatch(/already has files.*datdot restore --storage NEW_FOLDER.*nothing was changed/)
    expect(err?.details).toEqual({ reason: 'files' })
  })

  it('stops being pristine with a follow', async () => {
    const other = await fresh()
    const e = await fresh()
    await createHandlers(e).follow({ link: (await createHandlers(other).share({ path: '/' })).link })
    expect(reasonOf(e)).toBe('follows')
  })

  it('stops being pristine with a ledger entry, not with an empty ledger', async () => {
    const e = await fresh()
    migrate(e.db, 'ledger', LEDGER_MIGRATIONS, e.now)
    expect(reasonOf(e)).toBeNull()
    e.db.prepare("INSERT INTO ledger_tx (id, key, reason, block_number, block_hash, time_ms) VALUES (1, 't1', 'payout', 1, '0x01', 0)").run()
    e.db.prepare("INSERT INTO ledger_entries (tx_id, key, account, amount, reason, block_number, block_hash, time_ms) VALUES (1, 'e1', 'wallet', '5', 'payout', 1, '0x01', 0)").run()
    expect(reasonOf(e)).toBe('ledger')
  })

  it('stops being pristine when seeding was switched on or a proof was recorded, not with seeding off', async () => {
    const e = await fresh()
    migrate(e.db, 'hosting', HOSTING_MIGRATIONS, e.now)
    const save = (seeding: number): void => {
      e.db.prepare('INSERT OR REPLACE INTO hosting_settings (id, seeding, storage_bytes, bandwidth_bps, region, updated_ms) VALUES (1, ?, 0, 0, \'eu\', 0)').run(seeding)
    }
    save(0)
    expect(reasonOf(e)).toBeNull()
    save(1)
    expect(reasonOf(e)).toBe('hosting')
    save(0)
    e.db.prepare("INSERT INTO hosting_proofs (challenge_id, kind, role, contract_id, hoster, ok, time_ms) VALUES (1, 'storage', 'attestor', 1, 'x', 1, 0)").run()
    expect(reasonOf(e)).toBe('hosting')
  })

  it('is not pristine while a restore runs, nor while a job runs', async () => {
    const restoring = await fresh({ primaryKey: keyFromPhrase(phraseFromKey(Buffer.alloc(32, 3))) })
    expect(reasonOf(restoring)).toBe('restore')
    const e = await fresh()
    expect(checkPristine({ ...pristineInputsOf(e), jobsRunning: 1 })).toMatchObject({ pristine: false, reason: 'jobs' })
  })
})
