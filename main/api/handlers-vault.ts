/**
 * API handlers that change or describe the user's own drive: info, share links, delete, move,
 * imports of local paths and browser upload sessions. Arguments arrive validated and defaulted;
 * the vault validates paths and throws coded DatdotErrors.
 */
import type { Handlers } from '../shared/contract.js'
import type { Engine } from '../engine/engine.js'
import { waitIf } from './handlers-drives.js'

export type VaultHandlers = Pick<Handlers, 'getVault' | 'deletePath' | 'movePath' | 'share' | 'importPaths' | 'beginUpload' | 'commitUpload' | 'abortUpload'>

export function createVaultHandlers (engine: Engine): VaultHandlers {
  return {
    async getVault () {
      engine.assertOpen()
      return engine.vault.info()
    },
    async deletePath ({ path }) {
      engine.assertOpen()
      return engine.vault.deletePath(path)
    },
    async movePath ({ from, to, overwrite }) {
      engine.assertOpen()
      return engine.vault.movePath(from, to, overwrite)
    },
    async share ({ path }) {
      engine.assertOpen()
      return { link: engine.vault.share(path) }
    },
    async importPaths ({ paths, dest, wait }) {
      engine.assertOpen()
      return waitIf(wait, engine.vault.importPaths(paths, dest))
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
    }
  }
}
