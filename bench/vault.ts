/**
 * The vault and follow path of the real engine (main/engine/engine.ts), each figure next to a
 * baseline measured in the same run on the same machine and disk:
 *
 *   1. import throughput of one big file (engine.vault.importPaths: the home space, then again the
 *      encrypted Private space) vs `dd` writing the same
 *      number of bytes to the same disk with conv=fdatasync (also shown: Node writing the
 *      random source file and fsync-ing it, timed the same way);
 *   2. follow/replicate throughput between two engines over loopback Hyperswarm (a
 *      @hyperswarm/testnet on 127.0.0.1) vs the raw transport (two plain Hyperswarms on such a
 *      testnet pushing the same number of bytes through one encrypted connection) and vs a raw
 *      Hyperdrive download between two plain Corestores piped in-process (same file, same size);
 *   3. time to first byte after following: first peer, first update, and the first byte of the
 *      file read through the engine's own read path, all timed from the follow() call;
 *   2 and 3 run twice: both ends in this process (as before), then with the serving end (engine A,
 *      the raw transport's server) in a child process (bench/lib-vault-peer.ts), as a peer on another
 *      machine would be: in one process the follow pays for both ends of hypercore's protocol on
 *      one JS thread, which the raw stream (much cheaper per MiB) does not feel as much;
 *   4. peak RSS during the big import, against the file size (the import must stream).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/vault.js [--size-mib 1024] [--replicate-mib 256] [--dd-runs 2] [--dir DIR]
 *     [--status-interval-ms N]   the engines' follow.status interval (default: the app's own, 250 ms)
 *
 * Prints figures and ratios, never pass/fail. Everything lives in a temporary folder under
 * --dir (default the OS temp dir) that is removed at the end. Networking is loopback only.
 */
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, rmSync } from 'node:fs'
import { mkdir, mkdtemp, open, rm, statfs } from 'node:fs/promises'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Duplex } from 'node:stream'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import createTestnet, { type Testnet } from '@hyperswarm/testnet'
import Hyperswarm from 'hyperswarm'
import { Engine, type EngineOptions } from '../main/engine/engine.js'
import { statPath } from '../main/engine/drive-ops.js'
import { driveFor } from '../main/api/handlers-drives.js'
import type { EventData, EventName } from '../main/shared/contract.js'
import { PeerChild } from './lib-peer-child.js'
import type { DriveReady } from './lib-vault-peer.js'

const MiB = 1024 * 1024

// ---------------------------------------------------------------- small helpers

function arg (name: string, fallback: string): string {
  const i = process.argv.indexOf(name)
  if (i !== -1 && process.argv[i + 1] !== undefined) return process.argv[i + 1]
  const eq = process.argv.find((a) => a.startsWith(`${name}=`))
  return eq ? eq.slice(name.length + 1) : fallback
}

