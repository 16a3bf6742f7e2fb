/**
 * How a chain account is shown to people: its ss58 address (the wallet's form), shortened to the
 * first and last six characters. The one formatter of accounts: the renderer (Plans page hosters,
 * local seeders, the ledger's counterparties) and the plan events the hosting service writes use
 * it, so an account reads the same everywhere. The full address goes in a title or a copy button.
 *
 * Like every shared file, free of Node and Electron imports: bundled into the renderer.
 */

/** First and last characters kept by shortAddress. */
const KEEP = 6

/** '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY' -> '5Grwva…GKutQY': first 6, '…', last 6 (short values as they are). */
export function shortAddress (address: string): string {
  return address.length > 2 * KEEP + 2 ? `${address.slice(0, KEEP)}…${address.slice(-KEEP)}` : address
}

/** A 0x account id (32 bytes) anywhere in a text. */
const ACCOUNT_HEX = /0x[0-9a-f]{64}/gi

/** Every 0x account id in `text` as its short ss58 address (`toSs58`: the chain's formatter). */
export function shortAddressesIn (text: string, toSs58: (hex: string) => string): string {
  return text.replace(ACCOUNT_HEX, (hex) => shortAddress(toSs58(hex.toLowerCase())))
}
