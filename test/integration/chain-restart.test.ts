/**
 * Restarts and crashes: the local chain and the daemons survive restarting every process, and a
 * daemon killed with SIGKILL in the middle of catching up loses and doubles nothing.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { spawn, execFileSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { openDatabase, type Db } from '../../main/shared/db.js'
import { LocalChain } from '../../main/chain/local-chain.js'
import { ChainService } from '../../main/chain/service.js'
import { Ledger } from '../../main/ledger/ledger.js'

const TOKEN = 10n ** 12n
const ROOT = resolve(import.meta.dirname, '../..')

describe('chain restart and crash consistency', () => {
  let root: string
  let compiled: string

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'datdot-chain-restart-'))
    // The crash test runs the service in a child process: compile its import graph to JS.
    // Under node_modules/.cache so that the child resolves packages from the project. The graph
    // reaches the holepunch modules (signed roots and receipts are verified by the marketplace),
    // so their declarations come along.
    compiled = join(ROOT, 'node_modules', '.cache', `datdot-chain-test-${process.pid}`)
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['--outDir', compiled, '--rootDir', ROOT, '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
      '--target', 'ES2022', '--strict', '--skipLibCheck', '--esModuleInterop', '--resolveJsonModule', '--types', 'node', join(ROOT, 'main/chain/service.ts'), join(ROOT, 'types/holepunch.d.ts')], { cwd: ROOT })
  })

  afterAll(() => {
    rmSync(root, { recursive: true, force: true })
    rmSync(compiled, { recursive: true, force: true })
  })

  it('keeps the chain, the keys, the marketplace state and the ledgers across a restart of every process', async () => {
    const dir = join(root, 'restart')
    const open = async (): Promise<{ chain: LocalChain, op: ChainService, b: ChainService, dbs: Db[] }> => {
      const chain = await LocalChain.open({ dir: join(dir, 'chain'), port: 0 })
      const dbs = [openDatabase(join(dir, 'op.db')), openDatabase(join(dir, 'b.db'))]
      const op = new ChainService({ storage: join(dir, 'op'), endpoint: 'embedded', db: dbs[0], localChain: chain, operator: true })
      const b = new ChainService({ storage: join(dir, 'b'), endpoint: chain.url as string, db: dbs[1] })
      await op.ready()
      await b.ready()
      return { chain, op, b, dbs }
    }
    const close = async (x: Awaited<ReturnType<typeof open>>): Promise<void> => {
      await x.b.close()
      await x.op.close()
      await x.chain.close()
      for (const db of x.dbs) db.close()
    }

    const first = await open()
    await first.b.faucet(5n * TOKEN)
    await first.b.registerProvider({ roles: ['hoster'], storageBytes: 2 ** 30, bandwidthBps: 1e6, region: 'eu', noiseKeyHex: 'aa'.repeat(32) })
    await first.op.waitFollowed(first.chain.headNumber)
    const before = {
      head: first.chain.headNumber,
      block1: first.chain.chain.head.hash,
      hash1: (await first.b.api.rpc.chain.getBlockHash(1)).toHex(),
      address: first.b.address,
      digest: first.b.stateDigest(),
      balance: first.b.ledger.balance(first.b.address),
      rows: first.b.ledger.counts().entries,
      escrow: first.chain.keys.escrow
    }
    expect(first.op.stateDigest()).toBe(before.digest)
    expect(statSync(join(dir, 'b', 'chain', 'wallet.json')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'chain', 'network-keys.json')).mode & 0o777).toBe(0o600)
    await close(first)

    const second = await open()
    expect(second.chain.headNumber).toBe(before.head)
    expect((await second.b.api.rpc.chain.getBlockHash(1)).toHex()).toBe(before.hash1)
    expect(second.chain.keys.escrow).toBe(before.escrow)
    expect(second.b.address).toBe(before.address)
    expect(second.b.stateDigest()).toBe(before.digest)
    expect(second.b.ledger.counts().entries).toBe(before.rows)
    expect(second.b.market.providers[second.b.addressHex]).toBeDefined()
    // and it keeps working: a new signed transfer lands in a new block and in the ledger
    await second.b.faucet(1n * TOKEN)
    expect(second.chain.headNumber).toBe(before.head + 1)
    expect(second.b.ledger.balance(second.b.address)).toBe(before.balance + 1n * TOKEN)
    expect(await second.b.balanceOf(second.b.address)).toBe(before.balance + 1n * TOKEN)
    expect(second.b.counters.reconciles).toBe(0)
    expect(second.b.counters.reorgs).toBe(0)
    await close(second)
  })

  it('loses and doubles nothing when a daemon is killed with SIGKILL during catch-up', async () => {
    const dir = join(root, 'crash')
    const chain = await LocalChain.open({ dir: join(dir, 'chain'), port: 0 })
    const opDb = openDatabase(join(dir, 'op.db'))
    const op = new ChainService({ storage: join(dir, 'op'), endpoint: 'embedded', db: opDb, localChain: chain, operator: true })
    await op.ready()
    try {
      // The victim's wallet exists before it runs; while it is down, 40 blocks pay it.
      const victimStorage = join(dir, 'victim')
      const victimDb = join(dir, 'victim.db')
      const seedDb = openDatabase(victimDb)
      const seed = new ChainService({ storage: victimStorage, endpoint: chain.url as string, db: seedDb })
      await seed.ready()
      const victim = seed.address
      await seed.close()
      seedDb.close()
      const N = 40
      for (let i = 1; i <= N; i++) await op.faucet(BigInt(i) * TOKEN, victim)
      const expected = BigInt(N * (N + 1) / 2) * TOKEN

      const script = join(dir, 'child.mjs')
      writeFileSync(script, `
        import { ChainService } from ${JSON.stringify(join(compiled, 'main/chain/service.js'))}
        import { openDatabase } from ${JSON.stringify(join(compiled, 'main/shared/db.js'))}
        const db = openDatabase(${JSON.stringify(victimDb)})
        const s = new ChainService({ storage: ${JSON.stringify(victimStorage)}, endpoint: ${JSON.stringify(chain.url)}, db })
        s.on('block', (o) => console.log('block ' + o.number))
        await s.ready()
        console.log('ready')
      `)
      const child = spawn(process.execPath, [script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)))
      let seen = 0
      const killedAt = await new Promise<number>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`the child exited (${code}) before it was killed`)))
        createInterface({ input: child.stdout }).on('line', (line) => {
          if (!line.startsWith('block ')) { if (line === 'ready') reject(new Error('the child caught up before it was killed')); return }
          seen++
          if (seen === 15) { child.kill('SIGKILL'); resolve(Number(line.slice(6))) }
        })
      })
      expect(await exited).toBe('SIGKILL')

      // The database as the crash left it: consistent, a prefix of the chain.
      const crashedDb = openDatabase(victimDb)
      const crashed = new Ledger(crashedDb)
      const cur = crashed.cursor()
      expect(cur).not.toBeNull()
      expect(cur?.number).toBeGreaterThanOrEqual(killedAt - 1)
      expect(cur?.number).toBeLessThan(chain.headNumber)
      expect(crashed.balance(victim)).toBe(await op.balanceOf(victim, cur?.hash))
      crashedDb.close()

      // Restart: it catches up from its cursor; the ledger equals the chain exactly.
      const db = openDatabase(victimDb)
      const again = new ChainService({ storage: victimStorage, endpoint: chain.url as string, db })
      await again.ready()
      expect(again.ledger.cursor()?.number).toBe(chain.headNumber)
      again.ledger.checkInvariants()
      expect(again.ledger.balance(victim)).toBe(expected)
      expect(await again.balanceOf(victim)).toBe(expected)
      const faucetRows = again.ledger.allEntries().filter((e) => e.account === victim && e.reason === 'faucet')
      expect(faucetRows).toHaveLength(N)
      expect(new Set(faucetRows.map((e) => e.key)).size).toBe(N)
      expect(again.counters.reconciles).toBe(0)
      expect(again.stateDigest()).toBe(op.stateDigest())
      await again.close()
      db.close()
    } finally {
      await op.close()
      await chain.close()
      opDb.close()
    }
  })
})

describe('a reset chain', () => {
  it('is detected when a daemon comes back to a different chain, and its rows are reversed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'datdot-chain-reset-'))
    try {
      const dbFile = join(root, 'd.db')
      const chainA = await LocalChain.open({ dir: join(root, 'a') })
      let db = openDatabase(dbFile)
      let s = new ChainService({ storage: join(root, 'd'), endpoint: 'embedded', db, localChain: chainA, operator: false })
      await s.ready()
      await s.faucet(3n * TOKEN)
      const rowsBefore = s.ledger.counts().entries
      expect(s.ledger.balance(s.address)).toBe(3n * TOKEN)
      await s.close()
      db.close()
      await chainA.close()

      const chainB = await LocalChain.open({ dir: join(root, 'b') })
      db = openDatabase(dbFile)
      s = new ChainService({ storage: join(root, 'd'), endpoint: 'embedded', db, localChain: chainB, operator: false })
      await s.ready()
      expect(s.counters.resets).toBe(1)
      expect(s.ledger.balance(s.address)).toBe(0n)
      const reversals = s.ledger.allEntries().filter((e) => e.key.startsWith('rev:'))
      expect(reversals.length).toBe(rowsBefore)
      s.ledger.checkInvariants()
      await s.faucet(1n * TOKEN)
      expect(s.ledger.balance(s.address)).toBe(1n * TOKEN)
      expect(s.counters.reconciles).toBe(0)
      await s.close()
      db.close()
      await chainB.close()
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('a re-org', () => {
  it('is corrected with reversing entries when the chain head moves back and grows another branch', async () => {
    const root = mkdtempSync(join(tmpdir(), 'datdot-chain-reorg-'))
    const chain = await LocalChain.open({ dir: join(root, 'chain') })
    const dbs = [openDatabase(join(root, 'op.db')), openDatabase(join(root, 'd.db'))]
    const op = new ChainService({ storage: join(root, 'op'), endpoint: 'embedded', db: dbs[0], localChain: chain, operator: true })
    const d = new ChainService({ storage: join(root, 'd'), endpoint: 'embedded', db: dbs[1], localChain: chain, operator: false })
    try {
      await op.ready()
      await d.ready()
      await op.faucet(1n * TOKEN, d.address)
      const fork = chain.headNumber
      await op.faucet(2n * TOKEN, d.address)
      await op.faucet(4n * TOKEN, d.address)
      expect(d.ledger.balance(d.address)).toBe(7n * TOKEN)
      const abandoned = d.ledger.cursor()?.hash
      // Move the head back to the fork point and build another branch with a different transfer.
      await d.api.rpc('dev_setHead', fork)
      await op.faucet(8n * TOKEN, d.address)
      await op.newBlock()
      await op.newBlock()
      await d.waitFollowed(chain.headNumber)
      expect(d.counters.reorgs).toBeGreaterThanOrEqual(1)
      expect(d.ledger.appliedHashAt(fork + 2)).not.toBe(abandoned)
      expect(d.ledger.balance(d.address)).toBe(9n * TOKEN)
      expect(await d.balanceOf(d.address)).toBe(9n * TOKEN)
      const reversed = d.ledger.allEntries().filter((e) => e.key.startsWith('rev:') && e.account === d.address)
      expect(reversed.map((e) => BigInt(e.amount)).sort()).toEqual([-4n * TOKEN, -2n * TOKEN].sort())
      d.ledger.checkInvariants()
      expect(d.counters.reconciles).toBe(0)
      expect(d.stateDigest()).toBe(op.stateDigest())
    } finally {
      await d.close()
      await op.close()
      await chain.close()
      for (const db of dbs) db.close()
      rmSync(root, { recursive: true, force: true })
    }
  })
})
