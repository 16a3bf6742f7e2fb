/**
 * The cores of the plans this node works on (as encoder or plain replica), opened once from the
 * node's corestore, and the drives' discovery topics it joined to find them. An encoder looks
 * for a drive's peers (client); a hoster also announces it (server), so readers replicate the
 * drive from the hoster while the author is offline.
 */
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import type Hypercore from 'hypercore'
import type Hyperswarm from 'hyperswarm'
import type { Discovery } from 'hyperswarm'
import type Corestore from 'corestore'
import { toHex } from '../engine/paths.js'
import type { Plan } from '../chain/marketplace.js'

export interface PlanCoresOptions {
  corestore: Pick<Corestore, 'get'>
  swarm: Pick<Hyperswarm, 'join'>
  /** False: never announce a drive (the node only looks for peers). */
  announces: boolean
}

/** The end of the plan's hosted ranges of one core (the plain replica downloads [0, end)). */
export function planLength (plan: Plan, driveIndex: number): number {
  return Math.max(...plan.drives[driveIndex].ranges.map(([, e]) => e))
}

export class PlanCores {
  private readonly cores = new Map<string, Hypercore>()
  private readonly topics = new Map<string, Discovery>()

  constructor (private readonly opts: PlanCoresOptions) {}

  /** Opens a core of a plan and looks for it on the drive's topic; `server` also announces the drive. */
  core (plan: Plan, keyHex: string, server: boolean): Hypercore {
    const driveKey = b4a.from(plan.drives[0].keyHex, 'hex')
    const topic = hcrypto.discoveryKey(driveKey)
    const topicHex = toHex(topic)
    const announce = server && this.opts.announces
    const joined = this.topics.get(topicHex)
    if (joined === undefined) {
      this.topics.set(topicHex, this.opts.swarm.join(topic, { server: announce, client: true }))
    } else if (announce) {
      joined.refresh({ server: true, client: true }).catch(() => {})
    }
    let core = this.cores.get(keyHex)
    if (core === undefined) {
      core = this.opts.corestore.get({ key: b4a.from(keyHex, 'hex') })
      this.cores.set(keyHex, core)
    }
    return core
  }

  /** Stops looking for (and announcing) the drive whose discovery key is derived from `keyHex`. */
  async leave (keyHex: string): Promise<void> {
    const topicHex = toHex(hcrypto.discoveryKey(b4a.from(keyHex, 'hex')))
    const d = this.topics.get(topicHex)
    if (d === undefined) return
    this.topics.delete(topicHex)
    await d.destroy().catch(() => {})
  }

  async close (): Promise<void> {
    for (const d of this.topics.values()) await d.destroy().catch(() => {})
    this.topics.clear()
    for (const core of this.cores.values()) await core.close().catch(() => {})
    this.cores.clear()
  }
}
