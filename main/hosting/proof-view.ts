/**
 * A proof row as the API and its events give it to people: the hoster as the wallet names
 * accounts (ss58, main/shared/address.ts), not the marketplace's 0x account id kept in SQLite.
 * A hoster that is not a 0x account id (an older or hand-made row) is given as it is.
 */
import type { ProofRow } from './config.js'

const ACCOUNT_HEX = /^0x[0-9a-f]{64}$/i

export function proofForPeople (row: ProofRow, formatAddress: (hex: string) => string): ProofRow {
  return ACCOUNT_HEX.test(row.hoster) ? { ...row, hoster: formatAddress(row.hoster.toLowerCase()) } : row
}
