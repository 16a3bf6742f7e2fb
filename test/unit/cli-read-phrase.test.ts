import { describe, it, expect } from 'vitest'
import { PassThrough } from 'node:stream'
import { readPhrase } from '../../main/cli/recovery-commands.js'
import { phraseFromKey } from '../../main/engine/recovery.js'

const phrase = phraseFromKey(Buffer.alloc(32, 7))

/** A stand-in terminal: a stream marked as a TTY, and everything written back to the screen. */
function fakeTerminal (): { input: PassThrough & { isTTY: boolean }, screen: () => string, out: PassThrough } {
  const input = Object.assign(new PassThrough(), { isTTY: true })
  const out = new PassThrough()
  let text = ''
  out.on('data', (c: Buffer) => { text += c.toString() })
  return { input, out, screen: () => text }
}

describe('reading the recovery phrase for datdot restore', () => {
  it('reads one line typed at a terminal without showing the words, and says so', async () => {
    const t = fakeTerminal()
    const prompts: string[] = []
    const read = readPhrase(t.input, (line) => prompts.push(line), t.out)
    for (const ch of phrase + '\r') t.input.write(ch)
    expect(await read).toBe(phrase)
    expect(prompts.join('\n')).toMatch(/not shown/)
    expect(t.screen()).toBe('\n')
    for (const word of phrase.split(' ')) expect(t.screen()).not.toContain(word)
  })

  it('gives up without a phrase when the terminal closes before Enter', async () => {
    const t = fakeTerminal()
    const read = readPhrase(t.input, () => {}, t.out)
    t.input.end()
    expect(await read).toBe('')
  })

  it('reads all of a pipe as it is, prompting nothing', async () => {
    const input = new PassThrough()
    const prompts: string[] = []
    const read = readPhrase(input, (line) => prompts.push(line))
    input.end(phrase.replace(/ /g, '\n') + '\n')
    expect(await read).toBe(phrase.replace(/ /g, '\n') + '\n')
    expect(prompts).toEqual([])
  })
})
