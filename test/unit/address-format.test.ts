/**
 * One form of a chain account everywhere in the UI: the short ss58 address (first and last six
 * characters) of renderer/src/lib/format.ts, the same function the hosting service uses to name
 * accounts in plan events, whatever form (ss58, 0x hex in a text) they came in.
 */
import { describe, it, expect } from 'vitest'
import { encodeAddress } from '@polkadot/util-crypto'
import { hexToU8a } from '@polkadot/util'
import { shortAddress } from '../../renderer/src/lib/format.js'
import { shortAddressesIn } from '../../main/shared/address.js'

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'
const ALICE_HEX = '0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d'

describe('a chain account shown to people', () => {
  it('keeps the first and last six characters of an ss58 address', () => {
    expect(shortAddress(ALICE)).toBe('5Grwva…GKutQY')
  })

  it('leaves a value short enough to read whole as it is', () => {
    expect(shortAddress('@fees')).toBe('@fees')
    expect(shortAddress('5Grwva12GKutQY')).toBe('5Grwva12GKutQY')
    expect(shortAddress('')).toBe('')
  })

  it('names the 0x accounts of a text by their short ss58 address in the chain’s format', () => {
    const toSs58 = (hex: string): string => encodeAddress(hexToU8a(hex), 42)
    expect(toSs58(ALICE_HEX)).toBe(ALICE)
    expect(shortAddressesIn(`hoster ${ALICE_HEX} of contract 3 failed a storage challenge`, toSs58)).toBe('hoster 5Grwva…GKutQY of contract 3 failed a storage challenge')
    expect(shortAddressesIn(`encoder ${ALICE_HEX.toUpperCase().replace('0X', '0x')} blamed; ${ALICE_HEX}`, toSs58)).toBe('encoder 5Grwva…GKutQY blamed; 5Grwva…GKutQY')
    expect(shortAddressesIn('plan 4 ended (0x1234)', toSs58)).toBe('plan 4 ended (0x1234)')
  })
})
