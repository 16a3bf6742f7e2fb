/**
 * Pure parts of the hosting service: failure reasons for storage reports, setup blame, slot
 * receipts, and the test-only faults (keep fraction, corrupt encoding).
 */
import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import hcrypto from 'hypercore-crypto'
import b4a from 'b4a'
import { storageFailure } from '../../main/hosting/challenges.js'
import { HONEST } from '../../main/hosting/behaviour.js'
import { faultKeeps, corruptChunk, cheating } from '../helpers/hosting-faults.js'
import { receiptsRoot, slotReceiptSignable, verifySlotReceipt, withBlame, blameOf } from '../../main/hosting/roles.js'
import { encodeChunk, signEncodedChunk, verifyEncodedChunkSignature, decodeChunk, encodedChunkHash } from '../../main/hosting/encoding.js'
import { receiptMessage, STORAGE_FAILURES } from '../../main/chain/records.js'
import { PROOF_FAILURE } from '../../main/hosting/proof.js'
import { DatdotError } from '../../main/shared/errors.js'

describe('storage report reasons', () => {
  it('passes every proof failure reason the chain knows through, and maps transport errors', () => {
    for (const r of Object.values(PROOF_FAILURE)) expect(STORAGE_FAILURES).toContain(storageFailure(r))
    expect(storageFailure('MISSING_CHUNK')).toBe('MISSING_CHUNK')
    expect(storageFailure('WRONG_COMMITMENT')).toBe('WRONG_COMMITMENT')
    expect(storageFailure('TIMEOUT')).toBe('DEADLINE_MISSED')
    expect(storageFailure('CLOSED')).toBe('UNREACHABLE')
    expect(storageFailure('BAD_RECEIPT')).toBe('OTHER')
    expect(storageFailure('NONE')).toBe('OTHER') // a failure is never reported as NONE
    expect(storageFailure(null)).toBe('OTHER')
  })
})

describe('slot receipts', () => {
  const hoster = hcrypto.keyPair()
  const coreKey = randomBytes(32)
  const hashes = [randomBytes(32), randomBytes(32), randomBytes(32)]

  it('hash the concatenated chunk hashes in order, and sign the chain’s receipt message', () => {
    const root = receiptsRoot(hashes)
    expect(root.equals(hcrypto.hash(Buffer.concat(hashes)))).toBe(true)
    expect(receiptsRoot([hashes[1], hashes[0], hashes[2]]).equals(root)).toBe(false)
    const signable = slotReceiptSignable(7, coreKey, 40, root)
    expect(Buffer.from(receiptMessage(7, coreKey.toString('hex'), 40, root.toString('hex'))).equals(signable)).toBe(true)
    const sig = hcrypto.sign(signable, hoster.secretKey)
    expect(verifySlotReceipt(7, coreKey, 40, root, sig, hoster.publicKey)).toBe(true)
  })

  it('do not verify for another contract, root length, root or signer', () => {
    const root = receiptsRoot(hashes)
    const sig = hcrypto.sign(slotReceiptSignable(7, coreKey, 40, root), hoster.secretKey)
    expect(verifySlotReceipt(8, coreKey, 40, root, sig, hoster.publicKey)).toBe(false)
    expect(verifySlotReceipt(7, coreKey, 41, root, sig, hoster.publicKey)).toBe(false)
    expect(verifySlotReceipt(7, coreKey, 40, randomBytes(32), sig, hoster.publicKey)).toBe(false)
    expect(verifySlotReceipt(7, coreKey, 40, root, sig, hcrypto.keyPair().publicKey)).toBe(false)
    expect(verifySlotReceipt(7, coreKey, 40, root, sig.subarray(0, 63), hoster.publicKey)).toBe(false)
  })
})

describe('setup blame', () => {
  it('travels on the error without changing its code or reason', () => {
    const e = withBlame(DatdotError.proofFailed('ROOT_MISMATCH', 'x'), 'bad-encoding')
    expect(e.code).toBe('PROOF_FAILED')
    expect(e.details?.reason).toBe('ROOT_MISMATCH')
    expect(blameOf(e)).toBe('bad-encoding')
    expect(blameOf(DatdotError.timeout('x', 1))).toBeNull()
    expect(blameOf(new Error('plain'))).toBeNull()
  })
})

