/**
 * `datdot phrase` (show the recovery phrase of a running daemon's folder, after an explicit
 * flag) and `datdot restore` (create a storage folder from a phrase read on stdin, never from
 * the command line, where other users and the shell history would see it).
 */
import { Writable, type Readable } from 'node:stream'
import { createInterface } from 'node:readline'
import type { CliCommand } from './types.js'
import { parseArgs, usage } from './args.js'
import { restoreStorage } from '../engine/restore.js'
import { formatLink } from '../engine/paths.js'
import { MAX_PHRASE_CHARS } from '../shared/contract-app.js'

/**
 * Reads the phrase: the first line of a terminal, typed without echo (readline in terminal mode
 * writes what it echoes to an output that drops it), else all of a pipe (bounded). `terminal`
 * gets the new line the user's Enter did not show.
 */
export async function readPhrase (input: Readable & { isTTY?: boolean }, prompt: (line: string) => void, terminal: NodeJS.WritableStream = process.stderr): Promise<string> {
  if (input.isTTY === true) {
    prompt('Type your 24-word recovery phrase and press Enter (the words are not shown as you type):')
    return await readHiddenLine(input, terminal)
  }
  let text = ''
  for await (const chunk of input) {
    text += String(chunk)
    if (text.length > MAX_PHRASE_CHARS) throw usage('stdin holds more than a recovery phrase')
  }
  return text
}

/** One line from a terminal with echo off; Ctrl-C cancels. */
async function readHiddenLine (input: Readable, terminal: NodeJS.WritableStream): Promise<string> {
  const muted = new Writable({ write (_chunk, _encoding, done) { done() } })
  const rl = createInterface({ input, output: muted, terminal: true, historySize: 0 })
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve)
      rl.once('close', () => { resolve('') })
      rl.once('SIGINT', () => { reject(usage('cancelled: no recovery phrase was read')) })
    })
  } finally {
    rl.close()
    terminal.write('\n')
  }
}

const phrase: CliCommand = {
  summary: 'Show the recovery phrase of this storage folder (a secret: it restores your vault and wallet).',
  usage: 'phrase --yes-show-secret',
  async run (argv, ctx) {
    const { positional, flags } = parseArgs(argv, { 'yes-show-secret': { type: 'boolean' } })
    if (positional.length > 0) throw usage('phrase takes no arguments')
    if (!flags['yes-show-secret']) {
      throw usage('the recovery phrase gives whoever sees it your whole vault: add --yes-show-secret to print it, and keep it offline')
    }
    const r = await ctx.call('getRecoveryPhrase', { confirm: true })
    if (ctx.json) { ctx.print(r); return 0 }
    ctx.print(r.phrase)
    if (r.wallet === 'own') {
      ctx.warn('Your chain wallet was made before wallets came from the recovery phrase: it has its own phrase. Back it up too:')
      ctx.print(r.walletPhrase ?? '')
    } else {
      ctx.warn('Write these 24 words down and keep them offline: they restore your vault and your chain wallet (datdot restore).')
    }
    return 0
  }
}

const restore: CliCommand = {
  summary: 'Create an empty storage folder from a recovery phrase read on stdin; the next daemon on it downloads the vault from peers.',
  usage: 'restore --storage DIR < phrase.txt  |  restore --finish',
  async run (argv, ctx) {
    const { positional, flags } = parseArgs(argv, { finish: { type: 'boolean' } })
    if (positional.length > 0) throw usage('the recovery phrase is read from stdin, never from the command line')
    if (flags.finish === true) {
      // the running daemon's restore has nothing more to fetch: writing is allowed again
      await ctx.call('finishRestore', { confirm: true })
      if (ctx.json) { ctx.print({ ok: true }); return 0 }
      ctx.print('restore ended: the vault can be written again')
      return 0
    }
    const text = await readPhrase(process.stdin, ctx.warn)
    const { vaultKey } = await restoreStorage(ctx.storage, text)
    if (ctx.json) { ctx.print({ storage: ctx.storage, vault: formatLink(vaultKey) }); return 0 }
    ctx.print(`restored ${ctx.storage}: vault ${formatLink(vaultKey)}`)
    ctx.warn(`Start it with: datdot daemon --storage ${ctx.storage} (or the app): it downloads the vault from its followers and seeders.`)
    ctx.warn('Run one machine per phrase at a time: two writing to the same vault would fork it.')
    return 0
  }
}

export const recoveryCommands: Record<string, CliCommand> = { phrase, restore }
