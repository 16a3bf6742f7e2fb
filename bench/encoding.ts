/**
 * Cost of the unique per-hoster encoding (main/hosting/encoding.ts), against baselines
 * measured in the same run on the same machine: BLAKE2b (hypercore-crypto), SHA-256 and
 * chacha20 (node:crypto) over the same 64 KiB blocks; its JavaScript reference and its
 * WebAssembly kernel; and a C reference of the same kernel (bench/encoding-ref.c) compiled in
 * the same run with the machine's gcc -O3 -march=native (the attacker's speed), checked to
 * give the same output on the same inputs.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/encoding.js
 *
 * Single-core figures are CPU time of the process (the machine may be shared; the C reference
 * measures its own CPU time too); the multi-worker figures and the walk are wall time.
 * Prints figures and ratios, never pass/fail. Options: --seconds N (time per figure, default 1.5),
 * --rounds 1,2,4 (rounds to measure).
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { availableParallelism, cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import hcrypto from 'hypercore-crypto'
import { FileChunkStore } from '../main/hosting/chunk-store.js'
import { computeWalk, type ContractView } from '../main/hosting/proof.js'
import { encodeChunk, decodeChunk, DEFAULT_ROUNDS, type ChunkBinding, type EncodingKernel } from '../main/hosting/encoding.js'
import { encodeJs } from '../main/hosting/encoding-js.js'
import { wasmKernel } from '../main/hosting/encoding-wasm.js'
import { compileRef, runRef, type KernelInput } from './lib-encoding-ref.js'

const BLOCK_BYTES = 64 * 1024
const MiB = 1024 * 1024

interface Figure { label: string, bytesPerSec: number, msPerBlock: number }

function measure (label: string, seconds: number, fn: (i: number) => void): Figure {
  // warm up so the JIT has compiled the hot loop
  for (let i = 0; i < 3; i++) fn(i)
  let blocks = 0
  const start = process.hrtime.bigint()
  const budget = BigInt(Math.round(seconds * 1e9))
  let elapsed = 0n
  while (elapsed < budget) {
    fn(blocks++)
    elapsed = process.hrtime.bigint() - start
  }
  const secs = Number(elapsed) / 1e9
  return { label, bytesPerSec: (blocks * BLOCK_BYTES) / secs, msPerBlock: (secs * 1000) / blocks }
}

/** Like measure, in CPU time of this process: robust on a shared machine, comparable with the C reference's. */
function measureCpu (label: string, seconds: number, fn: (i: number) => void): Figure {
  for (let i = 0; i < 3; i++) fn(i)
  let blocks = 0
  const start = process.cpuUsage()
  let used = 0
  while (used < seconds * 1e6) {
    fn(blocks++)
    const u = process.cpuUsage(start)
    used = u.user + u.system
  }
  return figure(label, used / 1000 / blocks)
}

function makeBlocks (count: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < count; i++) out.push(randomBytes(BLOCK_BYTES))
  return out
}

function binding (i: number, hosterKey: Uint8Array, coreKey: Uint8Array): ChunkBinding {
  return { coreKey, index: i, hosterKey }
}

async function workerMain (): Promise<void> {
  const { rounds, seconds, kernel } = workerData as { rounds: number, seconds: number, kernel: EncodingKernel }
  const blocks = makeBlocks(8)
  const hosterKey = randomBytes(32)
  const coreKey = randomBytes(32)
  const f = measure('enc', seconds, (i) => { encodeChunk(blocks[i % 8], binding(i, hosterKey, coreKey), { rounds, kernel }) })
  parentPort?.postMessage(f)
}

function parallelEncode (rounds: number, seconds: number, workers: number, kernel: EncodingKernel): Promise<number> {
  const file = fileURLToPath(import.meta.url)
  const runs: Array<Promise<Figure>> = []
  for (let w = 0; w < workers; w++) {
    runs.push(new Promise((resolve, reject) => {
      const worker = new Worker(file, { workerData: { rounds, seconds, kernel } })
      worker.once('message', (m: Figure) => resolve(m))
      worker.once('error', reject)
    }))
  }
  return Promise.all(runs).then((figs) => figs.reduce((s, f) => s + f.bytesPerSec, 0))
}