function positiveInt (name: string, fallback: number): number {
  const v = Number(arg(name, String(fallback)))
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`)
  return v
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6
/** CPU time (user + system, every thread of this process) since `since`, in ms. */
const cpuMsSince = (since: NodeJS.CpuUsage): number => { const d = process.cpuUsage(since); return (d.user + d.system) / 1000 }
const mibps = (bytes: number, ms: number): number => (bytes / MiB) / (ms / 1000)
const f1 = (n: number): string => Number.isFinite(n) ? n.toFixed(1) : 'n/a'
const f2 = (n: number): string => Number.isFinite(n) ? n.toFixed(2) : 'n/a'

function say (line: string): void {
  process.stdout.write(line + '\n')
}

/** Resolves with the first engine event `name` whose data satisfies `match`. */
function nextEvent<E extends EventName> (engine: Engine, name: E, match: (data: EventData<E>) => boolean): Promise<EventData<E>> {
  return new Promise((resolve) => {
    const off = engine.onEvent((n: EventName, data: unknown) => {
      if (n !== name || !match(data as EventData<E>)) return
      off()
      resolve(data as EventData<E>)
    })
  })
}

/** Resolves once `check()` holds, re-checking on every engine event (no polling). */
async function until (engine: Engine, check: () => boolean): Promise<void> {
  if (check()) return
  await new Promise<void>((resolve) => {
    const off = engine.onEvent(() => {
      if (!check()) return
      off()
      resolve()
    })
  })
}

/** Rejects after `ms` so a stuck phase ends the bench with a message instead of hanging. */
async function within<T> (ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms / 1000} s`)), ms)
  })
  try {
    return await Promise.race([p, limit])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Samples RSS every few ms while running; maxRSS is the kernel's process-lifetime peak. Also the
 * peak of the JS ArrayBuffers (Buffers) over their level at start: the part of the RSS growth
 * that is the JS side's buffers (read, in flight, or garbage not collected yet), not RocksDB's.
 */
class RssSampler {
  peak = 0
  arrayBuffersGrowth = 0
  private arrayBuffers0 = 0
  private timer: NodeJS.Timeout | null = null
  start (): void {
    const m = process.memoryUsage()
    this.peak = m.rss
    this.arrayBuffers0 = m.arrayBuffers
    this.arrayBuffersGrowth = 0
    this.timer = setInterval(() => { this.sample() }, 20)
  }

  private sample (): void {
    const m = process.memoryUsage()
    this.peak = Math.max(this.peak, m.rss)
    this.arrayBuffersGrowth = Math.max(this.arrayBuffersGrowth, m.arrayBuffers - this.arrayBuffers0)
  }

  stop (): number {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.sample()
    return this.peak
  }
}

const maxRssBytes = (): number => process.resourceUsage().maxRSS * 1024

// ---------------------------------------------------------------- disk baselines

/** `dd if=/dev/zero of=FILE bs=1M count=N conv=fdatasync`, timed around the process. */
async function ddWrite (file: string, mib: number): Promise<{ ms: number, report: string } | { error: string }> {
  const start = nowMs()
  return new Promise((resolve) => {
    const child = spawn('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${mib}`, 'conv=fdatasync'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.once('error', (e) => resolve({ error: e.message }))
    child.once('exit', (code) => {
      const ms = nowMs() - start
      const lines = err.trim().split('\n')
      if (code !== 0) resolve({ error: `dd exited ${code}: ${lines.at(-1) ?? ''}` })
      else resolve({ ms, report: lines.at(-1) ?? '' })
    })
  })
}

/**
 * Writes `mib` MiB of random-looking data (a 64 MiB random pool, each 1 MiB block stamped
 * with its index so no two blocks are equal) and fsyncs; returns the time and SHA-256.
 */
async function writeSource (file: string, mib: number, pool: Buffer, hash: boolean): Promise<{ ms: number, sha256: string | null }> {
  const h = hash ? createHash('sha256') : null
  const fh = await open(file, 'w')
  const start = nowMs()
  try {
    const blocks = pool.length / MiB
    for (let i = 0; i < mib; i++) {
      const block = pool.subarray((i % blocks) * MiB, (i % blocks + 1) * MiB)
      block.writeUInt32LE(i, 0)
      h?.update(block)
      let off = 0
      while (off < block.length) off += (await fh.write(block, off, block.length - off)).bytesWritten
    }
    await fh.sync()
  } finally {
    await fh.close()
  }
  return { ms: nowMs() - start, sha256: h ? h.digest('hex') : null }
}

async function sha256OfDrive (drive: Hyperdrive, path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of drive.createReadStream(path)) h.update(chunk as Buffer)
  return h.digest('hex')
}

/**
 * Reads `path` the way the engine serves a file (main/server/download-route.ts: the entry by
 * statPath, then one read stream over the whole file, no range) and returns at its first chunk.
 */
async function firstByte (drive: Hyperdrive, path: string): Promise<void> {
  const entry = await statPath(drive, path)
  const stream = drive.createReadStream(entry.path)
  try {
    for await (const chunk of stream) {
      if ((chunk as Buffer).length > 0) return
    }
  } finally {
    stream.destroy()
  }
  throw new Error(`${path}: empty`)
}

// ---------------------------------------------------------------- phases

interface ImportResult {
  ddMs: number | null
  ddFirstMs: number | null
  ddNote: string
  nodeWriteMs: number
  importMs: number
  closeMs: number
  rssBefore: number
  rssPeak: number
  /** Peak growth of the JS ArrayBuffers during the import. */
  arrayBuffersGrowth: number
  maxRss: number
  /** The same file imported again, into the Private space (encrypted blocks: the UI's default). */
  privateMs: number
  privateRssGrowth: number
  /** CPU time of the whole process (every thread: JS, RocksDB, libuv) during each import. */
  importCpuMs: number
  privateCpuMs: number
}

async function benchImport (work: string, mib: number, pool: Buffer, ddRuns: number): Promise<ImportResult> {
  const bytes = mib * MiB
  // Baseline 1: dd from /dev/zero with fdatasync, into the same folder (same disk). The first
  // write into fresh space is often much slower on virtual disks, so it runs more than once.
  const ddFile = join(work, 'dd.bin')
  const ddMsRuns: number[] = []
  let ddError: string | null = null
  for (let i = 0; i < ddRuns && ddError === null; i++) {
    say(`[import] dd ${i + 1}/${ddRuns}: writing ${mib} MiB to ${work} (bs=1M conv=fdatasync) ...`)
    const dd = await ddWrite(ddFile, mib)
    await rm(ddFile, { force: true })
    if ('error' in dd) ddError = dd.error
    else ddMsRuns.push(dd.ms)
  }
  const ddNote = ddError !== null
    ? `dd unavailable (${ddError}); the ratio uses the Node write + fsync baseline`
    : `dd runs (MiB/s): ${ddMsRuns.map((ms) => f1(mibps(bytes, ms))).join(', ')}; the ratio uses the best, the first run is shown too`
  say(`[import] ${ddNote}`)

  // Baseline 2 (and the import's source): Node writes the random source file, then fsync.
  const src = join(work, 'big.bin')
  say(`[import] node: writing the ${mib} MiB random source file + fsync ...`)
  const nodeWrite = await writeSource(src, mib, pool, false)

  // The engine's import, offline (no peers involved), the page cache holding the source.
  const engine = new Engine({ storage: join(work, 'import-engine'), offline: true })
  await engine.ready()
  const sampler = new RssSampler()
  const rssBefore = process.memoryUsage().rss
  say(`[import] engine.vault.importPaths of ${mib} MiB ...`)
  sampler.start()
  const cpu = process.cpuUsage()
  const start = nowMs()
  const job = await engine.vault.importPaths([src], '/').done
  const importMs = nowMs() - start
  const importCpuMs = cpuMs(cpu)
  const rssPeak = sampler.stop()
  const arrayBuffersGrowth = sampler.arrayBuffersGrowth
  const maxRss = maxRssBytes()
  if (job.state !== 'done') throw new Error(`import ${job.state}: ${job.error?.code ?? ''} ${job.error?.message ?? ''}`)
  const entry = await engine.vault.drive.entry('/big.bin')
  if (entry?.value.blob?.byteLength !== bytes) throw new Error(`imported size ${entry?.value.blob?.byteLength} != ${bytes}`)
  const priv = await importPrivate(engine, src, mib)
  const closeStart = nowMs()
  await engine.close()
  const closeMs = nowMs() - closeStart
  await rm(join(work, 'import-engine'), { recursive: true, force: true })
  await rm(src, { force: true })
  return { ddMs: ddMsRuns.length > 0 ? Math.min(...ddMsRuns) : null, ddFirstMs: ddMsRuns[0] ?? null, ddNote, nodeWriteMs: nodeWrite.ms, importMs, importCpuMs, closeMs, rssBefore, rssPeak, arrayBuffersGrowth, maxRss, ...priv }
}

/** Process CPU time (user + system, every thread) since `since`, in ms. */
function cpuMs (since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000
}

/** Imports the source again into the engine's Private space (an encrypted drive); its time and RSS growth. */
async function importPrivate (engine: Engine, src: string, mib: number): Promise<{ privateMs: number, privateRssGrowth: number, privateCpuMs: number }> {
  const vault = engine.spaces.resolve('Private').vault
  if (vault.readKey === null) throw new Error('the Private space is not encrypted')
  say(`[import] the same ${mib} MiB into the Private space (encrypted) ...`)
  const sampler = new RssSampler()
  const before = process.memoryUsage().rss
  sampler.start()
  const cpu = process.cpuUsage()
  const start = nowMs()
  const job = await vault.importPaths([src], '/').done
  const privateMs = nowMs() - start
  const privateCpuMs = cpuMs(cpu)
  const privateRssGrowth = sampler.stop() - before
  if (job.state !== 'done') throw new Error(`Private import ${job.state}: ${job.error?.code ?? ''} ${job.error?.message ?? ''}`)
  const entry = await vault.drive.entry('/big.bin')
  if (entry?.value.blob?.byteLength !== mib * MiB) throw new Error(`Private import: size ${entry?.value.blob?.byteLength} != ${mib * MiB}`)
  return { privateMs, privateRssGrowth, privateCpuMs }
}

interface RawResult { ms: number, firstByteMs: number, bytes: number }

/** Raw Hyperdrive download between two plain Corestores piped in-process. */
async function benchRaw (work: string, src: string, bytes: number): Promise<RawResult> {
  const s1 = new Corestore(join(work, 'raw-1'))
  const s2 = new Corestore(join(work, 'raw-2'))
  const d1 = new Hyperdrive(s1)
  await d1.ready()
  await pipeline(createReadStream(src, { highWaterMark: MiB }), d1.createWriteStream('/data.bin'))
  const d2 = new Hyperdrive(s2, d1.key)
  await d2.ready()
  let a: Duplex | null = null
  let b: Duplex | null = null
  try {
    const start = nowMs()
    a = s1.replicate(true) as Duplex
    b = s2.replicate(false) as Duplex
    a.pipe(b).pipe(a)
    a.on('error', () => {})
    b.on('error', () => {})
    await within(60_000, 'raw: first update', d2.update({ wait: true }))
    const dl = d2.download('/') as { done (): Promise<void> }
    const first = firstByte(d2, '/data.bin').then(() => nowMs() - start)
    await within(600_000, 'raw: download', dl.done())
    const ms = nowMs() - start
    const firstByteMs = await first
    const blobs = await d2.getBlobs()
    const want = (await d1.getBlobs())!.core.length
    if (!blobs || blobs.core.contiguousLength !== want) throw new Error(`raw: have ${blobs?.core.contiguousLength} of ${want} blob blocks`)
    const entry = await d2.entry('/data.bin')
    if (entry?.value.blob?.byteLength !== bytes) throw new Error('raw: wrong size')
    return { ms, firstByteMs, bytes }
  } finally {
    a?.destroy()
    b?.destroy()
    await d2.close().catch(() => {})
    await d1.close().catch(() => {})
    await s2.close().catch(() => {})
    await s1.close().catch(() => {})
    await rm(join(work, 'raw-1'), { recursive: true, force: true })
    await rm(join(work, 'raw-2'), { recursive: true, force: true })
  }
}

interface TransportResult {
  ms: number
  firstMiBMs: number
  bytes: number
  cpuMs: number
  /** Of cpuMs: the serving child process's (NaN when it ran in this process). */
  serverCpuMs: number
  joinToFirstByteMs: number
}

/** Where the serving end of a figure runs: in this process, or in a child process (bench/lib-vault-peer.ts). */
type Where = 'process' | 'child'

/**
 * The wire alone: two Hyperswarm instances on a loopback testnet; one joins a topic as server and,
 * once connected, pushes `bytes` through the encrypted connection (secret-stream over UDX) in
 * 64 KiB writes, minding backpressure; the other reads until it has them all. Timed from the
 * connection to the last byte read; the first MiB's arrival is noted too, and the time from the
 * client's join() call to its first byte received (finding the server through the DHT and
 * connecting: what any follow waits for before its first byte, the first-byte baseline).
 * `where` 'child': the server is a child process (lib-vault-peer.ts), as a peer on another machine
 * would be; the CPU time is then both processes'.
 */
async function benchTransport (bytes: number, where: Where): Promise<TransportResult> {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const server = where === 'process' ? new Hyperswarm({ dht: testnet.createNode() }) : null
  const child = where === 'child' ? new PeerChild('transport') : null
  const client = new Hyperswarm({ dht: testnet.createNode() })
  const chunk = randomBytes(64 * 1024)
  let start = 0
  let cpu0 = process.cpuUsage()
  let firstMiBMs = NaN
  let joinStart = 0
  let joinToFirstByteMs = NaN
  try {
    const received = new Promise<number>((resolve, reject) => {
      client.on('connection', (conn) => {
        let got = 0
        conn.on('error', reject)
        if (child !== null) { start = nowMs(); cpu0 = process.cpuUsage() }
        conn.on('data', (d: Buffer) => {
          if (got === 0) joinToFirstByteMs = nowMs() - joinStart
          got += d.length
          if (Number.isNaN(firstMiBMs) && got >= MiB) firstMiBMs = nowMs() - start
          if (got >= bytes) resolve(nowMs() - start)
        })
      })
    })
    server?.on('connection', (conn) => {
      conn.on('error', () => {})
      start = nowMs()
      cpu0 = process.cpuUsage()
      const push = async (): Promise<void> => {
        for (let sent = 0; sent < bytes; sent += chunk.length) {
          if (!conn.write(sent + chunk.length <= bytes ? chunk : chunk.subarray(0, bytes - sent))) {
            await new Promise<void>((resolve) => conn.once('drain', () => resolve()))
          }
        }
      }
      push().catch(() => {})
    })
    const topic = randomBytes(32)
    if (server !== null) await server.join(topic, { server: true, client: false }).flushed()
    if (child !== null) await within(60_000, 'transport: child serving', child.start(testnet.bootstrap, { topic: topic.toString('hex'), bytes }))
    const childCpu0 = child !== null ? await child.cpuMs() : 0
    joinStart = nowMs()
    client.join(topic, { server: false, client: true })
    const ms = await within(600_000, 'transport: all bytes', received)
    const serverCpuMs = child !== null ? await child.cpuMs() - childCpu0 : NaN
    const cpuMs = cpuMsSince(cpu0) + (child !== null ? serverCpuMs : 0)
    return { ms, firstMiBMs, bytes, cpuMs, serverCpuMs, joinToFirstByteMs }
  } finally {
    await client.destroy().catch(() => {})
    await server?.destroy().catch(() => {})
    await child?.close().catch(() => {})
    await testnet.destroy().catch(() => {})
  }
}

interface FollowResult {
  ms: number
  transferMs: number
  /** CPU time of the process (both engines; with A in a child process, both processes) from follow() until synced. */
  cpuMs: number
  /** Of cpuMs: A's child process's (NaN when A ran in this process). */
  serverCpuMs: number
  /** follow() itself, until it returned. */
  returnedMs: number
  firstPeerMs: number
  firstUpdateMs: number
  firstByteMs: number
  /** Of firstByteMs: from the engine knowing A's version (the file's entry) to the first byte. */
  firstByteAfterVersionMs: number
  bytesDownloaded: number
  blobBytes: number
  expectedBlocks: number
  prematureSynced: { ms: number, have: number } | null
  identical: boolean
}

/** Engine A imports the file; engine B follows A's link over a loopback testnet until synced. */
async function benchFollow (work: string, src: string, sha: string, statusIntervalMs: number | undefined, where: Where): Promise<FollowResult> {
  let testnet: Testnet | null = null
  const engines: Engine[] = []
  let child: PeerChild | null = null
  const start = async (name: string): Promise<Engine> => {
    // The app's status interval unless --status-interval-ms says otherwise (0: a status per block).
    const opts: EngineOptions = { storage: join(work, name), dht: testnet!.createNode(), ...(statusIntervalMs === undefined ? {} : { statusIntervalMs }) }
    const e = new Engine(opts)
    engines.push(e)
    await e.ready()
    return e
  }
  /** A imports the file and serves it: here, or in a child process (bench/lib-vault-peer.ts). */
  const serve = async (): Promise<Omit<DriveReady, 'type'>> => {
    if (where === 'child') {
      child = new PeerChild('drive')
      return await within(600_000, 'follow: alice (child) importing', child.start<DriveReady>(testnet!.bootstrap, { storage: join(work, 'alice'), src }))
    }
    const alice = await start('alice')
    const job = await alice.vault.importPaths([src], '/').done
    if (job.state !== 'done') throw new Error(`alice import ${job.state}: ${job.error?.message ?? ''}`)
    // Announced before B looks, as the child does (bench/lib-vault-peer.ts).
    await alice.network.swarm?.flush()
    // Every block of A's drive at that version: metadata core + blobs core.
    const aliceBlobs = await alice.vault.drive.getBlobs()
    const expectedBlocks = alice.vault.drive.core.length + (aliceBlobs ? aliceBlobs.core.length : 0)
    return { id: alice.vault.id, version: alice.vault.drive.version, link: alice.spaces.share(undefined, '/'), expectedBlocks }
  }
  try {
    testnet = await createTestnet(3, { host: '127.0.0.1' })
    const { id, version, link, expectedBlocks } = await serve()
    const bob = await start('bob')

    let t0 = 0
    let firstDataMs = NaN
    let prematureSynced: { ms: number, have: number } | null = null
    const offData = bob.onEvent((name, data) => {
      if (name !== 'follow.status') return
      const s = data as EventData<'follow.status'>
      if (s.key !== id) return
      if (prematureSynced === null && s.state === 'synced' && s.version === version && s.blocksHave < expectedBlocks) {
        prematureSynced = { ms: nowMs() - t0, have: s.blocksHave }
      }
    })
    const firstPeer = nextEvent(bob, 'follow.status', (d) => d.key === id && d.peers > 0).then(() => nowMs() - t0)
    const firstUpdate = nextEvent(bob, 'follow.updated', (d) => d.key === id).then(() => nowMs() - t0)
    // The engine knows A's version (the first event that says so): from then on a read finds the file.
    const versionKnown = new Promise<void>((resolve) => {
      const off = bob.onEvent((name, data) => {
        if ((name !== 'follow.status' && name !== 'follow.updated') || (data as { key: string }).key !== id) return
        if ((data as { version: number }).version < version) return
        off()
        resolve()
      })
    })

    say(`[follow] bob follows alice's link (alice ${where === 'child' ? 'in a child process' : 'in this process'}) ...`)
    const childCpu0 = child !== null ? await (child as PeerChild).cpuMs() : 0
    const cpu0 = process.cpuUsage()
    t0 = nowMs()
    await bob.follows.follow(link)
    const returnedMs = nowMs() - t0
    const followed = bob.follows.get(id)
    // The first downloaded block (the metadata core's come first), from the core itself: a
    // follow.status saying so can come up to the status interval later.
    if (followed.drive.core.contiguousLength > 0) firstDataMs = returnedMs
    else followed.drive.core.once('download', () => { firstDataMs = nowMs() - t0 })
    // First byte: from the follow() call (the user's action: follow a link, open its file at once)
    // to the first chunk of /big.bin's contents read through the engine's read path (the API's
    // driveFor, statPath, one read stream over the file, as the download route reads). It
    // includes finding the author (DHT lookup, connection), the drive's header and entry and the
    // file's first block. The read starts as soon as the engine knows A's version (before that,
    // the file is not listed yet).
    const firstByteP = (async () => {
      if (followed.drive.version < version) await versionKnown
      const known = nowMs()
      await firstByte(await driveFor(bob, id), '/big.bin')
      return { total: nowMs() - t0, afterVersion: nowMs() - known }
    })()
    firstByteP.catch(() => {}) // awaited below; this only keeps an early failure from being unhandled
    await within(600_000, 'follow: synced', until(bob, () => {
      const s = followed.info()
      // blocksHave too: the engine can report 'synced' before it knows the blobs length.
      return s.state === 'synced' && s.version === version && s.blocksHave >= expectedBlocks
    }))
    const ms = nowMs() - t0
    const serverCpuMs = child !== null ? await (child as PeerChild).cpuMs() - childCpu0 : NaN
    const cpuMs = cpuMsSince(cpu0) + (child !== null ? serverCpuMs : 0)
    offData()
    const [firstPeerMs, firstUpdateMs, first] = await within(60_000, 'follow: first byte', Promise.all([firstPeer, firstUpdate, firstByteP]))
    const bytesDownloaded = followed.info().bytesDownloaded
    const blobBytes = followed.drive.blobs?.core.byteLength ?? 0
    say('[follow] synced; checking the followed copy is byte-identical (not timed) ...')
    const identical = (await sha256OfDrive(followed.drive, '/big.bin')) === sha
    return { ms, transferMs: ms - firstDataMs, cpuMs, serverCpuMs, returnedMs, firstPeerMs, firstUpdateMs, firstByteMs: first.total, firstByteAfterVersionMs: first.afterVersion, bytesDownloaded, blobBytes, expectedBlocks, prematureSynced, identical }
  } finally {
    for (const e of engines.reverse()) await e.close().catch(() => {})
    await (child as PeerChild | null)?.close().catch(() => {})
    await testnet?.destroy().catch(() => {})
  }
}

// ---------------------------------------------------------------- main

async function main (): Promise<void> {
  const sizeMib = positiveInt('--size-mib', 1024)
  const replicateMib = positiveInt('--replicate-mib', 256)
  const base = arg('--dir', tmpdir())
  await mkdir(base, { recursive: true })
  const work = await mkdtemp(join(base, 'datdot-bench-vault-'))
  const cleanup = (): void => { rmSync(work, { recursive: true, force: true }) }
  const onSignal = (sig: NodeJS.Signals): void => { cleanup(); process.kill(process.pid, sig) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  try {
    const fs = await statfs(work)
    const free = Number(fs.bavail) * Number(fs.bsize)
    const need = (sizeMib + 3 * replicateMib) * MiB * 1.3
    say(`node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? '?'}), work dir ${work}, ${f1(free / MiB / 1024)} GiB free`)
    if (free < need) throw new Error(`not enough free disk in ${base}: need about ${Math.ceil(need / MiB)} MiB, have ${Math.floor(free / MiB)} MiB`)

    const pool = randomBytes(64 * MiB)
    const imp = await benchImport(work, sizeMib, pool, positiveInt('--dd-runs', 2))

    const src = join(work, 'big.bin')
    const { sha256 } = await writeSource(src, replicateMib, pool, true)
    const replicateBytes = replicateMib * MiB
    say(`[raw] two plain Corestores piped in-process, Hyperdrive download of ${replicateMib} MiB ...`)
    const raw = await benchRaw(work, src, replicateBytes)
    say(`[transport] two Hyperswarms on a loopback testnet, ${replicateMib} MiB through one encrypted connection in 64 KiB writes ...`)
    const transport = await benchTransport(replicateBytes, 'process')
    const statusArg = arg('--status-interval-ms', '')
    const statusIntervalMs = statusArg === '' ? undefined : Number(statusArg)
    const follow = await benchFollow(work, src, sha256!, statusIntervalMs, 'process')
    await rm(join(work, 'alice'), { recursive: true, force: true })
    await rm(join(work, 'bob'), { recursive: true, force: true })
    say(`[transport] the same, the server in a child process (bench/lib-vault-peer.ts) ...`)
    const transportX = await benchTransport(replicateBytes, 'child')
    const followX = await benchFollow(work, src, sha256!, statusIntervalMs, 'child')
    await rm(src, { force: true })

    // ------------------------------------------------------------ report
    const bytes = sizeMib * MiB
    const importRate = mibps(bytes, imp.importMs)
    const ddRate = imp.ddMs === null ? NaN : mibps(bytes, imp.ddMs)
    const ddFirstRate = imp.ddFirstMs === null ? NaN : mibps(bytes, imp.ddFirstMs)
    const nodeRate = mibps(bytes, imp.nodeWriteMs)
    const diskRate = imp.ddMs === null ? nodeRate : ddRate
    const rawRate = mibps(replicateBytes, raw.ms)
    const followRate = mibps(replicateBytes, follow.ms)
    const transferRate = mibps(replicateBytes, follow.transferMs)
    const transportRate = mibps(replicateBytes, transport.ms)

    const rows: Array<[string, string]> = [
      [`dd write ${sizeMib} MiB, conv=fdatasync, best run (MiB/s)`, f1(ddRate)],
      ['dd write, first run (MiB/s)', f1(ddFirstRate)],
      [`node write ${sizeMib} MiB random + fsync (MiB/s)`, f1(nodeRate)],
      [`vault import ${sizeMib} MiB, importPaths (MiB/s)`, f1(importRate)],
      ['vault import (s)', f2(imp.importMs / 1000)],
      ['vault import CPU time, all threads (s)', f2(imp.importCpuMs / 1000)],
      [`vault import ${sizeMib} MiB into Private (encrypted) (MiB/s)`, f1(mibps(bytes, imp.privateMs))],
      ['vault import into Private, CPU time, all threads (s)', f2(imp.privateCpuMs / 1000)],
      ['engine close after import (ms)', f1(imp.closeMs)],
      ['RSS before import (MiB)', f1(imp.rssBefore / MiB)],
      ['peak RSS during import, sampled 20 ms (MiB)', f1(imp.rssPeak / MiB)],
      ['peak RSS growth during import (MiB)', f1((imp.rssPeak - imp.rssBefore) / MiB)],
      ['  of which at most: JS ArrayBuffers (Buffers) (MiB)', f1(imp.arrayBuffersGrowth / MiB)],
      ['peak RSS growth during the Private import, over the first one\'s (MiB)', f1(imp.privateRssGrowth / MiB)],
      ['process maxRSS after import (MiB)', f1(imp.maxRss / MiB)],
      [`raw Hyperdrive download ${replicateMib} MiB, in-process pipe (MiB/s)`, f1(rawRate)],
      [`raw transport ${replicateMib} MiB, loopback Hyperswarm connection (MiB/s)`, f1(transportRate)],
      ['raw transport, connection -> first MiB received (ms)', f1(transport.firstMiBMs)],
      ['raw transport, client join() -> first byte received (ms)', f1(transport.joinToFirstByteMs)],
      ['raw transport, process CPU per MiB (ms)', f1(transport.cpuMs / replicateMib)],
      [`follow until synced ${replicateMib} MiB, loopback swarm (MiB/s)`, f1(followRate)],
      ['follow, first downloaded byte until synced (MiB/s)', f1(transferRate)],
      ['follow until synced (s)', f2(follow.ms / 1000)],
      ['follow until synced, process CPU per MiB (ms)', f1(follow.cpuMs / replicateMib)],
      ['follow blobs core held by B at synced (MiB)', f1(follow.blobBytes / MiB)],
      ['follow.status bytesDownloaded at synced (MiB)', f1(follow.bytesDownloaded / MiB)],
      ['follow -> first follow.status with peers > 0 (ms)', f1(follow.firstPeerMs)],
      ['follow() call until it returned (ms)', f1(follow.returnedMs)],
      ['follow -> first follow.updated (ms)', f1(follow.firstUpdateMs)],
      ['follow() called -> first byte of /big.bin read by the engine (ms)', f1(follow.firstByteMs)],
      ['  of which: A\'s version known -> first byte (ms)', f1(follow.firstByteAfterVersionMs)],
      ['raw pipe -> first byte readable, behind an unordered whole-drive download (ms)', f1(raw.firstByteMs)],
      ['cross-process (the serving end in a child process, as on another machine):', ''],
      [`raw transport ${replicateMib} MiB, server in a child process (MiB/s)`, f1(mibps(replicateBytes, transportX.ms))],
      ['raw transport, client join() -> first byte received (ms)', f1(transportX.joinToFirstByteMs)],
      ['raw transport, CPU per MiB, both processes (ms)', f1(transportX.cpuMs / replicateMib)],
      ['  of which the sending process (ms)', f1(transportX.serverCpuMs / replicateMib)],
      [`follow until synced ${replicateMib} MiB, alice in a child process (MiB/s)`, f1(mibps(replicateBytes, followX.ms))],
      ['follow, first downloaded byte until synced (MiB/s)', f1(mibps(replicateBytes, followX.transferMs))],
      ['follow until synced, CPU per MiB, both processes (ms)', f1(followX.cpuMs / replicateMib)],
      ['  of which A, the serving process (ms)', f1(followX.serverCpuMs / replicateMib)],
      ['follow() called -> first byte of /big.bin read by the engine (ms)', f1(followX.firstByteMs)],
      ['  of which: A\'s version known -> first byte (ms)', f1(followX.firstByteAfterVersionMs)],
      ['follow -> first follow.status with peers > 0 (ms)', f1(followX.firstPeerMs)]
    ]
    const ratios: Array<[string, string]> = [
      [`vault import / ${imp.ddMs === null ? 'node write + fsync' : 'dd fdatasync (best run)'}`, f2(importRate / diskRate)],
      ['vault import / dd fdatasync (first run)', f2(importRate / ddFirstRate)],
      ['vault import / node write + fsync', f2(importRate / nodeRate)],
      ['vault import into Private (encrypted) / node write + fsync', f2(mibps(bytes, imp.privateMs) / nodeRate)],
      ['follow (end to end) / raw transport (loopback Hyperswarm)', f2(followRate / transportRate)],
      ['follow (transfer only) / raw transport (loopback Hyperswarm)', f2(transferRate / transportRate)],
      ['raw transport CPU per MiB / follow CPU per MiB (the ratio if both were CPU-bound)', f2(transport.cpuMs / follow.cpuMs)],
      ['follow (end to end) / raw in-process download', f2(followRate / rawRate)],
      ['follow (transfer only) / raw in-process download', f2(transferRate / rawRate)],
      ['follow first byte / raw transport join -> first byte (time)', f1(follow.firstByteMs / transport.joinToFirstByteMs)],
      ['cross-process: follow (end to end) / raw transport', f2(mibps(replicateBytes, followX.ms) / mibps(replicateBytes, transportX.ms))],
      ['cross-process: follow (transfer only) / raw transport', f2(mibps(replicateBytes, followX.transferMs) / mibps(replicateBytes, transportX.ms))],
      ['cross-process: raw transport CPU per MiB / follow CPU per MiB', f2(transportX.cpuMs / followX.cpuMs)],
      ['cross-process: follow first byte / raw transport join -> first byte (time)', f1(followX.firstByteMs / transportX.joinToFirstByteMs)],
      ['peak RSS (max of sampled, maxRSS) / import file size', f2(Math.max(imp.rssPeak, imp.maxRss) / bytes)],
      ['peak RSS growth during import / file size', f2((imp.rssPeak - imp.rssBefore) / bytes)]
    ]
    const width = Math.max(...rows.map((r) => r[0].length), ...ratios.map((r) => r[0].length)) + 2
    say('')
    say(`${'figure'.padEnd(width)}${'value'.padStart(10)}`)
    for (const [k, v] of rows) say(`${k.padEnd(width)}${v.padStart(10)}`)
    say('')
    say(`${'ratio'.padEnd(width)}${'x'.padStart(10)}`)
    for (const [k, v] of ratios) say(`${k.padEnd(width)}${v.padStart(10)}`)
    say('')
    say(`notes: ${imp.ddNote}.`)
    say('  dd writes zeros from /dev/zero; the Node baseline writes the random source file; both are timed including the final sync.')
    say('  The import reads that source from the page cache and is timed until its job is done (Corestore flush not forced to disk).')
    say(`  Follow: two engines on a 3-node @hyperswarm/testnet bound to 127.0.0.1; end to end is follow() until state 'synced' at A's version;` +
      ` the followed copy ${follow.identical ? 'is' : 'is NOT'} byte-identical (SHA-256).`)
    if (follow.prematureSynced) {
      say(`  Engine: follow.status said 'synced' at A's version ${f1(follow.prematureSynced.ms)} ms after follow() with ${follow.prematureSynced.have} of` +
        ` ${follow.expectedBlocks} blocks; this bench waits for blocksHave >= ${follow.expectedBlocks} as well.`)
    }
    if (follow.bytesDownloaded > follow.blobBytes * 1.5) {
      say(`  Engine: follow.status bytesDownloaded (${f1(follow.bytesDownloaded / MiB)} MiB) exceeds the blobs held (${f1(follow.blobBytes / MiB)} MiB); the counter over-counts.`)
    }
    say('  maxRSS is the process-lifetime peak (the import is the first heavy phase, so it bounds the import).')
    if (!followX.identical) say('  Cross-process: the followed copy is NOT byte-identical (SHA-256).')
    if (!follow.identical || !followX.identical) process.exitCode = 1
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    cleanup()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
