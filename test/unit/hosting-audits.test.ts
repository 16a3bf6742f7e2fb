/**
 * Audits of aggregated passes, the pure parts and the wire (main/hosting/audits.ts,
 * epoch-leaves.ts merklePath / rootOfPath, the `leaves` message of wire.ts): an attestor serves a
 * leaf of a kept aggregate part with its merkle path; the auditor accepts it only when the path
 * reaches the root the chain kept, at the sampled position, and the leaf is the sampled check.
 * Every hostile answer (a wrong or truncated path, another leaf, another tree size, an unknown
 * part, bytes that do not decode) is refused with its reason.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import b4a from 'b4a'
import c from 'compact-encoding'
import Protomux from 'protomux'
import type { Duplex } from 'streamx'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { DatdotError } from '../../main/shared/errors.js'
import { HostingStore } from '../../main/hosting/store.js'
import { EpochLeaves, leafHash, merklePath, merkleRoot, rootOfPath, type Leaf } from '../../main/hosting/epoch-leaves.js'
import { checkLeafProofs, serveLeaves, AUDIT_FAILURE } from '../../main/hosting/audits.js'
import { HostingChannel, PROTOCOL, type WireHandlers } from '../../main/hosting/wire.js'
import { decodeExact, leafProofsMessage, MAX_AUDIT_POSITIONS, type LeafProofsMessage } from '../../main/hosting/messages.js'
import type { AuditSample, EpochCheck } from '../../main/chain/market-types.js'
import { buildEpochReport, passIds } from '../../main/hosting/epoch-aggregator.js'
import { streamPair } from '../helpers/stream-pair.js'

const dirs: string[] = []
const dbs: Db[] = []
const streams: Duplex[] = []
afterEach(() => {
  for (const s of streams.splice(0)) s.destroy()
  for (const db of dbs.splice(0)) db.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function leavesDb (): EpochLeaves {
  const dir = mkdtempSync(join(tmpdir(), 'datdot-audits-'))
  dirs.push(dir)
  const db = openDatabase(join(dir, 'node.sqlite'))
  dbs.push(db)
  expect(new HostingStore(db, { now: () => 0, proofsKept: 10 })).toBeDefined()
  return new EpochLeaves(db, { epochsKept: 8 })
}

const EPOCH = 7
const storageLeaf = (challengeId: number): Leaf => ({ epoch: EPOCH, challengeId, kind: 'storage', slot: challengeId % 3, evidenceHex: b4a.toString(randomBytes(32), 'hex'), units: null, ttfbMs: null, throughputBps: null })
const perfLeaf = (challengeId: number): Leaf => ({ epoch: EPOCH, challengeId, kind: 'performance', slot: 1, evidenceHex: 'ef'.repeat(32), units: 20, ttfbMs: 40, throughputBps: 5_000_000 })

/** An attestor's part of epoch EPOCH from check 0 (leaves 100.., every third a performance pass), kept as the aggregator keeps it, and its root. */
function keptPart (n: number): { leaves: EpochLeaves, part: Leaf[], rootHex: string } {
  const leaves = leavesDb()
  const part = Array.from({ length: n }, (_, i) => (i % 3 === 2 ? perfLeaf : storageLeaf)(100 + i))
  for (const l of part) leaves.add(l)
  leaves.keepPart(EPOCH, 0, part.map((l) => l.challengeId))
  return { leaves, part, rootHex: b4a.toString(merkleRoot(part.map(leafHash)), 'hex') }
}

function sampleOf (part: Leaf[], rootHex: string, position: number): AuditSample {
  const l = part[position]
  return { epoch: EPOCH, attestor: 'a', from: 0, position, leaves: part.length, rootHex, challengeId: l.challengeId, contractId: 1, slot: l.slot, hoster: 'h', issuedAt: 10, at: 30, recheck: 40, until: 90 }
}

function reasonOf (fn: () => unknown): string | undefined {
  try { fn() } catch (err) { return (err as DatdotError).details?.reason as string | undefined }
  return 'accepted'
}

