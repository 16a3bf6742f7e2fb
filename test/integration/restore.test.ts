import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, startEngine, until, hashOf } from '../helpers/engines.js'
import { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'
import { keyFromPhrase, phraseFromKey } from '../../main/engine/recovery.js'
import { restoreStorage } from '../../main/engine/restore.js'
import { DatdotError } from '../../main/shared/errors.js'
import { dispatchSafe } from '../../main/api/dispatch.js'
import { loadOrCreateWallet } from '../../main/chain/wallet.js'

/** Resolves once the vault's restore is complete (at once when none is running). */
async function restored (engine: Engine): Promise<void> {
  if (!engine.vault.restoring) return
  await new Promise<void>((resolve) => { engine.vault.once('restored', resolve) })
}

async function rejection (p: Promise<unknown>): Promise<DatdotError> {
  const err = await p.then(() => null, (e: unknown) => e)
  expect(err).toBeInstanceOf(DatdotError)
  return err as DatdotError
}

describe('restoring a vault from its recovery phrase on a new machine (loopback testnet)', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let alice: Engine | null = null
  let bob: Engine
  let aliceStorage: string
  let phrase: string
  let aliceVaultId: string
  let aliceSwarmKey: string
  const expected = new Map<string, string>()

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    const src = await tmp.make()
    await mkdir(join(src, 'docs', 'deep'), { recursive: true })
    const files: Array<[string, Buffer | string]> = [
      ['docs/readme.txt', 'alice wrote this\n'],
      ['docs/empty.bin', Buffer.alloc(0)],
      ['docs/deep/photo.jpg', randomBytes(400_000)],
      ['docs/deep/notes.md', '# notes\n'.repeat(2000)]
    ]
    for (const [rel, data] of files) {
      await writeFile(join(src, rel), data)
      expected.set('/' + rel, createHash('sha256').update(data).digest('hex'))
    }
    aliceStorage = await tmp.make()
    alice = await startEngine(testnet, aliceStorage)
    expect((await createHandlers(alice).importPaths({ paths: [join(src, 'docs')], dest: '/', wait: true })).state).toBe('done')
    await createHandlers(alice).deletePath({ path: '/docs/empty.bin' })
    expected.delete('/docs/empty.bin')
    phrase = phraseFromKey(alice.store.primaryKey)
    aliceVaultId = alice.vault.id
    aliceSwarmKey = alice.network.swarm!.keyPair.publicKey.toString('hex')

    // Bob follows Alice's vault and gets every block of it.
    bob = await startEngine(testnet, await tmp.make())
    const info = await createHandlers(bob).follow({ link: (await createHandlers(alice).share({ path: '/' })).link })
    const followed = bob.follows.get(info.key)
    const a = alice
    await until(bob, () => followed.info().state === 'synced' && followed.info().version === a.vault.drive.version)
  })

  afterAll(async () => {
    await alice?.close()
    await bob?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('brings every file back into an empty folder from a follower while the author is offline', async () => {
    const aliceVersion = alice!.vault.drive.version
    await alice!.close()
    alice = null
    const newMachine = join(await tmp.make(), 'datdot')
    const { vaultKey } = await restoreStorage(newMachine, `  ${phrase.toUpperCase().split(' ').join('   ')}\n`)
    expect(vaultKey).toBe(aliceVaultId)

    // The next start (the daemon, the app) on the restored folder downloads the vault.
    const engine = await startEngine(testnet, newMachine)
    try {
      expect(engine.vault.id).toBe(aliceVaultId)
      expect(engine.network.swarm!.keyPair.publicKey.toString('hex')).toBe(aliceSwarmKey)
      await restored(engine)
      expect(engine.vault.drive.version).toBe(aliceVersion)
      const drive = engine.vault.drive
      expect(await drive.core.has(0, drive.core.length)).toBe(true)
      expect(await drive.blobs!.core.has(0, drive.blobs!.core.length)).toBe(true)
      const list = await createHandlers(engine).listFiles({ path: '/', recursive: true, limit: 100 })
      expect(list.entries.filter((e) => e.kind === 'file').map((e) => e.path).sort()).toEqual([...expected.keys()].sort())
      // Bob goes away too: the bytes are all local now.
      await bob.network.setPaused(true)
      for (const [path, sha] of expected) expect(await hashOf(drive, path), path).toBe(sha)
      await bob.network.setPaused(false)
    } finally {
      await engine.close()
    }
    const again = await startEngine(null, newMachine)
    try {
      expect(again.vault.restoring).toBe(false)
      expect(again.vault.drive.version).toBe(aliceVersion)
    } finally {
      await again.close()
    }
  })

  it('gives the same vault and swarm keys to an engine started with the primary key on an empty folder', async () => {
    const dir = await tmp.make()
    const engine = await startEngine(null, dir, { primaryKey: keyFromPhrase(phrase) })
    try {
      expect(engine.vault.id).toBe(aliceVaultId)
      expect(engine.vault.restoring).toBe(true)
      expect(engine.network.swarm).toBeNull()
    } finally {
      await engine.close()
    }
  })

  it('refuses every write while the restore runs (it would fork the vault), until the restore is ended by hand', async () => {
    const dir = await tmp.make()
    const src = await tmp.make()
    await writeFile(join(src, 'new.txt'), 'written on the new machine')
    const engine = await startEngine(null, dir, { primaryKey: keyFromPhrase(phrase) })
    try {
      const handlers = createHandlers(engine)
      expect(engine.vault.restoring).toBe(true)
      const versionBefore = engine.vault.drive.version
      const imported = await dispatchSafe(handlers, 'importPaths', { paths: [join(src, 'new.txt')], dest: '/', wait: true }, 'cli')
      expect(imported.ok === false && imported.error.code).toBe('FORBIDDEN')
      expect(imported.ok === false && imported.error.message).toMatch(/being restored.*would fork it.*datdot restore --finish/)
      expect(() => engine.vault.beginUpload('/')).toThrow(/would fork it/)
      const moved = await rejection(engine.vault.movePath('/docs', '/elsewhere', false))
      expect(moved.code).toBe('FORBIDDEN')
      expect((await rejection(engine.vault.deletePath('/docs'))).code).toBe('FORBIDDEN')
      expect(engine.vault.drive.version).toBe(versionBefore)
      expect(engine.vault.drive.blobs === null ? 0 : engine.vault.drive.blobs.core.length).toBe(0)
      // nothing to fetch here (offline): the user ends the restore and may write again
      const unconfirmed = await dispatchSafe(handlers, 'finishRestore', {}, 'cli')
      expect(unconfirmed.ok === false && unconfirmed.error.code).toBe('INVALID_ARGUMENT')
      expect((await handlers.getVault({})).restoring).toEqual({ blocksHere: 0, blocksKnown: 0 })
      expect(await dispatchSafe(handlers, 'finishRestore', { confirm: true }, 'web')).toEqual({ ok: true, result: { ok: true } })
      expect((await handlers.getVault({})).restoring).toBeNull()
      expect(engine.vault.restoring).toBe(false)
      const again = await dispatchSafe(handlers, 'finishRestore', { confirm: true }, 'cli')
      expect(again.ok === false && again.error.code).toBe('NOT_FOUND')
      expect((await handlers.importPaths({ paths: [join(src, 'new.txt')], dest: '/', wait: true })).state).toBe('done')
    } finally {
      await engine.close()
    }
    const reopened = await startEngine(null, dir)
    try {
      expect(reopened.vault.restoring).toBe(false)
      expect(await reopened.vault.drive.get('/new.txt')).not.toBeNull()
    } finally {
      await reopened.close()
    }
  })

  it('refuses a wrong phrase with a clear error and writes nothing', async () => {
    const words = phrase.split(' ')
    const wrong = [...words.slice(0, 23), words[23] === 'zoo' ? 'zone' : 'zoo'].join(' ')
    const dir = join(await tmp.make(), 'new')
    const err = await rejection(restoreStorage(dir, wrong))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toMatch(/checksum/)
    expect(err.message).not.toContain(words[0])
    expect(existsSync(dir)).toBe(false)
    const short = await rejection(restoreStorage(dir, words.slice(0, 12).join(' ')))
    expect(short.message).toMatch(/24 words; this one has 12/)
    expect(existsSync(dir)).toBe(false)
  })

  it('refuses to restore into a folder that is not empty, and leaves it as it was', async () => {
    const dir = await tmp.make()
    await writeFile(join(dir, 'keep.txt'), 'mine')
    const err = await rejection(restoreStorage(dir, phrase))
    expect(err.message).toMatch(/not empty/)
    expect(await readdir(dir)).toEqual(['keep.txt'])
  })

  it("refuses a primary key that is not the folder's own, and changes nothing", async () => {
    const dbBefore = await stat(join(aliceStorage, 'datdot.db'))
    const other = keyFromPhrase(phraseFromKey(randomBytes(32)))
    const err = await rejection(startEngine(null, aliceStorage, { primaryKey: other }))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toMatch(/holds another vault/)
    expect((await stat(join(aliceStorage, 'datdot.db'))).mtimeMs).toBe(dbBefore.mtimeMs)
    const same = await startEngine(null, aliceStorage, { primaryKey: keyFromPhrase(phrase) })
    try {
      expect(same.vault.id).toBe(aliceVaultId)
      expect(same.vault.restoring).toBe(false)
    } finally {
      await same.close()
    }
  })

  it('shows the recovery phrase to the app’s UI and the CLI after confirmation only, with what it means for the wallet', async () => {
    const dir = await tmp.make()
    const engine = await startEngine(null, dir)
    try {
      const handlers = createHandlers(engine)
      const expectedPhrase = phraseFromKey(engine.store.primaryKey)
      expect(await dispatchSafe(handlers, 'getRecoveryPhrase', { confirm: true }, 'cli')).toEqual({ ok: true, result: { phrase: expectedPhrase, wallet: 'none' } })
      // the app's own UI (Electron or the browser UI with the token) may show it after confirmation
      expect(await dispatchSafe(handlers, 'getRecoveryPhrase', { confirm: true }, 'web')).toEqual({ ok: true, result: { phrase: expectedPhrase, wallet: 'none' } })
      const unconfirmed = await dispatchSafe(handlers, 'getRecoveryPhrase', {}, 'ipc')
      expect(unconfirmed.ok === false && unconfirmed.error.code).toBe('INVALID_ARGUMENT')
      await mkdir(join(dir, 'chain'))
      loadOrCreateWallet(join(dir, 'chain', 'wallet.json'), engine.store.primaryKey)
      expect(await dispatchSafe(handlers, 'getRecoveryPhrase', { confirm: true }, 'ipc')).toEqual({ ok: true, result: { phrase: expectedPhrase, wallet: 'derived' } })
      const own = await tmp.make()
      await mkdir(join(own, 'chain'))
      const ownWallet = loadOrCreateWallet(join(own, 'chain', 'wallet.json'))
      const older = await startEngine(null, own)
      try {
        const r = await dispatchSafe(createHandlers(older), 'getRecoveryPhrase', { confirm: true }, 'cli')
        expect(r).toEqual({ ok: true, result: { phrase: phraseFromKey(older.store.primaryKey), wallet: 'own', walletPhrase: ownWallet } })
      } finally {
        await older.close()
      }
    } finally {
      await engine.close()
    }
  })
})
