/**
 * Runs every benchmark compiled into dist/bench (vault, encoding, chain, start, list, then any other
 * *.js except this runner), each in its own Node process, one after another, with the
 * output streamed as it comes.
 *
 *   npm run bench                                # build, then every bench
 *   npm run bench -- --only vault --size-mib 256 # one bench; other options go to the bench
 *   node dist/bench/run.js --list
 *
 * Benchmarks print figures, never pass/fail: this exits 0 unless a bench crashed (non-zero
 * exit code or killed by a signal), or `--only` names a bench that does not exist.
 */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const self = basename(fileURLToPath(import.meta.url))
const PREFERRED = ['vault', 'encoding', 'chain', 'start', 'list']

function benches (): string[] {
  const names = readdirSync(here)
    .filter((f) => f.endsWith('.js') && f !== self && !f.startsWith('lib-'))
    .map((f) => f.slice(0, -3))
  const first = PREFERRED.filter((n) => names.includes(n))
  const rest = names.filter((n) => !PREFERRED.includes(n)).sort()
  return [...first, ...rest]
}

interface Parsed { only: string[], list: boolean, forward: string[] }

function parseArgs (argv: string[]): Parsed {
  const out: Parsed = { only: [], list: false, forward: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--only') {
      const v = argv[++i]
      if (!v) throw new Error('--only needs a bench name')
      out.only.push(...v.split(',').map((s) => s.trim().replace(/\.(js|ts)$/, '')).filter(Boolean))
    } else if (a.startsWith('--only=')) {
      out.only.push(...a.slice(7).split(',').map((s) => s.trim().replace(/\.(js|ts)$/, '')).filter(Boolean))
    } else if (a === '--list') {
      out.list = true
    } else {
      out.forward.push(a)
    }
  }
  return out
}

function runOne (name: string, forward: string[]): Promise<{ code: number | null, signal: NodeJS.Signals | null, ms: number }> {
  const start = process.hrtime.bigint()
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(here, `${name}.js`), ...forward], { stdio: 'inherit' })
    const forwardSignal = (sig: NodeJS.Signals): void => { child.kill(sig) }
    process.on('SIGINT', forwardSignal)
    process.on('SIGTERM', forwardSignal)
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      process.off('SIGINT', forwardSignal)
      process.off('SIGTERM', forwardSignal)
      resolve({ code, signal, ms: Number(process.hrtime.bigint() - start) / 1e6 })
    }
    child.once('error', (err) => { console.error(`bench ${name}: could not start: ${err.message}`); finish(1, null) })
    child.once('exit', finish)
  })
}

async function main (): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const all = benches()
  if (args.list) {
    for (const n of all) console.log(n)
    return
  }
  const unknown = args.only.filter((n) => !all.includes(n))
  if (unknown.length > 0) {
    console.error(`no such bench: ${unknown.join(', ')} (have: ${all.join(', ') || 'none'})`)
    process.exitCode = 2
    return
  }
  const chosen = args.only.length > 0 ? all.filter((n) => args.only.includes(n)) : all
  if (chosen.length === 0) {
    console.error(`no benches found in ${here}; run \`npm run build\` first`)
    process.exitCode = 2
    return
  }
  const results: Array<{ name: string, ok: boolean, how: string, ms: number }> = []
  for (const name of chosen) {
    console.log(`\n=== bench ${name} ${'='.repeat(Math.max(3, 60 - name.length))}`)
    const r = await runOne(name, args.forward)
    const ok = r.code === 0 && r.signal === null
    results.push({ name, ok, how: r.signal ? `killed by ${r.signal}` : `exit ${r.code}`, ms: r.ms })
  }
  console.log('\n=== summary')
  for (const r of results) {
    console.log(`${r.name.padEnd(16)} ${(r.ms / 1000).toFixed(1).padStart(7)} s  ${r.ok ? 'finished' : `CRASHED (${r.how})`}`)
  }
  if (results.some((r) => !r.ok)) process.exitCode = 1
}

main().catch((err) => { console.error(err); process.exitCode = 1 })
