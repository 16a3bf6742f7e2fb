/**
 * Encrypted drives and blind seeding, on a loopback testnet with real corestores: Alice writes a
 * Hyperdrive encrypted with a read key; a seeder replicates its two cores by key, as a hoster's
 * plain replica does (PlanCores: store.get({ key }), no read key), holds every block and no
 * plaintext, and the hosting proof and encoding path works on its ciphertext; Bob follows the
 * link with the read key and reads the file from the seeder while Alice is offline; Carol, with
 * the plain link, gets a clear refusal and stores no plaintext either.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Testnet } from '@hyperswarm/testnet'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import Hyperswarm from 'hyperswarm'
import type Hypercore from 'hypercore'
import hcrypto from 'hypercore-crypto'
import { TempDirs, loopbackTestnet, startEngine, until } from '../helpers/engines.js'
import { filesHolding } from '../helpers/storage-scan.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'
import { formatLink, keyId, toHex } from '../../main/engine/paths.js'
import { PlanCores } from '../../main/hosting/cores.js'
import { captureSignedRoot, createMerkleProof, verifyMerkleProof, verifyStoredChunk } from '../../main/hosting/proof.js'
import { encodeBlockForHoster } from '../../main/hosting/encoder.js'
import { verifySignedRoot } from '../../main/chain/roots.js'
import type { Plan } from '../../main/chain/marketplace.js'
import { DatdotError } from '../../main/shared/errors.js'
import { fetchAll, swarmFor } from '../helpers/blind-peer.js'

/** The key of a ready core. */
function keyOf (core: Hypercore): Buffer {
  if (core.key === null) throw new Error('the core has no key')
  return core.key
}

async function code (p: Promise<unknown>): Promise<DatdotError> {
  try { await p } catch (err) { return err as DatdotError }
  throw new Error('expected a refusal')
}

