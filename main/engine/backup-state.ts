/**
 * Whether the user has written the recovery phrase down: 'pending' until they say so on the
 * Backup page ('backed-up') or close the first-start prompt ('dismissed'). A folder restored from
 * a phrase starts 'backed-up' (the user just typed it). Kept in the engine's `settings` table.
 */
import type { Db } from '../shared/db.js'

export type BackupState = 'pending' | 'backed-up' | 'dismissed'

const SETTING = 'backup'

export function readBackupState (db: Db): BackupState {
  const row = db.prepare('SELECT value FROM settings WHERE name = ?').get(SETTING) as { value: string } | undefined
  return row?.value === 'backed-up' || row?.value === 'dismissed' ? row.value : 'pending'
}

export function writeBackupState (db: Db, state: Exclude<BackupState, 'pending'>): void {
  db.prepare('INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)').run(SETTING, state)
}
