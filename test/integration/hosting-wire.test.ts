import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import createTestnet, { type Testnet } from '@hyperswarm/testnet'
import Hyperswarm, { type SwarmConnection } from 'hyperswarm'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import hcrypto from 'hypercore-crypto'
import b4a from 'b4a'
import { captureSignedRoot, challengeSeed, walkStart, PROOF_FAILURE, type ContractView } from '../../main/hosting/proof.js'
import { MemoryChunkStore } from '../../main/hosting/chunk-store.js'
import { HostingChannel, type WireHandlers } from '../../main/hosting/wire.js'
import type { Timers } from '../../main/shared/timeout.js'
import { Hoster, Attestor, deliverContract, blameOf, verifySlotReceipt, receiptsRoot, type HostedContract } from '../../main/hosting/roles.js'
import { encodeBlockForHoster } from '../../main/hosting/encoder.js'
import { encodeChunk, signEncodedChunk, encodedChunkHash } from '../../main/hosting/encoding.js'
import type { DatdotError } from '../../main/shared/errors.js'

const BLOCKS = 24
const ROUNDS = 1

/** A clock the test moves by hand: "the hoster took 5 s" without waiting 5 s. */
class ManualClock {
  t = 1_000_000
  now = (): number => this.t
}

/** Resolves when `swarm` has a connection to `key`. */
function connectionTo (swarm: Hyperswarm, key: Buffer): Promise<SwarmConnection> {
  for (const conn of swarm.connections) if (b4a.equals(conn.remotePublicKey, key)) return Promise.resolve(conn)
  return new Promise((resolve) => {
    const on = (conn: SwarmConnection): void => {
      if (!b4a.equals(conn.remotePublicKey, key)) return
      swarm.off('connection', on)
      resolve(conn)
    }
    swarm.on('connection', on)
  })
}

