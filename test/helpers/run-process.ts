/**
 * Runs a node script as a child process (the CLI, the CLI fixture) and collects its exit code,
 * stdout and stderr; `stdin` is written and closed when given (else stdin is closed at once).
 */
import { spawn } from 'node:child_process'

export interface Run { code: number | null, stdout: string, stderr: string }

export function runNode (script: string, args: string[], opts: { stdin?: string, cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}) })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    if (opts.stdin !== undefined) child.stdin?.end(opts.stdin)
  })
}
