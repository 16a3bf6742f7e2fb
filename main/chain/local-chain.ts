/**
 * The local chain: chopsticks-core executing the real Asset Hub runtime (raw genesis
 * `rococo_v2_2_asset_hub` of @substrate/connect-known-chains, GPL-3.0) in this process, persisted
 * in our own block store (chain-store.ts), optionally served as JSON-RPC over WebSocket on
 * ws://127.0.0.1:<port> so that several daemons share it.
 *
 * The process that runs the local chain is also the embedded network operator: on first start it
 * creates the operator keys (n of them, stored 0600 next to the chain store; default two), funds
 * them, a well-known dev faucet and the escrow (a k-of-n multisig of the operators, default
 * 1-of-2: pallet-multisig needs at least two signatories) by writing their balances at block #1,
 * and posts the network record; the block that holds it is `networkRef` (network-ref.ts). Joining
 * daemons discover escrow and operators from that record.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import type { AddressInfo } from 'node:net'
import type { Blockchain, ChopsticksProvider } from '@acala-network/chopsticks-core'
import '@polkadot/api-augment'
import { Keyring, type ApiPromise } from '@polkadot/api'
import type { SubmittableExtrinsic } from '@polkadot/api/types'
import type { KeyringPair } from '@polkadot/keyring/types'
import type { HexString } from '@polkadot/util/types'
import { cryptoWaitReady, createKeyMulti, mnemonicGenerate, decodeAddress } from '@polkadot/util-crypto'
import { u8aToHex } from '@polkadot/util'
import { ChainStore } from './chain-store.js'
import { encodeRecord, RECORD_PREFIX, type NetworkParams } from './records.js'
import { DatdotError } from '../shared/errors.js'
import { createApi } from './connect.js'
import type { NetworkRef } from './network-ref.js'

/** Well-known dev key of the local chain's faucet (local chains only; never funded elsewhere). */
export const FAUCET_URI = '//DatdotFaucet'
export const LOCAL_FUNDS = {
  faucetPlanck: 10n ** 24n,
  operatorPlanck: 10n ** 16n,
  /**
   * Price of one reward unit: 4000 planck (4e-9 token at 12 decimals). With MARKET_PARAMS.units
   * and DEFAULT_NETWORK_PARAMS a hosted copy costs about 0.1 token per GiB-month in steady state
   * (storage 60 + performance <= 40 + four attest reports of 10 units per 4 MiB contract per hour;
   * bench/sim.ts measures it, docs/protocol.md section 9).
   */
  unitPricePlanck: 4000n
} as const

/**
 * Marketplace parameters the app's embedded chain posts in its network record: contracts of 64
 * hypercore blocks (<= 4 MiB at 64 KiB blocks), one storage challenge and one performance check
 * per hosting slot per hour (600 blocks of 6 s), 20 blocks (2 minutes) to report, three attestors
 * per performance check, and passes aggregated per attestor over epochs of 1 h (600 blocks). The
 * embedded chain is where a newcomer watches seeders get paid, so it settles every hour like its
 * challenges; a public network posts PUBLIC_EPOCH_BLOCKS, where fees are real (docs/chain.md
 * "Aggregated attestations"). Tests pass small values (LocalChainOptions.networkParams).
 */
export const DEFAULT_NETWORK_PARAMS: NetworkParams = {
  chunksPerContract: 64,
  challengeIntervalBlocks: 600,
  challengeTimeoutBlocks: 20,
  performanceAttestors: 3,
  epochBlocks: 600
}

/** The epoch a public network should post: 24 h at 6 s blocks, the cheapest measured (bench/economics.ts). */
export const PUBLIC_EPOCH_BLOCKS = 14_400

/** Block time of the embedded chain when the caller does not choose one (Asset Hub's is 12 s; 6 s keeps challenge deadlines short). */
export const DEFAULT_BLOCK_INTERVAL_MS = 6000

