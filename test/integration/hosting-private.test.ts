/**
 * A private space kept online by a plan is an encrypted off-site backup, end to end on the
 * embedded chain and a loopback testnet: Alice creates a private space, writes a file and
 * sponsors the space by its drive key (a private space has no link); three providers encode,
 * host and prove its cores and the space index (one more core of the plan) on their ciphertext,
 * and a storage challenge passes and is paid. Alice goes offline for good. A new machine restored
 * from her phrase gets back, from the seeders alone, the list of spaces and the file; there she
 * makes the space shared and hands its link to Bob, who reads the file from the seeders while
 * every machine of Alice's is offline. No seeder's storage folder holds the file's bytes, its
 * name or the space's name in clear, and no provider is ever penalised.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { EventEmitter } from 'node:events'
import type { Testnet } from '@hyperswarm/testnet'
import { waitFor as waitForEvents } from '../helpers/wait.js'
import { TempDirs, loopbackTestnet, startEngine, until } from '../helpers/engines.js'
import { startHostingChain, startHostingNode } from '../helpers/hosting-node.js'
import { filesHolding } from '../helpers/storage-scan.js'
import type { Engine } from '../../main/engine/engine.js'
import type { Vault } from '../../main/engine/vault.js'
import type { Db } from '../../main/shared/db.js'
import { LocalChain } from '../../main/chain/local-chain.js'
import { ChainService } from '../../main/chain/service.js'
import type { BlockOutcome, MarketState, Penalty } from '../../main/chain/marketplace.js'
import { HostingService } from '../../main/hosting/service.js'
import type { ProofRow } from '../../main/hosting/config.js'
import { toHex } from '../../main/engine/paths.js'
import { phraseFromKey } from '../../main/engine/recovery.js'
import { restoreStorage } from '../../main/engine/restore.js'

const TOKEN = 10n ** 12n

interface Node { name: string, storage: string, engine: Engine, chain: ChainService, hosting: HostingService }

/** Errors of hosting tasks, shown when a wait times out. */
const taskErrors: string[] = []
function waitFor (emitters: EventEmitter[], check: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  return waitForEvents(emitters, check, what, timeoutMs, () => `task errors: ${taskErrors.slice(-8).join(' | ')}`)
}

/** Resolves once a space's restore is complete (at once when none is running). */
async function restored (vault: Vault): Promise<void> {
  if (!vault.restoring) return
  await new Promise<void>((resolve) => { vault.once('restored', resolve) })
}

/** The public keys (hex) of the peers announcing `topic` on the DHT, as a fresh node looks it up. */
async function announcers (testnet: Testnet, topic: Buffer): Promise<Set<string>> {
  const dht = testnet.createNode() as unknown as { lookup: (t: Buffer) => AsyncIterable<{ peers: Array<{ publicKey: Buffer }> }>, destroy: () => Promise<void> }
  const keys = new Set<string>()
  try {
    for await (const reply of dht.lookup(topic)) for (const peer of reply.peers) keys.add(toHex(peer.publicKey))
  } finally {
    await dht.destroy()
  }
  return keys
}

