/**
 * Where a hoster keeps its encoded chunks: one file per chunk under
 * `<dir>/<coreKey hex>/<index>.chunk`, a compact-encoded StoredChunk, written atomically
 * (temp file + rename). A memory store with the same interface serves tests and attestors.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import c from 'compact-encoding'
import b4a from 'b4a'
import { DatdotError } from '../shared/errors.js'
import { storedChunk, decodeExact, type StoredChunk } from './messages.js'
import type { ChunkSource } from './proof.js'

export interface ChunkStore extends ChunkSource {
  putChunk (coreKey: Uint8Array, chunk: StoredChunk): Promise<void>
  deleteChunk (coreKey: Uint8Array, index: number): Promise<boolean>
}

export interface ChunkStoreOptions {
  /** Most chunks the store accepts (each up to ~1 MiB); default 1 048 576. */
  maxChunks?: number
}

function keyHex (coreKey: Uint8Array): string {
  if (coreKey.byteLength !== 32) throw DatdotError.invalidArgument('coreKey must be 32 bytes')
  return b4a.toString(coreKey, 'hex')
}

/** The chunk's bytes; a chunk that does not encode (wrong field sizes, bad numbers) is INVALID_ARGUMENT. */
function encodeChunk (ch: StoredChunk): Buffer {
  try {
    return c.encode(storedChunk, ch)
  } catch (err) {
    if (err instanceof DatdotError) throw err
    throw DatdotError.invalidArgument(`chunk ${ch.index} does not encode: ${(err as Error).message}`)
  }
}

function copyChunk (ch: StoredChunk): StoredChunk {
  // decoded buffers point into a larger message; keep only what is ours
  return c.decode(storedChunk, encodeChunk(ch))
}

export class MemoryChunkStore implements ChunkStore {
  readonly maxChunks: number
  private readonly chunks = new Map<string, StoredChunk>()

  constructor (opts: ChunkStoreOptions = {}) {
    this.maxChunks = opts.maxChunks ?? 1024 * 1024
  }

  get size (): number { return this.chunks.size }

  async getChunk (coreKey: Uint8Array, index: number): Promise<StoredChunk | null> {
    return this.chunks.get(keyHex(coreKey) + '/' + index) ?? null
  }

  async putChunk (coreKey: Uint8Array, chunk: StoredChunk): Promise<void> {
    const k = keyHex(coreKey) + '/' + chunk.index
    if (!this.chunks.has(k) && this.chunks.size >= this.maxChunks) throw DatdotError.limitReached('stored chunks', this.maxChunks)
    this.chunks.set(k, copyChunk(chunk))
  }

  async deleteChunk (coreKey: Uint8Array, index: number): Promise<boolean> {
    return this.chunks.delete(keyHex(coreKey) + '/' + index)
  }
}

export class FileChunkStore implements ChunkStore {
  readonly dir: string
  readonly maxChunks: number
  /** Chunks written by this instance (the limit applies per process lifetime of the store). */
  private count = 0
  private tmpCounter = 0

  constructor (dir: string, opts: ChunkStoreOptions = {}) {
    this.dir = dir
    this.maxChunks = opts.maxChunks ?? 1024 * 1024
  }

  private file (coreKey: Uint8Array, index: number): string {
    if (!Number.isSafeInteger(index) || index < 0) throw DatdotError.invalidArgument('index must be a non-negative integer')
    return join(this.dir, keyHex(coreKey), `${index}.chunk`)
  }

  async getChunk (coreKey: Uint8Array, index: number): Promise<StoredChunk | null> {
    let buf: Buffer
    try {
      buf = await readFile(this.file(coreKey, index))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw DatdotError.from(err)
    }
    let chunk: StoredChunk
    try {
      chunk = decodeExact(storedChunk, buf, 'stored chunk')
    } catch (err) {
      throw DatdotError.corrupt(`stored chunk ${index}`, err)
    }
    if (chunk.index !== index) throw DatdotError.corrupt(`stored chunk ${index} holds block ${chunk.index}`)
    return chunk
  }

  async putChunk (coreKey: Uint8Array, chunk: StoredChunk): Promise<void> {
    const file = this.file(coreKey, chunk.index)
    const bytes = encodeChunk(chunk)
    const exists = await stat(file).then(() => true, () => false)
    if (!exists && this.count >= this.maxChunks) throw DatdotError.limitReached('stored chunks', this.maxChunks)
    await mkdir(join(this.dir, keyHex(coreKey)), { recursive: true })
    const tmp = `${file}.${process.pid}.${this.tmpCounter++}.tmp`
    try {
      await writeFile(tmp, bytes)
      await rename(tmp, file)
    } catch (err) {
      // the old file, if any, is untouched; leave no half-written temp file behind
      await rm(tmp, { force: true })
      throw DatdotError.from(err)
    }
    if (!exists) this.count++
  }

  async deleteChunk (coreKey: Uint8Array, index: number): Promise<boolean> {
    const file = this.file(coreKey, index)
    try {
      await rm(file)
      this.count = Math.max(0, this.count - 1)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw DatdotError.from(err)
    }
  }
}
