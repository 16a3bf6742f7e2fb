/**
 * Followed drives' names and first states, on a loopback testnet through the API handlers: a
 * follow goes by a readable label until named, a name is kept across a restart and can be
 * cleared, following the same link twice says so (ALREADY_EXISTS), and a link nobody serves
 * stays 'connecting' (the UI's "no peers found yet"), never 'syncing'.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import type { Testnet } from '@hyperswarm/testnet'
import { TempDirs, loopbackTestnet, startEngine, until } from '../helpers/engines.js'
import type { Engine } from '../../main/engine/engine.js'
import { createHandlers } from '../../main/api/handlers.js'
import { formatLink, keyId } from '../../main/engine/paths.js'
import { labelFor } from '../../main/engine/follow-names.js'
import { errorOf } from '../helpers/error-of.js'

describe('names of followed drives, following twice, and a link nobody serves', () => {
  const tmp = new TempDirs()
  let testnet: Testnet
  let bob: Engine
  let storage: string
  const keyA = randomBytes(32)
  const keyB = Buffer.from(keyA)
  keyB[31] ^= 1 // same first bytes: the keys look alike in a shortened form
  const linkA = formatLink(keyId(keyA), '/', null)
  const linkB = formatLink(keyId(keyB), '/', null)

  beforeAll(async () => {
    testnet = await loopbackTestnet()
    storage = await tmp.make()
    bob = await startEngine(testnet, storage)
  })

  afterAll(async () => {
    await bob?.close()
    await testnet?.destroy()
    await tmp.cleanup()
  })

  it('calls a new follow by a readable label from its key and has no name yet', async () => {
    const info = await createHandlers(bob).follow({ link: linkA })
    expect(info.name).toBeNull()
    expect(info.label).toBe(labelFor(info.key))
    expect(info.label).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/)
  })

  it('keeps a link nobody serves connecting, even once another follower of it is a peer', async () => {
    const info = await createHandlers(bob).follow({ link: linkB })
    expect(info.state).toBe('connecting')
    // carol follows the same link: she and bob find each other, but neither has a block of it
    const carol = await startEngine(testnet, await tmp.make())
    try {
      await createHandlers(carol).follow({ link: linkB })
      await until(bob, () => bob.follows.get(info.key).info().peers > 0)
      expect(bob.follows.get(info.key).info()).toMatchObject({ state: 'connecting' })
    } finally {
      await carol.close()
    }
  })

  it('refuses to follow the same link twice, naming the follow it already has', async () => {
    const before = (await createHandlers(bob).listFollows({})).length
    const err = await errorOf(createHandlers(bob).follow({ link: linkA }))
    expect(err?.code).toBe('ALREADY_EXISTS')
    expect(err?.message).toContain(labelFor(keyId(keyA)))
    expect((await createHandlers(bob).listFollows({})).length).toBe(before)
  })

  it('keeps the name given to a follow across a restart, and clears it with an empty name', async () => {
    const api = createHandlers(bob)
    const named = await api.renameFollow({ key: keyId(keyA), name: '  Holiday photos ' })
    expect(named).toMatchObject({ name: 'Holiday photos', label: 'Holiday photos' })
    await bob.close()
    bob = await startEngine(testnet, storage)
    const again = createHandlers(bob)
    expect((await again.listFollows({})).find((f) => f.key === keyId(keyA))).toMatchObject({ name: 'Holiday photos', label: 'Holiday photos' })
    const cleared = await again.renameFollow({ key: keyId(keyA), name: '' })
    expect(cleared).toMatchObject({ name: null, label: labelFor(keyId(keyA)) })
  })

  it('refuses a name with a new line or an unknown key with a code, changing nothing', async () => {
    const api = createHandlers(bob)
    expect((await errorOf(api.renameFollow({ key: keyId(keyA), name: 'two\nlines' })))?.code).toBe('INVALID_ARGUMENT')
    expect((await errorOf(api.renameFollow({ key: keyId(randomBytes(32)), name: 'x' })))?.code).toBe('UNKNOWN_DRIVE')
    expect((await api.listFollows({})).find((f) => f.key === keyId(keyA))?.name).toBeNull()
  })
})
