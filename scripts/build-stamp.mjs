// The build stamp (dist/.build-stamp.json): what the last build of dist/ was made from, so
// `npm start` builds only when something changed. scripts/build.mjs writes it after a build that
// worked; scripts/start.mjs asks `whyBuild()`, which answers null (dist is up to date) or why a
// build is needed: no dist, no stamp, a changed package-lock, or the first changed source.
// Each input is recorded by size and mtime (cheap to compare) and by content hash (so a file
// touched but not changed, as a checkout does, does not cost a build).
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const STAMP = join(root, 'dist', '.build-stamp.json')
/** What the build reads: the sources of tsc and of both Vite builds, and the configs. */
const DIRS = ['main', 'bench', 'types', 'preload', 'renderer', 'resources']
const FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json', 'tsconfig.web.json', 'scripts/build.mjs', 'scripts/build-stamp.mjs', 'scripts/bundle-cli.mjs']

function walk (dir, out) {
  if (!existsSync(dir)) return
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const p = join(dir, entry.name)
    if (entry.isDirectory()) walk(p, out)
    else if (entry.isFile()) out.push(p)
  }
}

/** Every input of the build, as paths relative to the root, sorted. */
function inputs () {
  const files = []
  for (const d of DIRS) walk(join(root, d), files)
  for (const f of FILES) if (existsSync(join(root, f))) files.push(join(root, f))
  return files.map((f) => relative(root, f)).sort()
}

const hashOf = (rel) => createHash('sha256').update(readFileSync(join(root, rel))).digest('hex')

/** The inputs as they are now: taken before a build, so an edit made during it builds again next time. */
export function snapshotInputs () {
  const files = {}
  for (const rel of inputs()) {
    const s = statSync(join(root, rel))
    files[rel] = { size: s.size, mtimeMs: s.mtimeMs, sha256: hashOf(rel) }
  }
  return { version: 1, files }
}

/** Records a snapshot (after a build that worked). */
export function writeStamp (snapshot) {
  writeFileSync(STAMP, JSON.stringify(snapshot))
}

/** Why dist/ must be built again, or null when it matches its sources. */
export function whyBuild () {
  if (!existsSync(join(root, 'dist', 'main'))) return 'no dist/ yet'
  let stamp
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'))
  } catch {
    return 'dist/ has no build stamp'
  }
  if (stamp?.version !== 1 || typeof stamp.files !== 'object') return 'dist/ has an old build stamp'
  const now = inputs()
  const before = Object.keys(stamp.files)
  if (stamp.files['package-lock.json'] !== undefined && changed('package-lock.json', stamp.files['package-lock.json'])) return 'package-lock.json changed'
  for (const rel of now) {
    const was = stamp.files[rel]
    if (was === undefined) return `${rel} is new`
    if (changed(rel, was)) return `${rel} changed`
  }
  const present = new Set(now)
  const gone = before.find((rel) => !present.has(rel))
  return gone === undefined ? null : `${gone} was removed`
}

function changed (rel, was) {
  if (!existsSync(join(root, rel))) return true
  const s = statSync(join(root, rel))
  if (s.size === was.size && s.mtimeMs === was.mtimeMs) return false
  return s.size !== was.size || hashOf(rel) !== was.sha256
}
