/**
 * The C reference of the encoding kernel for bench/encoding.ts: copies bench/encoding-ref.c to
 * a temp dir, compiles it there with the machine's gcc (-O3 -march=native), runs it on the
 * inputs the bench gives the JavaScript and WebAssembly kernels, and returns its timing and its
 * outputs so the bench can check they are equal. No gcc: compile() says why and the bench skips.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One kernel input: n words of block (zero-padded) and the keystream for `rounds`. */
export interface KernelInput { block: Uint8Array, ks: Uint8Array }

export interface RefRun { msPerBlock: number, outputs: Buffer[] }

export const GCC_FLAGS = ['-O3', '-march=native']

/** bench/encoding-ref.c, from bench/ (sources) or dist/bench/ (compiled bench). */
function sourcePath (): string | null {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const p of [join(here, 'encoding-ref.c'), join(here, '..', '..', 'bench', 'encoding-ref.c')]) {
    if (existsSync(p)) return p
  }
  return null
}

/** Compiles the reference into `dir`; returns the binary's path, or the reason it cannot. */
export function compileRef (dir: string): { bin: string, compiler: string } | { skip: string } {
  const src = sourcePath()
  if (!src) return { skip: 'bench/encoding-ref.c not found' }
  const version = spawnSync('gcc', ['--version'], { encoding: 'utf8' })
  if (version.error || version.status !== 0) return { skip: 'gcc not found on this machine' }
  const c = join(dir, 'encoding-ref.c')
  const bin = join(dir, 'encoding-ref')
  copyFileSync(src, c)
  const r = spawnSync('gcc', [...GCC_FLAGS, '-o', bin, c], { encoding: 'utf8' })
  if (r.status !== 0) return { skip: `gcc failed: ${r.stderr.trim().split('\n')[0]}` }
  return { bin, compiler: `${version.stdout.split('\n')[0]} ${GCC_FLAGS.join(' ')}` }
}

/** C modes: 'v2' = cube-cbc-v2 (the cheater's latency); v1 'plain' round after round, 'wave' rounds interleaved. */
export type RefMode = 'v2' | 'plain' | 'wave'

/** Runs the reference over `inputs` round robin for `seconds` in `mode`. */
export function runRef (bin: string, dir: string, n: number, rounds: number, inputs: KernelInput[], seconds: number, mode: RefMode): RefRun {
  const hdr = Buffer.alloc(12)
  hdr.writeUInt32LE(n, 0)
  hdr.writeUInt32LE(rounds, 4)
  hdr.writeUInt32LE(inputs.length, 8)
  const input = join(dir, `in-${rounds}.bin`)
  const output = join(dir, `out-${rounds}-${mode}.bin`)
  writeFileSync(input, Buffer.concat([hdr, ...inputs.flatMap((i) => [i.block, i.ks])]))
  const r = spawnSync(bin, [input, output, String(seconds), mode], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`C reference failed: ${r.stderr}`)
  const [blocks, secs] = r.stdout.trim().split(' ').map(Number)
  const all = readFileSync(output)
  const outputs = inputs.map((_, i) => all.subarray(4 * n * i, 4 * n * (i + 1)))
  return { msPerBlock: (secs * 1000) / blocks, outputs }
}
