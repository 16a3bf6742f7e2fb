/**
 * The engine's implementation of the API contract. Handlers receive arguments already
 * validated and defaulted by dispatch(); they validate what the schema cannot (paths, keys)
 * through the engine, which throws coded DatdotErrors.
 */
import type Hyperdrive from 'hyperdrive'
import type { Handlers, Job } from '../shared/contract.js'
import type { Engine } from '../engine/engine.js'
import type { DatdotNode } from '../hosting/node.js'
import { APP_VERSION } from '../engine/config.js'
import { createChainHandlers } from './handlers-chain.js'
import { createHostingHandlers } from './handlers-hosting.js'
import { DatdotError } from '../shared/errors.js'
import { keyId } from '../engine/paths.js'
import { at, diffOf, exportTo, historyOf, listFolder, statPath, withView } from '../engine/drive-ops.js'

export type EngineHandlers = Omit<Handlers, 'pickAndImport' | 'importDropped' | 'exportWithDialog' | 'openFile' | 'copyText' | 'getChainStatus' | 'getWallet' | 'requestDevTokens' | 'ledgerEntries' | 'earnings' | HostingMethod>
  & Partial<Pick<Handlers, 'getChainStatus' | 'getWallet' | 'requestDevTokens' | 'ledgerEntries' | 'earnings' | HostingMethod>>
/** Implemented by main/api/handlers-hosting.ts when the chain is on. */
type HostingMethod = 'getHosting' | 'setSeeding' | 'sponsor' | 'unpublish' | 'listHostingJobs' | 'listProofs'

/** The drive a request names: the vault when `drive` is absent or is the vault's key, else a followed drive. */
export function driveFor (engine: Engine, drive: string | undefined): Hyperdrive {
  engine.assertOpen()
  if (drive === undefined) return engine.vault.drive
  let id: string
  try { id = keyId(drive) } catch { throw DatdotError.unknownDrive(drive) }
  if (id === engine.vault.id) return engine.vault.drive
  return engine.follows.get(id).drive
}

async function waitIf (wait: boolean, started: { job: Job, done: Promise<Job> }): Promise<Job> {
  if (!wait) return started.job
  const job = await started.done
  if (job.state !== 'done' && job.error) throw new DatdotError(job.error.code as DatdotError['code'], job.error.message, job.error.details)
  return job
}

/** The handlers of an engine; a DatdotNode with a chain adds the chain and hosting methods. */
export function createHandlers (engine: Engine | DatdotNode): EngineHandlers {
  const chain = 'chain' in engine ? engine.chain : null
  const hosting = 'hosting' in engine ? engine.hosting : null
  return {
    ...(chain ? createChainHandlers({ chain, ledger: chain.ledger }) : {}),
    ...(hosting ? createHostingHandlers(hosting) : {}),
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

    async getVault () {
      engine.assertOpen()
      return engine.vault.info()
    },
    async listFiles ({ drive, path, version, recursive, limit }) {
      const d = driveFor(engine, drive)
      return withView(d, version, async (view) => {
        const { entries, truncated } = await listFolder(view, path, { recursive, limit })
        return { entries, truncated, version: view.version }
      })
    },
    async stat ({ drive, path, version }) {
      return withView(driveFor(engine, drive), version, (view) => statPath(view, path))
    },
    async deletePath ({ path }) {
      engine.assertOpen()
      return engine.vault.deletePath(path)
    },
    async movePath ({ from, to, overwrite }) {
      engine.assertOpen()
      return engine.vault.movePath(from, to, overwrite)
    },
    async history ({ drive, limit, beforeVersion }) {
      const d = driveFor(engine, drive)
      return { items: await historyOf(d, { limit, beforeVersion }), version: d.version }
    },
    async diff ({ drive, from, to }) {
      const d = driveFor(engine, drive)
      const target = to ?? d.version
      if (target > d.version) throw DatdotError.notFound(`version ${target}`)
      const r = await diffOf(d, from, target)
      return { ...r, from, to: target }
    },
    async share ({ path }) {
      engine.assertOpen()
      return { link: engine.vault.share(path) }
    },
    async importPaths ({ paths, dest, wait }) {
      engine.assertOpen()
      return waitIf(wait, engine.vault.importPaths(paths, dest))
    },
    async exportPath ({ drive, path, version, dest, overwrite, wait }) {
      const d = driveFor(engine, drive)
      const view = at(d, version)
      const handle = engine.jobs.create('export', `Export ${path}`)
      const done = engine.jobs.run(handle, async (job) => {
        try {
          await exportTo(view, job, { path, dest, overwrite, freeBytes: engine.freeBytes })
        } finally {
          if (view !== d) await view.close()
        }
        return null
      })
      return waitIf(wait, { job: { ...handle.job }, done })
    },
    async beginUpload ({ dest }) {
      engine.assertOpen()
      return engine.vault.beginUpload(dest)
    },
    async commitUpload ({ uploadId }) {
      engine.assertOpen()
      return engine.vault.commitUpload(uploadId)
    },
    async abortUpload ({ uploadId }) {
      engine.assertOpen()
      await engine.vault.abortUpload(uploadId)
      return { ok: true as const }
    },
    async createDownloadUrl ({ drive, path, version }) {
      const d = driveFor(engine, drive)
      const entry = await withView(d, version, (view) => statPath(view, path))
      if (entry.kind !== 'file') throw DatdotError.notAFile(entry.path)
      const ticket = engine.downloads.create({ drive, path: entry.path, version })
      return { url: `/api/download/${ticket}` }
    },

    async listJobs () {
      return engine.jobs.list()
    },
    async cancelJob ({ id }) {
      const h = engine.jobs.get(id)
      h.cancel()
      return { ...h.job }
    },

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
