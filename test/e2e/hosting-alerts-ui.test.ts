/**
 * End to end: the containment alert on the Hosting page of a real hoster that lost its data, in
 * Chromium. A devnet (a local chain, a loopback testnet and five seeders, in this process) and a
 * daemon pointed at it, seeding; the seeders are re-registered so the daemon is the only hoster
 * and one seeder the only attestor, and one seeder sponsors its vault. Once the daemon hosts every
 * slot, the test deletes its encoded chunk files on disk (a hoster that lost or threw away its
 * data): the next storage challenge fails for real and the chain puts the slot in containment.
 * With one attestor no other can re-check (a re-check never goes to the accuser), so the slot stays
 * in containment and the banner stays for the screenshots (DATDOT_E2E_SCREENSHOTS) while the
 * daemon's reputation is untouched. Then two more seeders attest too (a dispute needs three
 * independent verdicts): the re-checks fail, the chain penalises the daemon and takes the slot, and the page shows the loss instead of the alert.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { assertBuilt, removeDir, startDaemon, stop, type DaemonProc } from './daemons.js'
import { CHROMIUM_ARGS, shots } from './ui-helpers.js'
import { waitFor } from '../helpers/wait.js'
import { startDevnet, readDevnetRecord, DEVNET_MIN_SEEDERS, type Devnet, type DevnetSeeder } from '../../main/hosting/devnet.js'
import { accountHex } from '../../main/chain/local-chain.js'
import { MARKET_PARAMS } from '../../main/chain/marketplace.js'
import type { RoleName } from '../../main/chain/records.js'
import { ROLE } from '../../main/chain/record-types.js'
import { formatLink } from '../../main/engine/paths.js'

const TOKEN = 10n ** 12n
/** Progress lines on stderr with HOSTING_TRACE=1. */
function trace (line: string): void { if (process.env.HOSTING_TRACE !== undefined) process.stderr.write(`[alerts-ui ${new Date().toISOString().slice(11, 19)}] ${line}\n`) }

