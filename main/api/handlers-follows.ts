/**
 * API handlers of followed drives: follow a link, unfollow (optionally purging the local copy),
 * list them with live status. Reading a followed drive goes through handlers-drives.ts.
 */
import type { Handlers } from '../shared/contract.js'
import type { Engine } from '../engine/engine.js'

export type FollowHandlers = Pick<Handlers, 'follow' | 'unfollow' | 'listFollows'>

export function createFollowHandlers (engine: Engine): FollowHandlers {
  return {
    async follow ({ link }) {
      engine.assertOpen()
      return engine.follows.follow(link)
    },
    async unfollow ({ key, purge }) {
      engine.assertOpen()
      await engine.follows.unfollow(key, purge)
      return { ok: true as const }
    },
    async listFollows () {
      engine.assertOpen()
      return engine.follows.list()
    }
  }
}
