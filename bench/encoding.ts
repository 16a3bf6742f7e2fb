/**
 * Cost of the unique per-hoster encoding (main/hosting/encoding.ts), against baselines
 * measured in the same run on the same machine: BLAKE2b (hypercore-crypto), SHA-256 and
 * chacha20 (node:crypto) over the same 64 KiB blocks.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/encoding.js
 *
 * Prints figures and ratios, never pass/fail. Options: --seconds N (time per figure, default 1.5),
 * --rounds 1,2,4 (rounds to measure).
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import hcrypto from 'hypercore-crypto'
import { FileChunkStore } from '../main/hosting/chunk-store.js'
import { computeWalk, type ContractView } from '../main/hosting/proof.js'
import { encodeChunk, decodeChunk, DEFAULT_ROUNDS, type ChunkBinding } from '../main/hosting/encoding.js'

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

function makeBlocks (count: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < count; i++) out.push(randomBytes(BLOCK_BYTES))
  return out
}

function binding (i: number, hosterKey: Uint8Array, coreKey: Uint8Array): ChunkBinding {
  return { coreKey, index: i, hosterKey }
}

async function workerMain (): Promise<void> {
  const { rounds, seconds } = workerData as { rounds: number, seconds: number }
  const blocks = makeBlocks(8)
  const hosterKey = randomBytes(32)
  const coreKey = randomBytes(32)
  const f = measure('enc', seconds, (i) => { encodeChunk(blocks[i % 8], binding(i, hosterKey, coreKey), { rounds }) })
  parentPort?.postMessage(f)
}

function parallelEncode (rounds: number, seconds: number, workers: number): Promise<number> {
  const file = fileURLToPath(import.meta.url)
  const runs: Array<Promise<Figure>> = []
  for (let w = 0; w < workers; w++) {
    runs.push(new Promise((resolve, reject) => {
      const worker = new Worker(file, { workerData: { rounds, seconds } })
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

async function main (): Promise<void> {
  const seconds = Number(arg('--seconds', '1.5'))
  const roundsList = arg('--rounds', `1,${DEFAULT_ROUNDS},4`).split(',').map(Number)
  const blocks = makeBlocks(8)
  const hosterKey = randomBytes(32)
  const coreKey = randomBytes(32)
  console.log(`node ${process.version}, ${availableParallelism()} cores, blocks of ${BLOCK_BYTES} bytes, ${seconds} s per figure`)
  console.log('\nBaselines (one core):')
  const blake = measure('BLAKE2b-256 (hypercore-crypto)', seconds, (i) => { hcrypto.hash(blocks[i % 8]) })
  const sha = measure('SHA-256 (node:crypto)', seconds, (i) => { createHash('sha256').update(blocks[i % 8]).digest() })
  const key = randomBytes(32)
  const chacha = measure('chacha20 (node:crypto)', seconds, (i) => {
    createCipheriv('chacha20', key, Buffer.alloc(16, i & 0xff)).update(blocks[i % 8])
  })
  for (const f of [blake, sha, chacha]) console.log(fmt(f))

  console.log('\nUnique encoding cube-cbc-v1 (one core):')
  const perRounds: Array<{ rounds: number, enc: Figure, dec: Figure }> = []
  for (const rounds of roundsList) {
    const encoded = blocks.map((b, i) => encodeChunk(b, binding(i, hosterKey, coreKey), { rounds }))
    const enc = measure(`encode, ${rounds} round(s)`, seconds, (i) => { encodeChunk(blocks[i % 8], binding(i % 8, hosterKey, coreKey), { rounds }) })
    const dec = measure(`decode, ${rounds} round(s)`, seconds, (i) => { decodeChunk(encoded[i % 8], binding(i % 8, hosterKey, coreKey)) })
    console.log(fmt(enc, blake))
    console.log(fmt(dec, blake))
    console.log(`${''.padEnd(34)} encode/decode cost ratio ${(dec.bytesPerSec / enc.bytesPerSec).toFixed(1)}`)
    perRounds.push({ rounds, enc, dec })
  }

  const workers = Math.min(2, availableParallelism())
  console.log(`\nEncoding on ${workers} cores (worker threads):`)
  for (const { rounds, enc } of perRounds) {
    const total = await parallelEncode(rounds, seconds, workers)
    console.log(`encode, ${rounds} round(s), ${workers} workers`.padEnd(34) + ` ${(total / MiB).toFixed(1).padStart(8)} MiB/s  (${(total / enc.bytesPerSec).toFixed(2)}x one core)`)
  }

  // the honest hoster's side of a challenge: a 1024-step walk over chunks on disk
  const walkChunks = 512
  const dir = await mkdtemp(join(tmpdir(), 'datdot-bench-walk-'))
  let walkMs = 0
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
    walkMs = Number(process.hrtime.bigint() - t) / 1e6 / runs
    console.log(`\nHonest hoster: a 1024-step walk over ${walkChunks} chunks in files (${walkChunks * 64 / 1024} MiB, page cache warm): ${walkMs.toFixed(0)} ms`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }

  console.log('\nWhat this means for the protocol (figures above, JavaScript on this machine):')
  for (const { rounds, enc, dec } of perRounds) {
    const walk = 1024
    console.log(`rounds ${rounds}: re-encoding a ${walk}-step challenge walk on demand takes ${(walk * enc.msPerBlock / 1000).toFixed(1)} s sequential;` +
      ` verifying 8 opened chunks costs the attestor ${(8 * dec.msPerBlock).toFixed(1)} ms;` +
      ` encoding 1 GiB for one hoster takes ${(1024 * 16 * enc.msPerBlock / 1000 / 60).toFixed(1)} min of one core;` +
      ` sequential re-encoding / honest walk = ${(walk * enc.msPerBlock / walkMs).toFixed(0)}x`)
  }
}

if (isMainThread) {
  main().catch((err) => { console.error(err); process.exitCode = 1 })
} else {
  workerMain().catch((err) => { console.error(err); process.exitCode = 1 })
}