describe('the containment alert of a hoster that lost its data, on the Hosting page', () => {
  let dir: string | undefined
  let devnet: Devnet | undefined
  let d: DaemonProc | undefined
  let browser: Browser | undefined
  let page: Page
  let me = ''
  let planId = 0

  const call = async (method: string, args: unknown): Promise<unknown> => {
    const res = await fetch(`${d!.origin}/api/call/${method}`, { method: 'POST', headers: { authorization: `Bearer ${d!.token}` }, body: JSON.stringify(args) })
    const body = await res.json() as { result?: unknown, error?: { message: string } }
    if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`)
    return body.result
  }
  const roles = async (s: DevnetSeeder, r: RoleName[]): Promise<void> => {
    await s.node.hosting!.setSeeding({ on: true, storageBytes: 2 ** 30, bandwidthBps: 10_000_000, region: 'devnet', roles: r })
  }
  const mySlots = (): Array<{ hoster: string | null, state: string, storage: number }> => {
    const m = devnet!.market
    return m.plans[planId].contractIds.flatMap((id) => m.contracts[id].slots.map((s) => ({ hoster: s.hoster, state: s.state, storage: s.strikes.storage })))
  }
  /** Where the daemon's slots stand (said when a wait times out). */
  const standing = (): string => {
    const m = devnet!.market
    const open = Object.values(m.challenges).filter((c) => m.plans[planId]?.contractIds.includes(c.contractId))
    return `reputation ${m.providers[me]?.reputation}; slots ${JSON.stringify(mySlots())}; open checks ${JSON.stringify(open.map((c) => ({ k: c.kind, c: c.contractId, s: c.slot, r: c.recheck, a: c.attestors.length })))}; attestors ${Object.values(m.providers).filter((p) => (p.roles & ROLE.attestor) !== 0).length}; block ${m.block?.number}`
  }
  const onChain = async (what: string, check: () => boolean): Promise<void> => { await waitFor([devnet!], check, what, 240_000, standing); trace(what) }

  beforeAll(async () => {
    assertBuilt()
    dir = await mkdtemp(join(tmpdir(), 'datdot-e2e-devnet-'))
    devnet = await startDevnet({ dir, seeders: DEVNET_MIN_SEEDERS, blockIntervalMs: 1000, networkParams: { chunksPerContract: 10, challengeIntervalBlocks: 10, challengeTimeoutBlocks: 40, performanceAttestors: 1 } })
    trace('devnet started')
    const [sponsor, enc1, enc2, attestor, enc3] = devnet.seeders
    // the daemon is the only hoster, seeder-4 the only attestor
    await Promise.all([roles(sponsor, ['encoder']), roles(enc1, ['encoder']), roles(enc2, ['encoder']), roles(attestor, ['attestor']), roles(enc3, ['encoder'])])
    trace('seeders re-registered')
    const record = readDevnetRecord(dir)
    if (record === null) throw new Error('no devnet.json')
    d = await startDaemon(record.bootstrap, { chain: record.chain })
    trace('daemon started')
    const wallet = await call('getWallet', {}) as { address: string }
    me = accountHex(wallet.address)
    await call('requestDevTokens', { amount: (10n * TOKEN).toString() })
    await call('setSeeding', { on: true, storageBytes: 2 ** 30, bandwidthBps: 10_000_000, region: 'eu' })
    await sponsor.node.vault.drive.put('/photo.jpg', randomBytes(100_000))
    // the sponsor's node checks there is a hoster before it pays: it must have seen the daemon register
    const sponsorChain = sponsor.node.chain!
    await waitFor([sponsorChain], () => sponsorChain.market.providers[me] !== undefined, 'the daemon registered, as the sponsor sees it', 120_000)
    planId = (await sponsor.node.hosting!.sponsor({ link: formatLink(sponsor.node.vault.drive.key), replicas: 1, days: 1, pricePlanck: 20n * TOKEN })).planId
    trace(`plan ${planId} published`)
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    page.setDefaultTimeout(120_000)
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await stop(d?.child)
    await devnet?.close()
    await removeDir(d?.storage)
    await removeDir(dir)
  }, 240_000)

  it('shows what failed, what is at stake and when the re-check comes, before any penalty', async () => {
    await onChain('the daemon hosting every slot', () => mySlots().every((s) => s.state === 'hosting' && s.hoster === me))
    // the hoster loses its encoded chunks (every chunk file in its storage folder)
    const chunks = join(d!.storage, 'hosting', 'chunks')
    let deleted = 0
    for (const core of await readdir(chunks)) {
      for (const f of await readdir(join(chunks, core))) {
        if (f.endsWith('.chunk')) { await rm(join(chunks, core, f)); deleted++ }
      }
    }
    expect(deleted).toBeGreaterThan(0)

    await page.goto(d!.url)
    await page.getByRole('button', { name: 'Hosting' }).first().click()
    const alert = page.locator('[data-testid=hosting-alert][data-kind=containment]').first()
    await alert.waitFor({ timeout: 180_000 })
    trace('alert shown')
    await expect(alert.locator('.alert-title').innerText()).resolves.toMatch(/^Contract \d+ slot 0 failed a storage check$/)
    const text = await alert.innerText()
    expect(text).toContain('Why: a stored chunk it asked for is missing (MISSING_CHUNK).')
    expect(text).toContain(`you lose ${MARKET_PARAMS.penalties.failedProof} reputation`)
    expect(text).toMatch(/The re-check comes at block \d+\./)
    await expect(alert.getByTestId('alert-recheck').innerText()).resolves.toMatch(/^Re-check (in about|.*ago)/)
    // nothing lost yet: the slot is still the daemon's, under one strike, its reputation untouched
    expect(mySlots().some((s) => s.hoster === me && s.storage === 1)).toBe(true)
    expect(devnet!.market.providers[me].reputation).toBeGreaterThanOrEqual(MARKET_PARAMS.reputationStart)
    await shots(page, 'hosting-alert-containment')
  }, 300_000)

  it('once other attestors re-check, the penalty follows and the page shows the lost slot instead of the alert', async () => {
    // a dispute needs disputeFails (3) independent verdicts: two more attestors besides the accuser
    await Promise.all([roles(devnet!.seeders[4], ['encoder', 'attestor']), roles(devnet!.seeders[2], ['encoder', 'attestor'])])
    await onChain('the daemon penalised and its slots taken', () => devnet!.market.providers[me].reputation < MARKET_PARAMS.reputationStart && mySlots().every((s) => s.hoster !== me))
    await page.reload()
    await page.getByRole('button', { name: 'Hosting' }).first().click()
    await page.getByTestId('provider-events').getByText(/Lost a slot of contract \d+: it failed its storage re-check too/).first().waitFor()
    expect(await page.locator('[data-testid=hosting-alert][data-kind=containment]').count()).toBe(0)
    await shots(page, 'hosting-alert-slot-lost', { bottom: true })
  }, 300_000)
})
