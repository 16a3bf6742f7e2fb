// `npm start`: builds dist/ when a source changed since the last build (scripts/build-stamp.mjs;
// one line says whether and why), then runs the DatDot desktop app when the Electron binary is
// installed; otherwise (an offline install, where electron's download is skipped) says so in
// one line and runs the headless daemon with the browser UI in this process instead, which
// prints the UI's address. Arguments are passed through to either:
//   npm start -- --storage /tmp/a --bootstrap 127.0.0.1:49737 [--port N]
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { whyBuild } from './build-stamp.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)

/** The Electron executable, or null when the npm package is there without its binary. */
function electronBinary () {
  try {
    // The electron package exports the path of its binary (and throws when it was never downloaded).
    const bin = createRequire(import.meta.url)('electron')
    return typeof bin === 'string' && existsSync(bin) ? bin : null
  } catch {
    return null
  }
}

/**
 * Native modules built for Node (what `npm ci` makes) do not load in Electron: better-sqlite3
 * uses V8's API, whose ABI differs. Probe with Electron's own Node before opening the window.
 */
function nativeModulesLoadIn (bin) {
  const probe = spawnSync(bin, ['-e', "require('better-sqlite3')(':memory:').close()"], {
    cwd: root,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    encoding: 'utf8',
    timeout: 60_000
  })
  return probe.status === 0
}

function runDaemon () {
  // Same as `node bin/datdot.js daemon ...args`, in this process (stdio, signals and exit code are the daemon's).
  process.argv = [process.argv[0], join(root, 'bin', 'datdot.js'), 'daemon', ...args]
  return import(pathToFileURL(join(root, 'bin', 'datdot.js')).href)
}

/** Builds dist/ unless it matches its sources; says which in one line. */
function buildIfChanged () {
  const why = whyBuild()
  if (why === null) {
    console.log('datdot: dist/ is up to date with its sources, no build (`npm run build` forces one)')
    return
  }
  console.log(`datdot: building (${why})`)
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

buildIfChanged()
const electron = electronBinary()

if (electron === null) {
  console.log('datdot: the Electron binary is not installed (offline install); falling back to the headless daemon with the browser UI.')
  await runDaemon()
} else if (!nativeModulesLoadIn(electron)) {
  console.log('datdot: native modules are built for Node, not Electron (run `npx electron-builder install-app-deps` to rebuild them); falling back to the headless daemon with the browser UI.')
  await runDaemon()
} else {
  const child = spawn(electron, [root, ...args], { cwd: root, stdio: 'inherit', env: process.env })
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => { if (child.exitCode === null) child.kill(signal) })
  }
  child.on('error', (err) => {
    console.error(`datdot: could not start Electron: ${err.message}`)
    process.exit(1)
  })
  child.on('exit', (code, signal) => { process.exit(code ?? (signal ? 1 : 0)) })
}
