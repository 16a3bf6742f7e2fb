// Runs one test file N times in a row and prints the pass count: the check that a slow
// integration file is stable before an issue is called resolved (a test that fails at random is a
// defect). Each run is its own vitest process; the output of failing runs is kept in a log file.
//
//   npm run test:repeat -- test/integration/hosting-e2e.test.ts 10
//
// Exit code: 0 when every run passed, 1 otherwise, 2 for a usage error.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir, loadavg } from 'node:os'
import { join } from 'node:path'

const [file, countArg = '5', ...rest] = process.argv.slice(2)
const count = Number(countArg)
if (file === undefined || !existsSync(file) || !Number.isInteger(count) || count < 1 || count > 1000) {
  process.stderr.write('usage: npm run test:repeat -- TEST_FILE [RUNS (1..1000, default 5)] [vitest args...]\n')
  process.exit(2)
}

const logs = mkdtempSync(join(tmpdir(), 'datdot-repeat-'))

/** One vitest run of the file: resolves to { ok, ms, output }. */
function runOnce () {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', file, ...rest], { stdio: ['ignore', 'pipe', 'pipe'] })
    const chunks = []
    child.stdout.on('data', (d) => chunks.push(d))
    child.stderr.on('data', (d) => chunks.push(d))
    child.on('close', (code) => resolve({ ok: code === 0, ms: Date.now() - started, output: Buffer.concat(chunks).toString() }))
  })
}

let passed = 0
for (let i = 1; i <= count; i++) {
  const load = loadavg()[0].toFixed(2)
  const r = await runOnce()
  if (r.ok) passed++
  let line = `run ${i}/${count}: ${r.ok ? 'passed' : 'FAILED'} in ${(r.ms / 1000).toFixed(1)} s (load ${load})`
  if (!r.ok) {
    const log = join(logs, `run-${i}.log`)
    writeFileSync(log, r.output)
    line += `, output in ${log}`
  }
  process.stdout.write(line + '\n')
}
process.stdout.write(`${file}: ${passed} of ${count} runs passed\n`)
process.exit(passed === count ? 0 : 1)
