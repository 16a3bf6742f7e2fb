/**
 * The chain service's connection: opens the chain (a local chain handed in, an embedded chopsticks
 * of its own, or a ws:// endpoint), creates the @polkadot/api `ApiPromise` and keeps it for the
 * service's lifetime, reads what the chain is (token, ss58 format, chain id, local or not), loads
 * or creates this node's key (wallet.ts), and tracks the connected flag across the provider's
 * own reconnects.
 * `close()` disconnects the api and closes the embedded chain it opened.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { ApiPromise, WsProvider, Keyring } from '@polkadot/api'
import type { KeyringPair } from '@polkadot/keyring/types'
import { cryptoWaitReady, encodeAddress } from '@polkadot/util-crypto'
import { hexToU8a } from '@polkadot/util'
import { DatdotError } from '../shared/errors.js'
import { withTimeout } from '../shared/timeout.js'
import type { NetworkParams } from './records.js'
import { readBlock, missingApis, type ReadBlock } from './follower.js'
import { LocalChain, FAUCET_URI, DEFAULT_BLOCK_INTERVAL_MS } from './local-chain.js'
import { createApi } from './connect.js'
import { loadOrCreateWallet } from './wallet.js'

export const CONNECT_TIMEOUT_MS = 60_000

export interface ConnectionOptions {
  /** Folder for the wallet seed and the embedded chain store. */
  dir: string
  /** 'embedded' (chopsticks in this process) or a ws:// URL. */
  endpoint: string
  servePort?: number
  blockIntervalMs?: number
  networkParams?: NetworkParams
  /** An already open local chain to use (not closed here). */
  localChain?: LocalChain
  /** The storage folder's Corestore primary key: a new wallet is derived from it (wallet.ts). */
  primaryKey?: Uint8Array
}

/** What following needs from the chain: its head, block hashes, blocks and balances. */
export interface ChainReader {
  head (): Promise<number>
  hashAt (number: number): Promise<string | null>
  read (number: number): Promise<ReadBlock>
  /** Balance (free + reserved) of an address at a block (head when omitted). */
  balanceOf (address: string, blockHash?: string): Promise<bigint>
}

type Provider = ConstructorParameters<typeof ApiPromise>[0] extends infer O ? O extends { provider?: infer P } ? P : never : never

export class ChainConnection implements ChainReader {
  api!: ApiPromise
  local: LocalChain | null = null
  pair!: KeyringPair
  keyring!: Keyring
  /** `${genesisHash}/${hash of block 1}`: a reset local chain has the same genesis but not the same block 1. */
  chainId = ''
  tokenSymbol = 'UNIT'
  tokenDecimals = 12
  chainName: string | null = null
  ss58 = 42
  /** True on a chain that builds blocks on demand (dev_newBlock): the embedded one. */
  isLocal = false
  /**
   * A local dev chain with DatDot's dev faucet: it answers dev_newBlock and the well-known faucet
   * account (//DatdotFaucet) has funds. Any such chain (embedded, `datdot chain`, a devnet) gives
   * dev tokens (ChainService.faucet); a chopsticks fork without that account does not.
   */
  devFaucet = false
  connected = false
  /** Escrow balance before the marketplace (the local chain's genesis funding). */
  escrowBaselinePlanck = 0n
  private ownsLocal = false

  /** `onStatus` is called when the connection drops or comes back. */
  constructor (private readonly opts: ConnectionOptions, private readonly onStatus: () => void) {}

  async open (): Promise<void> {
    await cryptoWaitReady()
    mkdirSync(this.opts.dir, { recursive: true })
    const provider = await this.openProvider()
    let api: ApiPromise
    try {
      api = await chainTimeout(createApi(provider), CONNECT_TIMEOUT_MS, 'connecting to the chain')
    } catch (err) {
      await provider.disconnect().catch(() => {})
      throw err instanceof DatdotError ? err : DatdotError.chain(`cannot connect to the chain: ${(err as Error).message}`, err)
    }
    api.on('disconnected', () => { this.connected = false; this.onStatus() })
    api.on('connected', () => { this.connected = true; this.onStatus() })
    api.on('error', () => { this.connected = false })
    await chainTimeout(api.isReadyOrError, CONNECT_TIMEOUT_MS, 'connecting to the chain')
    this.api = api
    this.connected = true
    await this.describe(api)
    this.keyring = new Keyring({ type: 'sr25519', ss58Format: this.ss58 })
    this.pair = this.keyring.addFromUri(loadOrCreateWallet(join(this.opts.dir, 'wallet.json'), this.opts.primaryKey))
    this.devFaucet = this.isLocal && (await this.balanceOf(this.faucetPair().address)) > 0n
    if (this.local !== null) this.escrowBaselinePlanck = BigInt(this.local.store.getMeta('escrowBaselinePlanck') ?? '0')
  }

