// "Rent my disk" requests (main/hosting/seeding.ts): what seeding on needs, what seeding off keeps.
import { describe, it, expect } from 'vitest'
import { checkSeeding, ALL_ROLES } from '../../main/hosting/seeding.js'
import { DEFAULT_HOSTING_SETTINGS } from '../../main/hosting/config.js'
import type { RoleName } from '../../main/chain/records.js'
import { DatdotError } from '../../main/shared/errors.js'

const current = { seeding: true, storageBytes: 2 ** 30, bandwidthBps: 1_000_000, region: 'eu' }

function refusal (fn: () => unknown): string {
  try { fn() } catch (err) { expect(err).toBeInstanceOf(DatdotError); return `${(err as DatdotError).code}: ${(err as DatdotError).message}` }
  throw new Error('not refused')
}

describe('a seeding request', () => {
  it('turns seeding on in every role by default, with the limits given', () => {
    const r = checkSeeding({ on: true, storageBytes: 5e9, bandwidthBps: 2e6, region: 'us' }, DEFAULT_HOSTING_SETTINGS)
    expect(r.settings).toEqual({ seeding: true, storageBytes: 5e9, bandwidthBps: 2e6, region: 'us' })
    expect(r.roles).toEqual([...ALL_ROLES])
  })

  it('keeps the last limits for fields it leaves out, on and off', () => {
    expect(checkSeeding({ on: true }, current).settings).toEqual(current)
    expect(checkSeeding({ on: false }, current).settings).toEqual({ ...current, seeding: false })
    expect(checkSeeding({ on: true, region: 'ap' }, current).settings.region).toBe('ap')
  })

  it('refuses seeding on without positive whole storage and bandwidth (the never-set defaults are zero)', () => {
    expect(refusal(() => checkSeeding({ on: true }, DEFAULT_HOSTING_SETTINGS))).toMatch(/INVALID_ARGUMENT: storageBytes/)
    for (const storageBytes of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(refusal(() => checkSeeding({ on: true, storageBytes }, current))).toMatch(/storageBytes must be a positive whole number/)
    }
    for (const bandwidthBps of [0, -3, 0.5, Number.NaN]) {
      expect(refusal(() => checkSeeding({ on: true, bandwidthBps }, current))).toMatch(/bandwidthBps must be a positive whole number/)
    }
  })

  it('lets seeding off through with limits that would be refused for seeding on', () => {
    expect(checkSeeding({ on: false }, DEFAULT_HOSTING_SETTINGS).settings.seeding).toBe(false)
  })

  it('refuses an empty or over-long region, on and off', () => {
    expect(refusal(() => checkSeeding({ on: true, region: '' }, current))).toMatch(/region must be 1 to 32/)
    expect(refusal(() => checkSeeding({ on: false, region: 'x'.repeat(33) }, current))).toMatch(/region must be 1 to 32/)
    expect(checkSeeding({ on: true, region: 'x'.repeat(32) }, current).settings.region).toHaveLength(32)
  })

  it('takes a subset of roles, and refuses no role or an unknown one', () => {
    expect(checkSeeding({ on: true, roles: ['hoster'] }, current).roles).toEqual(['hoster'])
    expect(refusal(() => checkSeeding({ on: true, roles: [] }, current))).toMatch(/roles must be some of/)
    expect(refusal(() => checkSeeding({ on: true, roles: ['miner' as RoleName] }, current))).toMatch(/roles must be some of/)
  })

  it('never hands back the caller’s roles array (a later change to it cannot change the registration)', () => {
    const r = checkSeeding({ on: true }, current)
    r.roles.pop()
    expect(checkSeeding({ on: true }, current).roles).toEqual([...ALL_ROLES])
  })
})
