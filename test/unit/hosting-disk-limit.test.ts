/** The disk limit of "Rent my disk" must be a positive whole number of bytes that fits in the storage folder's free space. */
import { describe, it, expect } from 'vitest'
import { checkDiskLimit } from '../../main/hosting/seeding.js'
import { DatdotError } from '../../main/shared/errors.js'

const GB = 1e9
const TIB = 2 ** 40

function refusal (fn: () => unknown): DatdotError {
  try { fn() } catch (err) { return err as DatdotError }
  throw new Error('not refused')
}

describe('the disk limit', () => {
  it('accepts a limit within the free space plus what hosting already holds', () => {
    expect(checkDiskLimit(50 * GB, { freeBytes: 76 * GB, usedBytes: 0 })).toBe(50 * GB)
    expect(checkDiskLimit(80 * GB, { freeBytes: 76 * GB, usedBytes: 4 * GB })).toBe(80 * GB)
  })

  it('refuses 2 TiB on a disk with 76 GB free, saying how much is free', () => {
    const e = refusal(() => checkDiskLimit(2 * TIB, { freeBytes: 76 * GB, usedBytes: 0 }))
    expect(e.code).toBe('INVALID_ARGUMENT')
    expect(e.details).toMatchObject({ why: 'above-free-space', freeBytes: 76 * GB })
    expect(e.message).toBe('the disk limit of 2.0 TiB is more than the storage folder has free (70.8 GiB)')
  })

  it('refuses zero, negative, fractional and garbage limits with a coded reason', () => {
    const disk = { freeBytes: 76 * GB, usedBytes: 0 }
    expect(refusal(() => checkDiskLimit(0, disk)).details).toMatchObject({ why: 'not-positive' })
    expect(refusal(() => checkDiskLimit(-5, disk)).details).toMatchObject({ why: 'not-positive' })
    for (const bad of [1.5, Number.NaN, Infinity, '10', null, undefined, {}]) {
      const e = refusal(() => checkDiskLimit(bad, disk))
      expect(e.code).toBe('INVALID_ARGUMENT')
      expect(e.details).toMatchObject({ why: 'not-a-number' })
    }
  })
})

describe('the disk limit as typed in the UI', () => {
  it('reads sizes with or without a unit (a bare number is GiB)', async () => {
    const { parseDiskLimit } = await import('../../renderer/src/lib/disk-limit.js')
    expect(parseDiskLimit('50')).toBe(50 * 2 ** 30)
    expect(parseDiskLimit(' 1.5 TiB ')).toBe(1.5 * TIB)
    expect(parseDiskLimit('500 MB')).toBe(500e6)
    expect(parseDiskLimit('2,5 gib')).toBe(2.5 * 2 ** 30)
    for (const bad of ['', 'lots', '-5 GiB', '5 parsecs', '1e3', '9'.repeat(30) + ' TiB']) expect(parseDiskLimit(bad)).toBeNull()
  })

  it('says why a limit cannot be used: garbage, zero, above the free space', async () => {
    const { diskLimitProblem, formatFree, parseDiskLimit } = await import('../../renderer/src/lib/disk-limit.js')
    expect(diskLimitProblem(null, 76 * GB)).toBe('Type a size such as 50 GiB, 500 MiB or 1 TiB.')
    expect(diskLimitProblem(parseDiskLimit('0'), 76 * GB)).toBe('The disk limit must be above 0.')
    expect(diskLimitProblem(parseDiskLimit('2 TiB'), 76 * GB)).toBe('2 TiB is more than this disk has free (70 GiB). Choose a smaller limit.')
    expect(diskLimitProblem(parseDiskLimit('70 GiB'), 70.8 * 2 ** 30)).toBeNull()
    expect(formatFree(70.8 * 2 ** 30)).toBe('70 GiB')
    expect(formatFree(5.87 * 2 ** 30)).toBe('5.8 GiB')
    expect(diskLimitProblem(parseDiskLimit('70 GiB'), 76 * GB)).toBeNull()
    expect(diskLimitProblem(parseDiskLimit('2 TiB'), null)).toBeNull()
  })
})
