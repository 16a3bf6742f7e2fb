/**
 * Cheating providers for attack tests: a HostingBehaviour (main/hosting/behaviour.ts) built from
 * a set of faults, each a role's misbehaviour (docs/protocol.md section 7). Lives with the tests:
 * the app has no fault code, only the behaviour's hook points.
 */
import b4a from 'b4a'
import hcrypto from 'hypercore-crypto'
import { DatdotError } from '../../main/shared/errors.js'
import { signEncodedChunk } from '../../main/hosting/encoding.js'
import type { HostingBehaviour } from '../../main/hosting/behaviour.js'
import type { StoredChunk } from '../../main/hosting/messages.js'

export interface HostingFaults {
  /** Hoster: deletes all its encoded chunk files of a contract once its slot is hosting. */
  deleteEncoded?: boolean
  /** Hoster: keeps only this fraction (0..1) of its encoded chunks once its slot is hosting (a fixed pseudo-random subset). */
  keepFraction?: number
  /** Hoster: answers storage challenges (the commitment) only well after the deadline: 2 x commitBaseMs + 2 s after the walk (a hoster re-encoding or fetching its chunks just in time). */
  lateAnswers?: boolean
  /** Hoster: does not serve its plain replica once one of its slots is hosting: drops every new connection from a key that is not a registered provider (readers, performance attestors), and does not announce the drives it seeds. */
  refuseReaders?: boolean
  /** Encoder: changes every encoded chunk (and signs the changed chunk), so it does not decode to the original. */
  corruptEncoding?: boolean
  /** Attestor: reports every storage challenge and performance check it is assigned as failed, without running it. */
  failHonest?: boolean
  /** Attestor: passes every storage challenge it is assigned without running it (colluding with a hoster that deleted): on an aggregated network a leaf with made-up evidence. */
  passStorage?: boolean
}

/** True for the share `keepFraction` of a contract's blocks a keep-fraction hoster keeps (deterministic). */
export function faultKeeps (contractId: number, index: number, keepFraction: number): boolean {
  const h = hcrypto.hash(b4a.from(`datdot/fault/keep/${contractId}/${index}`))
  return h.readUInt32LE(0) / 2 ** 32 < keepFraction
}

/** The chunk an encoder with the corruptEncoding fault sends: one word changed, signed again. */
export function corruptChunk (chunk: StoredChunk, binding: { coreKey: Uint8Array, hosterKey: Uint8Array }, secretKey: Uint8Array): StoredChunk {
  const encoded = b4a.from(chunk.encoded)
  if (encoded.byteLength > 6) encoded[6] ^= 0x01
  else encoded[0] ^= 0x01
  return { ...chunk, encoded, encoderSignature: signEncodedChunk({ coreKey: binding.coreKey, index: chunk.index, hosterKey: binding.hosterKey }, encoded, secretKey) }
}

/** The behaviour of a provider with these faults (no fault: no hook, as honest as HONEST). */
export function cheating (faults: HostingFaults): HostingBehaviour {
  const { deleteEncoded, keepFraction, lateAnswers, refuseReaders, corruptEncoding, failHonest, passStorage } = faults
  if (keepFraction !== undefined && !(keepFraction >= 0 && keepFraction <= 1)) throw DatdotError.invalidArgument('keepFraction must be 0 to 1')
  const names = Object.entries(faults).filter(([, v]) => v !== undefined && v !== false).map(([k]) => k)
  const b: { -readonly [K in keyof HostingBehaviour]: HostingBehaviour[K] } = { name: names.length === 0 ? 'honest' : names.join('+') }
  if (refuseReaders === true) {
    // a hoster that serves nobody but providers once it hosts (readers and measuring attestors are dropped)
    b.admits = (key, ctx) => !ctx.hostsAnySlot() || ctx.isProviderKey(key)
    b.announces = false
  }
  if (lateAnswers === true) {
    // clearly past the attestor's deadline (base + 2 x its connect time) for any connect time under
    // base / 2 + 1 s, so a re-check by another attestor fails too; at or past its request timeout
    // (2 x deadline + 1 s), which it reports as DEADLINE_MISSED
    b.beforeAnswer = (ctx) => ctx.delay(2 * ctx.limits.commitBaseMs + 2000)
  }
  if (corruptEncoding === true) b.tamper = corruptChunk
  if (failHonest === true) b.verdict = (kind) => kind === 'storage' ? 'MISSING_CHUNK' : 'UNREACHABLE'
  if (passStorage === true) b.verdict = (kind) => kind === 'storage' ? 'NONE' : null
  if (deleteEncoded === true || keepFraction !== undefined) {
    b.onHosting = async (contract, _slot, store) => {
      const coreKey = b4a.from(contract.keyHex, 'hex')
      for (let index = contract.start; index < contract.end; index++) {
        if (deleteEncoded === true || !faultKeeps(contract.id, index, keepFraction ?? 1)) await store.deleteChunk(coreKey, index)
      }
    }
  }
  return b
}
