/**
 * Cost of the unique per-hoster encoding (main/hosting/encoding.ts, cube-cbc-v2), against
 * baselines measured in the same run on the same machine: BLAKE2b (hypercore-crypto), SHA-256
 * and chacha20 (node:crypto) over the same 64 KiB blocks; its JavaScript reference, its
 * WebAssembly kernel for one block and for two blocks interleaved (the honest encoder); a C
 * reference of the same kernel (bench/encoding-ref.c) compiled in the same run with the
 * machine's gcc -O3 -march=native (the cheater's latency), checked to give the same output on
 * the same inputs; v1 (today's scheme before v2) for comparison; the honest walk; and what
 * they mean for the cheater bound of docs/protocol.md section 5.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/encoding.js
 *
 * Single-core figures are CPU time of the process (the machine may be shared; the C reference
 * measures its own CPU time too); the multi-worker figures and the walk are wall time.
 * Prints figures and ratios, never pass/fail. Options: --seconds N (time per figure, default 1.5),
 * --rounds 1,2,4,8,16 (v2 rounds to measure).
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
import { encodeChunk, encodeChunks, decodeChunk, DEFAULT_ROUNDS, type ChunkBinding, type EncodingKernel } from '../main/hosting/encoding.js'
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
  // pairs, as the encoder does (encodeChunks interleaves two blocks in the kernel)
  const f = measure('enc', seconds, (i) => {
    encodeChunks([blocks[(2 * i) % 8], blocks[(2 * i + 1) % 8]], [binding(2 * i, hosterKey, coreKey), binding(2 * i + 1, hosterKey, coreKey)], { rounds, kernel })
  })
  f.bytesPerSec *= 2
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

interface V2Kernels { rounds: number, js: Figure, wasm: Figure, wasm2: Figure, c: Figure | null }

function kernelInputs (n: number, rounds: number): KernelInput[] {
  return Array.from({ length: 8 }, () => ({ block: randomBytes(4 * n), ks: randomBytes(4 * (rounds + 1) * (n + 1)) }))
}

type Ref = ReturnType<typeof compileRef>

/** The v2 kernels alone on the same inputs: JavaScript, WASM one block, WASM two interleaved (per block), C. */
function v2Kernels (rounds: number, seconds: number, ref: Ref, dir: string): V2Kernels {
  const n = BLOCK_BYTES / 4
  const wasm = wasmKernel()
  if (!wasm) throw new Error('WebAssembly kernel did not instantiate')
  const inputs = kernelInputs(n, rounds)
  const outJs = inputs.map((inp) => { const o = Buffer.alloc(4 * n); encodeJs(inp.block, inp.ks, n, rounds, o, 2); return o })
  const outWa = inputs.map((inp) => { const o = Buffer.alloc(4 * n); wasm.encode(inp.block, inp.ks, n, rounds, o); return o })
  const pair: [Buffer, Buffer] = [Buffer.alloc(4 * n), Buffer.alloc(4 * n)]
  wasm.encode2([inputs[0].block, inputs[1].block], [inputs[0].ks, inputs[1].ks], n, rounds, pair)
  if (!outJs.every((o, i) => o.equals(outWa[i])) || !pair[0].equals(outJs[0]) || !pair[1].equals(outJs[1])) throw new Error('WebAssembly and JavaScript kernels disagree')
  const o = Buffer.alloc(4 * n)
  const js = measureCpu(`JS, ${rounds} round(s)`, rounds > 4 ? Math.max(seconds, 2) : seconds, (i) => { encodeJs(inputs[i % 8].block, inputs[i % 8].ks, n, rounds, o, 2) })
  const wa = measureCpu(`WASM one block, ${rounds} round(s)`, seconds, (i) => { wasm.encode(inputs[i % 8].block, inputs[i % 8].ks, n, rounds, o) })
  const two = measureCpu(`WASM two blocks, ${rounds} round(s)`, seconds, (i) => {
    const a = (2 * i) % 8
    wasm.encode2([inputs[a].block, inputs[a + 1].block], [inputs[a].ks, inputs[a + 1].ks], n, rounds, pair)
  })
  const wasm2 = figure(`WASM two interleaved, per block`, two.msPerBlock / 2)
  let c: Figure | null = null
  if (!('skip' in ref)) {
    const run = runRef(ref.bin, dir, n, rounds, inputs, seconds, 'v2')
    if (!run.outputs.every((p, i) => p.equals(outWa[i]))) throw new Error('C reference and WebAssembly kernel disagree')
    c = figure(`C sequential (cheater)`, run.msPerBlock)
  }
  return { rounds, js, wasm: wa, wasm2, c }
}

interface V1Kernels { rounds: number, wasm: Figure, cWave: Figure | null }

