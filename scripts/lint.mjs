// `npm run lint`: ESLint over the whole tree with --max-warnings 0, as two processes at once, one
// per TypeScript program the type-aware rules need: the renderer and preload (tsconfig.web.json)
// and everything else (tsconfig.test.json). Each process builds only its own program, so the two
// cores share the work; ESLint's own --concurrency gives every worker both programs and is slower.
// Results are cached per file content (node_modules/.cache/eslint-*, one per process), so a lint
// after a small change re-checks only what changed. Exit code: 0 when both pass, else the first non-zero one.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const eslint = fileURLToPath(new URL('../node_modules/eslint/bin/eslint.js', import.meta.url))
const extra = process.argv.slice(2)
const WEB = ['renderer', 'preload']
const cache = (name) => ['--cache', '--cache-strategy', 'content', '--cache-location', `node_modules/.cache/eslint-${name}`]
const runs = [
  [...cache('web'), ...WEB],
  [...cache('node'), '.', ...WEB.flatMap((dir) => ['--ignore-pattern', `${dir}/**`])]
]

function lint (args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [eslint, '--max-warnings', '0', ...extra, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { out += d })
    child.on('close', (code) => resolve({ code: code ?? 1, out }))
  })
}

const results = await Promise.all(runs.map(lint))
for (const r of results) process.stdout.write(r.out)
process.exitCode = results.find((r) => r.code !== 0)?.code ?? 0
