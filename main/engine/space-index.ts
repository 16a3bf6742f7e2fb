/**
 * The list of a vault's spaces, kept where a restore can find it: an append-only Hypercore in the
 * vault's Corestore, encrypted with a key derived from the primary key (space-keys.ts), so only
 * the phrase's holder reads it while anyone may keep a copy (a seeder hosting a plan of one of
 * the spaces keeps it too: see main/hosting/sponsor.ts). Each block is one JSON operation:
 *   { v: 1, op: 'put', space: SpaceRecord }   a space created, renamed, or its visibility changed
 *   { v: 1, op: 'del', id }                   a space deleted
 * The state is the replay of every block. A block that does not parse is skipped and counted
 * (`badBlocks`), never fatal: the index is ours, but a restore must survive a damaged copy.
 *
 * On a restore the core is empty here: its blocks come from peers; until the whole index is
 * here (`complete`), nothing may be appended (it would fork the index).
 */
import { EventEmitter } from 'node:events'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { DatdotError } from '../shared/errors.js'
import { SPACE_ID_RE, indexKey } from './space-keys.js'

export type Visibility = 'private' | 'shared' | 'public'
export const VISIBILITIES: readonly Visibility[] = ['private', 'shared', 'public']

export interface SpaceRecord {
  id: string
  name: string
  visibility: Visibility
  createdMs: number
  /**
   * Set once the space's drive has a block: a restore waits for the blocks of such a space only.
   * A space never written has none to fetch, and nothing would tell it complete otherwise.
   */
  written?: boolean
  /** What the space holds: files (absent), an app's code ('app') or an app's data ('app-data'). See apps.ts. */
  kind?: SpaceKind
  /** An 'app-data' space: the link of its app's code drive (with #key= when encrypted), so a restore can reopen the app. */
  app?: string
  /** An 'app-data' space: its app's name when the space was made (the Vault labels it "App data: <name>"). */
  appName?: string
  /** An 'app' space made by "Edit a copy": the link of the app it was forked from. */
  forkedFrom?: string
}

export type SpaceKind = 'app' | 'app-data'
const KINDS: readonly string[] = ['app', 'app-data']

type IndexOp = { v: 1, op: 'put', space: SpaceRecord } | { v: 1, op: 'del', id: string }

/** At most this many spaces in a vault (and so in the index's state). */
export const MAX_SPACES = 256
/** The longest space name, in characters. */
export const SPACE_NAME_CHARS = 64

function asRecord (x: unknown): SpaceRecord | null {
  if (typeof x !== 'object' || x === null) return null
  const r = x as Record<string, unknown>
  if (typeof r.id !== 'string' || !SPACE_ID_RE.test(r.id)) return null
  if (typeof r.name !== 'string' || r.name.length === 0 || r.name.length > SPACE_NAME_CHARS) return null
  if (!VISIBILITIES.includes(r.visibility as Visibility)) return null
  if (typeof r.createdMs !== 'number' || !Number.isFinite(r.createdMs)) return null
  const out: SpaceRecord = { id: r.id, name: r.name, visibility: r.visibility as Visibility, createdMs: r.createdMs }
  if (r.written === true) out.written = true
  if (typeof r.kind === 'string' && KINDS.includes(r.kind)) out.kind = r.kind as SpaceKind
  for (const f of ['app', 'appName', 'forkedFrom'] as const) {
    const v = r[f]
    if (typeof v === 'string' && v.length > 0 && v.length <= 8192) out[f] = v
  }
  return out
}

function decode (block: Uint8Array | null): unknown {
  if (block === null || block.length > 64 * 1024) return null
  try {
    return JSON.parse(Buffer.from(block).toString('utf8'))
  } catch {
    return null
  }
}

/** One block of the index, or null when it is not a well-formed operation. */
export function parseIndexOp (block: unknown): IndexOp | null {
  if (typeof block !== 'object' || block === null) return null
  const b = block as Record<string, unknown>
  if (b.v !== 1) return null
  if (b.op === 'put') {
    const space = asRecord(b.space)
    return space === null ? null : { v: 1, op: 'put', space }
  }
  if (b.op === 'del' && typeof b.id === 'string' && SPACE_ID_RE.test(b.id)) return { v: 1, op: 'del', id: b.id }
  return null
}

export class SpaceIndex extends EventEmitter {
  readonly core: Hypercore
  private readonly state = new Map<string, SpaceRecord>()
  /** Blocks replayed so far (the index's state is that of this length). */
  private applied = 0
  badBlocks = 0
  private readonly onGrow = (): void => { this.catchUp().catch((err: unknown) => { this.emit('error', err) }) }
  private catching: Promise<void> | null = null

  constructor (store: Corestore, primaryKey: Uint8Array) {
    super()
    this.core = store.namespace('datdot/spaces').get({ name: 'index', encryptionKey: indexKey(primaryKey) })
  }

  async ready (): Promise<void> {
    await this.core.ready()
    await this.catchUp()
    this.core.on('append', this.onGrow)
    this.core.on('download', this.onGrow)
  }

  async close (): Promise<void> {
    this.core.off('append', this.onGrow)
    this.core.off('download', this.onGrow)
    await this.catching?.catch(() => {})
    await this.core.close()
  }

  get key (): Buffer {
    return this.core.key as Buffer
  }

  get discoveryKey (): Buffer {
    return this.core.discoveryKey as Buffer
  }

  /** Every block known is here and replayed (on a restore: at least one block arrived). */
  get complete (): boolean {
    return this.core.length > 0 && this.applied === this.core.length
  }

  records (): SpaceRecord[] {
    return [...this.state.values()]
  }

  get (id: string): SpaceRecord | undefined {
    return this.state.get(id)
  }

  async put (space: SpaceRecord): Promise<void> {
    await this.append({ v: 1, op: 'put', space })
  }

  async delete (id: string): Promise<void> {
    await this.append({ v: 1, op: 'del', id })
  }

  private async append (op: IndexOp): Promise<void> {
    if (this.core.length > 0 && !this.complete) throw DatdotError.forbidden('the list of spaces is still being restored from peers: wait for it before changing spaces')
    await this.core.append(Buffer.from(JSON.stringify(op)))
    await this.catchUp()
  }

  /** Replays the contiguous blocks not applied yet; emits 'changed' with the ids touched. */
  private async catchUp (): Promise<void> {
    while (this.catching !== null) await this.catching.catch(() => {})
    if (this.applied >= this.core.contiguousLength) return
    const run = this.replay()
    this.catching = run
    try {
      await run
    } finally {
      this.catching = null
    }
  }

  /** Emits 'changed' with the ids touched (maybe none: blocks that were skipped still move `complete`). */
  private async replay (): Promise<void> {
    const touched = new Set<string>()
    while (this.applied < this.core.contiguousLength) {
      const op = parseIndexOp(decode(await this.core.get(this.applied, { wait: false }).catch(() => null)))
      this.applied++
      if (op === null) { this.badBlocks++; continue }
      if (op.op === 'put') {
        this.state.set(op.space.id, op.space)
        touched.add(op.space.id)
      } else {
        this.state.delete(op.id)
        touched.add(op.id)
      }
    }
    this.emit('changed', [...touched])
  }
}