/** v1 for comparison: the WASM kernel and the C wavefront (rounds pipelined, a one-core cheater's latency). */
function v1Kernels (rounds: number, seconds: number, ref: Ref, dir: string): V1Kernels {
  const n = BLOCK_BYTES / 4
  const wasm = wasmKernel()!
  const inputs = kernelInputs(n, rounds)
  const outWa = inputs.map((inp) => { const o = Buffer.alloc(4 * n); wasm.encode(inp.block, inp.ks, n, rounds, o, 1); return o })
  const o = Buffer.alloc(4 * n)
  const wa = measureCpu(`v1 WASM, ${rounds} round(s)`, seconds, (i) => { wasm.encode(inputs[i % 8].block, inputs[i % 8].ks, n, rounds, o, 1) })
  let cWave: Figure | null = null
  if (!('skip' in ref)) {
    const run = runRef(ref.bin, dir, n, rounds, inputs, seconds, 'wave')
    if (!run.outputs.every((p, i) => p.equals(outWa[i]))) throw new Error('C reference (v1) and WebAssembly kernel disagree')
    cWave = figure(`v1 C, rounds pipelined`, run.msPerBlock)
  }
  return { rounds, wasm: wa, cWave }
}

async function kernelFigures (roundsList: number[], seconds: number): Promise<{ v2: V2Kernels[], v1: V1Kernels[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'datdot-bench-ref-'))
  try {
    const ref = compileRef(dir)
    console.log(`\nKernels alone, same inputs, CPU time per 64 KiB block (one core; C: ${'skip' in ref ? `skipped, ${ref.skip}` : ref.compiler}):`)
    const v2: V2Kernels[] = []
    for (const rounds of roundsList) {
      const k = v2Kernels(rounds, seconds, ref, dir)
      for (const f of [k.js, k.wasm, k.wasm2, k.c]) if (f) console.log(fmt(f))
      console.log(`${''.padEnd(34)} outputs equal (JS = WASM = WASM x2${k.c ? ' = C' : ''}); two interleaved / one ${(k.wasm2.msPerBlock / k.wasm.msPerBlock).toFixed(2)}` +
        (k.c ? `, WASM one / C ${(k.wasm.msPerBlock / k.c.msPerBlock).toFixed(2)}, C / R ${(k.c.msPerBlock / rounds).toFixed(2)} ms` : ''))
      v2.push(k)
    }
    const v1 = [2, DEFAULT_ROUNDS].map((rounds) => v1Kernels(rounds, seconds, ref, dir))
    for (const k of v1) for (const f of [k.wasm, k.cWave]) if (f) console.log(fmt(f))
    return { v2, v1 }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

interface EndToEnd { rounds: number, one: Figure, pair: Figure, dec: Figure }

/** encodeChunk / encodeChunks (pairs) / decodeChunk end to end, keystream and framing included (WASM). */
function endToEnd (roundsList: number[], blocks: Buffer[], seconds: number, blake: Figure): { v2: EndToEnd[], todayWasm: Figure, todayJs: Figure } {
  const hosterKey = randomBytes(32)
  const coreKey = randomBytes(32)
  const b = (i: number): ChunkBinding => binding(i % 8, hosterKey, coreKey)
  console.log('\nEnd to end (encodeChunk, encodeChunks in pairs, decodeChunk: keystream and framing included; one core, CPU time):')
  const v2: EndToEnd[] = []
  for (const rounds of roundsList) {
    const encoded = blocks.map((blk, i) => encodeChunk(blk, b(i), { rounds }))
    const one = measureCpu(`v2 encode, ${rounds} round(s)`, seconds, (i) => { encodeChunk(blocks[i % 8], b(i), { rounds }) })
    const two = measureCpu('pair', seconds, (i) => {
      const a = (2 * i) % 8
      encodeChunks([blocks[a], blocks[a + 1]], [b(a), b(a + 1)], { rounds })
    })
    const pair = figure(`v2 encode in pairs, ${rounds}, per block`, two.msPerBlock / 2)
    const dec = measureCpu(`v2 decode, ${rounds} round(s)`, seconds, (i) => { decodeChunk(encoded[i % 8], b(i)) })
    for (const f of [one, pair, dec]) console.log(fmt(f, blake))
    v2.push({ rounds, one, pair, dec })
  }
  const todayWasm = measureCpu('v1 encode, 2 rounds (WASM)', seconds, (i) => { encodeChunk(blocks[i % 8], b(i), { rounds: 2, version: 1 }) })
  const todayJs = measureCpu('v1 encode, 2 rounds (JS)', seconds, (i) => { encodeChunk(blocks[i % 8], b(i), { rounds: 2, version: 1, kernel: 'js' }) })
  for (const f of [todayWasm, todayJs]) console.log(fmt(f, blake))
  return { v2, todayWasm, todayJs }
}

/** The honest hoster's side of a challenge: a 1024-step walk over chunks on disk. */
async function honestWalk (blocks: Buffer[]): Promise<{ median: number, fastest: number }> {
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
    const times: number[] = []
    for (let r = 0; r < runs; r++) {
      const t = process.hrtime.bigint()
      await computeWalk(store, contract, randomBytes(32), 1024)
      times.push(Number(process.hrtime.bigint() - t) / 1e6)
    }
    times.sort((x, y) => x - y)
    const walkMs = times[Math.floor(runs / 2)]
    console.log(`\nHonest hoster: a 1024-step walk over ${walkChunks} chunks in files (${walkChunks * 64 / 1024} MiB, page cache warm), wall time: median ${walkMs.toFixed(0)} ms of ${runs} (${times.map((x) => x.toFixed(0)).join(', ')})`)
    return { median: walkMs, fastest: times[0] }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The doc's figure for today's honest encoder before the WebAssembly kernel: JavaScript, v1, 2 rounds. */
const DOC_TODAY_JS_MIN = 9.0

/**
 * docs/protocol.md section 5: what a cheater that keeps only the plain copy can drop. It must
 * re-encode a fraction a of the K walk steps within the deadline T after the honest walk:
 * a <= (T - t_walk) / (K x L_C(R)), L_C its latency per re-encoded block at C speed (v2 rounds
 * do not overlap). The honest encoder's cost per GiB: 16384 blocks x the pair cost per block.
 */
function implications (kernels: { v2: V2Kernels[], v1: V1Kernels[] }, e2e: ReturnType<typeof endToEnd>, walk: { median: number, fastest: number }): void {
  const K = 1024
  const T = 2000
  const walkMs = walk.median
  const slack = Math.max(0, T - walkMs)
  // the fastest honest walk of the run leaves the cheater the most slack: its bound is the one to quote
  const slackFast = Math.max(0, T - walk.fastest)
  const perGiB = (ms: number): number => 16384 * ms / 60000
  const today = perGiB(e2e.todayWasm.msPerBlock)
  console.log(`\nWhat this means (K = ${K} steps, deadline T = ${T} ms, honest walk median ${walkMs.toFixed(0)} ms (fastest ${walk.fastest.toFixed(0)}), so T - t_walk = ${slack.toFixed(0)} ms (${slackFast.toFixed(0)});` +
    ` today = v1 at 2 rounds: ${today.toFixed(2)} min of a core per GiB in WASM, ${perGiB(e2e.todayJs.msPerBlock).toFixed(1)} min in JS this run, ${DOC_TODAY_JS_MIN} min in the doc):`)
  for (const k of kernels.v2) {
    const e = e2e.v2.find((x) => x.rounds === k.rounds)
    const bound = k.c
      ? `cheater at C speed drops <= ${(100 * slack / (K * k.c.msPerBlock)).toFixed(1)}% (${(100 * slackFast / (K * k.c.msPerBlock)).toFixed(1)}% against the fastest walk; L_C = ${k.c.msPerBlock.toFixed(2)} ms)`
      : 'no C figure'
    const cost = e ? perGiB(e.pair.msPerBlock) : NaN
    console.log(`v2, R = ${String(k.rounds).padStart(2)}: ${bound}; honest encoder ${cost.toFixed(2)} min per GiB (pairs), ${(cost / today).toFixed(2)}x v1 WASM today,` +
      ` ${(cost / DOC_TODAY_JS_MIN).toFixed(2)}x the doc's ${DOC_TODAY_JS_MIN} min; attestor's 8 openings ${e ? (8 * e.dec.msPerBlock).toFixed(1) : '?'} ms`)
  }
  for (const k of kernels.v1) {
    if (k.cWave) console.log(`v1, R = ${String(k.rounds).padStart(2)}: rounds pipeline, one-core C ${k.cWave.msPerBlock.toFixed(2)} ms per block -> drops <= ${(100 * slack / (K * k.cWave.msPerBlock)).toFixed(1)}%`)
  }
}

async function main (): Promise<void> {
  const seconds = Number(arg('--seconds', '1.5'))
  const roundsList = arg('--rounds', '1,2,4,8,16').split(',').map(Number)
  const blocks = makeBlocks(8)
  console.log(`node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), blocks of ${BLOCK_BYTES} bytes, ${seconds} s per figure`)
  const blake = baselines(blocks, seconds)
  const kernels = await kernelFigures(roundsList, seconds)
  const e2e = endToEnd(roundsList, blocks, seconds, blake)
  const workers = Math.min(2, availableParallelism())
  const pairAtDefault = e2e.v2.find((x) => x.rounds === DEFAULT_ROUNDS)?.pair
  if (pairAtDefault) {
    const total = await parallelEncode(DEFAULT_ROUNDS, seconds, workers, 'wasm')
    console.log(`\nv2 encode in pairs, ${DEFAULT_ROUNDS} rounds, ${workers} worker threads: ${(total / MiB).toFixed(1)} MiB/s wall time (one core: ${(pairAtDefault.bytesPerSec / MiB).toFixed(1)} MiB/s of CPU time)`)
  }
  const walk = await honestWalk(blocks)
  implications(kernels, e2e, walk)
}

if (isMainThread) {
  main().catch((err) => { console.error(err); process.exitCode = 1 })
} else {
  workerMain().catch((err) => { console.error(err); process.exitCode = 1 })
}
