/**
 * Start figures (issue 13, "light by default"), after a build, on a loopback DHT testnet:
 *  1. the daemon (`bin/datdot.js daemon --storage TMP`, default embedded chain, which now starts
 *     when hosting is first used): time from spawn to its ready line, RSS when idle (VmRSS from
 *     /proc/PID/status), then the first hosting call (getWallet: starts the chain) and RSS after;
 *  2. `npm start`'s path (`node scripts/start.mjs`, which checks the build stamp, then runs the
 *     daemon when there is no Electron binary): time to ready after a build;
 *  3. baseline, the same run: the daemon with DATDOT_CHAIN_START=eager (the chain at start, as before);
 *  4. where the time to ready goes, against Node itself in the same run (spawn of `node -e` to
 *     the line it prints), each the median of --repeat runs: spawn to the line a process prints
 *     once it has imported the daemon's modules (the bundle bin/datdot.js runs, dist/cli/datdot.js,
 *     and tsc's unbundled output, dist/main/cli/index.js, for comparison), spawn to the daemon's
 *     ready line, and the daemon's CPU time (user + system, all threads) at that line, which the
 *     machine's load moves less than the wall time.
 * Targets: ready < 5 s after a build; idle RSS < 150 MB until hosting is used.
 *
 *   npm run build && node dist/bench/start.js [--idle-seconds N] [--repeat N]
 *
 * Prints figures, never pass/fail.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createInterface } from 'node:readline'
import createTestnet from '@hyperswarm/testnet'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const READY = /datdot daemon ready: (http:\/\/127\.0\.0\.1:\d+)\/#token=([0-9a-f]+)/
const READY_TARGET_S = 5
const RSS_TARGET_MB = 150

function arg (name: string, def: number): number {
  const i = process.argv.indexOf(name)
  return i === -1 ? def : Number(process.argv[i + 1])
}
const IDLE_SECONDS = arg('--idle-seconds', 5)
const REPEAT = arg('--repeat', 5)

interface Running { child: ChildProcess, readyMs: number, cpuMs: number, origin: string, token: string, storage: string }

/** CPU time (user + system, every thread) of a running process so far, in ms (/proc/PID/stat, clock ticks of 10 ms). */
function cpuMs (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** Spawns `args` and resolves at its ready line, with the time it took. */
async function spawnToReady (args: string[], env: NodeJS.ProcessEnv): Promise<Running> {
  const storage = mkdtempSync(join(tmpdir(), 'datdot-bench-start-'))
  const t0 = performance.now()
  const child = spawn(process.execPath, [...args, '--storage', storage, '--port', '0'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines = createInterface({ input: child.stdout })
  const errors: string[] = []
  child.stderr.on('data', (d: Buffer) => { errors.push(d.toString()) })
  return await new Promise((resolve, reject) => {
    child.once('exit', (code) => { reject(new Error(`${args.join(' ')} exited ${code} before ready: ${errors.join('').slice(-500)}`)) })
    lines.on('line', (line) => {
      const m = READY.exec(line)
      if (m !== null) resolve({ child, readyMs: performance.now() - t0, cpuMs: cpuMs(child.pid!), origin: m[1], token: m[2], storage })
    })
  })
}

function rssMb (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? NaN : Number(m[1]) / 1024
}

/** RSS after `seconds` of idling (sampled every 250 ms; the last sample, and the highest). */
async function idleRss (pid: number, seconds: number): Promise<{ last: number, max: number }> {
  let max = 0
  let last = 0
  const end = performance.now() + seconds * 1000
  while (performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    last = rssMb(pid)
    max = Math.max(max, last)
  }
  return { last, max }
}

async function call (d: Running, method: string, args: unknown = {}): Promise<unknown> {
  const res = await fetch(`${d.origin}/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' }, body: JSON.stringify(args) })
  const body = await res.json() as { result?: unknown, error?: { code: string, message: string } }
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.code} ${body.error.message}`)
  return body.result
}

async function stop (d: Running): Promise<void> {
  const exited = new Promise((resolve) => d.child.once('exit', resolve))
  d.child.kill('SIGINT')
  await exited
  rmSync(d.storage, { recursive: true, force: true })
}

interface Figures { readyS: number, cpuS: number, idleMb: number, idleMaxMb: number, firstCallS?: number, afterMb?: number, state?: string }

async function measure (args: string[], env: NodeJS.ProcessEnv, hosting: boolean): Promise<Figures> {
  const d = await spawnToReady(args, env)
  try {
    const idle = await idleRss(d.child.pid!, IDLE_SECONDS)
    const status = await call(d, 'getChainStatus') as { state?: string }
    const out: Figures = { readyS: d.readyMs / 1000, cpuS: d.cpuMs / 1000, idleMb: idle.last, idleMaxMb: idle.max, state: status.state }
    if (!hosting) return out
    const t = performance.now()
    await call(d, 'getWallet')
    out.firstCallS = (performance.now() - t) / 1000
    out.afterMb = (await idleRss(d.child.pid!, IDLE_SECONDS)).last
    return out
  } finally {
    await stop(d)
  }
}

const f1 = (n: number): string => n.toFixed(1)
const f2 = (n: number): string => n.toFixed(2)
const ratio = (n: number, target: number): string => `${(n / target).toFixed(2)}x of target (${n < target ? 'met' : 'NOT met'})`

function print (name: string, f: Figures): void {
  console.log(`${name}`)
  console.log(`  ready           ${f1(f.readyS).padStart(6)} s    ${ratio(f.readyS, READY_TARGET_S)} < ${READY_TARGET_S} s; CPU time at ready ${f2(f.cpuS)} s`)
  console.log(`  idle RSS        ${f1(f.idleMb).padStart(6)} MB   ${ratio(f.idleMb, RSS_TARGET_MB)} < ${RSS_TARGET_MB} MB (highest while idle ${f1(f.idleMaxMb)} MB; chain ${f.state ?? 'not reported'})`)
  if (f.firstCallS !== undefined) console.log(`  first hosting call (getWallet, starts the chain) ${f1(f.firstCallS)} s, then RSS ${f1(f.afterMb ?? NaN)} MB`)
}

/**
 * Spawn of `node --input-type=module -e CODE` to the line it prints when CODE has run, in ms:
 * the median of REPEAT runs. The child is killed at the line (its exit is not timed).
 */
async function msToLoaded (code: string): Promise<number> {
  const runs: number[] = []
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now()
    const child = spawn(process.execPath, ['--input-type=module', '-e', `${code}; console.log('loaded')`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    const ms = await new Promise<number>((resolve, reject) => {
      child.once('exit', (c) => { reject(new Error(`node -e ${code} exited ${c}: ${err.slice(-500)}`)) })
      createInterface({ input: child.stdout }).once('line', () => { resolve(performance.now() - t0) })
    })
    child.kill('SIGKILL')
    await exited
    runs.push(ms)
  }
  return median(runs)
}

const importOf = (file: string): string => `await import(${JSON.stringify(pathToFileURL(join(root, file)).href)})`

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1]

/** The daemon's spawn to ready and its CPU time then, in ms: medians of REPEAT starts. */
async function daemonStarts (args: string[], env: NodeJS.ProcessEnv): Promise<{ readyMs: number, cpuMs: number }> {
  const ready: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < REPEAT; i++) {
    const d = await spawnToReady(args, env)
    ready.push(d.readyMs)
    cpu.push(d.cpuMs)
    await stop(d)
  }
  return { readyMs: median(ready), cpuMs: median(cpu) }
}

/** Where the time to ready goes (item 4 above), each figure a ratio against Node alone in this run. */
async function printSplit (daemonArgs: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const node = await msToLoaded('0')
  const bundle = await msToLoaded(importOf('dist/cli/datdot.js'))
  const unbundled = await msToLoaded(importOf('dist/main/cli/index.js'))
  const daemon = await daemonStarts(daemonArgs, env)
  const vs = (ms: number): string => `${(ms / node).toFixed(1)}x Node alone`
  console.log(`where the time to ready goes (from spawn, median of ${REPEAT} runs; baseline: Node alone, spawn to a line printed by \`node -e\`, ${node.toFixed(0)} ms)`)
  console.log(`  the daemon's modules loaded, bundled (dist/cli/datdot.js, what bin/datdot.js runs) ${bundle.toFixed(0).padStart(5)} ms  ${vs(bundle)}`)
  console.log(`  the same, unbundled (tsc's dist/main/cli/index.js)                              ${unbundled.toFixed(0).padStart(5)} ms  ${vs(unbundled)}`)
  console.log(`  the daemon ready (the engine opened, the API listening)                        ${daemon.readyMs.toFixed(0).padStart(5)} ms  ${vs(daemon.readyMs)}, CPU time then ${f2(daemon.cpuMs / 1000)} s`)
}

async function main (): Promise<void> {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  const daemon = [join(root, 'bin', 'datdot.js'), 'daemon', '--bootstrap', bootstrap]
  const env = { DATDOT_CHAIN: 'embedded', DATDOT_CHAIN_START: 'lazy' }
  try {
    console.log(`daemon start on a loopback testnet; idle RSS sampled over ${IDLE_SECONDS} s`)
    const lazy = await measure(daemon, env, true)
    print('daemon, chain on demand (default)', lazy)
    const viaStart = await measure([join(root, 'scripts', 'start.mjs'), '--bootstrap', bootstrap], env, false)
    print('npm start path (scripts/start.mjs, build stamp checked, no Electron binary)', viaStart)
    const eager = await measure(daemon, { ...env, DATDOT_CHAIN_START: 'eager' }, false)
    print('baseline: daemon with the chain at start (DATDOT_CHAIN_START=eager)', eager)
    console.log(`on demand / baseline: ready ${(lazy.readyS / eager.readyS).toFixed(2)}x, idle RSS ${(lazy.idleMb / eager.idleMb).toFixed(2)}x`)
    await printSplit(daemon, env)
  } finally {
    await testnet.destroy()
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