describe('merkle paths of aggregate leaves', () => {
  it('reaches the root of the attestor\'s aggregate from every leaf of every tree size, odd levels carried up', () => {
    for (let n = 1; n <= 33; n++) {
      const hashes = Array.from({ length: n }, () => randomBytes(32))
      const root = merkleRoot(hashes)
      for (let i = 0; i < n; i++) expect(rootOfPath(hashes[i], i, n, merklePath(hashes, i))?.equals(root)).toBe(true)
    }
  })

  it('does not reach the root with a changed node, a truncated or longer path, another position, another tree size or another leaf', () => {
    const hashes = Array.from({ length: 11 }, () => randomBytes(32))
    const root = merkleRoot(hashes)
    const path = merklePath(hashes, 6)
    const reaches = (leaf: Buffer, i: number, n: number, p: Buffer[]): boolean => rootOfPath(leaf, i, n, p)?.equals(root) === true
    expect(reaches(hashes[6], 6, 11, path)).toBe(true)
    const changed = path.map((h, k) => (k === 1 ? randomBytes(32) : h))
    expect(reaches(hashes[6], 6, 11, changed)).toBe(false)
    expect(rootOfPath(hashes[6], 6, 11, path.slice(0, -1))).toBeNull()
    expect(rootOfPath(hashes[6], 6, 11, [...path, randomBytes(32)])).toBeNull()
    expect(reaches(hashes[6], 7, 11, path)).toBe(false)
    // (the root does not commit to the tree size: the auditor takes it from the chain, which counts the aggregate's passes)
    expect(reaches(hashes[6], 6, 7, path)).toBe(false)
    expect(reaches(hashes[5], 6, 11, path)).toBe(false)
    expect(rootOfPath(hashes[6], 11, 11, path)).toBeNull()
    expect(rootOfPath(hashes[6], -1, 11, path)).toBeNull()
    expect(() => merklePath(hashes, 11)).toThrow(/not in a tree of 11/)
  })
})

