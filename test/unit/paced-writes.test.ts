/**
 * The upload limit's urgent lane (main/engine/paced-writes.ts sendUrgently) on a real protomux
 * connection: a seeder's connection is full of replication frames waiting for a limit whose clock
 * never moves (an injected manual clock: the limit lets nothing more through), and an attestor's
 * storage challenge still gets its commitment, behind the frames that were already queued on the
 * connection (its order is kept), while later replication frames keep waiting.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { EventEmitter, once } from 'node:events'
import type { Duplex } from 'streamx'
import { streamPair } from '../helpers/stream-pair.js'
import Protomux from 'protomux'
import c from 'compact-encoding'
import { HostingChannel } from '../../main/hosting/wire.js'
import { paceWrites, sendUrgently } from '../../main/engine/paced-writes.js'
import { UploadLimiter, MIN_BURST } from '../../main/shared/upload-limiter.js'
import { ManualTimers } from '../helpers/manual-timers.js'

const streams: Duplex[] = []
afterEach(() => { for (const s of streams.splice(0)) s.destroy() })

const FRAME = 64 * 1024

/** A seeder's end paced by a limit stuck at its first burst, with a replication-like channel on it. */
async function throttledSeeder (): Promise<{ limiter: UploadLimiter, seeder: HostingChannel, attestor: HostingChannel, flood: (n: number) => void, arrived: string[], events: EventEmitter }> {
  const [seederEnd, attestorEnd] = streamPair()
  streams.push(seederEnd, attestorEnd)
  const clock = new ManualTimers()
  const limiter = new UploadLimiter({ bytesPerSec: 1024, burstBytes: MIN_BURST, now: clock.now, timers: clock })
  paceWrites(seederEnd, limiter)
  const arrived: string[] = []
  const events = new EventEmitter()
  const open = (end: Duplex, onmessage?: (b: Buffer) => void): ReturnType<NonNullable<ReturnType<Protomux['createChannel']>>['addMessage']> => {
    const ch = Protomux.from(end).createChannel({ protocol: 'test/replication' })!
    const m = ch.addMessage<Buffer>({ encoding: c.raw, onmessage })
    ch.open()
    return m
  }
  const floodOut = open(seederEnd)
  open(attestorEnd, (b) => { arrived.push(`block ${b[0]}`); events.emit('arrived') })
  const seeder = new HostingChannel(seederEnd, { onchallenge: async () => { return [Buffer.alloc(32, 7)] } })
  const attestor = new HostingChannel(attestorEnd, {}, { requestTimeoutMs: 3000 })
  await Promise.all([seeder.ready(), attestor.ready()])
  let next = 0
  const flood = (n: number): void => {
    for (let i = 0; i < n; i++) floodOut.send(Buffer.alloc(FRAME, next++))
  }
  return { limiter, seeder, attestor, flood, arrived, events }
}

describe('urgent frames under the upload limit', () => {
  it('gets a commitment through a connection whose replication waits for the limit, after the frames queued before it', async () => {
    const { limiter, attestor, flood, arrived, events } = await throttledSeeder()
    flood(3) // the first goes with the burst, the second waits in the limiter, the third behind it
    while (arrived.length === 0) await once(events, 'arrived')
    expect(arrived).toEqual(['block 0'])
    const commit = attestor.challenge(1, Buffer.alloc(32), Buffer.alloc(32), 1)
    const answer = await commit
    arrived.push('commitment')
    expect(answer.value).toEqual([Buffer.alloc(32, 7)])
    expect(arrived).toEqual(['block 0', 'block 1', 'block 2', 'commitment'])
    // replication written after the commitment waits for the limit again
    flood(2)
    expect(arrived).toEqual(['block 0', 'block 1', 'block 2', 'commitment'])
    expect(limiter.stats().urgent).toBeGreaterThan(0)
  })

  it('only runs the send on a stream that is not paced', () => {
    let sent = 0
    sendUrgently({}, () => { sent++ })
    sendUrgently(null, () => { sent++ })
    expect(sent).toBe(2)
  })
})
