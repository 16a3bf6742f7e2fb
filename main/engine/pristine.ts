/**
 * Whether a storage folder is still pristine: as its first start left it, so replacing its
 * primary key with one from a recovery phrase (an in-app restore) loses nothing. Pristine means
 * all of:
 * - no space has a file or a history: each space's drive holds at most its header block (a new
 *   drive writes it at once) and its blobs core is empty, so no file was ever added, not even
 *   one deleted since; and the list of spaces is the one a new vault starts with (its first
 *   `INITIAL_INDEX_BLOCKS` blocks: no space created, renamed or deleted);
 * - no restore is running (the folder already holds a key from a phrase);
 * - no job is running (an import would write the vault);
 * - no follows (rows of the `follows` table);
 * - no ledger entries (`ledger_entries`, when the chain ever ran here);
 * - no hosting activity: seeding never switched on (`hosting_settings`) and no proof recorded
 *   (`hosting_proofs`).
 * Tables that do not exist (the chain never ran) count as empty. The first reason found is
 * returned with a sentence for the user.
 */
import type { Db } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import type { Engine } from './engine.js'

/** What the check reads: the vault's drives (their cores' lengths), the database, and two flags of the running engine. */
/** The blocks of a new vault's space index: its home space and its private space. */
export const INITIAL_INDEX_BLOCKS = 2

export interface PristineInputs {
  drives: ReadonlyArray<{ core: { length: number }, blobs?: { core: { length: number } } | null }>
  /** Blocks of the space index. */
  indexLength: number
  db: Db
  restoring: boolean
  jobsRunning: number
}

export type NotPristineReason = 'files' | 'restore' | 'jobs' | 'follows' | 'ledger' | 'hosting'

export type Pristine = { pristine: true } | { pristine: false, reason: NotPristineReason, message: string }

const MESSAGES: Record<NotPristineReason, string> = {
  files: 'this vault already has files, a history of changes, or spaces of its own',
  restore: 'a restore from a recovery phrase is already running in this folder',
  jobs: 'an import or export is running',
  follows: 'this node follows other drives',
  ledger: 'this node has entries in its earnings ledger',
  hosting: 'this node has seeded or proved data for the hosting network'
}

function tableExists (db: Db, table: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined
}

/** True when `table` exists and has a row matching `where` (a fixed SQL condition, never user input). */
function hasRow (db: Db, table: string, where = '1'): boolean {
  return tableExists(db, table) && db.prepare(`SELECT 1 FROM ${table} WHERE ${where} LIMIT 1`).get() !== undefined
}

function firstReason (i: PristineInputs): NotPristineReason | null {
  const written = i.drives.some((d) => d.core.length > 1 || (d.blobs?.core.length ?? 0) > 0)
  if (written || i.indexLength > INITIAL_INDEX_BLOCKS) return 'files'
  if (i.restoring) return 'restore'
  if (i.jobsRunning > 0) return 'jobs'
  if (hasRow(i.db, 'follows')) return 'follows'
  if (hasRow(i.db, 'ledger_entries')) return 'ledger'
  if (hasRow(i.db, 'hosting_settings', 'seeding = 1') || hasRow(i.db, 'hosting_proofs')) return 'hosting'
  return null
}

/** Whether the folder is pristine, with the first reason it is not. */
export function checkPristine (inputs: PristineInputs): Pristine {
  const reason = firstReason(inputs)
  return reason === null ? { pristine: true } : { pristine: false, reason, message: MESSAGES[reason] }
}

/** Throws FORBIDDEN, saying why and what to do instead, unless the folder is pristine. */
export function assertPristine (inputs: PristineInputs): void {
  const p = checkPristine(inputs)
  if (p.pristine) return
  throw new DatdotError('FORBIDDEN', `This storage folder is in use (${p.message}), so restoring here would replace it: ` +
    'restore into an empty folder with `datdot restore --storage NEW_FOLDER` and start DatDot on that folder (nothing was changed)', { reason: p.reason })
}

/** The inputs of a running engine: every space's drive and the space index. */
export function pristineInputsOf (engine: Engine): PristineInputs {
  return {
    drives: engine.spaces.all().map((v) => v.drive),
    indexLength: engine.spaces.index.core.length,
    db: engine.db,
    restoring: engine.spaces.restoring,
    jobsRunning: engine.jobs.runningCount
  }
}