describe('a private space kept online by a plan: blind seeders, a restore from the phrase, a shared link', () => {
  const tmp = new TempDirs()
  const marker = 'SECRET-' + randomBytes(12).toString('hex')
  const nameMarker = 'name-' + randomBytes(8).toString('hex')
  const spaceName = 'Space-' + randomBytes(8).toString('hex')
  const path = `/tax/${nameMarker}.txt`
  const content = Buffer.concat([Buffer.from(`${marker}\n`.repeat(20)), randomBytes(30_000), Buffer.from(marker)])
  /** Written after the plan is hosting: it reaches the seeders by a plan update. */
  const laterPath = `/tax/later-${nameMarker}.txt`
  const later = Buffer.concat([Buffer.from(marker), randomBytes(20_000)])
  let testnet: Testnet
  let chain: LocalChain
  let operator: ChainService
  let alice: Node | null = null
  let providers: Node[] = []
  const dbs: Db[] = []
  const engines: Engine[] = []
  const penalties: Array<Penalty & { block: number }> = []
  let phrase = ''
  let planId = 0
  let spaceKey = ''
  let version = 0
  let sharedLink = ''
  const market = (): MarketState => operator.market
  const all = (): EventEmitter[] => [operator, ...providers.map((p) => p.hosting)]

  async function node (name: string): Promise<Node> {
    const { storage, engine, chain: cs, hosting } = await startHostingNode({
      testnet, chain, storage: await tmp.make(`datdot-${name}-`), limits: { walkSteps: 64, openings: 4, measureBlocks: 8, commitBaseMs: 5000, updateDebounceMs: 200 }
    })
    hosting.on('task-error', ({ task, error }: { task: string, error: Error }) => { taskErrors.push(`${name} ${task}: ${error.message}`) })
    return { name, storage, engine, chain: cs, hosting }
  }

  async function close (n: Node): Promise<void> {
    await n.hosting.close()
    await n.chain.close()
    await n.engine.close()
  }

  beforeAll(async () => {
    testnet = await loopbackTestnet(4)
    // small contracts and a short challenge schedule, one attestor per performance check
    const started = await startHostingChain(tmp, { chunksPerContract: 10, challengeIntervalBlocks: 8, challengeTimeoutBlocks: 40, performanceAttestors: 1, epochBlocks: 8 })
    chain = started.chain
    operator = started.operator
    dbs.push(started.db)
    operator.on('block', (out: BlockOutcome) => { for (const p of out.penalties) penalties.push({ ...p, block: out.number }) })
    alice = await node('alice')
    // three: a contract of one replica uses three distinct providers (hoster, encoder, attestor)
    for (let i = 1; i <= 3; i++) providers.push(await node(`p${i}`))
    // one after the other: every node's faucet transfer is signed by the same faucet account
    await alice.chain.faucet(100n * TOKEN)
    for (const p of providers) await p.chain.faucet(10n * TOKEN)
    await Promise.all(providers.map(async (p) => await p.hosting.setSeeding({ on: true, storageBytes: 2 ** 30, bandwidthBps: 10_000_000, region: 'eu' })))
    phrase = phraseFromKey(alice.engine.store.primaryKey)
  }, 120_000)

  afterAll(async () => {
    await Promise.all([...providers, ...(alice === null ? [] : [alice])].map(close))
    for (const e of engines) await e.close()
    await operator?.close()
    await chain?.close()
    for (const db of dbs) db.close()
    await testnet?.destroy()
    await tmp.cleanup()
  }, 60_000)

  it('publishes a plan for a private space, named by its drive key, with the space index as one more core; the seeders encode, host and prove it', async () => {
    const a = alice as Node
    // the space is created after the hosting service started: its growth is followed too
    const info = await a.engine.spaces.create(spaceName, 'private')
    expect(info.link).toBeNull()
    spaceKey = info.key
    const vault = a.engine.spaces.resolve(info.id).vault
    await vault.drive.put(path, content)
    version = vault.drive.version
    planId = (await a.hosting.sponsor({ link: spaceKey, replicas: 1, days: 1, pricePlanck: 20n * TOKEN })).planId
    const plan = market().plans[planId]
    const blobs = await vault.drive.getBlobs()
    const index = a.engine.spaces.index.core
    expect(plan.drives.map((d) => d.keyHex)).toEqual([toHex(vault.drive.key), toHex(blobs?.core.key as Buffer), toHex(index.key as Buffer)])
    expect(plan.drives[2].root.length).toBe(index.length)

    await waitFor(all(), () => plan.contractIds.every((id) => market().contracts[id]?.slots.every((s) => s.state === 'hosting' && s.receiptsRootHex !== null)), 'every slot hosting')
    const indexContracts = plan.contractIds.filter((id) => market().contracts[id].driveIndex === 2)
    expect(indexContracts.length).toBeGreaterThan(0)
    // every hoster keeps a plain replica of every core of the plan, the index too, before Alice leaves
    const hosters = new Set(plan.contractIds.flatMap((id) => market().contracts[id].slots.map((s) => s.hoster)))
    const hostNodes = providers.filter((p) => hosters.has(p.chain.addressHex))
    await waitFor(all(), () => hostNodes.every((p) => p.hosting.listJobs().some((j) => j.id === `seed:${planId}` && j.state === 'done')), 'plain replicas')
    for (const p of hostNodes) {
      const seeded = p.hosting.replicas.seeded.get(planId)
      for (const d of plan.drives) expect(await seeded?.cores.get(d.keyHex)?.has(0, d.root.length), `${p.name} ${d.keyHex.slice(0, 8)}`).toBe(true)
    }
  }, 120_000)

  it('passes and pays a storage challenge on the ciphertext', async () => {
    const proofs = (): ProofRow[] => providers.flatMap((p) => p.hosting.listProofs(1000))
    await waitFor(all(), () => proofs().some((r) => r.kind === 'storage' && r.ok), 'a passed storage challenge')
    expect(proofs().filter((r) => r.kind === 'storage' && !r.ok)).toEqual([])
    const paid = (): boolean => providers.some((p) => p.chain.ledger.allEntries().some((e) => e.account === p.chain.address && e.reason === 'storage-proof' && BigInt(e.amount) > 0n))
    await operator.newBlock()
    await waitFor([operator, ...providers.map((p) => p.chain)], paid, 'a storage-proof payout in a provider’s ledger')
    expect(paid()).toBe(true)
  }, 120_000)

  it('keeps the plan current when the private space grows: an update with new signed roots, and the hosters get the new blocks', async () => {
    const a = alice as Node
    const vault = a.engine.spaces.byKey(spaceKey)?.vault as Vault
    await vault.drive.put(laterPath, later)
    version = vault.drive.version
    const length = vault.drive.core.length
    const plan = (): MarketState['plans'][number] => market().plans[planId]
    await waitFor(all(), () => plan().drives[0].root.length === length, 'a plan update to the grown space')
    const hosters = new Set(plan().contractIds.flatMap((id) => market().contracts[id]?.slots.map((s) => s.hoster) ?? []))
    const hostNodes = providers.filter((p) => hosters.has(p.chain.addressHex))
    // re-checked on every block of the chain (the operator emits one a second)
    await waitFor(all(), () => hostNodes.every((p) => (p.hosting.replicas.seeded.get(planId)?.cores.get(plan().drives[0].keyHex)?.contiguousLength ?? 0) >= length), 'the new blocks at every hoster')
  }, 120_000)

  it('restores the list of spaces and the private file, byte-identical, on a new machine from the phrase and the seeders alone', async () => {
    const indexTopic = (alice as Node).engine.spaces.index.discoveryKey
    await close(alice as Node)
    alice = null
    // a restoring machine knows only the index's key: every hoster of the plan announces the index's own topic
    const plan = market().plans[planId]
    const hosters = new Set(plan.contractIds.flatMap((id) => market().contracts[id].slots.map((s) => s.hoster)))
    const hostNodes = providers.filter((p) => hosters.has(p.chain.addressHex))
    await Promise.all(hostNodes.map(async (p) => { await p.engine.network.swarm?.flush() }))
    const found = await announcers(testnet, indexTopic)
    for (const p of hostNodes) expect(found.has(toHex(p.engine.network.swarm?.keyPair.publicKey as Buffer)), p.name).toBe(true)
    const dir = join(await tmp.make('datdot-restored-'), 'datdot')
    await restoreStorage(dir, phrase)
    const engine = await startEngine(testnet, dir)
    engines.push(engine)
    // the index comes first (found on its own topic), then the space it lists, from the seeders
    await until(engine, () => engine.spaces.index.complete && engine.spaces.byKey(spaceKey) !== null)
    const { spaces } = await engine.spaces.list()
    expect(spaces.map((s) => [s.name, s.visibility])).toEqual([['Public', 'public'], ['Private', 'private'], [spaceName, 'private']])
    const space = engine.spaces.byKey(spaceKey)?.vault as Vault
    await restored(space)
    expect((await space.drive.get(path))?.equals(content)).toBe(true)
    expect((await space.drive.get(laterPath))?.equals(later)).toBe(true)

    // the restored machine makes the space shared: its link carries the read key
    const shared = await engine.spaces.update(spaceName, { visibility: 'shared' })
    expect(shared.link).toMatch(/#key=/)
    sharedLink = shared.link as string
    await engine.close()
    engines.splice(engines.indexOf(engine), 1)
  }, 120_000)

  it('gives Bob, following the shared link, the file from the seeders while every machine of Alice is offline', async () => {
    const bob = await startEngine(testnet, await tmp.make('datdot-bob-'))
    engines.push(bob)
    const info = await bob.follows.follow(sharedLink)
    expect(info.encrypted).toBe(true)
    const followed = bob.follows.get(info.key)
    await until(bob, () => followed.info().state === 'synced' && followed.info().version === version)
    expect((await followed.drive.get(path))?.equals(content)).toBe(true)
  }, 90_000)

  it('leaves neither the file’s bytes nor its name nor the space’s name in any seeder’s storage folder, where its own plain file is found; no provider was penalised', async () => {
    const control = 'PLAIN-' + randomBytes(12).toString('hex')
    await providers[0].engine.vault.drive.put('/control.txt', Buffer.from(control))
    expect(penalties).toEqual([])
    for (const p of providers) await close(p)
    const closed = providers
    providers = []
    expect(await filesHolding(closed[0].storage, control)).not.toEqual([])
    for (const p of closed) {
      for (const needle of [marker, nameMarker, spaceName]) expect(await filesHolding(p.storage, needle), `${p.name} ${needle.slice(0, 6)}`).toEqual([])
    }
  }, 60_000)
})