type ChopsticksCore = typeof import('@acala-network/chopsticks-core')
let corePromise: Promise<ChopsticksCore> | null = null
/** chopsticks-core reads LOG_LEVEL when it is imported: the engine does not log, so only fatal errors unless LOG_LEVEL is set. */
export async function loadChopsticks (): Promise<ChopsticksCore> {
  if (corePromise === null) {
    process.env.LOG_LEVEL ??= 'fatal'
    corePromise = import('@acala-network/chopsticks-core')
  }
  return await corePromise
}

let openChains = 0

export interface LocalChainOptions {
  /** Folder for the block store and the operator keys. */
  dir: string
  /** Serve JSON-RPC on ws://127.0.0.1:<port> (0: any free port). Omit for in-process only. */
  port?: number
  /**
   * Build a block every this many ms, and only then (a fixed cadence like a real chain: a
   * transaction waits for the next block, deadlines in blocks are deadlines in time). Omit or 0:
   * a block for each batch of transactions, and on demand (newBlock).
   */
  blockIntervalMs?: number
  /** Parameters of the network record posted when the chain is first created (DEFAULT_NETWORK_PARAMS). Ignored for an existing chain. */
  networkParams?: NetworkParams
  /** Operator keys made on first start and the escrow's threshold (default 2 keys, threshold 1). Ignored once the keys exist. */
  operators?: { count: number, threshold: number }
  /**
   * Blocks built before the network record is posted, each with a faucet transfer and a plain
   * remark (default 0): a chain with history before the network, like a public one (tests).
   */
  historyBlocks?: number
}

/** The network's operator keys held by the local chain, the escrow's threshold and the k-of-n escrow account. */
export interface NetworkKeys { operators: KeyringPair[], threshold: number, escrow: string, escrowHex: string, faucet: KeyringPair }

export class LocalChain {
  readonly chain: Blockchain
  readonly provider: ChopsticksProvider
  readonly store: ChainStore
  readonly keys: NetworkKeys
  readonly genesisHash: string
  url: string | null = null
  private server: WebSocketServer | null = null
  private timer: NodeJS.Timeout | null = null
  private closed = false
  private building: Promise<unknown> = Promise.resolve()

  private constructor (chain: Blockchain, provider: ChopsticksProvider, store: ChainStore, keys: NetworkKeys, genesisHash: string) {
    this.chain = chain
    this.provider = provider
    this.store = store
    this.keys = keys
    this.genesisHash = genesisHash
  }

