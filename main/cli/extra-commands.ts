/**
 * Commands contributed by other parts of the engine (chain, ledger, hosting, recovery, several nodes). Kept apart
 * from main/cli/index.ts so each part registers its commands in one place.
 */
import type { CliCommand } from './types.js'
import { hostingCommands } from './hosting-commands.js'
import { chainCommands } from './chain-commands.js'
import { recoveryCommands } from './recovery-commands.js'
import { nodesCommands } from './nodes-commands.js'

export const extraCommands: Record<string, CliCommand> = {
  ...chainCommands,
  ...hostingCommands,
  ...recoveryCommands,
  ...nodesCommands
}
