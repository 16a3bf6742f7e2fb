/**
 * The upload limit (issue 10, "the bandwidth limit enforced on everything seeding sends"): two
 * engines on a loopback testnet, a seeder and a reader following its vault on demand. For each
 * limit (none first, the baseline, then --limits MiB/s, default 1,4,16) the seeder writes a
 * fresh file (--seconds S of the limit, default 4; the baseline --base-mib, default 64) and the
 * reader reads it; the seeder's upload limiter counts what it sent. Prints the achieved upload
 * rate, its ratio to the limit, and the time spent throttled, all measured in this run. The
 * ratio may exceed 1 by the burst (a quarter second of the rate) over the run's length; a limit
 * above the unlimited rate is bound by the machine (both engines share one process) and says so.
 *
 *   npm run build && node dist/bench/bandwidth.js [--limits 1,4,16] [--seconds S] [--base-mib N]
 *
 * Prints figures, never pass/fail.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import createTestnet from '@hyperswarm/testnet'
import { Engine } from '../main/engine/engine.js'
import { createHandlers } from '../main/api/handlers.js'
import type { Followed } from '../main/engine/followed.js'

const MiB = 1024 * 1024

function arg (name: string, def: string): string {
  const i = process.argv.indexOf(name)
  return i === -1 ? def : process.argv[i + 1]
}
const LIMITS = arg('--limits', '1,4,16').split(',').map(Number)
const SECONDS = Number(arg('--seconds', '4'))
const BASE_MIB = Number(arg('--base-mib', '64'))

/** Resolves once `check()` holds, re-checked on every engine event (no polling). */
async function until (engine: Engine, check: () => boolean): Promise<void> {
  if (check()) return
  await new Promise<void>((resolve) => {
    const off = engine.onEvent(() => { if (check()) { off(); resolve() } })
  })
}

interface Run { limitBps: number, bytes: number, ms: number, sent: number, throttledMs: number }

/** The seeder writes `size` bytes at `path` under `limitBps`; the reader reads them all. */
async function run (seeder: Engine, reader: Engine, f: Followed, path: string, size: number, limitBps: number): Promise<Run> {
  seeder.network.upload.setRate(0)
  await seeder.vault.drive.put(path, randomBytes(size))
  await until(reader, () => f.info().version === seeder.vault.drive.version && f.info().state === 'synced')
  seeder.network.upload.setRate(limitBps)
  const before = seeder.network.upload.stats()
  const t0 = process.hrtime.bigint()
  let bytes = 0
  for await (const chunk of f.drive.createReadStream(path)) bytes += (chunk as Buffer).byteLength
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  const after = seeder.network.upload.stats()
  return { limitBps, bytes, ms, sent: after.sentBytes - before.sentBytes, throttledMs: after.throttledMs - before.throttledMs }
}

function line (r: Run, baseline: number): string {
  const rate = r.sent * 1000 / r.ms
  const limit = r.limitBps === 0 ? 'none' : `${(r.limitBps / MiB).toFixed(0)} MiB/s`
  const above = r.limitBps > baseline ? ' (limit above the unlimited rate: bound by the machine, not the limit)' : ''
  const ratio = r.limitBps === 0 ? `${(rate / baseline).toFixed(2)} of baseline` : `${(rate / r.limitBps).toFixed(3)} of the limit${above}`
  return `limit ${limit.padStart(9)}  file ${(r.bytes / MiB).toFixed(0).padStart(3)} MiB in ${(r.ms / 1000).toFixed(2).padStart(6)} s  sent ${(r.sent / MiB).toFixed(1).padStart(6)} MiB  ` +
    `rate ${(rate / MiB).toFixed(2).padStart(7)} MiB/s  ${ratio}  throttled ${(r.throttledMs / 1000).toFixed(2)} s`
}

async function main (): Promise<void> {
  const dirs = [await mkdtemp(join(tmpdir(), 'datdot-bw-a-')), await mkdtemp(join(tmpdir(), 'datdot-bw-b-'))]
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const seeder = new Engine({ storage: dirs[0], dht: testnet.createNode(), progressIntervalMs: 0, statusIntervalMs: 0 })
  await seeder.ready()
  const reader = new Engine({ storage: dirs[1], dht: testnet.createNode(), progressIntervalMs: 0, statusIntervalMs: 0 })
  await reader.ready()
  try {
    await seeder.vault.drive.put('/hello.txt', Buffer.from('hello'))
    const { link } = await createHandlers(seeder).share({ path: '/' })
    const info = await createHandlers(reader).follow({ link, mode: 'on-demand' })
    const f = reader.follows.get(info.key)
    console.log(`bandwidth: a reader downloads from a seeder on a loopback testnet; upload measured by the seeder's limiter (${LIMITS.join(', ')} MiB/s, ${SECONDS} s each)`)
    const base = await run(seeder, reader, f, '/base.bin', BASE_MIB * MiB, 0)
    const baseline = base.sent * 1000 / base.ms
    console.log(line(base, baseline))
    for (const l of LIMITS) console.log(line(await run(seeder, reader, f, `/limit-${l}.bin`, Math.round(l * MiB * SECONDS), l * MiB), baseline))
  } finally {
    await reader.close()
    await seeder.close()
    await testnet.destroy()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