function arg (name: string, fallback: string): string {
  const i = process.argv.indexOf(name)
  return i === -1 ? fallback : process.argv[i + 1]
}

function fmt (f: Figure, baseline?: Figure): string {
  const rate = (f.bytesPerSec / MiB).toFixed(1).padStart(8)
  const ms = f.msPerBlock.toFixed(3).padStart(8)
  const ratio = baseline ? `  ${(baseline.bytesPerSec / f.bytesPerSec).toFixed(1)}x slower than ${baseline.label}` : ''
  return `${f.label.padEnd(34)} ${rate} MiB/s  ${ms} ms per 64 KiB block${ratio}`
}

function figure (label: string, msPerBlock: number): Figure {
  return { label, msPerBlock, bytesPerSec: BLOCK_BYTES / (msPerBlock / 1000) }
}

function baselines (blocks: Buffer[], seconds: number): Figure {
  console.log('\nBaselines (one core, CPU time):')
  const blake = measureCpu('BLAKE2b-256 (hypercore-crypto)', seconds, (i) => { hcrypto.hash(blocks[i % 8]) })
  const sha = measureCpu('SHA-256 (node:crypto)', seconds, (i) => { createHash('sha256').update(blocks[i % 8]).digest() })
  const key = randomBytes(32)
  const chacha = measureCpu('chacha20 (node:crypto)', seconds, (i) => {
    createCipheriv('chacha20', key, Buffer.alloc(16, i & 0xff)).update(blocks[i % 8])
  })
  for (const f of [blake, sha, chacha]) console.log(fmt(f))
  return blake
}

interface RoundsFigures { rounds: number, js: Figure, wasm: Figure, dec: Figure, jsDec: Figure }

/** encodeChunk / decodeChunk end to end (keystream included), JavaScript and WebAssembly. */
function chunkFigures (roundsList: number[], blocks: Buffer[], seconds: number, blake: Figure): RoundsFigures[] {
  const hosterKey = randomBytes(32)
  const coreKey = randomBytes(32)
  const b = (i: number): ChunkBinding => binding(i % 8, hosterKey, coreKey)
  console.log('\nUnique encoding cube-cbc-v1, encodeChunk / decodeChunk end to end (one core, CPU time):')
  const out: RoundsFigures[] = []
  for (const rounds of roundsList) {
    const encoded = blocks.map((blk, i) => encodeChunk(blk, b(i), { rounds }))
    const js = measureCpu(`JS encode, ${rounds} round(s)`, seconds, (i) => { encodeChunk(blocks[i % 8], b(i), { rounds, kernel: 'js' }) })
    const jsDec = measureCpu(`JS decode, ${rounds} round(s)`, seconds, (i) => { decodeChunk(encoded[i % 8], b(i), { kernel: 'js' }) })
    const wasm = measureCpu(`WASM encode, ${rounds} round(s)`, seconds, (i) => { encodeChunk(blocks[i % 8], b(i), { rounds }) })
    const dec = measureCpu(`WASM decode, ${rounds} round(s)`, seconds, (i) => { decodeChunk(encoded[i % 8], b(i)) })
    for (const f of [js, jsDec, wasm, dec]) console.log(fmt(f, blake))
    console.log(`${''.padEnd(34)} WASM/JS encode ${(js.msPerBlock / wasm.msPerBlock).toFixed(1)}x; WASM encode/decode cost ratio ${(wasm.msPerBlock / dec.msPerBlock).toFixed(1)}`)
    out.push({ rounds, js, wasm, dec, jsDec })
  }
  return out
}

interface KernelFigures { rounds: number, js: Figure, wasm: Figure, c: Figure | null, cWave: Figure | null }

function kernelInputs (n: number, rounds: number): KernelInput[] {
  return Array.from({ length: 8 }, () => ({ block: randomBytes(4 * n), ks: randomBytes(4 * (rounds + 1) * (n + 1)) }))
}

