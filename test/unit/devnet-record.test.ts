/**
 * `datdot daemon --devnet DIR`: how a daemon finds the devnet running in DIR (devnet.json), and
 * the clear errors when there is none, it is stale or unreadable, or flags contradict it.
 */
import { describe, it, expect, afterAll } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TempDirs } from '../helpers/engines.js'
import { runningDevnet, writeDevnetRecord, readDevnetRecord } from '../../main/hosting/devnet-record.js'
import { devnetJoin } from '../../main/cli/devnet-commands.js'
import { UsageError } from '../../main/cli/args.js'

const tmp = new TempDirs()
afterAll(async () => { await tmp.cleanup() })

const record = (pid: number) => ({ chain: 'ws://127.0.0.1:9944', bootstrap: '127.0.0.1:49737', pid, seeders: 6, startedMs: 1 })

describe('runningDevnet', () => {
  it('returns the chain URL and bootstrap of a devnet whose process runs', async () => {
    const dir = await tmp.make('datdot-dnrec-')
    writeDevnetRecord(dir, record(process.pid))
    expect(runningDevnet(dir)).toEqual({ chain: 'ws://127.0.0.1:9944', bootstrap: '127.0.0.1:49737' })
    expect(devnetJoin({ devnet: dir })).toEqual({ chain: 'ws://127.0.0.1:9944', bootstrap: '127.0.0.1:49737' })
  })

  it('refuses a folder without a devnet, with NOT_FOUND and the command that starts one', async () => {
    const dir = await tmp.make('datdot-dnrec-')
    expect(() => runningDevnet(dir)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as Error)
    expect(() => runningDevnet(dir)).toThrow(`datdot devnet --dir ${dir}`)
  })

  it('refuses a record left by a devnet that is gone, and an unreadable one', async () => {
    const gone = await tmp.make('datdot-dnrec-')
    writeDevnetRecord(gone, record(2 ** 22 + 12345)) // above Linux's pid_max: no such process
    expect(() => runningDevnet(gone)).toThrow(/no devnet runs/)
    const bad = await tmp.make('datdot-dnrec-')
    writeFileSync(join(bad, 'devnet.json'), '{"chain": 5')
    expect(readDevnetRecord(bad)).toBeNull()
    expect(() => runningDevnet(bad)).toThrow(/no devnet runs/)
  })

  it('makes --devnet with --chain or --bootstrap a usage error', async () => {
    const dir = await tmp.make('datdot-dnrec-')
    writeDevnetRecord(dir, record(process.pid))
    expect(() => devnetJoin({ devnet: dir, chain: 'embedded' })).toThrow(UsageError)
    expect(() => devnetJoin({ devnet: dir, bootstrap: '127.0.0.1:1' })).toThrow(/without --chain and --bootstrap/)
  })
})
