/**
 * Child processes for the browser e2e tests: a loopback DHT testnet and daemons, started from
 * the built CLI (`node bin/datdot.js ...`). Readiness is the line each one prints; nothing here
 * sleeps. `DATDOT_E2E_ROOT` can point at another checkout/build of DatDot (default: this one).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const ROOT = process.env.DATDOT_E2E_ROOT ?? fileURLToPath(new URL('../..', import.meta.url))
const CLI = join(ROOT, 'bin', 'datdot.js')

export function assertBuilt (): void {
  for (const f of ['dist/cli/datdot.js', 'dist/renderer/index.html']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` first`)
  }
}

const stopping = new WeakSet<ChildProcess>()

export interface Started {
  child: ChildProcess
  match: RegExpExecArray
  /** Everything the child wrote to stderr so far (for failure messages). */
  stderr: () => string
}

/** Spawns `node bin/datdot.js ...args` and resolves when a stdout line matches `ready`. */
export async function startCli (args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (d: string) => { stderr = (stderr + d).slice(-8000) })
  const lines = createInterface({ input: child.stdout })
  try {
    const match = await new Promise<RegExpExecArray>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null): void => {
        reject(new Error(`datdot ${args[0]} exited (${signal ?? code}) before it was ready:\n${stderr}`))
      }
      child.once('exit', onExit)
      child.once('error', reject)
      lines.on('line', (line) => {
        const m = ready.exec(line)
        if (m) {
          child.off('exit', onExit)
          resolve(m)
        }
      })
    })
    // A child that dies during the tests explains why on the test output.
    child.once('exit', (code, signal) => {
      if (!stopping.has(child)) process.stderr.write(`datdot ${args[0]} exited unexpectedly (${signal ?? code}):\n${stderr}\n`)
    })
    return { child, match, stderr: () => stderr }
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
}

/** SIGTERM, then waits for the exit; SIGKILL if it has not exited after `graceMs`. */
export async function stop (child: ChildProcess | undefined, graceMs = 15_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  stopping.add(child)
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
  try {
    await exited
  } finally {
    clearTimeout(t)
  }
}

export interface Testnet {
  child: ChildProcess
  bootstrap: string
}

export async function startTestnet (): Promise<Testnet> {
  const s = await startCli(['testnet'], /^datdot testnet ready: (127\.0\.0\.1:\d+)\s*$/)
  return { child: s.child, bootstrap: s.match[1] }
}

export interface DaemonProc {
  child: ChildProcess
  storage: string
  /** The printed UI address, with #token=... */
  url: string
  origin: string
  port: number
  token: string
}

export async function startDaemon (bootstrap: string, opts: { storage?: string, port?: number, chain?: string } = {}): Promise<DaemonProc> {
  const dir = opts.storage ?? await mkdtemp(join(tmpdir(), 'datdot-e2e-'))
  const s = await startCli(
    ['daemon', '--storage', dir, '--bootstrap', bootstrap, '--port', String(opts.port ?? 0), '--chain', opts.chain ?? 'off'],
    /^datdot daemon ready: (http:\/\/127\.0\.0\.1:(\d+))\/#token=([0-9a-f]+)\s*$/
  )
  const [, origin, port, token] = s.match
  return { child: s.child, storage: dir, url: `${origin}/#token=${token}`, origin, port: Number(port), token }
}

export async function readDaemonJson (storage: string): Promise<{ port: number, pid: number, url: string }> {
  return JSON.parse(await readFile(join(storage, 'daemon.json'), 'utf8')) as { port: number, pid: number, url: string }
}

export async function removeDir (dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 3 })
}
