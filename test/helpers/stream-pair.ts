/**
 * Two ends of a message-preserving duplex, as protomux gets from a secret stream: what one end
 * writes the other reads, one message per write, no network.
 */
import { Duplex } from 'streamx'

export function streamPair (): [Duplex, Duplex] {
  const ends: Duplex[] = []
  for (const i of [0, 1]) {
    const end = new Duplex({
      write (data: Buffer, cb: (err: Error | null) => void) { ends[1 - i].push(data); cb(null) },
      final (cb: (err: Error | null) => void) { ends[1 - i].push(null); cb(null) }
    })
    ;(end as unknown as { userData: unknown }).userData = null // so every channel on it shares one Protomux
    ends.push(end)
  }
  return [ends[0], ends[1]]
}
