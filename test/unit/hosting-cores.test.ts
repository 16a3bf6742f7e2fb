// The plan cores (main/hosting/cores.ts) with a fake swarm that records the topics joined: a
// plan's cores are found on its drive's topic and each on its own, so a plain core of a plan
// (the space index) is found by someone who knows only that core.
import { describe, it, expect } from 'vitest'
import hcrypto from 'hypercore-crypto'
import type Hyperswarm from 'hyperswarm'
import type Corestore from 'corestore'
import { PlanCores } from '../../main/hosting/cores.js'
import { toHex } from '../../main/engine/paths.js'
import type { Plan } from '../../main/chain/marketplace.js'

interface Joined { topic: string, server: boolean, client: boolean, refreshed: number, destroyed: boolean }

function fakes (): { joined: Joined[], swarm: Pick<Hyperswarm, 'join'>, corestore: Pick<Corestore, 'get'> } {
  const joined: Joined[] = []
  const swarm = {
    join: (topic: Buffer, opts: { server: boolean, client: boolean }) => {
      const j: Joined = { topic: toHex(topic), ...opts, refreshed: 0, destroyed: false }
      joined.push(j)
      return { refresh: async () => { j.refreshed++ }, destroy: async () => { j.destroyed = true } }
    }
  } as unknown as Pick<Hyperswarm, 'join'>
  const corestore = { get: () => ({ close: async () => {} }) } as unknown as Pick<Corestore, 'get'>
  return { joined, swarm, corestore }
}

const key = (): string => toHex(hcrypto.randomBytes(32))
const topicOf = (keyHex: string): string => toHex(hcrypto.discoveryKey(Buffer.from(keyHex, 'hex')))

describe('plan cores', () => {
  const [db, blobs, index] = [key(), key(), key()]
  const plan = { drives: [{ keyHex: db }, { keyHex: blobs }, { keyHex: index }] } as unknown as Plan

  it('finds every core of a plan on the drive\'s topic and on its own, and a hoster announces both', async () => {
    const { joined, swarm, corestore } = fakes()
    const cores = new PlanCores({ corestore, swarm, announces: true })
    for (const d of plan.drives) cores.core(plan, d.keyHex, true)
    expect(joined.map((j) => j.topic).sort()).toEqual([db, blobs, index].map(topicOf).sort())
    expect(joined.every((j) => j.server && j.client)).toBe(true)
    await cores.leave(index)
    expect(joined.find((j) => j.topic === topicOf(index))?.destroyed).toBe(true)
    expect(joined.filter((j) => j.destroyed)).toHaveLength(1)
    await cores.close()
  })

  it('only looks (never announces) for an encoder, and announces a topic joined before once a hoster needs it', async () => {
    const { joined, swarm, corestore } = fakes()
    const cores = new PlanCores({ corestore, swarm, announces: true })
    cores.core(plan, index, false)
    expect(joined.map((j) => [j.topic, j.server])).toEqual([[topicOf(db), false], [topicOf(index), false]])
    cores.core(plan, index, true)
    expect(joined).toHaveLength(2)
    expect(joined.map((j) => j.refreshed)).toEqual([1, 1])
    await cores.close()
  })
})