describe('an attestor serves leaves of its kept aggregates and the auditor checks them against the root on chain', () => {
  it('accepts the sampled leaf of an honest attestor, storage passes at any position', () => {
    const { leaves, part, rootHex } = keptPart(10)
    for (const position of [0, 1, 3, 9]) {
      const reply = serveLeaves(leaves, { epoch: EPOCH, from: 0, positions: [position] })
      expect(reply.total).toBe(10)
      const leaf = checkLeafProofs(sampleOf(part, rootHex, position), reply)
      expect(leaf.challengeId).toBe(100 + position)
      expect(b4a.toString(leaf.evidence, 'hex')).toBe(part[position].evidenceHex)
    }
  })

  it('refuses a wrong path, a truncated one, another leaf at the position, another tree size, extra leaves and another leaf kind, each with its reason', () => {
    const { leaves, part, rootHex } = keptPart(10)
    const sample = sampleOf(part, rootHex, 4)
    const honest = serveLeaves(leaves, { epoch: EPOCH, from: 0, positions: [4] })
    const [p] = honest.leaves
    const withLeaf = (over: Partial<typeof p>, total = honest.total): Pick<LeafProofsMessage, 'total' | 'leaves'> => ({ total, leaves: [{ ...p, ...over }] })
    expect(reasonOf(() => checkLeafProofs(sample, honest))).toBe('accepted')
    expect(reasonOf(() => checkLeafProofs(sample, withLeaf({ path: p.path.map((h, k) => (k === 0 ? randomBytes(32) : h)) })))).toBe(AUDIT_FAILURE.BAD_PATH)
    expect(reasonOf(() => checkLeafProofs(sample, withLeaf({ path: p.path.slice(1) })))).toBe(AUDIT_FAILURE.BAD_PATH)
    expect(reasonOf(() => checkLeafProofs(sample, withLeaf({ evidence: randomBytes(32) })))).toBe(AUDIT_FAILURE.BAD_PATH)
    expect(reasonOf(() => checkLeafProofs(sample, withLeaf({}, 11)))).toBe(AUDIT_FAILURE.BAD_PATH)
    expect(reasonOf(() => checkLeafProofs(sample, withLeaf({ kind: 7 })))).toBe(AUDIT_FAILURE.BAD_PATH)
    expect(reasonOf(() => checkLeafProofs(sample, { total: 10, leaves: [p, p] }))).toBe(AUDIT_FAILURE.BAD_PATH)
    expect(reasonOf(() => checkLeafProofs(sample, { total: 10, leaves: [] }))).toBe(AUDIT_FAILURE.BAD_PATH)
    // a leaf that is in the tree, but at another position, does not reach the root from the sampled one
    const other = serveLeaves(leaves, { epoch: EPOCH, from: 0, positions: [3] })
    expect(reasonOf(() => checkLeafProofs(sample, { total: 10, leaves: [{ ...other.leaves[0], position: 4 }] }))).toBe(AUDIT_FAILURE.BAD_PATH)
    // a genuine leaf of the tree that is not the sampled check (the chain sampled another)
    expect(reasonOf(() => checkLeafProofs({ ...sample, challengeId: 999 }, honest))).toBe(AUDIT_FAILURE.WRONG_LEAF)
    expect(reasonOf(() => checkLeafProofs({ ...sample, slot: 99 }, honest))).toBe(AUDIT_FAILURE.WRONG_LEAF)
    // a performance pass sampled as a storage one
    const perf = serveLeaves(leaves, { epoch: EPOCH, from: 0, positions: [5] })
    expect(reasonOf(() => checkLeafProofs({ ...sampleOf(part, rootHex, 5) }, perf))).toBe(AUDIT_FAILURE.WRONG_LEAF)
  })

  it('keeps the leaves a built aggregate\'s root is over, failed checks left out, so that every leaf served reaches that root', () => {
    const leaves = leavesDb()
    const hoster = '0x' + 'aa'.repeat(32)
    // ten checks of the epoch; 3 and 7 have no leaf (not passed), 5 is a performance pass
    const checks: EpochCheck[] = Array.from({ length: 10 }, (_, i) => [200 + i, 1, i === 5 ? 1 : 0, hoster])
    for (const [id, , perf] of checks) {
      if (id === 203 || id === 207) continue
      leaves.add(perf === 1 ? perfLeaf(id) : storageLeaf(id))
    }
    const rec = buildEpochReport(EPOCH, checks, 0, leaves.ofEpoch(EPOCH))
    expect(rec.failed).toEqual([3, 7])
    leaves.keepPart(EPOCH, rec.from, passIds(checks, rec))
    const part = leaves.part(EPOCH, 0) as Leaf[]
    expect(part.map((l) => l.challengeId)).toEqual([200, 201, 202, 204, 205, 206, 208, 209])
    for (let position = 0; position < part.length; position++) {
      const reply = serveLeaves(leaves, { epoch: EPOCH, from: 0, positions: [position] })
      const sample = { ...sampleOf(part, rec.rootHex, position) }
      if (part[position].kind === 'storage') expect(checkLeafProofs(sample, reply).challengeId).toBe(part[position].challengeId)
      else expect(reasonOf(() => checkLeafProofs(sample, reply))).toBe(AUDIT_FAILURE.WRONG_LEAF)
    }
  })

  it('answers NOT_FOUND for a part it did not keep or forgot, and refuses a position past its tree', () => {
    const { leaves } = keptPart(4)
    expect(() => serveLeaves(leaves, { epoch: EPOCH + 1, from: 0, positions: [0] })).toThrow(/aggregate of epoch 8 from check 0/)
    expect(() => serveLeaves(leaves, { epoch: EPOCH, from: 5, positions: [0] })).toThrow(DatdotError)
    expect(() => serveLeaves(leaves, { epoch: EPOCH, from: 0, positions: [4] })).toThrow(/the part has 4/)
    leaves.prune(EPOCH + 9)
    expect(leaves.part(EPOCH, 0)).toBeNull()
  })

  it('never accepts a changed answer: changed, cut or lengthened bytes do not decode, or decode to a leaf the root refuses', () => {
    const { leaves, part, rootHex } = keptPart(6)
    const sample = sampleOf(part, rootHex, 1)
    const honest = c.encode(leafProofsMessage, { requestId: 1, ...serveLeaves(leaves, { epoch: EPOCH, from: 0, positions: [1] }) })
    let decoded = 0
    for (let i = 0; i < 3000; i++) {
      const bytes = b4a.from(honest)
      // (byte 0 is the request id, which the channel matches, not the audit)
      const at = 1 + (i % (bytes.length - 1))
      const cut = i % 3 === 1 ? bytes.subarray(0, at) : i % 3 === 2 ? b4a.concat([bytes, randomBytes(1 + (i % 40))]) : bytes
      if (i % 3 === 0) bytes[at] ^= 1 + (i % 255)
      let msg: LeafProofsMessage
      try { msg = decodeExact(leafProofsMessage, cut, 'leaf-proofs') } catch (err) { expect((err as DatdotError).code).toBe('PROTOCOL_ERROR'); continue }
      decoded++
      expect(reasonOf(() => checkLeafProofs(sample, msg))).toMatch(/^(BAD_PATH|WRONG_LEAF)$/)
    }
    expect(decoded).toBeGreaterThan(0)
  })
})