describe('the hosting protocol over protomux on a loopback testnet', () => {
  let testnet: Testnet
  const dirs: string[] = []
  let authorStore: Corestore
  let core: Hypercore
  let contract: ContractView
  let hosted: HostedContract
  const swarms: Hyperswarm[] = []
  let encoderSwarm: Hyperswarm, attestorSwarm: Hyperswarm, hosterSwarm: Hyperswarm
  let hoster: Hoster
  let attestor: Attestor
  const clock = new ManualClock()
  // what the hoster side does on a challenge: honest, or wrapped by a test
  let hosterHandlers: WireHandlers
  let toHoster: HostingChannel // attestor -> hoster
  let toAttestor: HostingChannel // encoder -> attestor
  const encoderKeys = hcrypto.keyPair()

  beforeAll(async () => {
    testnet = await createTestnet(3, { host: '127.0.0.1' })
    dirs.push(await mkdtemp(join(tmpdir(), 'datdot-wire-')))
    authorStore = new Corestore(dirs[0])
    core = authorStore.get({ name: 'blobs' })
    await core.ready()
    for (let i = 0; i < BLOCKS; i++) await core.append(randomBytes(512 + 31 * i))
    const root = await captureSignedRoot(core)
    contract = { contractId: 42, root, start: 0, end: BLOCKS }
    hosted = { contract, encoderKey: encoderKeys.publicKey, rounds: ROUNDS }

    encoderSwarm = new Hyperswarm({ dht: testnet.createNode() })
    attestorSwarm = new Hyperswarm({ dht: testnet.createNode() })
    hosterSwarm = new Hyperswarm({ dht: testnet.createNode() })
    swarms.push(encoderSwarm, attestorSwarm, hosterSwarm)

    hoster = new Hoster({ keyPair: hosterSwarm.keyPair, store: new MemoryChunkStore(), contract: (id) => id === 42 ? hosted : null })
    hosterHandlers = hoster.handlers()
    const delegate: WireHandlers = {
      ondeliver: (m, ch) => hosterHandlers.ondeliver!(m, ch),
      onchallenge: (m, ch) => hosterHandlers.onchallenge!(m, ch),
      onopen: (m, ch) => hosterHandlers.onopen!(m, ch),
      onsettle: (m, ch) => hosterHandlers.onsettle!(m, ch)
    }
    hosterSwarm.on('connection', (conn: SwarmConnection) => { new HostingChannel(conn, delegate, { now: clock.now }) })

    attestor = new Attestor({
      keyPair: attestorSwarm.keyPair,
      route: (msg) => msg.contractId === 42 ? { hosted, hosterKey: hosterSwarm.keyPair.publicKey, hoster: toHoster } : null
    })
    const attestorChannels = new Map<string, HostingChannel>()
    attestorSwarm.on('connection', (conn: SwarmConnection) => {
      attestorChannels.set(b4a.toString(conn.remotePublicKey, 'hex'), attestor.attach(conn, { now: clock.now }))
    })
    encoderSwarm.on('connection', (conn: SwarmConnection) => {
      if (b4a.equals(conn.remotePublicKey, attestorSwarm.keyPair.publicKey)) toAttestor = new HostingChannel(conn, {}, { now: clock.now })
    })

    await attestorSwarm.listen()
    await hosterSwarm.listen()
    const attestorSeesHoster = connectionTo(attestorSwarm, hosterSwarm.keyPair.publicKey)
    const encoderSeesAttestor = connectionTo(encoderSwarm, attestorSwarm.keyPair.publicKey)
    attestorSwarm.joinPeer(hosterSwarm.keyPair.publicKey)
    encoderSwarm.joinPeer(attestorSwarm.keyPair.publicKey)
    await attestorSeesHoster
    await encoderSeesAttestor
    toHoster = attestorChannels.get(b4a.toString(hosterSwarm.keyPair.publicKey, 'hex'))!
    await toHoster.ready()
    await toAttestor.ready()
  })

  afterAll(async () => {
    for (const s of swarms) await s.destroy()
    await authorStore?.close()
    await testnet?.destroy()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('delivers a contract from the encoder through the attestor to the hoster, with receipts at each hop', async () => {
    const relayed: number[] = []
    attestor.on('relayed', (e: { index: number }) => relayed.push(e.index))
    const { delivered } = await deliverContract(core, contract, hosterSwarm.keyPair.publicKey, encoderKeys, toAttestor, {
      rounds: ROUNDS, attestorKey: attestorSwarm.keyPair.publicKey, timeoutMs: 10_000
    })
    expect(delivered).toBe(BLOCKS)
    expect(relayed.length).toBe(BLOCKS)
    expect(hoster.counters.stored).toBe(BLOCKS)
    expect(await hoster.store.getChunk(contract.root.coreKey, BLOCKS - 1)).not.toBeNull()
  })

  it('stops a wrong encoding at the attestor: the encoder gets PROOF_FAILED and the hoster never sees it', async () => {
    const stored = hoster.counters.stored
    const binding = { coreKey: contract.root.coreKey, index: 2, hosterKey: hosterSwarm.keyPair.publicKey }
    const good = await encodeBlockForHoster(core, contract, 2, hosterSwarm.keyPair.publicKey, encoderKeys, { rounds: ROUNDS })
    const wrong = encodeChunk(randomBytes(600), binding, { rounds: ROUNDS })
    const chunk = { ...good, encoded: wrong, encoderSignature: signEncodedChunk(binding, wrong, encoderKeys.secretKey) }
    const err = await toAttestor.deliver(42, contract.root.coreKey, chunk).catch((e: DatdotError) => e) as DatdotError
    expect(err.code).toBe('PROOF_FAILED')
    expect(err.details?.remote).toBe(true)
    expect(attestor.counters.badEncodings).toBe(1)
    expect(hoster.counters.stored).toBe(stored)
    // on the attestor's side the failure blames the encoder (its setup report says 'bad-encoding')
    const local = await attestor.handlers().ondeliver!({ requestId: 1, contractId: 42, coreKey: contract.root.coreKey, chunk }, toAttestor).catch((e: DatdotError) => e)
    expect(blameOf(local)).toBe('bad-encoding')
  })

  async function storedHashes (): Promise<Buffer[]> {
    const out: Buffer[] = []
    for (let i = 0; i < BLOCKS; i++) out.push(encodedChunkHash((await hoster.store.getChunk(contract.root.coreKey, i))!.encoded))
    return out
  }

  it('settles a slot: the hoster signs the receipts root of the chunks it stored and the attestor verifies the receipt', async () => {
    const hashes = await storedHashes()
    const { receiptsRoot: root, signature } = await attestor.settle(toHoster, { contract, hosterKey: hosterSwarm.keyPair.publicKey, encodedHashes: hashes })
    expect(root.equals(receiptsRoot(hashes))).toBe(true)
    expect(verifySlotReceipt(42, contract.root.coreKey, contract.root.length, root, signature, hosterSwarm.keyPair.publicKey)).toBe(true)
    expect(hoster.counters.settled).toBe(1)
  })

  it('refuses a receipts root that is not the one of its chunks, and one over a chunk it lacks: the hoster is blamed', async () => {
    const hashes = await storedHashes()
    hashes[3] = randomBytes(32)
    const wrong = await attestor.settle(toHoster, { contract, hosterKey: hosterSwarm.keyPair.publicKey, encodedHashes: hashes }).catch((e: DatdotError) => e) as DatdotError
    expect(wrong.details?.reason).toBe(PROOF_FAILURE.ROOT_MISMATCH)
    expect(blameOf(wrong)).toBe('hoster-refused')
    const saved = (await hoster.store.getChunk(contract.root.coreKey, 7))!
    const good = await storedHashes()
    await hoster.store.deleteChunk(contract.root.coreKey, 7)
    try {
      const missing = await attestor.settle(toHoster, { contract, hosterKey: hosterSwarm.keyPair.publicKey, encodedHashes: good }).catch((e: DatdotError) => e) as DatdotError
      expect(missing.details?.reason).toBe(PROOF_FAILURE.MISSING_CHUNK)
      expect(blameOf(missing)).toBe('hoster-refused')
    } finally {
      await hoster.store.putChunk(contract.root.coreKey, saved)
    }
  })

  it('holds an opened chunk until the hoster’s bandwidth limiter lets it go', async () => {
    const id = b4a.from('limiter')
    const conn = await connectionTo(attestorSwarm, hosterSwarm.keyPair.publicKey)
    const hosterConn = await connectionTo(hosterSwarm, attestorSwarm.keyPair.publicKey)
    const asked: number[] = []
    let release: (() => void) | null = null
    let called: () => void = () => {}
    const limiterCalled = new Promise<void>((resolve) => { called = resolve })
    const limited = new HostingChannel(hosterConn, hoster.handlers(), {
      channelId: id,
      replyLimiter: (bytes) => { asked.push(bytes); called(); return new Promise<void>((resolve) => { release = resolve }) }
    })
    const asker = new HostingChannel(conn, {}, { channelId: id })
    await asker.ready()
    let got = false
    const opened = asker.open(42, contract.root.coreKey, 5).then((a) => { got = true; return a })
    await limiterCalled
    expect(got).toBe(false)
    const chunk = (await hoster.store.getChunk(contract.root.coreKey, 5))!
    expect(asked[0]).toBeGreaterThan(chunk.encoded.byteLength)
    ;(release as unknown as () => void)()
    expect((await opened).value.encoded.equals(chunk.encoded)).toBe(true)
    await asker.close()
    await limited.close()
  })

  it('answers a storage challenge over real protomux and the attestor verifies every opening', async () => {
    const seed = challengeSeed(randomBytes(32), 42, hosterSwarm.keyPair.publicKey)
    const report = await attestor.challenge(toHoster, {
      contract, hosterKey: hosterSwarm.keyPair.publicKey, encoderKey: encoderKeys.publicKey, rounds: ROUNDS,
      seed, steps: 256, openings: 8, deadlineMs: 2000
    })
    expect(report.reason).toBeNull()
    expect(report.ok).toBe(true)
    expect(report.opened.length).toBe(8)
    expect(report.commitmentHash?.byteLength).toBe(32)
  })

  it('fails a hoster that deleted a chunk the walk visits', async () => {
    const seed = challengeSeed(randomBytes(32), 42, hosterSwarm.keyPair.publicKey)
    const first = walkStart(contract, seed)
    const saved = (await hoster.store.getChunk(contract.root.coreKey, first))!
    await hoster.store.deleteChunk(contract.root.coreKey, first)
    try {
      const report = await attestor.challenge(toHoster, {
        contract, hosterKey: hosterSwarm.keyPair.publicKey, encoderKey: encoderKeys.publicKey, seed, steps: 64, openings: 4, deadlineMs: 2000
      })
      expect(report.ok).toBe(false)
      expect(report.reason).toBe(PROOF_FAILURE.MISSING_CHUNK)
    } finally {
      await hoster.store.putChunk(contract.root.coreKey, saved)
    }
  })

  it('fails a hoster that answers after the deadline (injected clock: the walk "took" 2001 ms)', async () => {
    const honest = hoster.handlers()
    hosterHandlers = { ...honest, onchallenge: async (m, ch) => { const r = await honest.onchallenge!(m, ch); clock.t += 2001; return r } }
    try {
      const report = await attestor.challenge(toHoster, {
        contract, hosterKey: hosterSwarm.keyPair.publicKey, encoderKey: encoderKeys.publicKey,
        seed: challengeSeed(randomBytes(32), 42, hosterSwarm.keyPair.publicKey), steps: 64, openings: 4, deadlineMs: 2000
      })
      expect(report.ok).toBe(false)
      expect(report.reason).toBe(PROOF_FAILURE.DEADLINE_MISSED)
      expect(report.commitElapsedMs).toBe(2001)
    } finally {
      hosterHandlers = honest
    }
  })

  it('passes a hoster that answers exactly at the deadline', async () => {
    const honest = hoster.handlers()
    hosterHandlers = { ...honest, onchallenge: async (m, ch) => { const r = await honest.onchallenge!(m, ch); clock.t += 2000; return r } }
    try {
      const report = await attestor.challenge(toHoster, {
        contract, hosterKey: hosterSwarm.keyPair.publicKey, encoderKey: encoderKeys.publicKey,
        seed: challengeSeed(randomBytes(32), 42, hosterSwarm.keyPair.publicKey), steps: 64, openings: 4, deadlineMs: 2000
      })
      expect(report.ok).toBe(true)
    } finally {
      hosterHandlers = honest
    }
  })

  it('catches a hoster that kept nothing, fakes its commitment and fetches chunks from a colluder only when opened', async () => {
    const colluder = hoster.store
    hosterHandlers = {
      onchallenge: async (m) => Array.from({ length: m.steps }, () => randomBytes(32)),
      onopen: async (m) => (await colluder.getChunk(m.coreKey, m.index))!
    }
    try {
      const report = await attestor.challenge(toHoster, {
        contract, hosterKey: hosterSwarm.keyPair.publicKey, encoderKey: encoderKeys.publicKey,
        seed: challengeSeed(randomBytes(32), 42, hosterSwarm.keyPair.publicKey), steps: 64, openings: 4, deadlineMs: 2000
      })
      expect(report.ok).toBe(false)
      expect(report.reason).toBe(PROOF_FAILURE.WRONG_COMMITMENT)
    } finally {
      hosterHandlers = hoster.handlers()
    }
  })

  it('catches a hoster that answers with another hoster’s replica', async () => {
    // a second hoster identity on the same machine, holding only the first one's copy
    const sybil = hcrypto.keyPair()
    const seed = challengeSeed(randomBytes(32), 42, sybil.publicKey)
    const report = await attestor.challenge(toHoster, {
      contract, hosterKey: sybil.publicKey, encoderKey: encoderKeys.publicKey, seed, steps: 32, openings: 2, deadlineMs: 2000
    })
    expect(report.ok).toBe(false)
    expect(report.reason).toBe(PROOF_FAILURE.BAD_ENCODER_SIGNATURE)
  })

  it('closes the channel on a message over the size limit, and the sender’s request fails with CLOSED', async () => {
    const id = b4a.from('oversize')
    const conn = await connectionTo(attestorSwarm, hosterSwarm.keyPair.publicKey)
    const hosterConn = await connectionTo(hosterSwarm, attestorSwarm.keyPair.publicKey)
    const small = new HostingChannel(hosterConn, hoster.handlers(), { maxMessageBytes: 256, channelId: id })
    const sender = new HostingChannel(conn, {}, { channelId: id })
    await sender.ready()
    const errors: DatdotError[] = []
    small.on('protocol-error', (e: DatdotError) => errors.push(e))
    const chunk = (await hoster.store.getChunk(contract.root.coreKey, 5))!
    const err = await sender.deliver(42, contract.root.coreKey, chunk).catch((e: DatdotError) => e) as DatdotError
    expect(err.code).toBe('CLOSED')
    expect(errors[0]?.code).toBe('PROTOCOL_ERROR')
    expect(small.counters.protocolErrors).toBe(1)
    expect(small.closed).toBe(true)
  })

  it('times a request out through injected timers, without waiting', async () => {
    const id = b4a.from('timeout')
    const conn = await connectionTo(attestorSwarm, hosterSwarm.keyPair.publicKey)
    const hosterConn = await connectionTo(hosterSwarm, attestorSwarm.keyPair.publicKey)
    let answered: (() => void) | null = null
    const silent = new HostingChannel(hosterConn, { onchallenge: () => new Promise<Buffer[]>((resolve) => { answered = () => resolve([]) }) }, { channelId: id })
    const fired: Array<() => void> = []
    const timers: Timers = { setTimeout: (fn) => { fired.push(fn); return fired.length }, clearTimeout: () => {} }
    const asker = new HostingChannel(conn, {}, { channelId: id, timers })
    await asker.ready()
    const pending = asker.challenge(42, contract.root.coreKey, randomBytes(32), 4, { timeoutMs: 5000 }).catch((e: DatdotError) => e)
    expect(fired.length).toBe(1)
    fired[0]()
    const err = await pending as DatdotError
    expect(err.code).toBe('TIMEOUT')
    expect(asker.counters.timeouts).toBe(1)
    // a late answer after the timeout is dropped quietly, not a protocol error
    ;(answered as (() => void) | null)?.()
    await asker.close()
    await silent.close()
    expect(asker.counters.protocolErrors).toBe(0)
  })
})