  static async open (opts: LocalChainOptions): Promise<LocalChain> {
    const core = await loadChopsticks()
    const { chainSpec } = await import('@substrate/connect-known-chains/rococo_v2_2_asset_hub')
    await cryptoWaitReady()
    mkdirSync(opts.dir, { recursive: true })
    const keys = loadOrCreateKeys(opts.dir, opts.operators ?? { count: 2, threshold: 1 })
    const file = join(opts.dir, 'local-chain.sqlite')
    let store = new ChainStore(file)
    const format = store.getMeta('recordsFormat')
    if (store.getMeta('bootstrapped') !== null && format !== RECORD_PREFIX.trim()) {
      // A local chain of an older record format: its network record is refused by this build, so
      // nothing on it could work. Keep it aside (nothing is deleted) and start a new local chain;
      // the nodes' ledgers see a re-org and reverse what they had recorded from the old one.
      await store.close()
      const aside = `${file}.${(format ?? 'datdot-1').replace(/\W+/g, '-')}-${Date.now()}.bak`
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix)
      store = new ChainStore(file)
    }
    let chain: Blockchain | null = null
    let wss: WebSocketServer | null = null
    let local: LocalChain | null = null
    try {
      // The port first: a port in use fails in a moment, before a chain is built or bootstrapped.
      if (opts.port !== undefined) wss = await listen(opts.port)
      const genesis = new core.GenesisProvider(JSON.parse(chainSpec) as ConstructorParameters<typeof core.GenesisProvider>[0])
      const api = new core.Api(genesis)
      await api.isReady
      const genesisHash = await api.getFinalizedHead()
      chain = new (durableBlockchain(core))({
        api,
        // With an interval the chain keeps a fixed cadence like a real one (transactions wait for
        // the next block), so deadlines counted in blocks are deadlines in time; without one, a
        // block is built for each batch of transactions (tests and tools that drive blocks).
        buildBlockMode: (opts.blockIntervalMs ?? 0) > 0 ? core.BuildBlockMode.Manual : core.BuildBlockMode.Batch,
        inherentProviders: core.inherentProviders,
        db: store,
        header: { hash: genesisHash as HexString, number: 0 },
        registeredTypes: {},
        maxMemoryBlockCount: 2000
      })
      openChains++
      const top = store.highest()
      if (top !== null) {
        store.setSquash(top.hash, genesisHash as HexString)
        const head = await chain.loadBlockFromDB(top.hash as HexString)
        if (head === undefined) throw DatdotError.corrupt(`local chain store: head ${top.hash} not loadable`)
        await chain.setHead(head)
      } else {
        await chain.newBlock()
      }
      const provider = new core.ChopsticksProvider(chain)
      local = new LocalChain(chain, provider, store, keys, genesisHash)
      if (store.getMeta('bootstrapped') === null) await local.bootstrap(opts.networkParams ?? DEFAULT_NETWORK_PARAMS, opts.historyBlocks ?? 0)
      if (wss !== null) local.serve(wss, core)
      if (opts.blockIntervalMs !== undefined && opts.blockIntervalMs > 0) local.startTimer(opts.blockIntervalMs)
      return local
    } catch (err) {
      // Close everything this open started (server, provider, chain, store, the chopsticks
      // worker), so a failed start leaves nothing running and the process can exit.
      if (wss !== null) await closeServer(wss)
      if (local !== null) await local.provider.disconnect().catch(() => {})
      if (chain !== null) { await chain.close().catch(() => {}); openChains-- } else await store.close().catch(() => {})
      if (openChains === 0) await (await loadChopsticks()).destroyWorker().catch(() => {})
      throw err instanceof DatdotError ? err : DatdotError.chain(`cannot start the local chain: ${(err as Error).message}`, err)
    }
  }

  get headNumber (): number { return this.chain.head.number }

  /** The network this chain's operator created: genesis and the block holding its record (null for a chain bootstrapped before this was kept). */
  get networkRef (): NetworkRef | null {
    const block = this.store.getMeta('networkBlock')
    return block === null ? null : { genesisHash: this.genesisHash.toLowerCase(), recordBlock: Number(block) }
  }

  /** Builds one block now (with whatever is pending). */
  async newBlock (): Promise<void> {
    const p = this.building.then(async () => { await this.chain.newBlock() })
    this.building = p.catch(() => {})
    await p
  }

  /**
   * Builds a block every `ms` (at least 100 ms) until closed; a running timer is replaced. A tick
   * while the timer's last block is still being built is skipped: on a loaded machine a block can
   * take longer than `ms`, and queueing one per tick grew a backlog that close() then waited for
   * (a minute and more after a long hosting test).
   */
  startTimer (ms: number): void {
    if (this.timer !== null) clearInterval(this.timer)
    let ticking = false
    this.timer = setInterval(() => {
      if (this.closed || ticking) return
      ticking = true
      this.newBlock().catch(() => {}).finally(() => { ticking = false })
    }, Math.max(100, ms))
    this.timer.unref()
  }

  /** Funds the network accounts at the head block, persists that state, (history blocks), posts the network record. */
  private async bootstrap (params: NetworkParams, historyBlocks: number): Promise<void> {
    // A provider of its own: disconnecting an ApiPromise disconnects its provider.
    const api = await createApi(this.provider.clone(), { throwOnConnect: true })
    try {
      await api.isReadyOrError
      const ed = api.consts.balances.existentialDeposit.toBigInt()
      const account = (free: bigint): Record<string, unknown> => ({ providers: 1, data: { free: free.toString() } })
      const core = await loadChopsticks()
      await core.setStorage(this.chain, {
        System: {
          Account: [
            [[this.keys.faucet.address], account(LOCAL_FUNDS.faucetPlanck)],
            ...this.keys.operators.map((o) => [[o.address], account(LOCAL_FUNDS.operatorPlanck)]),
            [[this.keys.escrow], account(ed)]
          ]
        }
      })
      // The funding layer belongs to the head block: save the head again so it survives restarts.
      await this.chain.saveBlockToDB(this.chain.head)
      this.store.setMeta('escrowBaselinePlanck', ed.toString())
      for (let i = 0; i < historyBlocks; i++) {
        const history = api.tx.utility.batchAll([api.tx.balances.transferKeepAlive(this.keys.operators[0].address, ed), api.tx.system.remark(`history ${i}`)])
        await this.include(api, history, this.keys.faucet, 'a history block')
      }
      const rec = encodeRecord({
        kind: 'network',
        operators: this.keys.operators.map((o) => u8aToHex(o.publicKey)),
        threshold: this.keys.threshold,
        escrow: this.keys.escrowHex,
        unitPricePlanck: LOCAL_FUNDS.unitPricePlanck,
        params
      })
      const recordBlock = await this.include(api, api.tx.system.remarkWithEvent(u8aToHex(rec)), this.keys.operators[0], 'network record')
      this.store.setMeta('networkBlock', String(recordBlock))
      this.store.setMeta('recordsFormat', RECORD_PREFIX.trim())
      this.store.setMeta('bootstrapped', String(this.chain.head.number))
    } finally {
      await api.disconnect()
    }
  }

  /** Signs and sends `tx`, builds a block (the timer starts after bootstrap) and returns the number of the block that holds it. */
  private async include (api: ApiPromise, tx: SubmittableExtrinsic<'promise'>, signer: KeyringPair, what: string): Promise<number> {
    const hash = await new Promise<string>((resolve, reject) => {
      tx.signAndSend(signer, { nonce: -1 }, (r) => {
        if (r.dispatchError !== undefined) reject(DatdotError.chain(`${what} failed: ${r.dispatchError.toString()}`))
        else if (r.status.isInBlock) resolve(r.status.asInBlock.toHex())
      }).then(async () => { await this.newBlock() }).catch(reject)
    })
    return (await api.rpc.chain.getHeader(hash)).number.toNumber()
  }

  /** JSON-RPC 2.0 over WebSocket with chopsticks' handlers (substrate + dev_* methods), loopback only, on a listening server (listen()). */
  private serve (wss: WebSocketServer, core: ChopsticksCore): void {
    this.server = wss
    this.url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
    wss.on('connection', (ws: WebSocket) => {
      const subs = new Map<string, () => void>()
      const send = (msg: unknown): void => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg)) }
      const manager = {
        subscribe: (method: string, subid: string, onCancel: () => void = () => {}) => {
          subs.set(subid, onCancel)
          return (data: unknown) => send({ jsonrpc: '2.0', method, params: { subscription: subid, result: data } })
        },
        unsubscribe: (subid: string) => {
          const cancel = subs.get(subid)
          subs.delete(subid)
          cancel?.()
        }
      }
      ws.on('message', (raw) => {
        let req: { id?: unknown, method?: unknown, params?: unknown }
        try { req = JSON.parse((Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw)).toString('utf8')) as typeof req } catch { send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }); return }
        const handler = typeof req.method === 'string' ? core.allHandlers[req.method] : undefined
        if (handler === undefined) { send({ jsonrpc: '2.0', id: req.id ?? null, error: { code: -32601, message: `method not found: ${String(req.method)}` } }); return }
        const params = Array.isArray(req.params) ? req.params : []
        handler({ chain: this.chain }, params, manager).then(
          (result: unknown) => send({ jsonrpc: '2.0', id: req.id, result: result ?? null }),
          (err: unknown) => {
            const e = err as { code?: unknown, message?: string }
            send({ jsonrpc: '2.0', id: req.id, error: { code: typeof e.code === 'number' ? e.code : -32603, message: e.message ?? String(err) } })
          })
      })
      ws.on('close', () => { for (const cancel of subs.values()) cancel(); subs.clear() })
      ws.on('error', () => {})
    })
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    await this.building
    // Blocks built for submitted transactions (batch mode) are not in `building`: wait until the
    // pool has built and saved every block it has started, so a clean close keeps all of them.
    await this.chain.txPool.upcomingBlocks().catch(() => {})
    if (this.server !== null) {
      for (const c of this.server.clients) c.terminate()
      await new Promise<void>((resolve) => this.server?.close(() => resolve()))
    }
    await this.provider.disconnect().catch(() => {})
    await this.chain.close().catch(() => {})
    await this.store.close()
    openChains--
    if (openChains === 0) {
      const core = await loadChopsticks()
      await core.destroyWorker().catch(() => {})
    }
  }
}