describe('test-only faults', () => {
  it('keep about the asked fraction of a contract’s blocks, always the same ones', () => {
    const kept = (f: number): number => Array.from({ length: 4000 }, (_, i) => faultKeeps(3, i, f)).filter(Boolean).length
    expect(kept(0)).toBe(0)
    expect(kept(1)).toBe(4000)
    expect(Math.abs(kept(0.5) - 2000)).toBeLessThan(200)
    expect(Array.from({ length: 50 }, (_, i) => faultKeeps(3, i, 0.5))).toEqual(Array.from({ length: 50 }, (_, i) => faultKeeps(3, i, 0.5)))
  })

  it('corrupt an encoding so its encoder signature still verifies but it no longer decodes to the block', () => {
    const encoder = hcrypto.keyPair()
    const binding = { coreKey: randomBytes(32), index: 5, hosterKey: randomBytes(32) }
    const block = randomBytes(1000)
    const encoded = encodeChunk(block, binding, { rounds: 1 })
    const chunk = { index: 5, encoded, encoderSignature: signEncodedChunk(binding, encoded, encoder.secretKey), merkle: { index: 5, length: 6, nodes: [], roots: [] } }
    const bad = corruptChunk(chunk, binding, encoder.secretKey)
    expect(encodedChunkHash(bad.encoded).equals(encodedChunkHash(encoded))).toBe(false)
    expect(verifyEncodedChunkSignature(binding, bad.encoded, bad.encoderSignature, encoder.publicKey)).toBe(true)
    expect(b4a.equals(decodeChunk(bad.encoded, binding), block)).toBe(false)
    expect(chunk.encoded.equals(encoded)).toBe(true) // the original is left alone
  })

  it('are none in the honest behaviour, no fault makes no hook, and a keep fraction outside 0..1 is refused', () => {
    expect(Object.keys(HONEST)).toEqual(['name'])
    expect(Object.keys(cheating({}))).toEqual(['name'])
    expect(Object.keys(cheating({ failHonest: true })).sort()).toEqual(['name', 'verdict'])
    expect(cheating({ failHonest: true }).verdict?.('storage')).toBe('MISSING_CHUNK')
    expect(cheating({ failHonest: true }).verdict?.('performance')).toBe('UNREACHABLE')
    expect(cheating({ refuseReaders: true }).announces).toBe(false)
    expect(() => cheating({ keepFraction: 1.5 })).toThrow(DatdotError)
    expect(() => cheating({ keepFraction: -0.1 })).toThrow(DatdotError)
    expect(() => cheating({ keepFraction: Number.NaN })).toThrow(DatdotError)
  })
})

describe('plan ranges from a sponsor’s core', () => {
  it('cover only the blocks the sponsor has: a cleared block splits the range, a fully cleared tail is left out', async () => {
    const { default: Corestore } = await import('corestore')
    const { mkdtemp, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { captureSignedRoot } = await import('../../main/hosting/proof.js')
    const { driveRanges } = await import('../../main/hosting/sponsor.js')
    const dir = await mkdtemp(join(tmpdir(), 'datdot-ranges-'))
    const store = new Corestore(dir)
    try {
      const core = store.get({ name: 'blobs' })
      await core.ready()
      for (let i = 0; i < 12; i++) await core.append(b4a.from(`block ${i}`))
      const root = await captureSignedRoot(core)
      expect((await driveRanges(core, root, 0))?.ranges).toEqual([[0, 12]])
      // a crash-orphaned region cleared in the middle, and the plan update's range after it
      await core.clear(4, 7)
      const d = await driveRanges(core, root, 0)
      expect(d?.ranges).toEqual([[0, 4], [7, 12]])
      expect(d?.keyHex).toBe(b4a.toString(core.key as Buffer, 'hex'))
      expect((await driveRanges(core, root, 8))?.ranges).toEqual([[8, 12]])
      await core.clear(7, 12)
      expect(await driveRanges(core, root, 7)).toBeNull()
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
