/**
 * API handlers that change or describe a space of the vault (the home space when none is named):
 * info, share links, delete, restore from history, new folders, move, imports of local paths and browser upload sessions. Arguments arrive validated and defaulted;
 * the vault validates paths and throws coded DatdotErrors.
 */
import type { Handlers } from '../shared/contract.js'
import type { Engine } from '../engine/engine.js'
import { waitIf } from './handlers-drives.js'
import { createFolder } from '../engine/vault-folders.js'

export type VaultHandlers = Pick<Handlers, 'getVault' | 'deletePath' | 'restorePath' | 'createFolder' | 'movePath' | 'share' | 'importPaths' | 'beginUpload' | 'commitUpload' | 'abortUpload'>

export function createVaultHandlers (engine: Engine): VaultHandlers {
  return {
    async getVault () {
      engine.assertOpen()
      return engine.vault.info()
    },
    async deletePath ({ space, path }) {
      engine.assertOpen()
      return engine.spaces.resolve(space).vault.deletePath(path)
    },
    async restorePath ({ space, path, version }) {
      engine.assertOpen()
      return engine.spaces.resolve(space).vault.restorePath(path, version)
    },
    async createFolder ({ space, parent, name }) {
      engine.assertOpen()
      return await createFolder(engine.spaces.resolve(space).vault, parent, name)
    },
    async movePath ({ space, from, to, overwrite }) {
      engine.assertOpen()
      return engine.spaces.resolve(space).vault.movePath(from, to, overwrite)
    },
    async share ({ space, path }) {
      engine.assertOpen()
      return { link: engine.spaces.share(space, path) }
    },
    async importPaths ({ space, paths, dest, wait }) {
      engine.assertOpen()
      return waitIf(wait, engine.spaces.resolve(space).vault.importPaths(paths, dest))
    },
    async beginUpload ({ space, dest, files, bytes }) {
      engine.assertOpen()
      return engine.spaces.beginUpload(space, dest, { files, bytes })
    },
    async commitUpload ({ uploadId }) {
      engine.assertOpen()
      return engine.spaces.commitUpload(uploadId)
    },
    async abortUpload ({ uploadId }) {
      engine.assertOpen()
      await engine.spaces.abortUpload(uploadId)
      return { ok: true as const }
    }
  }
}