describe('the leaves message on the hosting channel', () => {
  async function connected (b: WireHandlers): Promise<[HostingChannel, HostingChannel]> {
    const [sa, sb] = streamPair()
    streams.push(sa, sb)
    const ca = new HostingChannel(sa, {})
    const cb = new HostingChannel(sb, b)
    await Promise.all([ca.ready(), cb.ready()])
    return [ca, cb]
  }

  it('carries an attestor\'s leaves and paths to the auditor, and its NOT_FOUND for an unknown epoch', async () => {
    const { leaves, part, rootHex } = keptPart(9)
    const [auditor] = await connected({ onleaves: async (msg) => serveLeaves(leaves, msg) })
    const answer = await auditor.leaves(EPOCH, 0, [6])
    expect(checkLeafProofs(sampleOf(part, rootHex, 6), answer.value).challengeId).toBe(106)
    const err = await auditor.leaves(EPOCH + 3, 0, [0]).then(() => null, (e: DatdotError) => e)
    expect(err?.code).toBe('NOT_FOUND')
    expect(err?.details?.remote).toBe(true)
    expect(auditor.closed).toBe(false)
  })

  it('refuses to ask for no position or more than the limit, and a peer without aggregates answers FORBIDDEN', async () => {
    const [auditor] = await connected({})
    await expect(auditor.leaves(EPOCH, 0, [])).rejects.toThrow(/positions must be 1 to 16/)
    await expect(auditor.leaves(EPOCH, 0, Array.from({ length: MAX_AUDIT_POSITIONS + 1 }, (_, i) => i))).rejects.toThrow(/positions must be 1 to 16/)
    await expect(auditor.leaves(EPOCH, 0, [0])).rejects.toMatchObject({ code: 'FORBIDDEN' })
  })

  it('cuts off a peer that asks for more positions than the limit or answers with a path over its limit', async () => {
    // a raw peer: the protocol's framing, any bytes
    for (const [type, body] of [
      [9, leavesBytes(MAX_AUDIT_POSITIONS + 1)],
      [10, proofsBytes(33)]
    ] as Array<[number, Buffer]>) {
      const [sa, sb] = streamPair()
      streams.push(sa, sb)
      const channel = new HostingChannel(sa, {})
      const raw = Protomux.from(sb).createChannel({ protocol: PROTOCOL })!
      const messages = Array.from({ length: 11 }, () => raw.addMessage<Buffer>({ encoding: c.raw }))
      raw.open()
      await channel.ready()
      const pending = type === 10 ? channel.leaves(1, 0, [0]).catch((e: DatdotError) => e) : null
      const closed = once(channel, 'close')
      messages[type].send(body)
      await closed
      expect(channel.counters.protocolErrors).toBe(1)
      if (pending !== null) expect((await pending as DatdotError).code).toBe('CLOSED')
    }
  })
})

/** The bytes of a `leaves` request (id 1, epoch 1, from 0) with `n` positions, written past the codec's limit. */
function leavesBytes (n: number): Buffer {
  return Buffer.concat([c.encode(c.uint, 1), c.encode(c.uint, 1), c.encode(c.uint, 0), c.encode(c.array(c.uint), Array.from({ length: n }, (_, i) => i))])
}

/** The bytes of a `leaf-proofs` answer to request 1 whose one leaf has a path of `n` nodes. */
function proofsBytes (n: number): Buffer {
  const head = c.encode(c.array(c.uint), [1, 1, 1, 0, 0, 0]).subarray(1) // requestId 1, total 1, one leaf: position 0, challengeId 0, kind 0
  const mid = Buffer.concat([c.encode(c.uint, 0), Buffer.alloc(32), c.encode(c.uint, 0), c.encode(c.uint, 0), c.encode(c.uint, 0)]) // slot, evidence, readings
  return Buffer.concat([head, mid, c.encode(c.uint, n), Buffer.alloc(32 * n)])
}
