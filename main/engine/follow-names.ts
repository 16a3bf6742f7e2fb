/**
 * Names of followed drives: the name the user gave a follow (stored per follow in SQLite, table
 * `follow_names`), and the short readable label a follow goes by until it has one, derived
 * from its key ("Amber Otter"), so two keys that look alike at a glance (`bnzg7f…txzy`,
 * `bnzg7f…txzo`) read differently. A drive carries no title of its own that a follower could
 * trust or that the author shares (a space's name stays on the author's machine).
 */
import type { Db, Migration } from '../shared/db.js'
import { DatdotError } from '../shared/errors.js'
import { parseKey } from './paths.js'

export const FOLLOW_NAMES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'names given to followed drives',
    up: 'CREATE TABLE follow_names (key TEXT PRIMARY KEY, name TEXT NOT NULL) STRICT;'
  }
]

/** Longest name kept (characters, after trimming). */
export const FOLLOW_NAME_CHARS = 80

const ADJECTIVES = [
  'Amber', 'Azure', 'Brave', 'Brisk', 'Calm', 'Cedar', 'Clever', 'Coral', 'Crimson', 'Dapper', 'Dusky', 'Eager',
  'Emerald', 'Fair', 'Fern', 'Gentle', 'Golden', 'Hazel', 'Honey', 'Indigo', 'Ivory', 'Jade', 'Jolly', 'Keen',
  'Lilac', 'Lively', 'Lucky', 'Maple', 'Mellow', 'Misty', 'Nimble', 'Noble', 'Ochre', 'Olive', 'Pearl', 'Plucky',
  'Quiet', 'Rapid', 'Rosy', 'Ruby', 'Rustic', 'Sage', 'Scarlet', 'Silver', 'Sleek', 'Sunny', 'Swift', 'Tawny',
  'Teal', 'Tidy', 'Topaz', 'Umber', 'Valiant', 'Velvet', 'Violet', 'Vivid', 'Warm', 'Willow', 'Witty', 'Young',
  'Zany', 'Zesty', 'Bold', 'Bright'
]
const NOUNS = [
  'Otter', 'Falcon', 'Heron', 'Badger', 'Lynx', 'Finch', 'Panda', 'Koala', 'Robin', 'Wren', 'Bison', 'Crane',
  'Dolphin', 'Eagle', 'Ferret', 'Gecko', 'Hare', 'Ibis', 'Jaguar', 'Kestrel', 'Lemur', 'Marten', 'Newt', 'Owl',
  'Puffin', 'Quail', 'Raven', 'Seal', 'Tapir', 'Urchin', 'Vole', 'Walrus', 'Yak', 'Zebra', 'Beaver', 'Cougar',
  'Dingo', 'Egret', 'Fox', 'Gull', 'Hawk', 'Impala', 'Jackal', 'Kiwi', 'Llama', 'Moose', 'Narwhal', 'Ocelot',
  'Pelican', 'Rabbit', 'Salmon', 'Toucan', 'Turtle', 'Viper', 'Wombat', 'Alpaca', 'Bobcat', 'Condor', 'Donkey',
  'Elk', 'Flamingo', 'Goose', 'Hedgehog', 'Iguana'
]

/** The label of a follow without a name: two words from its key's first bytes (4096 of them). */
export function labelFor (id: string): string {
  const key = parseKey(id)
  return `${ADJECTIVES[key[0] % ADJECTIVES.length]} ${NOUNS[key[1] % NOUNS.length]}`
}

/** A name as given: trimmed, control characters refused; '' means "no name". */
export function cleanName (name: string): string {
  const trimmed = name.trim()
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw DatdotError.invalidArgument('a name cannot hold control characters (new lines, tabs)')
  if (trimmed.length > FOLLOW_NAME_CHARS) throw DatdotError.invalidArgument(`a name has at most ${FOLLOW_NAME_CHARS} characters`)
  return trimmed
}

/** The names table: one row per named follow. */
export class FollowNames {
  constructor (private readonly db: Db) {}

  get (id: string): string | null {
    const row = this.db.prepare('SELECT name FROM follow_names WHERE key = ?').get(id) as { name: string } | undefined
    return row?.name ?? null
  }

  /** Stores a cleaned name (see cleanName); '' removes it. */
  set (id: string, name: string): void {
    if (name === '') this.remove(id)
    else this.db.prepare('INSERT INTO follow_names (key, name) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET name = excluded.name').run(id, name)
  }

  remove (id: string): void {
    this.db.prepare('DELETE FROM follow_names WHERE key = ?').run(id)
  }
}