describe('an encrypted drive is seeded blind and read only with its link\'s read key', () => {
  const tmp = new TempDirs()
  const secretMarker = 'SECRET-' + randomBytes(12).toString('hex')
  const nameMarker = 'name-' + randomBytes(8).toString('hex')
  const plainMarker = 'PLAIN-' + randomBytes(12).toString('hex')
  const secretPath = `/private/${nameMarker}.txt`
  const secretBytes = Buffer.concat([Buffer.from(`${secretMarker}\n`.repeat(50)), randomBytes(100_000), Buffer.from(secretMarker)])
  const readKey = randomBytes(32)
  let testnet: Testnet
  let aliceStore: Corestore
  let aliceSwarm: Hyperswarm | null
  let drive: Hyperdrive
  let control: Hyperdrive
  let seederDir: string
  let seederStore: Corestore
  let seederSwarm: Hyperswarm
  let seederCores: Hypercore[]
  let bob: Engine | null = null
  let bobDir: string
  let carol: Engine | null = null
  let carolDir: string

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    aliceStore = new Corestore(join(await tmp.make(), 'corestore'))
    drive = new Hyperdrive(aliceStore.namespace('secret'), null, { encryptionKey: readKey })
    await drive.put(secretPath, secretBytes)
    await drive.put('/private/other.txt', Buffer.from('another file'))
    // A plain drive next to it: the control showing the storage search finds what is stored in clear.
    control = new Hyperdrive(aliceStore.namespace('plain'))
    await control.put('/plain.txt', Buffer.from(plainMarker))
    aliceSwarm = swarmFor(testnet, aliceStore)
    aliceSwarm.join(drive.discoveryKey, { server: true, client: true })
    aliceSwarm.join(control.discoveryKey, { server: true, client: true })
    await aliceSwarm.flush()

    seederDir = await tmp.make()
    seederStore = new Corestore(join(seederDir, 'corestore'))
    seederSwarm = swarmFor(testnet, seederStore)
    bobDir = await tmp.make()
    carolDir = await tmp.make()
  }, 60_000)

  afterAll(async () => {
    await bob?.close()
    await carol?.close()
    await seederSwarm?.destroy()
    await seederStore?.close()
    await aliceSwarm?.destroy()
    await drive?.close()
    await control?.close()
    await aliceStore?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('lets a seeder without the read key replicate every block of both cores, found by key as a plan names them', async () => {
    const blobs = drive.blobs
    if (blobs === null) throw new Error('the drive has no blobs core')
    // The blobs core's key follows from the metadata core's manifest: a sponsor needs no read key to name it.
    expect(Hyperdrive.getContentKey(drive.core)?.equals(keyOf(blobs.core))).toBe(true)
    const planCores = new PlanCores({ corestore: seederStore, swarm: seederSwarm, announces: true })
    const plan = { drives: [{ keyHex: toHex(drive.key) }, { keyHex: toHex(keyOf(blobs.core)) }] } as unknown as Plan
    seederCores = [planCores.core(plan, toHex(drive.key), true), planCores.core(plan, toHex(keyOf(blobs.core)), true)]
    const controlPlan = { drives: [{ keyHex: toHex(control.key) }] } as unknown as Plan
    const controlBlobs = control.blobs
    if (controlBlobs === null) throw new Error('the control drive has no blobs core')
    const controlCores = [planCores.core(controlPlan, toHex(control.key), true), planCores.core(controlPlan, toHex(keyOf(controlBlobs.core)), true)]
    await fetchAll(seederCores[0], drive.core.length)
    await fetchAll(seederCores[1], blobs.core.length)
    await fetchAll(controlCores[0], control.core.length)
    await fetchAll(controlCores[1], controlBlobs.core.length)
    expect(seederCores[0].length).toBe(drive.core.length)
    expect(seederCores[1].length).toBe(blobs.core.length)
    expect(await seederCores[0].has(0, drive.core.length)).toBe(true)
    expect(await seederCores[1].has(0, blobs.core.length)).toBe(true)
    // What the seeder holds is ciphertext: no block carries the marker or the file name.
    for (const core of seederCores) {
      for (let i = 0; i < core.length; i++) {
        const block = await core.get(i)
        expect(block?.includes(Buffer.from(secretMarker)), `block ${i}`).toBe(false)
        expect(block?.includes(Buffer.from(nameMarker)), `block ${i}`).toBe(false)
      }
    }
  }, 60_000)

  it('proves and encodes the seeder\'s ciphertext blocks against the author\'s signed roots', async () => {
    const hoster = hcrypto.keyPair()
    const encoder = hcrypto.keyPair()
    const authorCores = [drive.core, drive.blobs?.core as Hypercore]
    for (const [n, core] of seederCores.entries()) {
      const root = await captureSignedRoot(core)
      verifySignedRoot(root)
      const authorRoot = await captureSignedRoot(authorCores[n])
      expect(root.treeHash.equals(authorRoot.treeHash)).toBe(true)
      expect(root.length).toBe(authorRoot.length)
      const contract = { contractId: n + 1, root, start: 0, end: root.length }
      for (let i = 0; i < root.length; i++) {
        const block = await core.get(i)
        if (block === null) throw new Error(`block ${i} missing`)
        verifyMerkleProof(block, await createMerkleProof(core, i, root.length), root)
        const chunk = await encodeBlockForHoster(core, contract, i, hoster.publicKey, encoder)
        const decoded = verifyStoredChunk(chunk, { root, hosterKey: hoster.publicKey, encoderKey: encoder.publicKey })
        expect(decoded.equals(block)).toBe(true)
      }
      // A tampered ciphertext block does not verify: the proofs are over exactly what is stored.
      const first = Buffer.from(await core.get(0) as Buffer)
      first[first.length - 1] ^= 1
      expect(() => { verifyMerkleProof(first, { index: 0, length: root.length, nodes: [], roots: [] }, root) }).toThrow()
    }
  }, 60_000)

  it('gives Bob, following the link with its read key, the file from the seeder while Alice is offline, and keeps the key across a restart', async () => {
    await aliceSwarm?.destroy()
    aliceSwarm = null
    bob = await startEngine(testnet, bobDir)
    const link = formatLink(drive.key, '/', readKey)
    expect(link).toContain('#key=')
    const info = await createHandlers(bob).follow({ link })
    expect(info.encrypted).toBe(true)
    const followed = bob.follows.get(info.key)
    const b = bob
    await until(b, () => followed.info().state === 'synced' && followed.info().version === drive.version)
    expect(followed.info().locked).toBeNull()
    const out = await tmp.make()
    await createHandlers(b).exportPath({ drive: info.key, path: secretPath, dest: out, overwrite: false, wait: true })
    expect((await readFile(join(out, `${nameMarker}.txt`))).equals(secretBytes)).toBe(true)
    const listed = await createHandlers(b).listFiles({ drive: info.key, path: '/private', recursive: false, limit: 100 })
    expect(listed.entries.map((e) => e.name).sort()).toEqual([`${nameMarker}.txt`, 'other.txt'])

    await b.close()
    bob = await startEngine(testnet, bobDir)
    const again = bob.follows.get(keyId(drive.key))
    expect(again.info().encrypted).toBe(true)
    expect(again.info().link).toBe(link)
    const entry = await createHandlers(bob).stat({ drive: keyId(drive.key), path: secretPath })
    expect(entry.size).toBe(secretBytes.length)
  }, 90_000)

  it('refuses Carol, following the plain link, with a clear FORBIDDEN on every read and no change to her follow; a wrong key likewise; the right key opens it', async () => {
    carol = await startEngine(testnet, carolDir)
    const c = carol
    const api = createHandlers(c)
    let updates = 0
    c.onEvent((name) => { if (name === 'follow.updated') updates++ })
    const info = await api.follow({ link: formatLink(drive.key) })
    expect(info.encrypted).toBe(false)
    const followed = c.follows.get(info.key)
    await until(c, () => followed.info().locked === 'needs-key')
    const dest = join(await tmp.make(), 'x')
    const reads: Array<() => Promise<unknown>> = [
      async () => await api.listFiles({ drive: info.key, path: '/', recursive: true, limit: 100 }),
      async () => await api.stat({ drive: info.key, path: secretPath }),
      async () => await api.createDownloadUrl({ drive: info.key, path: secretPath }),
      async () => await api.exportPath({ drive: info.key, path: secretPath, dest, overwrite: false, wait: true })
    ]
    for (const read of reads) {
      const err = await code(read())
      expect(err.code).toBe('FORBIDDEN')
      expect(err.message).toMatch(/this drive is encrypted: the link needs its read key/)
    }
    // The follow is intact and never reported a version it cannot read.
    expect(followed.info().lastUpdateMs).toBeNull()
    expect(c.db.prepare('SELECT last_version, read_key FROM follows').get()).toEqual({ last_version: 0, read_key: null })

    const wrong = await api.follow({ link: formatLink(drive.key, '/', randomBytes(32)) })
    expect(wrong.encrypted).toBe(true)
    const wrongFollow = c.follows.get(info.key)
    await until(c, () => wrongFollow.info().locked === 'wrong-key')
    const err = await code(api.listFiles({ drive: info.key, path: '/', recursive: true, limit: 100 }))
    expect(err.code).toBe('FORBIDDEN')
    expect(err.message).toMatch(/the read key in the link does not open this drive/)
    expect(err.message).not.toContain(keyId(readKey))
    expect(updates).toBe(0)

    await c.close()
    carol = null
    expect(await filesHolding(carolDir, secretMarker)).toEqual([])
    expect(await filesHolding(carolDir, nameMarker)).toEqual([])

    carol = await startEngine(testnet, carolDir)
    const d = carol
    expect(d.follows.get(info.key).info().locked).toBe('wrong-key')
    await createHandlers(d).follow({ link: formatLink(drive.key, '/', readKey) })
    const opened = d.follows.get(info.key)
    await until(d, () => opened.info().state === 'synced' && opened.info().version === drive.version)
    expect(opened.info().locked).toBeNull()
    const entry = await createHandlers(d).stat({ drive: info.key, path: secretPath })
    expect(entry.size).toBe(secretBytes.length)
  }, 90_000)

  it('leaves no plaintext of the file, nor its name, anywhere in the seeder\'s storage folder, where a plain drive\'s text is found', async () => {
    await seederSwarm.destroy()
    await seederStore.close()
    expect(await filesHolding(seederDir, plainMarker)).not.toEqual([])
    expect(await filesHolding(seederDir, secretMarker)).toEqual([])
    expect(await filesHolding(seederDir, nameMarker)).toEqual([])
  }, 60_000)
})
