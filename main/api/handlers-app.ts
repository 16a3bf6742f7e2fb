/**
 * API handlers of the node as a whole: status, pausing the network, and the job list
 * (imports, exports and uploads; cancelling one rolls an import back).
 */
import type { Handlers } from '../shared/contract.js'
import type { Engine } from '../engine/engine.js'
import { APP_VERSION } from '../engine/config.js'

export type AppHandlers = Pick<Handlers, 'getStatus' | 'setNetworkPaused' | 'listJobs' | 'cancelJob'>

export function createAppHandlers (engine: Engine): AppHandlers {
  return {
    async getStatus () {
      engine.assertOpen()
      return {
        appVersion: APP_VERSION,
        storage: engine.storage,
        pid: process.pid,
        network: engine.network.status(),
        vault: await engine.vault.info(),
        follows: engine.follows.size,
        jobsRunning: engine.jobs.runningCount
      }
    },
    async setNetworkPaused ({ paused }) {
      engine.assertOpen()
      return engine.network.setPaused(paused)
    },
    async listJobs () {
      return engine.jobs.list()
    },
    async cancelJob ({ id }) {
      const h = engine.jobs.get(id)
      h.cancel()
      return { ...h.job }
    }
  }
}