  async close (): Promise<void> {
    if (this.api !== undefined) await this.api.disconnect().catch(() => {})
    if (this.ownsLocal && this.local !== null) await this.local.close()
    this.connected = false
  }

  /** The endpoint as the status shows it. */
  get endpoint (): string { return this.local !== null ? (this.local.url ?? 'embedded') : this.opts.endpoint }

  /** ss58 address of a 0x account id, in this chain's format. */
  formatAddress (hex: string): string { return encodeAddress(hexToU8a(hex), this.ss58) }

  /** The local chain's well-known faucet account. */
  faucetPair (): KeyringPair { return this.keyring.addFromUri(FAUCET_URI) }

  async head (): Promise<number> { return (await this.api.rpc.chain.getHeader()).number.toNumber() }

  async hashAt (number: number): Promise<string | null> {
    const h = await this.api.rpc.chain.getBlockHash(number)
    return h.isEmpty ? null : h.toHex()
  }

  async read (number: number): Promise<ReadBlock> { return await readBlock(this.api, number) }

  async balanceOf (address: string, blockHash?: string): Promise<bigint> {
    const api = blockHash === undefined ? this.api : await this.api.at(blockHash)
    const acc = await api.query.system.account(address)
    return acc.data.free.toBigInt() + acc.data.reserved.toBigInt()
  }

  /** Calls `onHead` with the number of every new head; returns the unsubscribe function. */
  async subscribeHeads (onHead: (number: number) => void): Promise<() => void> {
    return await this.api.rpc.chain.subscribeNewHeads((h) => { onHead(h.number.toNumber()) })
  }

  private async openProvider (): Promise<Provider> {
    if (this.opts.localChain !== undefined) {
      this.local = this.opts.localChain
      return this.local.provider.clone()
    }
    if (this.opts.endpoint === 'embedded') {
      this.local = await LocalChain.open({
        dir: join(this.opts.dir, 'local'),
        port: this.opts.servePort,
        blockIntervalMs: this.opts.blockIntervalMs ?? DEFAULT_BLOCK_INTERVAL_MS,
        networkParams: this.opts.networkParams
      })
      this.ownsLocal = true
      return this.local.provider.clone()
    }
    if (!isLoopbackOrConfigured(this.opts.endpoint)) throw DatdotError.invalidArgument(`refusing a non-loopback chain endpoint without wss://: ${this.opts.endpoint}`)
    return new WsProvider(this.opts.endpoint, 2500)
  }

  /** Reads what this chain is: the calls DatDot needs, token, ss58 format, name, local or not, chain id. */
  private async describe (api: ApiPromise): Promise<void> {
    const missing = missingApis(api)
    if (missing.length > 0) throw DatdotError.chain(`the chain lacks calls DatDot needs: ${missing.join(', ')}`)
    const props = await api.rpc.system.properties()
    this.tokenDecimals = props.tokenDecimals.isSome ? props.tokenDecimals.unwrap()[0].toNumber() : 12
    this.tokenSymbol = props.tokenSymbol.isSome ? props.tokenSymbol.unwrap()[0].toString() : 'UNIT'
    this.ss58 = api.registry.chainSS58 ?? 42
    this.chainName = (await api.rpc.system.chain()).toString()
    const methods = (await api.rpc.rpc.methods()).methods.map(String)
    this.isLocal = methods.includes('dev_newBlock')
    const block1 = (await api.rpc.chain.getBlockHash(1)).toHex()
    this.chainId = `${api.genesisHash.toHex()}/${block1}`
  }
}

/** Connecting must answer in time: CHAIN_ERROR "timed out ..." at the deadline. */
function chainTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  return withTimeout(p, ms, what, { onTimeout: (w) => DatdotError.chain(`timed out ${w}`) })
}

/** Plain ws:// only to loopback; anything else must be wss:// (a real Asset Hub endpoint). */
function isLoopbackOrConfigured (url: string): boolean {
  if (url.startsWith('wss://')) return true
  try {
    const host = new URL(url).hostname
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]'
  } catch { return false }
}
