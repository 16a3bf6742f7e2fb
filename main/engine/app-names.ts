/**
 * App names are unique in a person's app list (own apps and apps opened by link): two "Notes" in
 * one list cannot be told apart. Names compare trimmed, in NFC and without case. A name the user
 * gives that is taken is refused with a message saying so; a name DatDot makes up (a copy's "X
 * copy") takes the next free "X copy 2", "X copy 3"...
 */
import { DatdotError } from '../shared/errors.js'

function key (name: string): string {
  return name.normalize('NFC').trim().toLocaleLowerCase()
}

/** ALREADY_EXISTS when `name` is one of `taken`. */
export function assertFreeAppName (name: string, taken: readonly string[]): void {
  const k = key(name)
  const same = taken.find((t) => key(t) === k)
  if (same !== undefined) throw DatdotError.nameTaken(`An app named "${same}" is already in your list: choose another name`, { name: same })
}

/** `base`, or `base 2`, `base 3`... whichever is not taken. */
export function freeAppName (base: string, taken: readonly string[]): string {
  const used = new Set(taken.map(key))
  if (!used.has(key(base))) return base
  for (let n = 2; ; n++) if (!used.has(key(`${base} ${n}`))) return `${base} ${n}`
}
