/**
 * The local seeders section of the API contract (composed in main/shared/contract.ts): on a node
 * whose chain is DatDot's embedded local dev chain, a few seeding nodes started in this process
 * (main/hosting/local-seeders.ts) so a newcomer can keep a vault online and watch seeders host it,
 * get challenged and get paid, without the command line (`datdot devnet` is the same for a
 * separate chain). They stop with DatDot and start again with it until stopped.
 *
 * Like every contract file, free of Node and Electron imports: bundled into preload and the renderer.
 */
import { z } from 'zod'
import { ALL, Amount, Empty, method } from './contract-base.js'

export const LOCAL_SEEDER_LIMITS = { min: 1, max: 8, default: 3 } as const

export const LocalSeeder = z.object({
  name: z.string(),
  /** The seeder's chain account (ss58), empty until its chain service runs. */
  address: z.string(),
  /** 'starting': opening, funding and registering; 'seeding': registered and seeding. */
  state: z.enum(['starting', 'seeding']),
  /** Hosting slots of this seeder on the chain now. */
  slots: z.number().int().nonnegative(),
  /** What it earned for its work (encoding, setup, proofs), in planck. */
  earned: Amount
})
export type LocalSeeder = z.infer<typeof LocalSeeder>

export const LocalSeedersState = z.object({
  /** Null when this node can run local seeders; else why not (no chain, a chain that is not its own local one, offline). */
  unavailable: z.string().nullable(),
  state: z.enum(['off', 'starting', 'running', 'stopping']),
  seeders: z.array(LocalSeeder),
  /** Providers on the chain besides this node and the local seeders it ever ran (null until the chain runs). */
  providers: z.number().int().nonnegative().nullable(),
  /** Providers a plan of one replica needs besides its sponsor (a hoster, an encoder, an attestor). */
  providersNeeded: z.number().int().positive(),
  /** True while the seeders are wanted: they start again when DatDot starts. */
  resumes: z.boolean(),
  /** Why the last start (or the start again after a restart) failed, null otherwise. */
  error: z.string().nullable()
})
export type LocalSeedersState = z.infer<typeof LocalSeedersState>

export const localSeederMethods = {
  getLocalSeeders: method({ description: 'The seeders this node runs on its own local dev chain, and how many providers the chain has. Never starts the chain.', args: Empty, result: LocalSeedersState, exposure: ALL }),
  startLocalSeeders: method({
    description: `Start ${LOCAL_SEEDER_LIMITS.min} to ${LOCAL_SEEDER_LIMITS.max} seeding nodes on this machine (own storage folders under this node's, funded from the dev faucet, registered as providers): only on DatDot's embedded local dev chain. Resolves when they seed; they start again with DatDot until stopped.`,
    args: z.object({ count: z.number().int().min(LOCAL_SEEDER_LIMITS.min).max(LOCAL_SEEDER_LIMITS.max).default(LOCAL_SEEDER_LIMITS.default) }).strict(),
    result: LocalSeedersState,
    exposure: ALL
  }),
  stopLocalSeeders: method({ description: 'Stop the local seeders (their folders and wallets stay; they do not start again with DatDot).', args: Empty, result: LocalSeedersState, exposure: ALL })
} as const

export const localSeederEvents = {
  /** The local seeders changed (one ready, started, stopped, a slot or an earning). */
  'seeders.status': LocalSeedersState
} as const
