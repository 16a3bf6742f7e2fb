/**
 * The cores of the plans this node works on (as encoder or plain replica), opened once from the
 * node's corestore, and the discovery topics it joined to find them. An encoder looks for a
 * core's peers (client); a hoster also announces it (server), so readers replicate the drive from
 * the hoster while the author is offline.
 *
 * A plan's cores are found on two topics each: the plan's first core's (a drive's metadata core:
 * where the drive's readers and author meet), and the core's own. The own topic is how a plain
 * core of a plan is found by those who know only it: the space index of a vault's plans
 * (docs/protocol.md §7), which a restore from the phrase looks up before it knows any space.
 * A plan assumes nothing else of its cores' order or kind.
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
  /** Told the size of every block a plan core uploads to a peer (the seeder's bytes served). */
  onUpload?: (bytes: number) => void
}

/** The end of the plan's hosted ranges of one core (the plain replica downloads [0, end)). */
export function planLength (plan: Plan, driveIndex: number): number {
  return Math.max(...plan.drives[driveIndex].ranges.map(([, e]) => e))
}

export class PlanCores {
  private readonly cores = new Map<string, Hypercore>()
  private readonly topics = new Map<string, Discovery>()

  constructor (private readonly opts: PlanCoresOptions) {}

  /** Opens a core of a plan and looks for it on the plan's drive topic and its own; `server` also announces both. */
  core (plan: Plan, keyHex: string, server: boolean): Hypercore {
    const announce = server && this.opts.announces
    this.joinTopicOf(plan.drives[0].keyHex, announce)
    if (keyHex !== plan.drives[0].keyHex) this.joinTopicOf(keyHex, announce)
    let core = this.cores.get(keyHex)
    if (core === undefined) {
      core = this.opts.corestore.get({ key: b4a.from(keyHex, 'hex') })
      const onUpload = this.opts.onUpload
      if (onUpload !== undefined) core.on('upload', (_index: number, bytes: number) => { onUpload(bytes) })
      this.cores.set(keyHex, core)
    }
    return core
  }

  /** Joins the discovery topic of a core (announcing it when `announce`), once; a later announce refreshes it as a server. */
  private joinTopicOf (keyHex: string, announce: boolean): void {
    const topic = hcrypto.discoveryKey(b4a.from(keyHex, 'hex'))
    const topicHex = toHex(topic)
    const joined = this.topics.get(topicHex)
    if (joined === undefined) {
      this.topics.set(topicHex, this.opts.swarm.join(topic, { server: announce, client: true }))
    } else if (announce) {
      joined.refresh({ server: true, client: true }).catch(() => {})
    }
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
