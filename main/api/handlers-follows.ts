/**
 * API handlers of followed drives: follow a link (in a mode: everything, selected folders, on
 * demand), change its mode, pin and unpin paths, unfollow (optionally purging the local copy),
 * rename, list them with live status and disk use. Following a drive already followed is refused
 * (ALREADY_EXISTS) unless the link brings a read key the follow lacks. Reading a followed drive goes through handlers-drives.ts.
 */
import type { Handlers } from '../shared/contract.js'
import type { Engine } from '../engine/engine.js'

export type FollowHandlers = Pick<Handlers, 'follow' | 'renameFollow' | 'unfollow' | 'listFollows' | 'setFollowMode' | 'pinPath' | 'unpinPath'>

export function createFollowHandlers (engine: Engine): FollowHandlers {
  return {
    async follow ({ link, mode, folders, cacheLimitBytes }) {
      engine.assertOpen()
      return engine.follows.follow(link, { mode: mode ?? 'all', folders, cacheLimitBytes }, { again: 'refuse' })
    },
    async renameFollow ({ key, name }) {
      engine.assertOpen()
      return engine.follows.rename(key, name)
    },
    async setFollowMode ({ key, mode, folders, cacheLimitBytes }) {
      engine.assertOpen()
      return engine.follows.setMode(key, { mode, folders, cacheLimitBytes })
    },
    async pinPath ({ key, path }) {
      engine.assertOpen()
      return engine.follows.pinPath(key, path)
    },
    async unpinPath ({ key, path }) {
      engine.assertOpen()
      return engine.follows.unpinPath(key, path)
    },
    async unfollow ({ key, purge }) {
      engine.assertOpen()
      await engine.follows.unfollow(key, purge)
      return { ok: true as const }
    },
    async listFollows () {
      engine.assertOpen()
      return engine.follows.listCounted()
    }
  }
}
