/**
 * The chain's terse refusals as coded errors: a fee this account cannot pay (Substrate's
 * `1010: {"invalid":{"payment":null}}`) is INSUFFICIENT_FUNDS with the way out, in the engine and
 * as the renderer reads it back; other refusals stay CHAIN_ERROR.
 */
import { describe, it, expect } from 'vitest'
import { refusalError } from '../../main/chain/submitter.js'
import { DatdotError } from '../../main/shared/errors.js'
import { toApiError, hintFor } from '../../renderer/src/lib/api-error.js'

const PAYMENT = '1010: Invalid Transaction: Inability to pay some fees , e.g. account balance too low'

describe('refusalError', () => {
  it('maps the raw payment refusal to INSUFFICIENT_FUNDS saying the wallet has no tokens and how to get some', () => {
    for (const raw of ['1010: {"invalid":{"payment":null}}', PAYMENT]) {
      const err = refusalError(raw)
      expect(err).toBeInstanceOf(DatdotError)
      expect(err.code).toBe('INSUFFICIENT_FUNDS')
      expect(err.message).toMatch(/^Your wallet has no tokens/)
      expect(err.message).toMatch(/Get dev tokens/)
      expect(err.message).not.toMatch(/1010|invalid|payment/)
      expect(err.details).toMatchObject({ why: 'insufficient-funds', raw })
    }
  })

  it('keeps other refusals as CHAIN_ERROR with their own message', () => {
    const stale = refusalError('1010: {"invalid":{"stale":null}}')
    expect(stale.code).toBe('CHAIN_ERROR')
    expect(stale.message).toMatch(/nonce out of date/)
    expect(refusalError('1012: Transaction is temporarily banned').code).toBe('CHAIN_ERROR')
  })

  it('reaches the renderer as INSUFFICIENT_FUNDS with a dev-tokens hint, not "the hosting network is not reachable"', () => {
    const wire = JSON.parse(JSON.stringify(refusalError(PAYMENT))) as unknown
    const e = toApiError(wire)
    expect(e.code).toBe('INSUFFICIENT_FUNDS')
    expect(hintFor(e.code)).toMatch(/Get dev tokens/)
    // through Electron IPC only the text survives: "CODE: message"
    expect(toApiError(new Error(`INSUFFICIENT_FUNDS: ${refusalError(PAYMENT).message}`)).code).toBe('INSUFFICIENT_FUNDS')
  })
})