/** The kernels alone on the same inputs: JavaScript, WebAssembly, C (plain and wavefront). */
async function kernelFigures (roundsList: number[], seconds: number): Promise<KernelFigures[]> {
  const n = BLOCK_BYTES / 4
  const wasm = wasmKernel()
  if (!wasm) throw new Error('WebAssembly kernel did not instantiate')
  const dir = await mkdtemp(join(tmpdir(), 'datdot-bench-ref-'))
  const out: KernelFigures[] = []
  try {
    const ref = compileRef(dir)
    console.log(`\nKernels alone, same inputs, CPU time (one core; C: ${'skip' in ref ? `skipped, ${ref.skip}` : ref.compiler}):`)
    for (const rounds of roundsList) {
      const inputs = kernelInputs(n, rounds)
      const outJs = inputs.map((inp) => { const o = Buffer.alloc(4 * n); encodeJs(inp.block, inp.ks, n, rounds, o); return o })
      const outWa = inputs.map((inp) => { const o = Buffer.alloc(4 * n); wasm.encode(inp.block, inp.ks, n, rounds, o); return o })
      if (!outJs.every((o, i) => o.equals(outWa[i]))) throw new Error('WebAssembly and JavaScript kernels disagree')
      const o = Buffer.alloc(4 * n)
      const js = measureCpu(`JS kernel, ${rounds} round(s)`, seconds, (i) => { encodeJs(inputs[i % 8].block, inputs[i % 8].ks, n, rounds, o) })
      const wa = measureCpu(`WASM kernel, ${rounds} round(s)`, seconds, (i) => { wasm.encode(inputs[i % 8].block, inputs[i % 8].ks, n, rounds, o) })
      let c: Figure | null = null
      let cWave: Figure | null = null
      if (!('skip' in ref)) {
        const plain = runRef(ref.bin, dir, n, rounds, inputs, seconds, 'plain')
        const wave = runRef(ref.bin, dir, n, rounds, inputs, seconds, 'wave')
        const same = plain.outputs.every((p, i) => p.equals(outWa[i]) && wave.outputs[i].equals(outWa[i]))
        if (!same) throw new Error('C reference and WebAssembly kernel disagree')
        c = figure(`C kernel, ${rounds} round(s)`, plain.msPerBlock)
        cWave = figure(`C kernel, rounds interleaved`, wave.msPerBlock)
      }
      printKernels({ rounds, js, wasm: wa, c, cWave })
      out.push({ rounds, js, wasm: wa, c, cWave })
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return out
}

function printKernels (k: KernelFigures): void {
  for (const f of [k.js, k.wasm, k.c, k.cWave]) if (f) console.log(fmt(f))
  if (!k.c || !k.cWave) {
    console.log(`${''.padEnd(34)} outputs equal (JS = WASM); speed WASM/JS ${(k.js.msPerBlock / k.wasm.msPerBlock).toFixed(1)}`)
    return
  }
  console.log(`${''.padEnd(34)} outputs equal (JS = WASM = C); speed WASM/C ${(k.c.msPerBlock / k.wasm.msPerBlock).toFixed(2)}, JS/C ${(k.c.msPerBlock / k.js.msPerBlock).toFixed(3)};` +
    ` C interleaved/plain latency ${(k.cWave.msPerBlock / k.c.msPerBlock).toFixed(2)}`)
}

/** The honest hoster's side of a challenge: a 1024-step walk over chunks on disk. */
async function honestWalk (blocks: Buffer[]): Promise<number> {
  const walkChunks = 512
  const hosterKey = randomBytes(32)
  const coreKey = randomBytes(32)
  const dir = await mkdtemp(join(tmpdir(), 'datdot-bench-walk-'))
  try {
    const store = new FileChunkStore(dir)
    const root = { coreKey, manifest: Buffer.alloc(0), length: walkChunks, fork: 0, treeHash: Buffer.alloc(32), signature: Buffer.alloc(0) }
    const one = encodeChunk(blocks[0], binding(0, hosterKey, coreKey), { rounds: 1 })
    for (let i = 0; i < walkChunks; i++) {
      await store.putChunk(coreKey, { index: i, encoded: one, encoderSignature: Buffer.alloc(64), merkle: { index: i, length: walkChunks, nodes: [], roots: [] } })
    }
    const contract: ContractView = { contractId: 1, root, start: 0, end: walkChunks }
    await computeWalk(store, contract, randomBytes(32), 64) // warm up
    const runs = 5
    const t = process.hrtime.bigint()
    for (let r = 0; r < runs; r++) await computeWalk(store, contract, randomBytes(32), 1024)
    const walkMs = Number(process.hrtime.bigint() - t) / 1e6 / runs
    console.log(`\nHonest hoster: a 1024-step walk over ${walkChunks} chunks in files (${walkChunks * 64 / 1024} MiB, page cache warm): ${walkMs.toFixed(0)} ms`)
    return walkMs
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * docs/protocol.md section 5: what a cheater that keeps only the plain copy can drop. It must
 * re-encode a fraction a of the K walk steps within the deadline T after the honest walk:
 * a <= (T - t_walk) / (K x L), L its latency per re-encoded block at C speed.
 */
function implications (chunks: RoundsFigures[], kernels: KernelFigures[], walkMs: number): void {
  const K = 1024
  const T = 2000
  const slack = Math.max(0, T - walkMs)
  const pct = (ms: number): string => `${(100 * slack / (K * ms)).toFixed(1)}%`
  const one = kernels.find((k) => k.rounds === 1)
  const jsToday = chunks.find((c) => c.rounds === DEFAULT_ROUNDS)?.js
  console.log(`\nWhat this means for the protocol (K = ${K} steps, deadline T = ${T} ms, honest walk ${walkMs.toFixed(0)} ms, so T - t_walk = ${slack.toFixed(0)} ms):`)
  for (const { rounds, js, wasm, dec } of chunks) {
    console.log(`rounds ${rounds}: 1 GiB for one hoster is ${(16384 * js.msPerBlock / 60000).toFixed(1)} min of a core in JS, ${(16384 * wasm.msPerBlock / 60000).toFixed(1)} min in WASM;` +
      ` verifying 8 opened chunks costs ${(8 * dec.msPerBlock).toFixed(1)} ms (WASM)`)
  }
  if (!one?.c) return
  const L1 = one.c.msPerBlock
  console.log(`C latency of one round's chain: L1 = ${L1.toFixed(2)} ms per block. Rounds of cube-cbc-v1 pipeline (round r + 1 runs one word behind round r):`)
  for (const k of kernels) {
    if (k.cWave) console.log(`  rounds ${k.rounds}: one-core C wavefront ${k.cWave.msPerBlock.toFixed(2)} ms per block -> drops up to ${pct(k.cWave.msPerBlock)}; with a core per round ~L1 -> ${pct(L1)}`)
  }
  const need = Math.ceil(slack / (0.05 * K * L1))
  const wasm1 = one.wasm.msPerBlock
  console.log(`Rounds that cannot pipeline (chain direction alternating per round): latency R x L1; <= 5% needs R >= ${need};` +
    ` honest WASM then ${(16384 * need * wasm1 / 60000).toFixed(1)} min of a core per GiB` +
    (jsToday ? ` (today, JS at ${DEFAULT_ROUNDS} rounds: ${(16384 * jsToday.msPerBlock / 60000).toFixed(1)} min)` : ''))
}

async function main (): Promise<void> {
  const seconds = Number(arg('--seconds', '1.5'))
  const roundsList = arg('--rounds', `1,${DEFAULT_ROUNDS},4`).split(',').map(Number)
  const blocks = makeBlocks(8)
  console.log(`node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), blocks of ${BLOCK_BYTES} bytes, ${seconds} s per figure`)
  const blake = baselines(blocks, seconds)
  const chunks = chunkFigures(roundsList, blocks, seconds, blake)
  const kernels = await kernelFigures([...new Set([1, ...roundsList])].sort((x, y) => x - y), seconds)
  const workers = Math.min(2, availableParallelism())
  console.log(`\nEncoding on ${workers} cores (worker threads, WebAssembly in each; wall time, so low when the machine is shared):`)
  for (const { rounds, wasm } of chunks) {
    const total = await parallelEncode(rounds, seconds, workers, 'wasm')
    console.log(`WASM encode, ${rounds} round(s), ${workers} workers`.padEnd(34) + ` ${(total / MiB).toFixed(1).padStart(8)} MiB/s wall time (one core: ${(wasm.bytesPerSec / MiB).toFixed(1)} MiB/s of CPU time)`)
  }
  const walkMs = await honestWalk(blocks)
  implications(chunks, kernels, walkMs)
}

if (isMainThread) {
  main().catch((err) => { console.error(err); process.exitCode = 1 })
} else {
  workerMain().catch((err) => { console.error(err); process.exitCode = 1 })
}
