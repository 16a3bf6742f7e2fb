/**
 * What the apps keep in the engine's SQLite database (apps.ts): the apps opened by link, the
 * permissions granted to each app, and the drives each app followed. The apps' code and data
 * drives themselves are spaces (space-index.ts); this is the per-machine state around them.
 * An app is named here by its id (an own app's space id, or an opened app's code drive key).
 */
import type { AppPermission } from '../shared/contract-apps.js'
import { migrate, type Db, type Migration } from '../shared/db.js'

export const APP_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'apps opened by link, permissions granted, drives followed by an app',
    up: `
      CREATE TABLE app_opened (
        key TEXT PRIMARY KEY,
        link TEXT NOT NULL,
        added_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE app_grants (
        app TEXT NOT NULL,
        permission TEXT NOT NULL,
        PRIMARY KEY (app, permission)
      ) STRICT;
      CREATE TABLE app_follows (
        app TEXT NOT NULL,
        key TEXT NOT NULL,
        added_ms INTEGER NOT NULL,
        PRIMARY KEY (app, key)
      ) STRICT;
    `
  }
]

export interface OpenedRow { key: string, link: string, added_ms: number }

export class AppStore {
  constructor (private readonly db: Db, now: () => number) {
    migrate(db, 'apps', APP_MIGRATIONS, now)
  }

  opened (): OpenedRow[] {
    return this.db.prepare('SELECT key, link, added_ms FROM app_opened ORDER BY added_ms').all() as OpenedRow[]
  }

  openedRow (key: string): OpenedRow | undefined {
    return this.db.prepare('SELECT key, link, added_ms FROM app_opened WHERE key = ?').get(key) as OpenedRow | undefined
  }

  addOpened (row: OpenedRow): void {
    this.db.prepare('INSERT OR REPLACE INTO app_opened (key, link, added_ms) VALUES (?, ?, ?)').run(row.key, row.link, row.added_ms)
  }

  /** Forgets everything about an app: opened, grants, follows. */
  forget (app: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM app_opened WHERE key = ?').run(app)
      this.db.prepare('DELETE FROM app_grants WHERE app = ?').run(app)
      this.db.prepare('DELETE FROM app_follows WHERE app = ?').run(app)
    })()
  }

  grants (app: string): AppPermission[] {
    const rows = this.db.prepare('SELECT permission FROM app_grants WHERE app = ? ORDER BY permission').all(app) as Array<{ permission: AppPermission }>
    return rows.map((r) => r.permission)
  }

  setGrant (app: string, permission: AppPermission, granted: boolean): void {
    if (granted) this.db.prepare('INSERT OR IGNORE INTO app_grants (app, permission) VALUES (?, ?)').run(app, permission)
    else this.db.prepare('DELETE FROM app_grants WHERE app = ? AND permission = ?').run(app, permission)
  }

  follows (app: string): string[] {
    const rows = this.db.prepare('SELECT key FROM app_follows WHERE app = ? ORDER BY added_ms').all(app) as Array<{ key: string }>
    return rows.map((r) => r.key)
  }

  /** The apps that followed a drive. */
  followers (key: string): string[] {
    const rows = this.db.prepare('SELECT app FROM app_follows WHERE key = ?').all(key) as Array<{ app: string }>
    return rows.map((r) => r.app)
  }

  hasFollow (app: string, key: string): boolean {
    return this.db.prepare('SELECT 1 FROM app_follows WHERE app = ? AND key = ?').get(app, key) !== undefined
  }

  addFollow (app: string, key: string, now: number): void {
    this.db.prepare('INSERT OR IGNORE INTO app_follows (app, key, added_ms) VALUES (?, ?, ?)').run(app, key, now)
  }
}
