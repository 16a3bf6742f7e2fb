import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { Ledger } from '../../main/ledger/ledger.js'
import { createChainHandlers } from '../../main/api/handlers-chain.js'
import { chainCommands } from '../../main/cli/chain-commands.js'
import { parseTokens, formatTokens } from '../../main/shared/tokens.js'
import type { ChainService } from '../../main/chain/service.js'
import type { CliContext } from '../../main/cli/types.js'

describe('token amounts in the CLI', () => {
  it('parses and formats decimal token amounts exactly', () => {
    expect(parseTokens('1.5', 12)).toBe(1_500_000_000_000n)
    expect(parseTokens('0.000000000001', 12)).toBe(1n)
    expect(parseTokens('10000000000000000000', 12)).toBe(10n ** 31n)
    expect(() => parseTokens('100000000000000000000', 12)).toThrow(/not an amount/)
    expect(() => parseTokens('1.0000000000001', 12)).toThrow(/decimals/)
    expect(() => parseTokens('-1', 12)).toThrow(/not an amount/)
    expect(() => parseTokens('1e3', 12)).toThrow(/not an amount/)
    expect(formatTokens(1_500_000_000_000n, 12)).toBe('1.5')
    expect(formatTokens('-3', 12)).toBe('-0.000000000003')
    expect(formatTokens(10n ** 32n, 12)).toBe('100000000000000000000')
  })
})

describe('chain API handlers and the ledger command', () => {
  let dir: string
  let db: Db
  let ledger: Ledger
  const ME = 'me-address'
  const fakeChain = {
    address: ME,
    status: () => ({ connected: true, endpoint: 'embedded', chainName: 'x', blockNumber: 3, tokenSymbol: 'ROC', tokenDecimals: 12, address: ME, devTokens: true }),
    wallet: async () => ({ address: ME, free: '2500000000000', reserved: '0', tokenSymbol: 'ROC', tokenDecimals: 12 })
  } as unknown as ChainService

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'datdot-chain-api-'))
    db = openDatabase(join(dir, 'db.sqlite'))
    ledger = new Ledger(db)
    const t = Date.UTC(2026, 0, 2, 10)
    ledger.applyBlock({ number: 1, hash: 'h1', parentHash: 'h0', genesisHash: 'g', timeMs: t }, [
      { key: 'h1:4', reason: 'storage-proof', legs: [{ account: 'escrow', amountPlanck: -50n }, { account: ME, amountPlanck: 50n }] },
      { key: 'h1:5', reason: 'fee', legs: [{ account: ME, amountPlanck: -1n }, { account: '@fees', amountPlanck: 1n }] }
    ])
  })
  afterEach(() => { db.close(); rmSync(dir, { recursive: true, force: true }) })

  it('serves status, wallet, paged entries and earnings of this node only', async () => {
    const h = createChainHandlers({ chain: fakeChain, ledger })
    expect((await h.getChainStatus({})).blockNumber).toBe(3)
    expect((await h.getWallet({})).free).toBe('2500000000000')
    const page = await h.ledgerEntries({ limit: 3 })
    expect(page.entries.map((e) => e.key)).toEqual(['h1:5:1', 'h1:5:0', 'h1:4:1'])
    expect(page.nextBeforeId).toBe(page.entries[2].id)
    expect(await h.earnings({ fromMs: Date.UTC(2026, 0, 1), toMs: Date.UTC(2027, 0, 1) })).toEqual([{ day: '2026-01-02', reason: 'storage-proof', amount: '50' }])
    await expect(h.earnings({ fromMs: 10, toMs: 5 })).rejects.toThrow(/before/)
    await expect(h.earnings({ fromMs: 0, toMs: 11 * 366 * 86_400_000 })).rejects.toThrow(/10 years/)
  })

  it('prints ledger rows as JSON or as lines marking this node', async () => {
    const h = createChainHandlers({ chain: fakeChain, ledger })
    const printed: unknown[] = []
    const ctx = (json: boolean): CliContext => ({
      storage: dir,
      json,
      call: (async (method: string, args: never) => (h as Record<string, (a: never) => Promise<unknown>>)[method](args)) as CliContext['call'],
      print: (v) => printed.push(v),
      warn: () => {},
      interrupted: new Promise(() => {})
    })
    expect(await chainCommands.ledger.run(['--json'], ctx(false))).toBe(0)
    expect((printed[0] as unknown[]).length).toBe(4)
    printed.length = 0
    expect(await chainCommands.ledger.run(['--limit', '2'], ctx(false))).toBe(0)
    expect(printed).toHaveLength(3)
    expect(String(printed[0])).toMatch(/ @fees .* 0\.000000000001 fee/)
    expect(String(printed[1])).toMatch(/\*me-address .* -0\.000000000001 fee/)
    await expect(chainCommands.ledger.run(['--limit', '0'], ctx(false))).rejects.toThrow(/1\.\.1000/)
    printed.length = 0
    expect(await chainCommands.wallet.run([], ctx(false))).toBe(0)
    expect(printed).toEqual(['address  me-address', 'free     2.5 ROC', 'reserved 0 ROC'])
    // A daemon on a remote chain gets no faucet from the CLI.
    const remote = ctx(false)
    const call = remote.call
    remote.call = (async (method: string, args: never) => method === 'getChainStatus'
      ? { ...fakeChain.status(), endpoint: 'wss://rpc.example', devTokens: false }
      : await call(method as never, args)) as CliContext['call']
    await expect(chainCommands.wallet.run(['--faucet', '1'], remote)).rejects.toThrow(/local chain served on ws:\/\/127\.0\.0\.1/)
  })
})