/** A loopback WebSocket server listening on `port` (0: any free port); a port in use is one clear error. */
async function listen (port: number): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: 16 * 1024 * 1024 })
  try {
    await new Promise<void>((resolve, reject) => { wss.once('listening', resolve); wss.once('error', reject) })
  } catch (err) {
    await closeServer(wss)
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw DatdotError.invalidArgument(`port ${port} is in use on 127.0.0.1 (another local chain or program listens there): stop it or choose another port`, { port })
    if (code === 'EACCES') throw DatdotError.invalidArgument(`port ${port} needs privileges this user lacks: choose a port above 1023`, { port })
    throw DatdotError.chain(`cannot listen on 127.0.0.1:${port}: ${(err as Error).message}`, err)
  }
  return wss
}

async function closeServer (wss: WebSocketServer): Promise<void> {
  for (const c of wss.clients) c.terminate()
  await new Promise<void>((resolve) => wss.close(() => resolve()))
}

/**
 * chopsticks' Blockchain makes a new block the head (announcing it to every subscriber) and only
 * then saves it. A close or crash in between lost a block that clients had already seen (the
 * chain reopened one block behind). Ours saves first: a block is durable before anyone sees it,
 * so a clean close loses nothing and a kill -9 loses at most the block being built.
 */
function durableBlockchain (core: ChopsticksCore): typeof Blockchain {
  return class DurableBlockchain extends core.Blockchain {
    override async onNewBlock (block: Parameters<Blockchain['onNewBlock']>[0]): Promise<void> {
      await this.saveBlockToDB(block)
      await this.setHead(block)
    }
  }
}

