/**
 * Searching a storage folder for plaintext: every file under a folder, read raw, and the ones
 * whose bytes hold a marker (what blind-seeding tests look for in a seeder's folder).
 */
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'

/** Every file under `dir`, recursively, as raw bytes. */
export async function filesUnder (dir: string): Promise<Array<{ path: string, bytes: Buffer }>> {
  const out: Array<{ path: string, bytes: Buffer }> = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...await filesUnder(p))
    else if (e.isFile()) out.push({ path: p, bytes: await readFile(p) })
  }
  return out
}

/** The files under `dir` whose raw bytes contain `needle` (the folder must hold files). */
export async function filesHolding (dir: string, needle: string): Promise<string[]> {
  const files = await filesUnder(dir)
  expect(files.length).toBeGreaterThan(0)
  return files.filter((f) => f.bytes.includes(Buffer.from(needle))).map((f) => f.path)
}
