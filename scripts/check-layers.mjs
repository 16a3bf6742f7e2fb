// Checks the layering rule of main/ (README "Architecture"): a file imports only from its own
// layer or the layers below it, and the folders import each other without cycles.
//
//   shared < engine < ledger < chain < hosting < api < server, cli, electron, main/daemon.ts
//
// The top folders may import each other (the CLI starts the daemon, which runs the server) as
// long as that makes no cycle. Every import counts: static, `import type`, `export ... from` and
// dynamic `import('...')`. Plain Node, no dependencies: `npm run layers`; exits 1 listing each
// offending import and each cycle.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const MAIN = join(ROOT, 'main')

/** Rank of each layer: a file may import ranks up to its own. */
const RANK = { shared: 0, engine: 1, ledger: 2, chain: 3, hosting: 4, api: 5, server: 6, cli: 6, electron: 6, daemon: 6 }

/** The layer of a file under main/: its first folder, or 'daemon' for main/daemon.ts. */
function layerOf (file) {
  const parts = relative(MAIN, file).split(sep)
  const layer = parts.length === 1 ? parts[0].replace(/\.ts$/, '') : parts[0]
  if (!(layer in RANK)) throw new Error(`${relative(ROOT, file)}: not in a known layer (add its folder to RANK in scripts/check-layers.mjs)`)
  return layer
}

function tsFiles (dir) {
  const out = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...tsFiles(p))
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** Relative import specifiers of a source, with their line numbers (comments skipped). */
function importsOf (source) {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/^(\s*)\/\/.*$/gm, '$1')
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[\w*{}\s,$]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g
  ]
  const found = []
  for (const re of patterns) {
    for (const m of code.matchAll(re)) {
      if (!m[1].startsWith('.')) continue
      const line = code.slice(0, m.index).split('\n').length
      found.push({ spec: m[1], line })
    }
  }
  return found
}

const problems = []
/** Folder-level graph: layer -> set of layers it imports (for cycles). */
const graph = new Map()
/** One example import per folder edge, to show in a cycle report. */
const example = new Map()

for (const file of tsFiles(MAIN)) {
  const from = layerOf(file)
  for (const { spec, line } of importsOf(readFileSync(file, 'utf8'))) {
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'))
    const where = `${relative(ROOT, file)}:${line}`
    if (!target.startsWith(MAIN + sep)) {
      problems.push(`${where} imports ${spec}, outside main/`)
      continue
    }
    const to = layerOf(target)
    if (to === from) continue
    if (RANK[to] > RANK[from]) problems.push(`${where}: ${from} imports ${to} (upward): ${spec}`)
    if (!graph.has(from)) graph.set(from, new Set())
    graph.get(from).add(to)
    if (!example.has(`${from}>${to}`)) example.set(`${from}>${to}`, `${where} ${spec}`)
  }
}

// Cycles between folders: depth-first search (finds at least one cycle in every tangle), each
// cycle reported once, starting from its alphabetically first folder.
const seen = new Set()
const cycles = new Set()
function visit (node, path) {
  const at = path.indexOf(node)
  if (at !== -1) {
    const cycle = path.slice(at)
    const start = cycle.indexOf([...cycle].sort()[0])
    cycles.add([...cycle.slice(start), ...cycle.slice(0, start)].join(' > '))
    return
  }
  if (seen.has(node)) return
  for (const next of graph.get(node) ?? []) visit(next, [...path, node])
  seen.add(node)
}
for (const node of graph.keys()) visit(node, [])
for (const c of cycles) {
  const nodes = c.split(' > ')
  const edges = nodes.map((n, i) => example.get(`${n}>${nodes[(i + 1) % nodes.length]}`))
  problems.push(`import cycle between layers: ${c} > ${nodes[0]}\n    ${edges.join('\n    ')}`)
}

if (problems.length > 0) {
  console.error(`check-layers: ${problems.length} problem(s) (order: shared < engine < ledger < chain < hosting < api < server/cli/electron/daemon)`)
  for (const p of problems) console.error(`  ${p}`)
  process.exit(1)
}
console.log(`check-layers: ${tsFiles(MAIN).length} files in main/, every import downward or within its layer, no cycles between layers`)
