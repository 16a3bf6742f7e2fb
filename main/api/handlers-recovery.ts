/**
 * API handlers of the recovery phrase: the storage folder's primary key as 24 words (and what it
 * says about the chain wallet), restoring a pristine folder from a phrase (the node is replaced:
 * only a process that hosts its node can, see main/server/node-host.ts), the first-start backup
 * prompt's state, and ending a restore.
 */
import { join } from 'node:path'
import type { Handlers } from '../shared/contract.js'
import { DatdotError } from '../shared/errors.js'
import type { Engine } from '../engine/engine.js'
import { keyFromPhrase, phraseFromKey } from '../engine/recovery.js'
import { assertPristine, checkPristine, pristineInputsOf } from '../engine/pristine.js'
import { readBackupState, writeBackupState } from '../engine/backup-state.js'

export type RecoveryHandlers = Pick<Handlers, 'getRecoveryPhrase' | 'finishRestore' | 'restoreFromPhrase' | 'getBackupState' | 'setBackupState'>

/**
 * Replaces the running node with one restored from `primaryKey` (the folder was found pristine
 * just before); resolves with the new engine. Given by whoever hosts the node.
 */
export type ReplaceNode = (primaryKey: Buffer) => Promise<Engine>

export function createRecoveryHandlers (engine: Engine, replaceNode?: ReplaceNode): RecoveryHandlers {
  return {
    async getRecoveryPhrase () {
      engine.assertOpen()
      const key = engine.store.primaryKey
      // Loaded at first use: chain/wallet.ts needs @polkadot/util-crypto, which the start does not load.
      const { walletPhraseOf } = await import('../chain/wallet.js')
      return { phrase: phraseFromKey(key), ...walletPhraseOf(join(engine.storage, 'chain', 'wallet.json'), key) }
    },
    async finishRestore () {
      engine.assertOpen()
      await engine.spaces.finishRestore()
      return { ok: true as const }
    },
    async restoreFromPhrase ({ phrase }) {
      engine.assertOpen()
      // The phrase first: a wrong one is INVALID_ARGUMENT whatever the folder (its message never holds a word).
      const primaryKey = keyFromPhrase(phrase)
      assertPristine(pristineInputsOf(engine))
      if (replaceNode === undefined) throw DatdotError.forbidden('this process cannot restart its node: restore into an empty folder with `datdot restore --storage NEW_FOLDER`')
      const next = await replaceNode(primaryKey)
      return { vault: await next.vault.info() }
    },
    async getBackupState () {
      engine.assertOpen()
      const p = checkPristine(pristineInputsOf(engine))
      return { backup: readBackupState(engine.db), canRestore: p.pristine, ...(p.pristine ? {} : { restoreRefused: p.message }) }
    },
    async setBackupState ({ backup }) {
      engine.assertOpen()
      writeBackupState(engine.db, backup)
      return { ok: true as const }
    }
  }
}
