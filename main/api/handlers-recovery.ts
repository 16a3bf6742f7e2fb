/**
 * API handler of the recovery phrase: the storage folder's primary key as 24 words, and what it
 * says about the chain wallet (derived from it, or a wallet with its own phrase).
 */
import { join } from 'node:path'
import type { Handlers } from '../shared/contract.js'
import type { Engine } from '../engine/engine.js'
import { phraseFromKey } from '../engine/recovery.js'
import { walletPhraseOf } from '../chain/wallet.js'

export type RecoveryHandlers = Pick<Handlers, 'getRecoveryPhrase' | 'finishRestore'>

export function createRecoveryHandlers (engine: Engine): RecoveryHandlers {
  return {
    async getRecoveryPhrase () {
      engine.assertOpen()
      const key = engine.store.primaryKey
      return { phrase: phraseFromKey(key), ...walletPhraseOf(join(engine.storage, 'chain', 'wallet.json'), key) }
    },
    async finishRestore () {
      engine.assertOpen()
      await engine.spaces.finishRestore()
      return { ok: true as const }
    }
  }
}
