/**
 * The other nodes of the several-nodes dashboard, kept in this node's SQLite database: a name,
 * the daemon's URL and its API token. The token stays here (the same trust as this node's own
 * api-token file); listing returns it only to the code that calls the node, never to the API.
 */
import type { Db, Migration } from '../shared/db.js'
import { migrate } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import { NODE_LIMITS } from '../shared/contract-nodes.js'

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'other nodes of the dashboard: name, url, token',
    up: `
      CREATE TABLE remote_nodes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        url TEXT NOT NULL UNIQUE,
        token TEXT NOT NULL,
        added_ms INTEGER NOT NULL
      ) STRICT;
    `
  }
]

export interface RemoteNode {
  id: number
  name: string
  url: string
  token: string
  addedMs: number
}

interface Row { id: number, name: string, url: string, token: string, added_ms: number }

export class NodesStore {
  constructor (private readonly db: Db, private readonly now: () => number = Date.now) {
    migrate(db, 'remote-nodes', MIGRATIONS, now)
  }

  list (): RemoteNode[] {
    const rows = this.db.prepare('SELECT id, name, url, token, added_ms FROM remote_nodes ORDER BY id').all() as Row[]
    return rows.map((r) => ({ id: r.id, name: r.name, url: r.url, token: r.token, addedMs: r.added_ms }))
  }

  /** Adds a node; its URL must be new and the list below its limit. */
  add (node: { name: string, url: string, token: string }): number {
    return this.db.transaction(() => {
      const count = (this.db.prepare('SELECT COUNT(*) AS n FROM remote_nodes').get() as { n: number }).n
      if (count >= NODE_LIMITS.nodes) throw DatdotError.limitReached('Other nodes', NODE_LIMITS.nodes)
      if (this.db.prepare('SELECT 1 FROM remote_nodes WHERE url = ?').get(node.url) !== undefined) {
        throw DatdotError.alreadyExists(`A node at ${node.url}`)
      }
      const r = this.db.prepare('INSERT INTO remote_nodes (name, url, token, added_ms) VALUES (?, ?, ?, ?)').run(node.name, node.url, node.token, this.now())
      return Number(r.lastInsertRowid)
    })()
  }

  remove (id: number): void {
    const r = this.db.prepare('DELETE FROM remote_nodes WHERE id = ?').run(id)
    if (r.changes === 0) throw DatdotError.notFound(`Node ${id}`)
  }
}