/** Operator keys of the local network and the escrow's threshold, created once (file mode 0600; older files: threshold 1). */
function loadOrCreateKeys (dir: string, make: { count: number, threshold: number }): NetworkKeys {
  const file = join(dir, 'network-keys.json')
  let mnemonics: string[]
  let threshold: number
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { operators?: unknown, threshold?: unknown }
    threshold = parsed.threshold === undefined ? 1 : Number(parsed.threshold)
    if (!Array.isArray(parsed.operators) || !parsed.operators.every((m) => typeof m === 'string') || !validOperators(parsed.operators.length, threshold)) {
      throw DatdotError.corrupt(`network keys in ${file}`)
    }
    mnemonics = parsed.operators
  } else {
    if (!validOperators(make.count, make.threshold)) throw DatdotError.invalidArgument(`operators: 2..16 keys and a threshold of 1..keys (got ${make.threshold} of ${make.count})`)
    mnemonics = Array.from({ length: make.count }, () => mnemonicGenerate())
    threshold = make.threshold
    writeFileSync(file, JSON.stringify({ operators: mnemonics, threshold }), { mode: 0o600, flag: 'wx' })
  }
  chmodSync(file, 0o600)
  const keyring = new Keyring({ type: 'sr25519' })
  const operators = mnemonics.map((m) => keyring.addFromUri(m))
  const escrowU8a = createKeyMulti(operators.map((o) => o.address), threshold)
  return {
    operators,
    threshold,
    escrow: keyring.encodeAddress(escrowU8a),
    escrowHex: u8aToHex(escrowU8a),
    faucet: keyring.addFromUri(FAUCET_URI)
  }
}

/** pallet-multisig needs at least two signatories; the network record allows at most 16 operators. */
function validOperators (count: number, threshold: number): boolean {
  return Number.isInteger(count) && Number.isInteger(threshold) && count >= 2 && count <= 16 && threshold >= 1 && threshold <= count
}

export function accountHex (address: string): string { return u8aToHex(decodeAddress(address)) }
