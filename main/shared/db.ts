/**
 * The SQLite database helper (better-sqlite3, WAL) with numbered migrations per module.
 *
 * Each module (engine, ledger, chain, hosting...) owns an ordered list of migrations; the
 * list only ever grows. `migrate(db, 'ledger', LEDGER_MIGRATIONS)` applies the ones not applied
 * yet, each in its own transaction, and refuses to open a database written by a newer version.
 */
import Database from 'better-sqlite3'
import { DatdotError } from './errors.js'

export type Db = Database.Database

export interface Migration {
  /** 1-based, contiguous per module. */
  version: number
  description: string
  up: string | ((db: Db) => void)
}

export function openDatabase (file: string, opts: { readonly?: boolean } = {}): Db {
  const db = new Database(file, { readonly: opts.readonly ?? false, timeout: 5000 })
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
  }
  db.pragma('foreign_keys = ON')
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    module TEXT NOT NULL,
    version INTEGER NOT NULL,
    description TEXT NOT NULL,
    applied_ms INTEGER NOT NULL,
    PRIMARY KEY (module, version)
  ) STRICT`)
  return db
}

export function migrate (db: Db, module: string, migrations: readonly Migration[], now: () => number = Date.now): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw DatdotError.internal(`migrations of ${module} are not numbered 1..n (found ${m.version} at ${i + 1})`)
  })
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations WHERE module = ?').get(module) as { v: number | null }
  const current = row.v ?? 0
  if (current > migrations.length) {
    throw DatdotError.corrupt(`the database has ${module} schema version ${current}, this DatDot knows only ${migrations.length}; update DatDot`)
  }
  const insert = db.prepare('INSERT INTO schema_migrations (module, version, description, applied_ms) VALUES (?, ?, ?, ?)')
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      if (typeof m.up === 'string') db.exec(m.up)
      else m.up(db)
      insert.run(module, m.version, m.description, now())
    })()
  }
  return migrations.length
}
